#!/usr/bin/env python3
"""Reference results of transformers on the real models lomo is checked on, each loaded from the
same GGUF that lomo uses (transformers dequantises it to f32): SmolLM2-135M-Instruct (the
default model, Q4_1) and Gemma 3 270M (Q4_K_M), both fetched by scripts/setup.sh.

Writes Tests/LomoModelTests/Fixtures/NAME-expected.safetensors (smollm2, gemma3):
  prompt_ids [T]          the tokenizer's ids of PROMPT
  last_logits [V]         logits after the last prompt token
  sampled_logits [T, 256] logits of every position at the vocabulary ids `sampled_ids`
  sampled_ids [256]
  greedy_ids [20]         greedy continuation (model.generate, do_sample=False)
Integers are stored as f32 (exact for ids < 2^24).

Regenerate: bash scripts/setup.sh && python3 scripts/make_real_model_fixtures.py [NAME ...]
(transformers needs accelerate to read a GGUF: pip install accelerate)
"""
import os
import sys

import torch

if not torch.__version__.startswith("2.13.0"):
    sys.exit(f"torch 2.13.0+cpu is required (found {torch.__version__})")

from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

CACHE = os.path.expanduser("~/.cache/lomo")
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "Tests", "LomoModelTests", "Fixtures")
# name: (GGUF file in the cache, prompt)
MODELS = {
    "smollm2": ("SmolLM2-135M-Instruct.Q4_1.gguf", "The three primary colors are"),
    "gemma3": ("gemma-3-270m-q4_k_m.gguf", "The three primary colors are"),
}


def write(name):
    gguf, prompt = MODELS[name]
    tokenizer = AutoTokenizer.from_pretrained(CACHE, gguf_file=gguf)
    model = AutoModelForCausalLM.from_pretrained(CACHE, gguf_file=gguf, dtype=torch.float32).eval()
    ids = tokenizer(prompt, return_tensors="pt").input_ids
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0]
        greedy = model.generate(ids, max_new_tokens=20, do_sample=False)[0, ids.shape[1]:]
    torch.manual_seed(0)
    sampled = torch.randperm(logits.shape[1])[:256].sort().values
    save_file({
        "prompt_ids": ids[0].float(),
        "last_logits": logits[-1].contiguous(),
        "sampled_logits": logits[:, sampled].contiguous(),
        "sampled_ids": sampled.float(),
        "greedy_ids": greedy.float(),
    }, os.path.join(FIXTURES, f"{name}-expected.safetensors"))
    print(name, prompt, "->", repr(tokenizer.decode(greedy)))


def main():
    for name in sys.argv[1:] or MODELS:
        write(name)


if __name__ == "__main__":
    main()
