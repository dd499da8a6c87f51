#!/usr/bin/env python3
"""Real-model reference for LOMO: SmolLM2-135M-Instruct (the default Q4_1 GGUF, dequantised to
f32 by transformers, exactly the weights lomo loads) trained with lomo-optim's LOMO on one
fixed 512-token batch for 6 steps, lr 1e-3, no clipping, no weight decay.

Writes Tests/LomoOptimTests/Fixtures/smollm2-lomo.json:
  tokens [512], labels [512] (HF convention, every position trained),
  targets [512] (lomo convention: targets[t] = labels[t + 1], last position -100),
  losses [6] (mean loss of the batch before each update), finalLoss (after the 6th).

Pinned: torch 2.13.0+cpu, transformers 5.23, lomo-optim 0.1.1.
Regenerate: bash scripts/setup.sh && python3 scripts/make_smollm2_lomo_fixture.py
"""
import json
import os
import sys

import torch

if not torch.__version__.startswith("2.13.0"):
    sys.exit(f"torch 2.13.0+cpu is required (found {torch.__version__})")

from lomo_optim import Lomo
from transformers import AutoModelForCausalLM, AutoTokenizer

CACHE = os.environ.get("LOMO_CACHE", os.path.expanduser("~/.cache/lomo"))
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "LomoOptimTests",
                   "Fixtures", "smollm2-lomo.json")
STEPS, TIME, LR = 6, 512, 1e-3

TEXT = (
    "Full-parameter fine-tuning of large language models usually needs several times the memory "
    "of the model itself: besides the weights, the optimizer keeps gradients and two moment "
    "estimates for every parameter. LOMO fuses the gradient computation with the update. As soon "
    "as the gradient of one tensor is known, the tensor is updated with plain stochastic gradient "
    "descent and the gradient is thrown away, so at any moment only one gradient tensor lives in "
    "memory. The backward pass visits the layers from the last to the first; the language-model "
    "head comes first, then the final normalisation, then every transformer block in reverse, and "
    "the token embedding last. Gradient clipping by the global norm needs the norm before any "
    "update, which costs a second backward pass. Loss scaling protects half-precision gradients "
    "from underflow; when an overflow appears, the step is skipped and the scale is halved. "
)


def main():
    tokenizer = AutoTokenizer.from_pretrained(CACHE, gguf_file=GGUF)
    model = AutoModelForCausalLM.from_pretrained(CACHE, gguf_file=GGUF, dtype=torch.float32,
                                                 attn_implementation="eager")
    model.train()
    ids = []
    while len(ids) < TIME:
        ids += tokenizer(TEXT, add_special_tokens=False).input_ids
    tokens = torch.tensor([ids[:TIME]])
    labels = tokens.clone()
    targets = tokens[0, 1:].tolist() + [-100]

    opt = Lomo(model, lr=LR)
    losses = []
    for step in range(STEPS):
        loss = model(input_ids=tokens, labels=labels).loss
        losses.append(float(loss.detach()))
        opt.fused_backward(loss, LR)
        print(step, losses[-1], flush=True)
    with torch.no_grad():
        final = float(model(input_ids=tokens, labels=labels).loss)
    print("final", final)
    with open(OUT, "w") as f:
        json.dump({"steps": STEPS, "learningRate": LR, "tokens": tokens[0].tolist(),
                   "labels": labels[0].tolist(), "targets": targets, "losses": losses,
                   "finalLoss": final}, f, indent=1)


if __name__ == "__main__":
    main()
