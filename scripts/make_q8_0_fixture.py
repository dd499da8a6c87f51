"""Reference Q8_0 quantisation for GGUFWriter's bit-exactness test.

Input: the tiny LLaMA's layer-0 q_proj and gate_proj weights (Tests/LomoModelTests/Fixtures/
tiny-llama/model.safetensors) plus hand-made edge blocks (all zeros, exact .5 ties, a single
non-zero, huge and subnormal magnitudes, mixed signs). Output, little-endian:
  Tests/LomoFormatsTests/Fixtures/q8_0-input.f32     the f32 values
  Tests/LomoFormatsTests/Fixtures/q8_0-expected.bin  gguf.quants.quantize(values, Q8_0)
Pinned: gguf 0.19 (llama.cpp's gguf-py), numpy 2.x, safetensors.
"""
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType
from gguf.quants import quantize
from safetensors.numpy import load_file

root = Path(__file__).resolve().parent.parent
weights = load_file(root / "Tests/LomoModelTests/Fixtures/tiny-llama/model.safetensors")
parts = [weights["model.layers.0.self_attn.q_proj.weight"].reshape(-1),
         weights["model.layers.0.mlp.gate_proj.weight"].reshape(-1)]

edge = []
edge.append(np.zeros(32, np.float32))                                   # scale 0
ties = np.arange(-16, 16, dtype=np.float32) + 0.5                       # x/scale on .5 ties
ties[0] = -127.0
edge.append(ties)
one = np.zeros(32, np.float32); one[7] = -3.25; edge.append(one)         # single value
edge.append(np.linspace(-6e4, 6e4, 32, dtype=np.float32))               # near f16 max scale
edge.append((np.arange(32, dtype=np.float32) - 15) * np.float32(1e-30)) # scale below f16 range
rng = np.random.default_rng(20240611)
edge.append(rng.standard_normal(32 * 8).astype(np.float32) * 7)
edge.append(rng.uniform(-1, 1, 32 * 4).astype(np.float32) * 1e-3)
values = np.concatenate(parts + edge).astype(np.float32)
assert values.size % 32 == 0

q = quantize(values.reshape(-1, 32), GGMLQuantizationType.Q8_0)
out = root / "Tests/LomoFormatsTests/Fixtures"
values.astype("<f4").tofile(out / "q8_0-input.f32")
np.ascontiguousarray(q).tofile(out / "q8_0-expected.bin")
print(values.size, "values,", q.nbytes, "bytes")
