"""Helpers of scripts/superglue_sweep.sh (Python 3 standard library only).

  python3 scripts/superglue_sweep.py split TRAIN.jsonl DEV_COUNT OUT_TRAIN OUT_DEV
      Shuffles the lines of TRAIN.jsonl with random.Random(0) and writes the first DEV_COUNT
      to OUT_DEV (the development split settings are chosen on) and the rest to OUT_TRAIN.
  python3 scripts/superglue_sweep.py table OUT_DIR TASK...
      Prints the sweep table (development and validation score of every setting, the chosen
      setting per optimizer marked) and the chosen settings' validation table with averages.
"""
import json
import os
import random
import sys

# Every swept setting: (optimizer, learning rate); LOMO runs with clipping 1.0, as the paper.
SETTINGS = [("lomo", "0.01"), ("lomo", "0.03"), ("lomo", "0.1"), ("lomo", "0.3"),
            ("adalomo", "3e-4"), ("adalomo", "1e-3"), ("adalomo", "3e-3"),
            ("adamw", "1e-5"), ("adamw", "5e-5"), ("adamw", "1e-4")]


def split(source, dev_count, out_train, out_dev):
    with open(source) as f:
        lines = [line for line in f if line.strip()]
    random.Random(0).shuffle(lines)
    dev_count = int(dev_count)
    with open(out_dev, "w") as f:
        f.writelines(lines[:dev_count])
    with open(out_train, "w") as f:
        f.writelines(lines[dev_count:])


def score(path):
    """The task's score from a lomo eval report: F1a for MultiRC, else accuracy (percent)."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        metrics = json.load(f)["metrics"]
    value = metrics.get("f1a") if metrics.get("f1a") is not None else metrics["accuracy"]
    return value * 100


def name(optimizer, lr):
    return f"{optimizer}-{lr}"


def table(out, tasks):
    print("| task | setting | dev | validation |")
    print("|---|---|---|---|")
    chosen = {}
    for task in tasks:
        for optimizer in ["lomo", "adalomo", "adamw"]:
            runs = [(lr, score(os.path.join(out, task, f"{name(optimizer, lr)}-dev.json")),
                     score(os.path.join(out, task, f"{name(optimizer, lr)}-val.json")),
                     os.path.exists(os.path.join(out, task, f"{name(optimizer, lr)}.failed")))
                    for o, lr in SETTINGS if o == optimizer]
            done = [r for r in runs if r[1] is not None]
            complete = all(r[1] is not None or r[3] for r in runs)
            best = max(done, key=lambda r: r[1]) if done and complete else None
            if best is not None:
                chosen[(task, optimizer)] = best
            for lr, dev, val, failed in runs:
                mark = " (chosen)" if best is not None and lr == best[0] else ""
                fmt = lambda x: ("failed" if failed else "-") if x is None else f"{x:.1f}"
                print(f"| {task} | {optimizer} lr {lr}{mark} | {fmt(dev)} | {fmt(val)} |")
    print()
    print("| task | zero-shot | LOMO | AdaLomo | AdamW |")
    print("|---|---|---|---|---|")
    columns = {k: [] for k in ["zeroshot", "lomo", "adalomo", "adamw"]}
    for task in tasks:
        zero = score(os.path.join(out, task, "zeroshot-val.json"))
        cells = ["-" if zero is None else f"{zero:.1f}"]
        if zero is not None:
            columns["zeroshot"].append(zero)
        for optimizer in ["lomo", "adalomo", "adamw"]:
            best = chosen.get((task, optimizer))
            cells.append("-" if best is None else f"{best[2]:.1f} (lr {best[0]})")
            if best is not None:
                columns[optimizer].append(best[2])
        print(f"| {task} | " + " | ".join(cells) + " |")
    if all(len(v) == len(tasks) for v in columns.values()):
        means = [sum(v) / len(v) for v in columns.values()]
        print("| **average** | " + " | ".join(f"{m:.1f}" for m in means) + " |")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "split" and len(sys.argv) == 6:
        split(*sys.argv[2:])
    elif command == "table" and len(sys.argv) >= 4:
        table(sys.argv[2], sys.argv[3:])
    elif command == "settings":
        for optimizer, lr in SETTINGS:
            print(optimizer, lr)
    else:
        sys.exit(__doc__)
