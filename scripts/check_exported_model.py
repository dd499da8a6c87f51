"""Checks models exported by lomo (`lomo convert`, training checkpoints) with other tools.

Not run by the Swift tests. For each exported GGUF file:
  1. llama.cpp's own Python reader (gguf-py's GGUFReader) opens it: version, key-values,
     tensor types, the tokenizer arrays and chat template, and every tensor dequantises
     (gguf.quants.dequantize); against a reference GGUF, each tensor's largest difference;
  2. transformers loads it (AutoModelForCausalLM.from_pretrained(dir, gguf_file=name)).
For each exported Hugging Face folder, transformers loads it with from_pretrained(dir), and its
tokenizer (when the folder has one) must encode sample texts and render the chat template as the
reference's tokenizer does.
Every model's logits for one prompt are compared with the reference model's (a Hugging Face
folder or a GGUF file, also loaded with transformers). Exit status 1 if any check fails.

  python scripts/check_exported_model.py --reference Tests/LomoModelTests/Fixtures/tiny-llama \
      --gguf out/tiny-f32.gguf --gguf out/tiny-q8_0.gguf --hf out/tiny-hf --tokens 1,5,9,200,3
  python scripts/check_exported_model.py --reference ~/.cache/lomo/SmolLM2-135M-Instruct.Q4_1.gguf \
      --gguf out/smollm2-q8_0.gguf --hf out/smollm2-hf --prompt "The capital of France is"

Versions used: torch 2.13 (CPU), transformers 5.23, gguf 0.19, safetensors.
"""
import argparse
import os
import sys

os.environ.setdefault("TQDM_DISABLE", "1")  # transformers' GGUF loading progress bars
from collections import Counter

import numpy as np
import torch
from gguf import GGUFReader
from gguf.quants import dequantize
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.utils import logging as hf_logging

hf_logging.disable_progress_bar()


def load_transformers(path):
    if path.endswith(".gguf"):
        directory, name = os.path.split(os.path.abspath(path))
        return AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype=torch.float32)
    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)


def logits_of(model, ids):
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].float().numpy()


def fmt(values):
    return "[" + ", ".join(f"{v:.4f}" for v in values) + "]"


def field_value(reader, key):
    field = reader.fields.get(key)
    return None if field is None else field.contents()


def gguf_tensors(reader):
    return {t.name: dequantize(t.data, t.tensor_type).astype(np.float32).reshape(
        [int(d) for d in reversed(t.shape)]) for t in reader.tensors}


def check_gguf_reader(path, reference_reader):
    """Opens `path` with gguf-py's reader and prints what llama.cpp would see. Returns problems."""
    problems = []
    reader = GGUFReader(path)
    version = field_value(reader, "GGUF.version")
    types = Counter(t.tensor_type.name for t in reader.tensors)
    print(f"  GGUFReader: version {version}, {len(reader.fields) - 3} key-values, "
          f"{len(reader.tensors)} tensors ({', '.join(f'{k} x{v}' for k, v in sorted(types.items()))}), "
          f"alignment {field_value(reader, 'general.alignment')}, file_type {field_value(reader, 'general.file_type')}")
    for t in reader.tensors:
        if len(t.shape) == 1 and t.tensor_type.name != "F32":
            problems.append(f"{t.name}: 1-D tensor stored as {t.tensor_type.name}, llama.cpp expects F32")
        if t.data_offset % 32:
            problems.append(f"{t.name}: data offset {t.data_offset} is not 32-byte aligned")
    tokens = field_value(reader, "tokenizer.ggml.tokens")
    merges = field_value(reader, "tokenizer.ggml.merges")
    template = field_value(reader, "tokenizer.chat_template")
    print(f"  tokenizer: model {field_value(reader, 'tokenizer.ggml.model')!r}, "
          f"{len(tokens) if tokens else 0} tokens, {len(merges) if merges else 0} merges, "
          f"chat template {'present (%d chars)' % len(template) if template else 'absent'}")
    tensors = gguf_tensors(reader)
    print(f"  all {len(tensors)} tensors dequantise with gguf.quants.dequantize")
    if reference_reader is not None:
        for key in reference_reader.fields:
            if key.startswith("tokenizer.") and field_value(reference_reader, key) != field_value(reader, key):
                problems.append(f"metadata {key} differs from the reference")
        reference = gguf_tensors(reference_reader)
        worst = max(((float(np.abs(tensors[n] - reference[n]).max()), n) for n in reference if n in tensors),
                    default=(0.0, "-"))
        missing = sorted(set(reference) - set(tensors))
        if missing:
            problems.append(f"tensors missing: {missing[:5]}")
        print(f"  tensors vs reference GGUF: largest |difference| {worst[0]:.3g} ({worst[1]})")
    return problems


TOKENIZER_SAMPLES = ["The capital of France is", "Numbers 12345 and 3.14159!",
                     "  two spaces\n\ttab <|im_start|>user\nhi<|im_end|>", "héllo wörld 日本語 🙂", "it's don't I'll"]


def load_tokenizer(path):
    path = os.path.abspath(path)
    if path.endswith(".gguf"):
        return AutoTokenizer.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path))
    return AutoTokenizer.from_pretrained(path)


def check_tokenizer(folder, reference_tokenizer):
    """The exported folder's tokenizer must encode, decode and apply the chat template as the
    reference does. Returns problems."""
    if not os.path.exists(os.path.join(folder, "tokenizer.json")):
        print("  tokenizer: no tokenizer.json in the folder (skipped)")
        return []
    if reference_tokenizer is None:
        return ["the reference has no tokenizer to compare with"]
    ours = load_tokenizer(folder)
    problems = [f"encoding {t!r}: {ours(t)['input_ids']} vs {reference_tokenizer(t)['input_ids']}"
                for t in TOKENIZER_SAMPLES if ours(t)["input_ids"] != reference_tokenizer(t)["input_ids"]]
    messages = [{"role": "user", "content": "Hi there"}]
    same_template = None
    if reference_tokenizer.chat_template:
        same_template = (ours.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
                         == reference_tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
        if not same_template:
            problems.append("chat template renders differently")
    print(f"  tokenizer ({type(ours).__name__}): {len(TOKENIZER_SAMPLES)} sample texts encode "
          f"{'identically' if not problems else 'DIFFERENTLY'} to the reference; chat template "
          f"{'same' if same_template else 'n/a' if same_template is None else 'DIFFERENT'}; "
          f"eos {ours.eos_token!r}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True, help="reference model: a Hugging Face folder or a .gguf file")
    parser.add_argument("--gguf", action="append", default=[], help="exported GGUF file (repeatable)")
    parser.add_argument("--hf", action="append", default=[], help="exported Hugging Face folder (repeatable)")
    parser.add_argument("--prompt", help="prompt text (tokenised with the reference GGUF's or folder's tokenizer)")
    parser.add_argument("--tokens", help="comma-separated token ids instead of --prompt")
    parser.add_argument("--atol", type=float, default=1e-4, help="largest logit difference allowed (default 1e-4)")
    parser.add_argument("--rtol-quantised", type=float, default=0.05,
                        help="largest logit difference allowed for Q8_0/F16/BF16 exports, as a fraction of "
                             "the reference logits' range (default 0.05)")
    args = parser.parse_args()

    try:
        reference_tokenizer = load_tokenizer(args.reference)
    except Exception as error:  # a reference without tokenizer files (the tiny test model)
        reference_tokenizer = None
        print(f"reference has no tokenizer: {type(error).__name__}")
    if args.tokens:
        ids = [int(t) for t in args.tokens.split(",")]
    else:
        ids = reference_tokenizer(args.prompt or "The capital of France is")["input_ids"]
    print(f"prompt ids: {ids}")
    reference_logits = logits_of(load_transformers(args.reference), ids)
    reference_reader = GGUFReader(args.reference) if args.reference.endswith(".gguf") else None
    print(f"reference {args.reference}: logits {reference_logits.shape}, last-position argmax "
          f"{int(reference_logits[-1].argmax())}, range [{reference_logits.min():.3f}, {reference_logits.max():.3f}]")

    failures = []
    for path in args.gguf + args.hf:
        print(f"\n{path}")
        problems = []
        quantised = False
        if path.endswith(".gguf"):
            problems += check_gguf_reader(path, reference_reader)
            quantised = any(t.tensor_type.name != "F32" for t in GGUFReader(path).tensors)
        else:
            problems += check_tokenizer(path, reference_tokenizer)
            quantised = any(s in open(os.path.join(path, "model.safetensors"), "rb").read(1 << 16)
                            for s in (b'"BF16"', b'"F16"'))
        logits = logits_of(load_transformers(path), ids)
        diff = np.abs(logits - reference_logits)
        agree = float((logits.argmax(-1) == reference_logits.argmax(-1)).mean())
        value_range = float(reference_logits.max() - reference_logits.min())
        tolerance = args.rtol_quantised * value_range if quantised else args.atol
        print(f"  transformers: logits max |diff| {diff.max():.3g}, mean {diff.mean():.3g} (allowed {tolerance:g}); "
              f"argmax agreement {agree:.0%}; last-position logits[:3] {fmt(logits[-1][:3])} vs {fmt(reference_logits[-1][:3])}")
        if diff.max() > tolerance:
            problems.append(f"logits differ by {diff.max():.3g} > {tolerance:g}")
        for p in problems:
            print(f"  PROBLEM: {p}")
        failures += [f"{path}: {p}" for p in problems]
    print("\nall checks passed" if not failures else f"\n{len(failures)} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
