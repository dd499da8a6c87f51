#!/usr/bin/env python3
"""Golden kernel fixtures for lomo, computed by PyTorch / transformers.

Regenerate (from the repository root, with the pinned versions of
scripts/requirements-fixtures.txt installed):

    pip install -r scripts/requirements-fixtures.txt
    python3 scripts/make_kernel_fixtures.py

The output is deterministic for the pinned versions: every fixture seeds its own generator
(torch.manual_seed), so adding or reordering fixtures changes no other file. Files go to
Tests/LomoKernelsTests/Fixtures/<name>.json in the format of Tests/LomoTestSupport/Fixture.swift:

    {"tensors": {name: {"shape": [...], "data": [flat row-major f32 values]}},
     "config": {key: number}}

Integer tensors (token ids, targets, bit patterns) are stored as exactly representable floats.

Precision of each reference (the tests' tolerances follow from it):
  - float64 from float32 inputs: matmul, embedding, RoPE (on transformers' f32 cos/sin table,
    which is what checkpoints were trained with), attention, SwiGLU, cross-entropy.
  - float32: RMSNorm, because transformers' LlamaRMSNorm upcasts to f32 internally: it *is*
    f32 behaviour. The script cross-checks it against a float64 formula.
  - bf16 matmul: operands rounded with torch's .to(torch.bfloat16) (round to nearest even);
    their products are exact in f32 and are summed in float64, the reference for an f32
    accumulator.
  - conversions: exact bit patterns from torch's f32 -> bf16 / f16 casts.
"""

import json
import math
import os
import sys

import torch

REQUIRED_TORCH = "2.13.0"
if not torch.__version__.startswith(REQUIRED_TORCH):
    sys.exit(
        f"make_kernel_fixtures.py: torch {torch.__version__} found, but the committed fixtures "
        f"come from torch {REQUIRED_TORCH}+cpu. Install the pinned versions with "
        f"`pip install -r scripts/requirements-fixtures.txt` (torch==2.13.0+cpu) and run again."
    )

import numpy as np  # noqa: E402  (after the version check, which needs only torch)
import torch.nn.functional as F  # noqa: E402
from transformers import LlamaConfig  # noqa: E402
from transformers.models.llama.modeling_llama import (  # noqa: E402
    LlamaRMSNorm,
    LlamaRotaryEmbedding,
    apply_rotary_pos_emb,
)

OUT_DIR = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "LomoKernelsTests", "Fixtures"
)
MAX_BYTES = 200_000
F64 = torch.float64


# MARK: - Writing


def f32_literal(x: float) -> str:
    """The shortest decimal that reads back as the same f32 both directly and through a
    double (JSON decoders may parse to Double, then convert); falls back to the exact double."""
    v = np.float32(x)
    if not np.isfinite(v):
        raise ValueError(f"JSON cannot hold {x}; store a bit pattern instead")
    s = np.format_float_scientific(v, unique=True, trim="-")
    if np.float32(s) == v and np.float32(float(s)) == v and (v != 0 or s.startswith("-") == (np.signbit(v))):
        return s
    return repr(float(v))


def write_fixture(name: str, tensors: dict, config: dict) -> None:
    parts = []
    for key, t in tensors.items():
        t = torch.as_tensor(t)
        data = ",".join(f32_literal(x) for x in t.detach().to(F64).reshape(-1).tolist())
        shape = ",".join(str(d) for d in t.shape)
        parts.append(f'"{key}":{{"shape":[{shape}],"data":[{data}]}}')
    cfg = json.dumps({k: (float(v) if isinstance(v, float) else int(v)) for k, v in config.items()},
                     separators=(",", ":"))
    text = '{"tensors":{' + ",\n".join(parts) + '},\n"config":' + cfg + "}\n"
    json.loads(text)  # well-formed
    if len(text) > MAX_BYTES:
        raise SystemExit(f"{name}.json is {len(text)} bytes; keep fixtures under {MAX_BYTES}")
    with open(os.path.join(OUT_DIR, name + ".json"), "w") as f:
        f.write(text)
    print(f"{name}.json: {len(text)} bytes")


def randn(*shape, scale=1.0):
    """Standard normal f32 values (the kernels' storage type), promoted to f64 for the math."""
    return (torch.randn(*shape, dtype=torch.float32) * scale).to(F64)


def grads(output, dout, *inputs):
    """Gradients of sum(output * dout) with respect to `inputs` (autograd)."""
    return torch.autograd.grad(output, inputs, grad_outputs=dout)


def leaf(t):
    return t.clone().requires_grad_(True)


def bf16_round(t):
    return t.to(torch.float32).to(torch.bfloat16).to(F64)


# MARK: - Fixtures


def matmul_f32(seed, name, rows, in_dim, out_dim):
    """out = inp @ W.T, dInp = dOut @ W, dW = dOut.T @ inp (f64 reference)."""
    torch.manual_seed(seed)
    x, w, dout = leaf(randn(rows, in_dim)), leaf(randn(out_dim, in_dim)), randn(rows, out_dim)
    out = x @ w.T
    dx, dw = grads(out, dout, x, w)
    write_fixture(name, {"inp": x, "weight": w, "out": out, "dout": dout, "dinp": dx, "dweight": dw},
                  {"rows": rows, "inDim": in_dim, "outDim": out_dim})


def matmul_bf16(seed, name, rows, in_dim, out_dim):
    """bf16 weights: W is stored as bf16 (its rounded values are written as f32), activations
    are rounded to bf16 before each product. `dweight` has f32 operands, `dweight_bf16` rounds
    both operands (MatMul.backwardWeight's bf16Operands)."""
    torch.manual_seed(seed)
    x, dout = randn(rows, in_dim), randn(rows, out_dim)
    w = bf16_round(randn(out_dim, in_dim))
    write_fixture(name, {
        "inp": x, "weight": w, "dout": dout,
        "out": bf16_round(x) @ w.T,
        "dinp": bf16_round(dout) @ w,
        "dweight": dout.T @ x,
        "dweight_bf16": bf16_round(dout).T @ bf16_round(x),
    }, {"rows": rows, "inDim": in_dim, "outDim": out_dim})


def embedding(seed, name, rows, channels, vocab):
    """out[n] = table[tok[n]]; dTable[v] = sum of dOut rows whose token is v (repeats included).
    `table_bf16`/`out_bf16`: the same lookup from a bf16 table (values exact in f32)."""
    torch.manual_seed(seed)
    tokens = torch.randint(0, vocab, (rows,))
    tokens[: rows // 3] = tokens[rows // 3: 2 * (rows // 3)]  # force repeated ids
    tokens[-1] = vocab - 1
    table, dout = leaf(randn(vocab, channels)), randn(rows, channels)
    out = F.embedding(tokens, table)
    (dtable,) = grads(out, dout, table)
    table_bf16 = bf16_round(table.detach())
    write_fixture(name, {
        "tokens": tokens, "table": table, "out": out, "dout": dout, "dtable": dtable,
        "table_bf16": table_bf16, "out_bf16": F.embedding(tokens, table_bf16),
    }, {"rows": rows, "channels": channels, "vocab": vocab})


def rmsnorm(seed, name, rows, channels, eps, scale):
    """transformers' LlamaRMSNorm in f32 (its own compute type); rstd = 1/sqrt(mean(x²)+eps)."""
    torch.manual_seed(seed)
    x = leaf(randn(rows, channels, scale=scale).float())
    norm = LlamaRMSNorm(channels, eps=eps)
    with torch.no_grad():
        norm.weight.copy_(1 + 0.5 * torch.randn(channels))
    dout = torch.randn(rows, channels)
    out = norm(x)
    dx, dw = grads(out, dout, x, norm.weight)
    # Cross-check the f32 oracle against float64 math.
    x64, w64 = x.detach().to(F64).requires_grad_(True), norm.weight.detach().to(F64).requires_grad_(True)
    rstd64 = torch.rsqrt(x64.pow(2).mean(-1, keepdim=True) + eps)
    out64 = x64 * rstd64 * w64
    dx64, dw64 = grads(out64, dout.to(F64), x64, w64)
    for a, b in ((out, out64), (dx, dx64), (dw, dw64)):
        torch.testing.assert_close(a.to(F64), b, atol=1e-5, rtol=1e-4)
    write_fixture(name, {
        "inp": x, "weight": norm.weight, "out": out, "rstd": rstd64.reshape(rows),
        "dout": dout, "dinp": dx, "dweight": dw,
    }, {"rows": rows, "channels": channels, "eps": eps})


def rope(seed, name, batch, time, heads, head_dim, theta, offset):
    """x [B, T, heads, D] rotated at positions offset..<offset+T with transformers'
    LlamaRotaryEmbedding (rotate-half pairs (i, i + D/2)); dinp is the gradient wrt x."""
    torch.manual_seed(seed)
    config = LlamaConfig(hidden_size=heads * head_dim, num_attention_heads=heads, head_dim=head_dim,
                         max_position_embeddings=offset + time,
                         rope_parameters={"rope_type": "default", "rope_theta": theta})
    x, dout = leaf(randn(batch, time, heads, head_dim)), randn(batch, time, heads, head_dim)
    positions = torch.arange(offset, offset + time).expand(batch, time)
    cos, sin = LlamaRotaryEmbedding(config)(x, positions)  # [B, T, D], f32 math cast to f64
    out, _ = apply_rotary_pos_emb(x, x, cos, sin, unsqueeze_dim=2)
    (dx,) = grads(out, dout, x)
    write_fixture(name, {"inp": x, "out": out, "dout": dout, "dinp": dx},
                  {"batch": batch, "time": time, "heads": heads, "headDim": head_dim,
                   "theta": theta, "positionOffset": offset})


def attention(seed, name, batch, time, heads, kv_heads, head_dim):
    """Causal grouped-query attention, q [B, T, H, D], k and v [B, T, KVH, D]; query head h
    reads kv head h / (H / KVH). Scale 1/sqrt(D); lse [B, H, T] is the natural log-sum-exp of
    each query row's scaled, masked scores."""
    torch.manual_seed(seed)
    q = leaf(randn(batch, time, heads, head_dim))
    k = leaf(randn(batch, time, kv_heads, head_dim))
    v = leaf(randn(batch, time, kv_heads, head_dim))
    dout = randn(batch, time, heads, head_dim)
    qt, kt, vt = (t.transpose(1, 2) for t in (q, k, v))  # [B, heads, T, D]
    out = F.scaled_dot_product_attention(qt, kt, vt, is_causal=True, enable_gqa=True).transpose(1, 2)
    dq, dk, dv = grads(out, dout, q, k, v)
    scores = qt @ kt.repeat_interleave(heads // kv_heads, dim=1).transpose(-1, -2) / math.sqrt(head_dim)
    causal = torch.ones(time, time, dtype=torch.bool).tril()
    lse = torch.logsumexp(scores.masked_fill(~causal, -math.inf), dim=-1)  # [B, H, T]
    write_fixture(name, {"q": q, "k": k, "v": v, "out": out, "lse": lse, "dout": dout,
                         "dq": dq, "dk": dk, "dv": dv},
                  {"batch": batch, "time": time, "heads": heads, "kvHeads": kv_heads,
                   "headDim": head_dim})


def swiglu(seed, name, count):
    """out = silu(gate) * up, with some large |gate| for the saturated tails of the sigmoid."""
    torch.manual_seed(seed)
    gate = randn(count, scale=3.0)
    gate[:4] = torch.tensor([-30.0, -12.0, 12.0, 30.0], dtype=F64)
    gate, up, dout = leaf(gate), leaf(randn(count)), randn(count)
    out = F.silu(gate) * up
    dgate, dup = grads(out, dout, gate, up)
    write_fixture(name, {"gate": gate, "up": up, "out": out, "dout": dout,
                         "dgate": dgate, "dup": dup}, {"count": count})


def cross_entropy(seed, name, rows, channels, vocab, ignored):
    """Fused LM head + cross-entropy: logits = hidden @ W.T, targets < 0 ignored, loss = mean
    nll over the other rows, nll = 0 on ignored rows; gradients of the mean loss."""
    torch.manual_seed(seed)
    hidden = leaf(randn(rows, channels))
    weight = leaf(randn(vocab, channels, scale=1.5))  # logits of a few units: a peaked softmax
    targets = torch.randint(0, vocab, (rows,))
    targets[-1] = vocab - 1
    targets[list(ignored)] = -100
    nll = F.cross_entropy(hidden @ weight.T, targets, ignore_index=-100, reduction="none")
    count = int((targets >= 0).sum())
    loss = nll.sum() / count
    dhidden, dweight = torch.autograd.grad(loss, (hidden, weight))
    write_fixture(name, {"hidden": hidden, "weight": weight, "targets": targets,
                         "nll": nll, "loss": loss.reshape(1), "dhidden": dhidden,
                         "dweight": dweight},
                  {"rows": rows, "channels": channels, "vocab": vocab, "tokenCount": count})


def f32_from_bits(bits):
    return torch.tensor(bits, dtype=torch.int64).to(torch.int32).view(torch.float32)


def conversions(seed, name):
    """f32 -> bf16 and f32 -> f16, round to nearest even, as torch casts. Expected results are
    16-bit patterns (`bf16_bits`, `f16_bits`): exact, and they carry the infinities of
    overflow, which JSON numbers cannot."""
    torch.manual_seed(seed)
    edge_bits = [
        0x3F800000, 0x3F808000, 0x3F818000, 0x3F808001, 0x3F807FFF,  # 1, ties to even, around a tie
        0xBF808000, 0xBF818000, 0xBF80C000,                          # negative ties, above a tie
        0x7F7FFFFF, 0x7F7F0000, 0x7F7F7FFF, 0x7F7F8000, 0xFF7FFFFF,  # near FLT_MAX: bf16 overflow
        0x00800000, 0x00000001, 0x00008000, 0x00018000, 0x007FFFFF,  # FLT_MIN, f32 subnormals
        0x80000001, 0x807FFFFF, 0x00000000, 0x80000000,              # negative subnormals, ±0
    ]
    edge_values = [
        65504.0, 65519.0, 65519.996, 65520.0, 1e5, -1e5, 3.0e38, -70000.0,  # f16 max, overflow
        2.0**-14, 2.0**-24, 2.0**-25, 3 * 2.0**-25, 2.0**-26, 5 * 2.0**-26,  # f16 subnormal ties
        1e-8, -6e-8, 2.0**-14 - 2.0**-25, 1e-10,
        1 + 2.0**-11, 1 + 3 * 2.0**-11, 1 + 2.0**-11 + 2.0**-20, 2048 + 1.0, 2048 + 3.0,
        0.1, 1 / 3, math.pi, -math.e, 1e-3, 123456.0, 1e20, -1e-20,
    ]
    x = torch.cat([
        f32_from_bits(edge_bits),
        torch.tensor(edge_values, dtype=torch.float32),
        torch.randn(64) * torch.logspace(-6, 6, 64),
    ])
    assert not torch.isnan(x).any()
    bf16_bits = x.to(torch.bfloat16).view(torch.int16).to(torch.int64) & 0xFFFF
    f16_bits = x.to(torch.float16).view(torch.int16).to(torch.int64) & 0xFFFF
    write_fixture(name, {"inp": x, "bf16_bits": bf16_bits, "f16_bits": f16_bits},
                  {"count": x.numel()})


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    torch.set_num_threads(1)
    # Odd sizes on purpose: T not a multiple of 8, C not a multiple of 16, KVH < H.
    matmul_f32(1, "matmul_f32", rows=2 * 7, in_dim=40, out_dim=24)
    matmul_bf16(2, "matmul_bf16", rows=2 * 7, in_dim=40, out_dim=24)
    embedding(3, "embedding", rows=2 * 7, channels=24, vocab=37)
    rmsnorm(4, "rmsnorm_c40", rows=2 * 7, channels=40, eps=1e-5, scale=1.0)
    rmsnorm(5, "rmsnorm_c24", rows=13, channels=24, eps=1e-6, scale=30.0)
    rope(6, "rope_theta1e4", batch=2, time=7, heads=3, head_dim=10, theta=10000.0, offset=0)
    rope(7, "rope_theta1e5", batch=1, time=13, heads=2, head_dim=10, theta=100000.0, offset=5)
    attention(8, "attention_h4_kv2_t7", batch=2, time=7, heads=4, kv_heads=2, head_dim=10)
    attention(9, "attention_h3_kv1_t13", batch=2, time=13, heads=3, kv_heads=1, head_dim=10)
    swiglu(10, "swiglu", count=2 * 7 * 40)
    cross_entropy(11, "cross_entropy_v37", rows=2 * 7, channels=24, vocab=37, ignored=(2, 9))
    cross_entropy(12, "cross_entropy_v300", rows=2 * 7, channels=20, vocab=300, ignored=(0, 5, 6))
    conversions(13, "conversions")


if __name__ == "__main__":
    main()
