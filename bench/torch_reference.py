#!/usr/bin/env python3
"""PyTorch side-by-side for `lomo bench`: time training steps of a Hugging Face LLaMA with
lomo-optim's LOMO / AdaLomo, or with torch.optim SGD / AdamW, on the CPU.

Not run in CI. Run it by hand, on the same machine and with the same thread count as the
Swift command, and compare the numbers.

Pinned versions (checked at start; --ignore-versions to run anyway):
    torch 2.13.0+cpu, transformers 5.23.x, lomo-optim 0.1.1
    pip install torch==2.13.0+cpu transformers==5.23.0 lomo-optim==0.1.1
    (torch's +cpu wheel: add --index-url https://download.pytorch.org/whl/cpu if pip finds none)

Usage:
    python3 bench/torch_reference.py --help
    python3 bench/torch_reference.py                                # smollm2-135m, LOMO, f32, B=4 T=512
    python3 bench/torch_reference.py --optimizer adamw --dtype bf16 --json
    python3 bench/torch_reference.py --model ~/models/SmolLM2-135M  # a local HF folder
    python3 bench/torch_reference.py --matrix                       # the standard cases, a table
    python3 bench/torch_reference.py --matrix --with-7b             # + llama-7b (bf16 weights 12.6 GiB)
    python3 bench/torch_reference.py --matrix --cases-only          # list the cases, run nothing
    python3 bench/torch_reference.py --matrix --seq-len 32 --batch-size 1 --steps 1   # smoke test

What one case measures. The model is built from a named config with transformers' own random
init (seed 0; initializer_range 0.02), directly in the requested dtype (no f32 copy), or loaded
from a local Hugging Face folder. One fixed token batch of shape [B, T] is used for every step:
the token at flat index i = b*T + t is (i * 2654435761 + 1) % vocab_size, the same batch as
`lomo bench`. labels = input_ids (transformers shifts them inside the model). After
--warmup-steps untimed steps, --steps timed steps; reported are the median step time,
tokens/s = B*T / median, peak RSS (getrusage ru_maxrss of this process, so it includes
Python, torch and model construction; the --matrix mode runs every case in its own process),
and the median forward and backward times (backward includes the optimizer's work: LOMO
updates inside backward; for SGD/AdamW `backward_s` is backward + clipping + step + zero_grad).

One training step, per --optimizer:
    lomo, adalomo  out = model(ids, labels=ids); optimizer.fused_backward(out.loss, lr)
                   with --clip-grad-norm X > 0 (the two-pass scheme of lomo-optim):
                   optimizer.grad_norm(loss)          # backward #1: measures the global norm
                   second forward, then optimizer.fused_backward(loss2, lr)   # backward #2: updates
                   The second forward is what the paper's LOMOTrainer does (DeepSpeed cannot run
                   backward twice over one graph). lomo-optim's grad_norm keeps the graph
                   (retain_graph=True), so --clip-reuse-graph skips the second forward and calls
                   fused_backward on the first loss, as the Swift trainer does.
    sgd, adamw     loss.backward(); [torch.nn.utils.clip_grad_norm_]; step(); zero_grad(set_to_none=True)
    inference      model.eval(); forward with the loss under torch.no_grad() (the inference peak)

--activation-checkpointing calls transformers' activation checkpointing on every decoder layer
(non-reentrant torch.utils.checkpoint) in train mode, with use_cache=False. The script checks
that it is really active: the first layer's input norm must run once more per backward.

Things to know when comparing:
- transformers computes the loss from f32-upcast logits, so the loss is f32 even for f16
  weights, and lomo-optim only turns its dynamic loss scaler on for an f16 *loss*: f16 runs here
  have no loss scaling. AdaLomo always multiplies the loss by its static loss_scale (2^10).
- No f32 master weights: with bf16/f16 storage, updates smaller than half an ulp are lost
  (e.g. RMSNorm weights at 1.0 with lr 1e-3 do not move in bf16). This matches lomo-optim.
- lomo-optim's hook scans every parameter each time one gradient is ready (quadratic in the
  number of parameter tensors); that Python overhead is part of its measured backward.
- lomo-optim's AdaLomo allocates its state with .cuda(); this script makes Tensor.cuda the
  identity when it uses lomo-optim (CPU-only torch).
"""
import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

EXPECTED = {"torch": "2.13.0+cpu", "transformers": "5.23", "lomo_optim": "0.1.1"}

# Named configs (LLaMA architecture, SiLU MLP, no biases). Must match lomo's ModelCatalog names.
CONFIGS = {
    "smollm2-135m": dict(hidden_size=576, num_hidden_layers=30, num_attention_heads=9,
                         num_key_value_heads=3, intermediate_size=1536, vocab_size=49152,
                         tie_word_embeddings=True, rope_theta=100000.0, rms_norm_eps=1e-5,
                         max_position_embeddings=8192),
    "smollm2-360m": dict(hidden_size=960, num_hidden_layers=32, num_attention_heads=15,
                         num_key_value_heads=5, intermediate_size=2560, vocab_size=49152,
                         tie_word_embeddings=True, rope_theta=100000.0, rms_norm_eps=1e-5,
                         max_position_embeddings=8192),
    "tinyllama-1.1b": dict(hidden_size=2048, num_hidden_layers=22, num_attention_heads=32,
                           num_key_value_heads=4, intermediate_size=5632, vocab_size=32000,
                           tie_word_embeddings=False, rope_theta=10000.0, rms_norm_eps=1e-5,
                           max_position_embeddings=2048),
    "llama-7b": dict(hidden_size=4096, num_hidden_layers=32, num_attention_heads=32,
                     num_key_value_heads=32, intermediate_size=11008, vocab_size=32000,
                     tie_word_embeddings=False, rope_theta=10000.0, rms_norm_eps=1e-6,
                     max_position_embeddings=2048),
    "llama-13b": dict(hidden_size=5120, num_hidden_layers=40, num_attention_heads=40,
                      num_key_value_heads=40, intermediate_size=13824, vocab_size=32000,
                      tie_word_embeddings=False, rope_theta=10000.0, rms_norm_eps=1e-6,
                      max_position_embeddings=2048),
}

OPTIMIZERS = ("lomo", "adalomo", "sgd", "adamw", "inference")
DTYPES = ("f32", "bf16", "f16")

# --matrix cases: (model, optimizer, dtype, batch, seq_len, extra flags).
MATRIX = [
    ("smollm2-135m", "lomo", "f32", 4, 512, []),
    ("smollm2-135m", "lomo", "bf16", 4, 512, []),
    ("smollm2-135m", "lomo", "f32", 4, 512, ["--clip-grad-norm", "1.0"]),
    ("smollm2-135m", "lomo", "f32", 4, 512, ["--activation-checkpointing"]),
    ("smollm2-135m", "sgd", "f32", 4, 512, []),
    ("smollm2-135m", "adamw", "f32", 4, 512, []),
    ("smollm2-135m", "inference", "f32", 4, 512, []),
    ("smollm2-135m", "inference", "bf16", 4, 512, []),
    ("smollm2-135m", "lomo", "bf16", 4, 512, ["--activation-checkpointing"]),
]
MATRIX_7B = [
    ("llama-7b", "lomo", "bf16", 1, 512, ["--activation-checkpointing"]),
    ("llama-7b", "inference", "bf16", 1, 512, []),
]

DEFAULT_MODEL, DEFAULT_BATCH, DEFAULT_SEQ = "smollm2-135m", 4, 512


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def check_versions(ignore):
    import torch
    import transformers
    from importlib.metadata import version

    got = {"torch": torch.__version__, "transformers": transformers.__version__,
           "lomo_optim": version("lomo-optim")}
    bad = [f"{k} {got[k]} (pinned {v})" for k, v in EXPECTED.items() if not str(got[k]).startswith(v)]
    if bad:
        if not ignore:
            sys.exit("version mismatch: " + ", ".join(bad) + "; pass --ignore-versions to run anyway")
        log("warning: version mismatch: " + ", ".join(bad))
    return got


def peak_rss_mib():
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / (1024.0 * 1024.0) if sys.platform == "darwin" else r / 1024.0


def current_rss_mib():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def torch_dtype(name):
    import torch

    return {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}[name]


def build_model(model_arg, dtype, attn):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    if os.path.isdir(os.path.expanduser(model_arg)):
        path = os.path.expanduser(model_arg)
        log(f"loading {path} as {dtype}")
        return LlamaForCausalLM.from_pretrained(path, dtype=dtype, attn_implementation=attn)
    if model_arg not in CONFIGS:
        sys.exit(f"--model {model_arg!r}: not a folder and not one of {', '.join(CONFIGS)}")
    config = LlamaConfig(hidden_act="silu", attention_bias=False, mlp_bias=False,
                         initializer_range=0.02, use_cache=False, **CONFIGS[model_arg])
    log(f"building {model_arg} with random init directly in {dtype}")
    torch.manual_seed(0)
    # _from_config allocates and initialises under the target default dtype: no f32 copy.
    return LlamaForCausalLM._from_config(config, dtype=dtype, attn_implementation=attn)


def token_batch(batch, seq_len, vocab):
    import torch

    flat = [(i * 2654435761 + 1) % vocab for i in range(batch * seq_len)]
    return torch.tensor(flat, dtype=torch.long).view(batch, seq_len)


def enable_checkpointing(model):
    # transformers 5 renamed gradient_checkpointing_enable (now a deprecated alias).
    if hasattr(model, "activation_checkpointing_enable"):
        model.activation_checkpointing_enable()
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})


class Trainer:
    """One case: the model, the batch and a step() that returns (forward_s, backward_s, loss)."""

    def __init__(self, args, model, ids):
        import torch

        self.args, self.model, self.ids = args, model, ids
        self.lr = args.lr
        self.opt = None
        kind = args.optimizer
        if kind == "inference":
            model.eval()
            return
        model.train()
        clip = args.clip_grad_norm if args.clip_grad_norm > 0 else None
        if kind in ("lomo", "adalomo"):
            # lomo-optim's AdaLomo allocates its state with .cuda(); on CPU torch that raises.
            torch.Tensor.cuda = lambda self, *a, **k: self
            from lomo_optim import AdaLomo, Lomo

            cls = Lomo if kind == "lomo" else AdaLomo
            self.opt = cls(model, lr=args.lr, clip_grad_norm=clip)
        elif kind == "sgd":
            self.opt = torch.optim.SGD(model.parameters(), lr=args.lr)
        elif kind == "adamw":
            self.opt = torch.optim.AdamW(model.parameters(), lr=args.lr)

    def forward(self):
        return self.model(input_ids=self.ids, labels=self.ids, use_cache=False).loss

    def step(self):
        import torch

        kind, clip = self.args.optimizer, self.args.clip_grad_norm
        t0 = time.perf_counter()
        if kind == "inference":
            with torch.no_grad():
                loss = self.forward()
            return time.perf_counter() - t0, 0.0, float(loss)
        loss = self.forward()
        t1 = time.perf_counter()
        fwd = t1 - t0
        value = float(loss.detach())
        if kind in ("lomo", "adalomo"):
            if clip > 0:
                self.opt.grad_norm(loss)  # backward #1 (retain_graph=True inside), norms only
                if not self.args.clip_reuse_graph:
                    del loss  # free the retained graph before the second forward
                    t2 = time.perf_counter()
                    loss = self.forward()
                    t3 = time.perf_counter()
                    fwd += t3 - t2
            self.opt.fused_backward(loss, self.lr)  # backward #2: fused update
        else:
            loss.backward()
            if clip > 0:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip)
            self.opt.step()
            self.opt.zero_grad(set_to_none=True)
        total = time.perf_counter() - t0
        return fwd, total - fwd, value


def case_label(model, optimizer, dtype, batch, seq_len, ckpt, clip, reuse=False):
    label = f"{os.path.basename(os.path.normpath(model))} {optimizer} {dtype} B={batch} T={seq_len}"
    if clip > 0:
        label += f" clip {clip:g}" + (" (reuse graph)" if reuse else "")
    if ckpt:
        label += " ckpt"
    return label


def run_case(args):
    import torch

    versions = check_versions(args.ignore_versions)
    torch.set_num_threads(args.threads)
    dtype = torch_dtype(args.dtype)
    batch = args.batch_size or DEFAULT_BATCH
    seq_len = args.seq_len or DEFAULT_SEQ
    model_arg = args.model or DEFAULT_MODEL
    if args.clip_grad_norm > 0 and args.optimizer == "inference":
        log("note: --clip-grad-norm has no effect with --optimizer inference")
    label = case_label(model_arg, args.optimizer, args.dtype, batch, seq_len,
                       args.activation_checkpointing, args.clip_grad_norm, args.clip_reuse_graph)
    log(f"== {label} ({args.threads} threads)")

    t = time.perf_counter()
    model = build_model(model_arg, dtype, args.attn_implementation)
    params = sum(p.numel() for p in model.parameters())
    log(f"model ready in {time.perf_counter() - t:.1f} s: {params / 1e6:.1f} M parameters, "
        f"RSS {current_rss_mib() or 0:.0f} MiB")
    rss_after_load = current_rss_mib()

    calls = [0]
    if args.activation_checkpointing:
        enable_checkpointing(model)
        # The layer wrapper checkpoints `forward`, so the recompute in backward calls the
        # layer's submodules again: count calls of the first layer's first norm to prove it.
        # (Not a later module: torch's recompute stops early, once the last saved tensor it
        # needs is rebuilt, so the MLP's forward never returns during the recompute.)
        norm = model.model.layers[0].input_layernorm
        norm.register_forward_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    vocab = model.config.vocab_size
    ids = token_batch(batch, seq_len, vocab)
    trainer = Trainer(args, model, ids)

    times, fwds, bwds, losses = [], [], [], []
    for i in range(args.warmup_steps + args.steps):
        warm = i < args.warmup_steps
        calls[0] = 0
        t0 = time.perf_counter()
        fwd, bwd, loss = trainer.step()
        dt = time.perf_counter() - t0
        if args.activation_checkpointing and args.optimizer != "inference":
            two_pass = args.clip_grad_norm > 0 and args.optimizer in ("lomo", "adalomo")
            forwards = 2 if two_pass and not args.clip_reuse_graph else 1
            backwards = 2 if two_pass else 1
            if calls[0] != forwards + backwards:
                sys.exit(f"activation checkpointing is not active: layer 0's input norm ran {calls[0]} "
                         f"times in a step, expected {forwards + backwards}")
        losses.append(loss)
        if not warm:
            times.append(dt)
            fwds.append(fwd)
            bwds.append(bwd)
        log(f"step {i + 1}/{args.warmup_steps + args.steps}{' (warm-up)' if warm else ''}: "
            f"{dt:.3f} s (forward {fwd:.3f}, backward {bwd:.3f}), loss {loss:.4f}")
        if not math.isfinite(loss):
            log("warning: loss is not finite")

    med = statistics.median(times) if times else float("nan")
    result = {
        "case": label,
        "model": model_arg,
        "optimizer": args.optimizer,
        "dtype": args.dtype,
        "batch_size": batch,
        "seq_len": seq_len,
        "activation_checkpointing": args.activation_checkpointing,
        "clip_grad_norm": args.clip_grad_norm,
        "clip_reuse_graph": args.clip_reuse_graph,
        "lr": args.lr,
        "threads": args.threads,
        "attn_implementation": args.attn_implementation,
        "parameters": params,
        "warmup_steps": args.warmup_steps,
        "steps": args.steps,
        "step_s": med,
        "tokens_per_s": batch * seq_len / med if times else float("nan"),
        "forward_s": statistics.median(fwds) if fwds else float("nan"),
        "backward_s": statistics.median(bwds) if bwds else float("nan"),
        "step_times_s": times,
        "losses": losses,
        "rss_after_load_mib": rss_after_load,
        "peak_rss_mib": peak_rss_mib(),
        "versions": versions,
    }
    if args.json:
        print(json.dumps(result), flush=True)
    else:
        print(f"{label}: {result['tokens_per_s']:.1f} tokens/s, step {med:.3f} s "
              f"(forward {result['forward_s']:.3f} s, backward {result['backward_s']:.3f} s), "
              f"peak RSS {result['peak_rss_mib']:.0f} MiB", flush=True)


def matrix_cases(args):
    cases = MATRIX + (MATRIX_7B if args.with_7b else [])
    out = []
    for model, opt, dtype, batch, seq_len, extra in cases:
        batch = args.batch_size or batch
        seq_len = args.seq_len or seq_len
        ckpt = "--activation-checkpointing" in extra
        clip = float(extra[extra.index("--clip-grad-norm") + 1]) if "--clip-grad-norm" in extra else 0.0
        argv = ["--model", model, "--optimizer", opt, "--dtype", dtype, "--batch-size", str(batch),
                "--seq-len", str(seq_len)] + extra
        out.append((case_label(model, opt, dtype, batch, seq_len, ckpt, clip), argv))
    return out


def run_matrix(args):
    cases = matrix_cases(args)
    if args.cases_only:
        for i, (label, argv) in enumerate(cases, 1):
            print(f"{i}. {label}    [{' '.join(argv)}]")
        return 0
    common = ["--steps", str(args.steps), "--warmup-steps", str(args.warmup_steps),
              "--threads", str(args.threads), "--lr", str(args.lr),
              "--attn-implementation", args.attn_implementation, "--json"]
    if args.ignore_versions:
        common.append("--ignore-versions")
    if args.clip_reuse_graph:
        common.append("--clip-reuse-graph")
    rows, failed = [], 0
    for i, (label, argv) in enumerate(cases, 1):
        log(f"[{i}/{len(cases)}] {label}")
        # A fresh process per case, so that ru_maxrss is this case's peak alone.
        proc = subprocess.run([sys.executable, os.path.abspath(__file__)] + argv + common,
                              stdout=subprocess.PIPE, text=True)
        result = None
        for line in reversed(proc.stdout.strip().splitlines()):
            if line.startswith("{"):
                result = json.loads(line)
                break
        if proc.returncode != 0 or result is None:
            failed += 1
            log(f"[{i}/{len(cases)}] {label}: FAILED (exit {proc.returncode})")
            rows.append(f"| {label} | failed | | |")
        else:
            rows.append(f"| {label} | {result['tokens_per_s']:.1f} | {result['step_s']:.3f} | "
                        f"{result['peak_rss_mib']:.0f} |")
            if args.json:
                print(json.dumps(result), flush=True)
    if not args.json:
        print(f"PyTorch reference: {args.threads} threads, median of {args.steps} steps after "
              f"{args.warmup_steps} warm-up, lr {args.lr:g}\n")
        print("| case | tokens/s | step s | peak RSS MiB |")
        print("|---|---:|---:|---:|")
        for row in rows:
            print(row)
    return 1 if failed else 0


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    # Show "(default: X)" only for real values, not for flags and resolved-later None.
    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="PyTorch reference for `lomo bench`: time training steps of a LLaMA on the "
                    "CPU with lomo-optim's LOMO/AdaLomo or torch SGD/AdamW.",
        formatter_class=_HelpFormatter)
    p.add_argument("--model", default=None,
                   help=f"a config name ({', '.join(CONFIGS)}) built with random init, or a local "
                        f"Hugging Face folder (default: {DEFAULT_MODEL})")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="lomo",
                   help="inference = forward with the loss under torch.no_grad()")
    p.add_argument("--dtype", choices=DTYPES, default="f32", help="weight dtype")
    p.add_argument("--batch-size", type=int, default=None,
                   help=f"sequences per step (default: {DEFAULT_BATCH}; with --matrix, overrides "
                        f"every case)")
    p.add_argument("--seq-len", type=int, default=None,
                   help=f"tokens per sequence (default: {DEFAULT_SEQ}; with --matrix, overrides "
                        f"every case)")
    p.add_argument("--steps", type=int, default=3, help="timed steps")
    p.add_argument("--warmup-steps", type=int, default=1, help="untimed steps before them")
    p.add_argument("--lr", type=float, default=1e-3, help="learning rate (affects values only)")
    p.add_argument("--activation-checkpointing", action="store_true",
                   help="recompute each decoder layer in backward")
    p.add_argument("--clip-grad-norm", type=float, default=0.0,
                   help="global gradient-norm clipping (0 = off); for lomo/adalomo this is "
                        "lomo-optim's two-pass grad_norm + fused_backward")
    p.add_argument("--clip-reuse-graph", action="store_true",
                   help="lomo/adalomo with clipping: no second forward; fused_backward on the "
                        "graph kept by grad_norm")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    p.add_argument("--attn-implementation", choices=("sdpa", "eager"), default="sdpa",
                   help="transformers attention implementation")
    p.add_argument("--json", action="store_true", help="print one JSON object per case")
    p.add_argument("--matrix", action="store_true",
                   help="run the standard cases, each in a fresh process, and print a Markdown table")
    p.add_argument("--with-7b", action="store_true", help="--matrix: add the llama-7b cases")
    p.add_argument("--cases-only", action="store_true", help="print the --matrix case list and exit")
    p.add_argument("--ignore-versions", action="store_true",
                   help="warn instead of exiting when versions differ from the pinned ones")
    args = p.parse_args(argv)
    for name in ("batch_size", "seq_len"):
        v = getattr(args, name)
        if v is not None and v < 1:
            p.error(f"--{name.replace('_', '-')} must be positive")
    if args.steps < 1 or args.warmup_steps < 0 or args.threads < 1:
        p.error("--steps and --threads must be >= 1, --warmup-steps >= 0")
    if args.clip_grad_norm < 0:
        p.error("--clip-grad-norm must be >= 0")
    return args


def main():
    args = parse_args()
    if args.matrix or args.cases_only:
        sys.exit(run_matrix(args))
    run_case(args)


if __name__ == "__main__":
    main()
