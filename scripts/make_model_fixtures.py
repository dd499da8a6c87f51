#!/usr/bin/env python3
"""Writes the tiny-model fixtures for Tests/LomoModelTests: a tiny LLaMA, and one tiny model of
each further family lomo runs (Qwen2, Qwen3, Gemma 3).

A random LlamaForCausalLM (2 layers, hidden 64, 4 heads, 2 kv heads, intermediate 96, vocab 256,
untied LM head) is saved three ways:
  tiny-llama/config.json + model.safetensors    (Hugging Face layout, f32)
  tiny-llama-f32.gguf                            (llama.cpp layout: GGUF names, Q/K rows permuted)
  tiny-llama-q8_0.gguf                           (same, 2-D weights quantised to Q8_0)
and the reference results of PyTorch on one fixed batch go to tiny-llama-expected.safetensors:
  logits [B, T, V] (f32 weights), logits_q8_0 [B, T, V] (weights dequantised from the Q8_0 file),
  loss (mean over unmasked next-token targets), tokens and targets, and grad.<name> for every
  parameter. targets[b, t] is the token at t+1 (or -100: ignored) -- already shifted, which is
  the convention of lomo's LlamaModel.

The other families (FAMILIES below) are written alike, each as tiny-FAMILY/ (config.json +
model.safetensors), tiny-FAMILY-f32.gguf (llama.cpp's names for that architecture; their q/k rows
are not permuted) and tiny-FAMILY-expected.safetensors (logits, loss, tokens, targets, grad.*).

Regenerate: pip install -r scripts/requirements-fixtures.txt && python3 scripts/make_model_fixtures.py
"""
import os
import sys

import numpy as np
import torch

if not torch.__version__.startswith("2.13.0"):
    sys.exit(f"torch 2.13.0+cpu is required (found {torch.__version__}): pip install torch==2.13.0+cpu")

import gguf
from gguf.quants import dequantize, quantize
from safetensors.torch import save_file
from transformers import (Gemma3ForCausalLM, Gemma3TextConfig, LlamaConfig, LlamaForCausalLM, Qwen2Config,
                          Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM)

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LomoModelTests", "Fixtures")
HEADS, KV_HEADS = 4, 2
ROPE_THETA = 10000.0


def make_model():
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=256, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, max_position_embeddings=64,
        rms_norm_eps=1e-5, rope_theta=ROPE_THETA, tie_word_embeddings=False,
        attention_bias=False, mlp_bias=False, bos_token_id=1, eos_token_id=2)
    model = LlamaForCausalLM(config).float()
    with torch.no_grad():  # non-trivial norm scales, so their gradients are tested too
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1 + 0.1 * torch.randn_like(p))
    return model


def llama_cpp_permute(w, n_head):
    """convert_hf_to_gguf's Q/K row permutation (HF rotate-half -> llama.cpp interleaved)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


GGUF_NAMES = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
}
LAYER_NAMES = {
    "input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
    "post_attention_layernorm": "ffn_norm", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down", "self_attn.q_norm": "attn_q_norm", "self_attn.k_norm": "attn_k_norm",
}


def gguf_name(hf):
    if hf in GGUF_NAMES:
        return GGUF_NAMES[hf]
    parts = hf.split(".")  # model.layers.{l}.{module...}.weight|bias
    return f"blk.{parts[2]}.{LAYER_NAMES['.'.join(parts[3:-1])]}.{parts[-1]}"


def write_shape(writer, cfg):
    """The size fields every architecture's GGUF has, from a transformers config."""
    writer.add_block_count(cfg.num_hidden_layers)
    writer.add_context_length(cfg.max_position_embeddings)
    writer.add_embedding_length(cfg.hidden_size)
    writer.add_feed_forward_length(cfg.intermediate_size)
    writer.add_head_count(cfg.num_attention_heads)
    writer.add_head_count_kv(cfg.num_key_value_heads)


def write_gguf(model, path, quant):
    """Returns the state dict as the GGUF file stores it, dequantised back to f32 (HF layout)."""
    cfg = model.config
    writer = gguf.GGUFWriter(path, "llama")
    write_shape(writer, cfg)
    writer.add_rope_freq_base(ROPE_THETA)
    writer.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    writer.add_vocab_size(cfg.vocab_size)
    writer.add_rope_dimension_count(cfg.hidden_size // cfg.num_attention_heads)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0 if quant else gguf.LlamaFileType.ALL_F32)
    stored = {}
    for name, p in model.state_dict().items():
        w = p.detach().numpy().astype(np.float32)
        if name.endswith("q_proj.weight"):
            w = llama_cpp_permute(w, HEADS)
        elif name.endswith("k_proj.weight"):
            w = llama_cpp_permute(w, KV_HEADS)
        if quant and w.ndim == 2:
            q = quantize(w, gguf.GGMLQuantizationType.Q8_0)
            writer.add_tensor(gguf_name(name), q, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
            stored[name] = dequantize(q, gguf.GGMLQuantizationType.Q8_0).reshape(w.shape)
        else:
            writer.add_tensor(gguf_name(name), w)
            stored[name] = w
        if name.endswith(("q_proj.weight", "k_proj.weight")):  # back to HF layout
            n = HEADS if name.endswith("q_proj.weight") else KV_HEADS
            s = stored[name]
            stored[name] = s.reshape(n, s.shape[0] // n // 2, 2, *s.shape[1:]).swapaxes(1, 2).reshape(s.shape)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return stored


# Each family's tiny model: its config class, model class and config (beside SHAPE).
# Qwen2: q/k/v biases, tied embeddings; Qwen3: per-head q/k norms and a head dim of its own
# (H*D = 128 != hidden 64); Gemma 3: six layers (five sliding-window, one global, llama.cpp's
# fixed pattern), a window of 4 < T, a score scale of 1/sqrt(12) != 1/sqrt(D), GeGLU, four norms
# per block and a scaled, tied embedding.
SHAPE = dict(vocab_size=256, max_position_embeddings=64, bos_token_id=1, eos_token_id=2)
QWEN = dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=HEADS,
            num_key_value_heads=KV_HEADS, rms_norm_eps=1e-6, use_sliding_window=False,
            rope_parameters={"rope_type": "default", "rope_theta": 1000000.0})
FAMILIES = {
    "qwen2": (Qwen2Config, Qwen2ForCausalLM, dict(QWEN, tie_word_embeddings=True)),
    "qwen3": (Qwen3Config, Qwen3ForCausalLM, dict(QWEN, tie_word_embeddings=False, head_dim=32)),
    "gemma3": (Gemma3TextConfig, Gemma3ForCausalLM, dict(
        hidden_size=32, intermediate_size=48, num_hidden_layers=6, num_attention_heads=2, num_key_value_heads=1,
        head_dim=16, rms_norm_eps=1e-6, sliding_window=4, query_pre_attn_scalar=12, tie_word_embeddings=True,
        layer_types=["sliding_attention"] * 5 + ["full_attention"],
        rope_parameters={"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
                         "full_attention": {"rope_type": "default", "rope_theta": 1000000.0}})),
}


def make_family_model(family):
    config_class, model_class, config = FAMILIES[family]
    torch.manual_seed(0)
    model = model_class(config_class(**SHAPE, **config)).float()
    with torch.no_grad():  # non-trivial norm scales and biases, so their gradients are tested too
        for name, p in model.named_parameters():
            if "norm" in name:  # Gemma's scale is 1 + w: w near 0 there
                p.copy_((0 if family == "gemma3" else 1) + 0.1 * torch.randn_like(p))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn_like(p))
    return model


# Gemma's names where llama.cpp's differ from the mapping above (which serves the others).
GEMMA3_GGUF_NAMES = {"post_attention_layernorm": "post_attention_norm", "pre_feedforward_layernorm": "ffn_norm",
                     "post_feedforward_layernorm": "post_ffw_norm"}


def write_family_gguf(model, family, path):
    cfg = model.config
    writer = gguf.GGUFWriter(path, family)
    write_shape(writer, cfg)
    rope = cfg.rope_parameters
    writer.add_rope_freq_base((rope["full_attention"] if family == "gemma3" else rope)["rope_theta"])
    writer.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    writer.add_vocab_size(cfg.vocab_size)
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    if family == "gemma3":
        writer.add_sliding_window(cfg.sliding_window)
        # llama.cpp takes the score scale from the head dim (right for every Gemma 3 but the
        # 27B); lomo's exports write the key and read it back, as here (12, not the head dim 16).
        writer.add_uint32("gemma3.attention.query_pre_attn_scalar", cfg.query_pre_attn_scalar)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    for name, p in model.state_dict().items():
        if name == "lm_head.weight" and cfg.tie_word_embeddings:
            continue
        w = p.detach().numpy().astype(np.float32)
        module = name.split(".")[3] if name.startswith("model.layers.") else None
        if family == "gemma3" and module in GEMMA3_GGUF_NAMES:
            gguf_tensor = f"blk.{name.split('.')[2]}.{GEMMA3_GGUF_NAMES[module]}.weight"
        else:
            gguf_tensor = gguf_name(name)
        if family == "gemma3" and name.endswith("norm.weight"):  # llama.cpp's converter stores Gemma's 1 + w
            w = w + 1
        writer.add_tensor(gguf_tensor, w)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def reference_batch():
    torch.manual_seed(1)
    batch, time = 2, 11  # T not a multiple of 8
    tokens = torch.randint(0, 256, (batch, time))
    targets = torch.full((batch, time), -100)
    targets[:, :-1] = tokens[:, 1:]
    targets[0, :3] = -100  # a prompt that is not trained on
    targets[1, 7:] = -100  # right padding
    return tokens, targets


def expected_results(model, tokens, targets):
    logits = model(input_ids=tokens).logits
    loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, 256), targets.reshape(-1), ignore_index=-100)
    loss.backward()
    expected = {
        "tokens": tokens.float(), "targets": targets.float(),  # small integers, exact in f32
        "logits": logits.detach().contiguous(), "loss": loss.detach().reshape(1),
    }
    for name, p in model.named_parameters():
        expected["grad." + name] = p.grad.detach().contiguous()
    return expected


def write_family(family):
    folder = os.path.join(OUT, f"tiny-{family}")
    os.makedirs(folder, exist_ok=True)
    model = make_family_model(family)
    model.save_pretrained(folder, safe_serialization=True)
    write_family_gguf(model, family, os.path.join(OUT, f"tiny-{family}-f32.gguf"))
    tokens, targets = reference_batch()
    save_file(expected_results(model, tokens, targets), os.path.join(OUT, f"tiny-{family}-expected.safetensors"))


# LLaMA 3.1's RoPE scaling on the tiny LLaMA, with an original context short enough that the
# T=11 batch crosses all three bands (wavelengths kept, interpolated, divided by the factor).
LLAMA3_ROPE = dict(rope_type="llama3", rope_theta=ROPE_THETA, factor=8.0, low_freq_factor=1.0,
                   high_freq_factor=4.0, original_max_position_embeddings=32)


def llama_cpp_rope_factors(head_dim, rope):
    """rope_freqs.weight as llama.cpp's convert_hf_to_gguf computes it for rope_type llama3 (f64,
    stored as f32): each frequency's divisor."""
    freqs = 1.0 / (rope["rope_theta"] ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))
    low_wavelen = rope["original_max_position_embeddings"] / rope["low_freq_factor"]
    high_wavelen = rope["original_max_position_embeddings"] / rope["high_freq_factor"]
    factors = []
    for freq in freqs:
        wavelen = 2 * np.pi / freq
        if wavelen < high_wavelen:
            factors.append(1.0)
        elif wavelen > low_wavelen:
            factors.append(rope["factor"])
        else:
            smooth = (rope["original_max_position_embeddings"] / wavelen - rope["low_freq_factor"]) / (
                rope["high_freq_factor"] - rope["low_freq_factor"])
            factors.append(1 / ((1 - smooth) / rope["factor"] + smooth))
    return np.array(factors, dtype=np.float32)


def write_llama31():
    """tiny-llama31-expected.safetensors: the tiny LLaMA's logits with LLAMA3_ROPE (transformers)
    and the rope_freqs.weight llama.cpp would store for it."""
    model = make_model()
    scaled = LlamaForCausalLM(LlamaConfig(**{**model.config.to_dict(), "rope_parameters": LLAMA3_ROPE})).float()
    scaled.load_state_dict(model.state_dict())
    tokens, _ = reference_batch()
    with torch.no_grad():
        logits = scaled(input_ids=tokens).logits.contiguous()
    factors = llama_cpp_rope_factors(model.config.hidden_size // HEADS, LLAMA3_ROPE)
    save_file({"logits": logits, "rope_freqs": torch.from_numpy(factors)},
              os.path.join(OUT, "tiny-llama31-expected.safetensors"))


def main():
    write_llama31()
    for family in FAMILIES:
        write_family(family)
    os.makedirs(os.path.join(OUT, "tiny-llama"), exist_ok=True)
    model = make_model()
    model.save_pretrained(os.path.join(OUT, "tiny-llama"), safe_serialization=True)
    write_gguf(model, os.path.join(OUT, "tiny-llama-f32.gguf"), quant=False)
    q8_weights = write_gguf(model, os.path.join(OUT, "tiny-llama-q8_0.gguf"), quant=True)

    tokens, targets = reference_batch()
    expected = expected_results(model, tokens, targets)

    q8 = make_model()
    q8.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in q8_weights.items()})
    with torch.no_grad():
        expected["logits_q8_0"] = q8(input_ids=tokens).logits.contiguous()
    save_file(expected, os.path.join(OUT, "tiny-llama-expected.safetensors"))
    print("wrote fixtures to", os.path.abspath(OUT))


if __name__ == "__main__":
    main()
