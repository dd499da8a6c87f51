"""Helpers of scripts/superglue_sweep.sh (Python 3 standard library only).

  python3 scripts/superglue_sweep.py split TRAIN.jsonl DEV_COUNT OUT_TRAIN OUT_DEV
      Shuffles the lines of TRAIN.jsonl with random.Random(0) and writes the first DEV_COUNT
      to OUT_DEV (the development split settings are chosen on) and the rest to OUT_TRAIN.
  python3 scripts/superglue_sweep.py table OUT_DIR TASK...
      Prints the sweep table (development and validation score of every setting on every task)
      and the validation table: zero-shot, each optimizer at its chosen learning rate (see
      `choose`), the run with lomo's defaults and the best swept setting per task.
"""
import json
import math
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


def report(path):
    """(score, items) from a lomo eval report: the score is F1a for MultiRC, else accuracy
    (percent); None when the report does not exist."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        data = json.load(f)
    metrics = data["metrics"]
    value = metrics.get("f1a") if metrics.get("f1a") is not None else metrics["accuracy"]
    return value * 100, data["items"]


def score(path):
    found = report(path)
    return None if found is None else found[0]


def standard_error(dev_reports):
    """The standard error (points) of the mean of per-task dev scores, each taken as a
    binomial proportion over its items (for MultiRC's F1a an approximation)."""
    variance = sum((s / 100) * (1 - s / 100) / n for s, n in dev_reports)
    return 100 * math.sqrt(variance) / len(dev_reports)


def choose(means):
    """The learning rate chosen for one optimizer from [(lr, mean dev, standard error)] in
    increasing lr: the smallest lr whose mean dev is within one standard error of the best
    (the one-standard-error rule: differences smaller than the dev splits' noise do not
    decide, and of settings that tie, the smaller step changes the model less)."""
    best = max(means, key=lambda m: m[1])
    return next(m for m in means if m[1] >= best[1] - best[2])


def name(optimizer, lr):
    return f"{optimizer}-{lr}"


def mean(values):
    return sum(values) / len(values)


def table(out, tasks):
    """The sweep table (dev / validation of every setting on every task, with means), then the
    validation table: zero-shot, each optimizer at its chosen learning rate (`choose`: the
    defaults lomo ships), the run with lomo's defaults, and per task the setting with the best
    dev score ("best swept")."""
    result = {}  # (task, setting) -> (dev, val); a failed run scores 0
    dev_items = {}  # task -> items of its dev split
    for task in tasks:
        for optimizer, lr in SETTINGS + [("defaults", None)]:
            run = "defaults" if lr is None else name(optimizer, lr)
            dev_report = report(os.path.join(out, task, f"{run}-dev.json"))
            dev = None if dev_report is None else dev_report[0]
            val = score(os.path.join(out, task, f"{run}-val.json"))
            if dev_report is not None:
                dev_items[task] = dev_report[1]
            if os.path.exists(os.path.join(out, task, f"{run}.failed")):
                dev, val = 0.0, 0.0
            if val is not None:
                result[(task, run)] = (dev, val)
    print("| setting | " + " | ".join(tasks) + " | mean dev | mean validation |")
    print("|---|" + "---|" * (len(tasks) + 2))
    means = {}  # optimizer -> [(lr, mean dev, standard error)]
    for optimizer, lr in SETTINGS:
        run = name(optimizer, lr)
        cells = [f"{result[(t, run)][0]:.1f} / {result[(t, run)][1]:.1f}" if (t, run) in result else "-"
                 for t in tasks]
        complete = all((t, run) in result for t in tasks)
        dev = mean([result[(t, run)][0] for t in tasks]) if complete else None
        val = mean([result[(t, run)][1] for t in tasks]) if complete else None
        if dev is not None:
            error = standard_error([(result[(t, run)][0], dev_items[t]) for t in tasks])
            means.setdefault(optimizer, []).append((lr, dev, error))
        fmt = lambda x: "-" if x is None else f"{x:.1f}"
        error = f" ± {means[optimizer][-1][2]:.1f}" if dev is not None else ""
        print(f"| {optimizer} lr {lr} | " + " | ".join(cells) + f" | {fmt(dev)}{error} | {fmt(val)} |")
    chosen = {o: choose(m) for o, m in means.items()}
    print()
    print("Cells: development / validation score (percent; MultiRC F1a); mean dev ± its standard "
          "error. Chosen (the smallest lr within one standard error of the best mean dev): "
          + ", ".join(f"{o} lr {c[0]}" for o, c in chosen.items()) + ".")
    print()
    heads = ["zero-shot"] + [f"{o} lr {chosen[o][0]}" for o in ["lomo", "adalomo", "adamw"] if o in chosen]
    print("| task | " + " | ".join(heads) + " | lomo's defaults | best swept (on dev) |")
    print("|---|" + "---|" * (len(heads) + 2))
    columns = [[] for _ in range(len(heads) + 2)]
    for task in tasks:
        zero = score(os.path.join(out, task, "zeroshot-val.json"))
        values = [zero] + [result.get((task, name(o, chosen[o][0])), (None, None))[1]
                           for o in ["lomo", "adalomo", "adamw"] if o in chosen]
        values.append(result.get((task, "defaults"), (None, None))[1])
        swept = [(result[(task, name(o, lr))], name(o, lr)) for o, lr in SETTINGS if (task, name(o, lr)) in result]
        best = max(swept, key=lambda r: r[0][0]) if len(swept) == len(SETTINGS) else None
        values.append(None if best is None else best[0][1])
        cells = ["-" if v is None else f"{v:.1f}" for v in values]
        if best is not None:
            cells[-1] += f" ({best[1]})"
        for column, v in zip(columns, values):
            column.append(v)
        print(f"| {task} | " + " | ".join(cells) + " |")
    means = ["-" if None in c else f"{mean(c):.1f}" for c in columns]
    print("| **average** | " + " | ".join(means) + " |")


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
