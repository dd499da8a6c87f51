"""Prints the Markdown table of scripts/superglue_table.sh from its reports.

usage: python3 scripts/superglue_table.py OUT_DIR TASK...
Each task needs OUT_DIR/TASK-{zeroshot,lomo,adamw}.json (lomo eval --report) and
OUT_DIR/TASK-{lomo,adamw}.seconds (training wall time); missing cells print as "-".
"""
import json
import os
import sys


def load(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def cell(report):
    if report is None:
        return "-", None
    accuracy = report["metrics"]["accuracy"] * 100
    extra = ""
    if report["metrics"].get("macroF1") is not None:
        extra = f" (F1 {report['metrics']['macroF1'] * 100:.1f})"
    return f"{accuracy:.1f}%{extra}", accuracy


def seconds(path):
    if not os.path.exists(path):
        return "-"
    with open(path) as f:
        return f"{int(f.read().strip())} s"


def main():
    out, tasks = sys.argv[1], sys.argv[2:]
    print("| task | eval items | zero-shot | LOMO | AdamW | LOMO time | AdamW time |")
    print("|---|---|---|---|---|---|---|")
    columns = {"zeroshot": [], "lomo": [], "adamw": []}
    for task in tasks:
        reports = {k: load(os.path.join(out, f"{task}-{k}.json")) for k in columns}
        cells = {}
        for k, r in reports.items():
            text, accuracy = cell(r)
            cells[k] = text
            if accuracy is not None:
                columns[k].append(accuracy)
        items = next((r["items"] for r in reports.values() if r), "-")
        print(f"| {task} | {items} | {cells['zeroshot']} | {cells['lomo']} | {cells['adamw']} | "
              f"{seconds(os.path.join(out, f'{task}-lomo.seconds'))} | "
              f"{seconds(os.path.join(out, f'{task}-adamw.seconds'))} |")
    if all(len(v) == len(tasks) for v in columns.values()):
        means = {k: sum(v) / len(v) for k, v in columns.items()}
        print(f"| **average** | | {means['zeroshot']:.1f}% | {means['lomo']:.1f}% | {means['adamw']:.1f}% | | |")


if __name__ == "__main__":
    main()
