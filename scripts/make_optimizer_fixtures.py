#!/usr/bin/env python3
"""Reference fixtures for LomoOptimTests: k steps of lomo-optim's LOMO and AdaLomo on a tiny
LLaMA, with PyTorch autograd computing the gradients.

Pinned versions (checked at start): torch 2.13.0+cpu, transformers 5.23.x, lomo-optim 0.1.1.

Writes into Tests/LomoOptimTests/Fixtures/:
  tiny-llama/config.json, tiny-llama/model.safetensors   the initial model (f32, save_pretrained)
  runs/<name>.safetensors                                 every parameter after k steps of run <name>
  optimizer-runs.json                                     batch, per-run settings, losses, norms

Label convention. Hugging Face's causal-LM loss shifts inside the model: labels[t] is the
token the model should predict *at* position t-1 (labels are padded with -100 on the right,
then labels[1:] are the targets). lomo's LlamaModel takes targets already shifted:
targets[t] = label of position t+1, and -100 for the last position. The JSON holds both
`labels` (as given to the HF model) and `targets` (as given to lomo), so the Swift side does
no shifting.

Loss: mean cross-entropy over the non-ignored targets (HF's reduction "mean" with
num_items_in_batch None). Every run starts from the same saved weights.
"""
import json
import math
import os
import sys

import torch
import transformers
import lomo_optim
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM

EXPECTED = {"torch": "2.13.0+cpu", "transformers": "5.23", "lomo_optim": "0.1.1"}


def check_versions():
    got = {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "lomo_optim": getattr(lomo_optim, "__version__", None),
    }
    if got["lomo_optim"] is None:
        from importlib.metadata import version

        got["lomo_optim"] = version("lomo-optim")
    for k, v in EXPECTED.items():
        if not str(got[k]).startswith(v):
            sys.exit(f"{k} {got[k]} found, fixtures are pinned to {v}")
    return got


# lomo-optim's AdaLomo allocates its state with .cuda(); on a CPU-only torch that raises.
torch.Tensor.cuda = lambda self, *args, **kwargs: self

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "LomoOptimTests", "Fixtures")
MODEL_DIR = os.path.join(OUT, "tiny-llama")
STEPS = 3
BATCH, TIME = 2, 16


def tiny_config():
    return LlamaConfig(
        vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
        rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
        attention_bias=False, mlp_bias=False, initializer_range=0.1,
    )


def make_batch():
    g = torch.Generator().manual_seed(1234)
    tokens = torch.randint(0, 256, (BATCH, TIME), generator=g)
    labels = tokens.clone()
    labels[0, :3] = -100       # a "prompt" that is not trained on
    labels[1, 5] = -100
    labels[1, 9:11] = -100
    # lomo's targets: targets[t] = labels[t + 1], the last position ignored.
    targets = torch.full_like(labels, -100)
    targets[:, :-1] = labels[:, 1:]
    return tokens, labels, targets


def load_model():
    model = LlamaForCausalLM.from_pretrained(MODEL_DIR, dtype=torch.float32, attn_implementation="eager")
    model.train()  # no dropout in LLaMA; train() only for autograd hooks semantics
    return model


def run(name, make_optimizer, two_pass, tokens, labels, lr):
    model = load_model()
    opt = make_optimizer(model)
    losses, norms = [], []
    for _ in range(STEPS):
        out = model(input_ids=tokens, labels=labels)
        loss = out.loss
        losses.append(float(loss))
        if two_pass:
            opt.grad_norm(loss)
            norms.append(float(torch.norm(opt.grad_norms, 2.0)))
        opt.fused_backward(loss, lr)
    # A final loss with the updated weights, so Swift can check the last step's effect too.
    with torch.no_grad():
        final = float(model(input_ids=tokens, labels=labels).loss)
    tensors = {n: p.detach().contiguous().clone() for n, p in model.named_parameters()}
    os.makedirs(os.path.join(OUT, "runs"), exist_ok=True)
    save_file(tensors, os.path.join(OUT, "runs", f"{name}.safetensors"))
    return {"losses": losses, "finalLoss": final, "totalNorms": norms}


def main():
    versions = check_versions()
    torch.manual_seed(0)
    model = LlamaForCausalLM(tiny_config()).to(torch.float32)
    os.makedirs(MODEL_DIR, exist_ok=True)
    model.save_pretrained(MODEL_DIR, safe_serialization=True)
    tokens, labels, targets = make_batch()

    from lomo_optim import AdaLomo, Lomo

    runs = {
        "lomo": dict(kind="lomo", lr=0.05, make=lambda m: Lomo(m, lr=0.05), two_pass=False),
        "lomo_clipnorm": dict(kind="lomo", lr=0.05, clipGradNorm=1.0,
                              make=lambda m: Lomo(m, lr=0.05, clip_grad_norm=1.0), two_pass=True),
        "lomo_clipvalue": dict(kind="lomo", lr=0.05, clipGradValue=0.01,
                               make=lambda m: Lomo(m, lr=0.05, clip_grad_value=0.01), two_pass=False),
        "lomo_weightdecay": dict(kind="lomo", lr=0.05, weightDecay=0.1,
                                 make=lambda m: Lomo(m, lr=0.05, weight_decay=0.1), two_pass=False),
        "adalomo": dict(kind="adalomo", lr=0.01, lossScale=1024.0,
                        make=lambda m: AdaLomo(m, lr=0.01), two_pass=False),
        "adalomo_weightdecay": dict(kind="adalomo", lr=0.01, lossScale=1024.0, weightDecay=0.5,
                                    make=lambda m: AdaLomo(m, lr=0.01, weight_decay=0.5),
                                    two_pass=False),
    }
    results = {}
    for name, spec in runs.items():
        r = run(name, spec["make"], spec["two_pass"], tokens, labels, spec["lr"])
        settings = {k: v for k, v in spec.items() if k not in ("make", "two_pass")}
        results[name] = {**settings, **r}
        print(name, r)

    doc = {
        "versions": versions,
        "steps": STEPS,
        "batch": BATCH,
        "time": TIME,
        "tokens": tokens.flatten().tolist(),
        "labels": labels.flatten().tolist(),
        "targets": targets.flatten().tolist(),
        "runs": results,
    }
    with open(os.path.join(OUT, "optimizer-runs.json"), "w") as f:
        json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main()
