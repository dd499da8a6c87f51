#!/usr/bin/env python3
"""Writes the GGUF fixtures of Tests/LomoFormatsTests/Fixtures (committed; tests never run Python).

Pinned: gguf==0.19.0, numpy (2.x). Fixed seeds, so reruns give identical files.

  types.gguf / types.json   every metadata value type (incl. arrays of strings and nested
                            arrays) and one tensor per supported storage type; the JSON holds
                            each tensor's values as dequantised by gguf.quants.dequantize
                            (legacy quants quantised by gguf.quants.quantize from random data;
                            K-quant blocks are random bytes with sane f16 scales, since gguf-py
                            cannot quantise them), plus attn_q/attn_k stored with llama.cpp's
                            Q/K row permutation and their HF (unpermuted) originals.
  v2.gguf / v2.json         a GGUF version 2 file (version field patched: v2 and v3 differ only
                            in that v3 allows big-endian files) with general.alignment 64.
  smollm2_expected.json     from $HOME/.cache/lomo/SmolLM2-135M-Instruct.Q4_1.gguf when present:
                            sums of every tensor; for three tensors the first 128 values of the
                            first row, the last 128 of the last row, and 100 random elements.

Usage: python3 scripts/make_gguf_fixtures.py [output_dir]
"""
import importlib.metadata
import json
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T, GGUFValueType as V

assert importlib.metadata.version("gguf") == "0.19.0", "pin gguf==0.19.0"

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "Tests", "LomoFormatsTests", "Fixtures")
MODEL = os.path.expanduser("~/.cache/lomo/SmolLM2-135M-Instruct.Q4_1.gguf")


def floats(a):
    """f32 values as JSON numbers that parse back to the same f32."""
    return [float(x) for x in np.asarray(a, dtype=np.float32).reshape(-1)]


def tensor_entry(values):
    values = np.asarray(values, dtype=np.float32)
    return {"shape": list(values.shape), "data": floats(values)}


def llama_cpp_permute(w, n_head):
    # The forward permutation of llama.cpp's convert_hf_to_gguf.py (LlamaModel.permute).
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def k_quant_blocks(rng, qtype, n_blocks):
    """Random K-quant super-blocks whose f16 scale fields hold small finite values."""
    _, type_size = gguf.GGML_QUANT_SIZES[qtype]
    b = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    def put_f16(col, values):
        b[:, col:col + 2] = np.asarray(values, dtype=np.float16).reshape(-1, 1).view(np.uint8)
    if qtype in (T.Q4_K, T.Q5_K):
        put_f16(0, rng.uniform(0.001, 0.01, n_blocks))   # d
        put_f16(2, rng.uniform(0.001, 0.01, n_blocks))   # dmin
    elif qtype == T.Q6_K:
        put_f16(type_size - 2, rng.uniform(0.0005, 0.005, n_blocks))  # d (last field)
    return b


def write_types(path_gguf, path_json):
    rng = np.random.default_rng(1234)
    w = gguf.GGUFWriter(path_gguf, "test")
    kv = w.add_key_value
    kv("test.uint8", 200, V.UINT8)
    kv("test.int8", -100, V.INT8)
    kv("test.uint16", 60000, V.UINT16)
    kv("test.int16", -30000, V.INT16)
    kv("test.uint32", 4000000000, V.UINT32)
    kv("test.int32", -2000000000, V.INT32)
    kv("test.float32", 3.25, V.FLOAT32)
    kv("test.bool_true", True, V.BOOL)
    kv("test.bool_false", False, V.BOOL)
    kv("test.string", "héllo wörld ✓", V.STRING)
    kv("test.empty_string", "", V.STRING)
    kv("test.uint64", 2**63 + 5, V.UINT64)
    kv("test.int64", -(2**62) - 3, V.INT64)
    kv("test.float64", 1.0 / 3.0, V.FLOAT64)
    kv("test.array.uint8", [1, 2, 255], V.ARRAY, V.UINT8)
    kv("test.array.int32", [-1, 0, 7], V.ARRAY, V.INT32)
    kv("test.array.uint64", [0, 2**64 - 1], V.ARRAY, V.UINT64)
    kv("test.array.float32", [0.5, -1.25], V.ARRAY, V.FLOAT32)
    kv("test.array.float64", [0.1, -2.5], V.ARRAY, V.FLOAT64)
    kv("test.array.bool", [True, False, True], V.ARRAY, V.BOOL)
    kv("test.array.string", ["a", "bc", "", "ünï"], V.ARRAY, V.STRING)
    kv("test.array.nested", [[1, 2], [3]], V.ARRAY, V.ARRAY)                 # int32 inside
    kv("test.array.nested_strings", [["x"], ["y", "z"]], V.ARRAY, V.ARRAY)
    kv("test.head_count", 2, V.UINT32)
    kv("test.head_count_kv", 1, V.UINT32)

    expected = {}

    def add_float(name, values, qtype):
        values = values.astype(np.float32)
        if qtype == T.F32:
            w.add_tensor(name, values)
            expected[name] = tensor_entry(values)
        elif qtype == T.F16:
            h = values.astype(np.float16)
            w.add_tensor(name, h)
            expected[name] = tensor_entry(gguf.quants.dequantize(h, T.F16))
        else:
            q = gguf.quants.quantize(values, qtype)
            w.add_tensor(name, q, raw_dtype=qtype)
            expected[name] = tensor_entry(gguf.quants.dequantize(q, qtype))

    # Plain floats, shape [3, 7] (GGUF dims [7, 3]) plus 1-D and 3-D ones.
    f = rng.standard_normal((3, 7)).astype(np.float32)
    f[0, :3] = [0.0, -0.0, 1e-6]   # zero, negative zero, an f16 subnormal
    add_float("f32", f, T.F32)
    add_float("f16", f, T.F16)
    add_float("bf16", f, T.BF16)
    add_float("f32_1d", rng.standard_normal(5), T.F32)
    add_float("f32_3d", rng.standard_normal((2, 3, 4)), T.F32)

    # 32-element block quants, shape [5, 64]; one all-zero block.
    for name, qtype in [("q8_0", T.Q8_0), ("q4_0", T.Q4_0), ("q4_1", T.Q4_1),
                        ("q5_0", T.Q5_0), ("q5_1", T.Q5_1)]:
        x = rng.standard_normal((5, 64)).astype(np.float32) * 0.1
        x[1, :32] = 0
        add_float(name, x, qtype)

    # K-quants, shape [3, 256]: random blocks, dequantised by gguf-py.
    for name, qtype in [("q4_k", T.Q4_K), ("q5_k", T.Q5_K), ("q6_k", T.Q6_K)]:
        blocks = k_quant_blocks(rng, qtype, 3)
        w.add_tensor(name, blocks, raw_dtype=qtype)
        expected[name] = tensor_entry(gguf.quants.dequantize(blocks, qtype))

    # Q and K projections in llama.cpp's permuted row order (2 heads / 1 kv head, head dim 8:
    # for head dim 4 the permutation is its own inverse, so a test could not tell the direction).
    wq = rng.standard_normal((16, 3)).astype(np.float32)
    wk = rng.standard_normal((8, 3)).astype(np.float32)
    w.add_tensor("attn_q.weight", llama_cpp_permute(wq, 2))
    w.add_tensor("attn_k.weight", llama_cpp_permute(wk, 1))
    expected["attn_q.weight.hf"] = tensor_entry(wq)
    expected["attn_k.weight.hf"] = tensor_entry(wk)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with open(path_json, "w") as fh:
        json.dump({"tensors": expected, "config": {}}, fh)


def write_v2(path_gguf, path_json):
    rng = np.random.default_rng(99)
    w = gguf.GGUFWriter(path_gguf, "test")
    w.add_custom_alignment(64)
    w.add_key_value("test.name", "version two", V.STRING)
    x = (rng.standard_normal((2, 32)) * 0.5).astype(np.float32)
    q = gguf.quants.quantize(x, T.Q8_0)
    w.add_tensor("q8_0", q, raw_dtype=T.Q8_0)
    b = rng.standard_normal(4).astype(np.float32)
    w.add_tensor("bias", b)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with open(path_gguf, "r+b") as fh:          # patch version 3 -> 2
        fh.seek(4)
        assert fh.read(4) == (3).to_bytes(4, "little")
        fh.seek(4)
        fh.write((2).to_bytes(4, "little"))
    expected = {"q8_0": tensor_entry(gguf.quants.dequantize(q, T.Q8_0)), "bias": tensor_entry(b)}
    with open(path_json, "w") as fh:
        json.dump({"tensors": expected, "config": {}}, fh)


def write_smollm2(path_json):
    r = gguf.GGUFReader(MODEL)
    rng = np.random.default_rng(7)
    sums = {}
    picks = {}
    for t in r.tensors:
        values = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        values = values.reshape(tuple(int(d) for d in reversed(t.shape)))  # HF order
        v64 = values.astype(np.float64)
        sums[t.name] = {"type": t.tensor_type.name, "shape": list(values.shape),
                        "sum": float(v64.sum()), "sumSquares": float((v64 * v64).sum())}
        if t.name in ("token_embd.weight", "blk.0.attn_q.weight", "blk.29.ffn_down.weight"):
            m = values.reshape(values.shape[0], -1)
            rows, cols = m.shape
            idx = [(int(a), int(b)) for a, b in zip(rng.integers(0, rows, 100), rng.integers(0, cols, 100))]
            picks[t.name] = {"firstRowHead": floats(m[0, :128]), "lastRowTail": floats(m[-1, -128:]),
                             "indices": [list(p) for p in idx],
                             "values": floats([m[a, b] for a, b in idx])}
    with open(path_json, "w") as fh:
        json.dump({"tensorCount": len(r.tensors), "sums": sums, "picks": picks}, fh)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    write_types(os.path.join(OUT, "types.gguf"), os.path.join(OUT, "types.json"))
    write_v2(os.path.join(OUT, "v2.gguf"), os.path.join(OUT, "v2.json"))
    if os.path.exists(MODEL):
        write_smollm2(os.path.join(OUT, "smollm2_expected.json"))
    else:
        print(f"skipping smollm2_expected.json: {MODEL} not found", file=sys.stderr)
