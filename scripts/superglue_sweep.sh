#!/usr/bin/env bash
# The learning-rate sweep behind lomo's defaults (issue 15): for each SuperGLUE task, a
# development split is carved from the task's training file (seeded shuffle, DEV_COUNT
# examples, at most a fifth of the file; scripts/superglue_sweep.py split), then every setting of
# `scripts/superglue_sweep.py settings` (LOMO lr 0.01-0.3 with clipping 1.0, AdaLomo 3e-4 to
# 3e-3, AdamW 1e-5 to 1e-4) trains on up to TRAIN_LIMIT of the remaining examples (the paper's
# protocol at this budget: 1 epoch, batch 8, linear schedule, warmup 0.1, f32) and is scored on
# the development split and on the validation file. Settings are chosen on the development
# split only; the validation scores are what the README reports. A setting whose training
# fails (e.g. diverges) is marked TASK/SETTING.failed and counts as the worst. The evaluation
# reports, training seconds and failure markers go to $RESULTS/TASK/ (committed: they back the
# README's tables and let a sweep continue on another machine); splits, models, metrics and logs
# to $OUT/TASK/. A step whose report exists is skipped, so an interrupted sweep continues where it
# stopped. Every option that decides a run is given explicitly, so a change of lomo's defaults
# does not change the sweep, except for the last run of each task ("defaults"), which gives only
# the data (--task, --limit TRAIN_LIMIT) and so measures lomo's defaults as they are. Tables at
# the end (scripts/superglue_sweep.py table).
#
#   bash scripts/superglue_sweep.sh                     # every task
#   TASKS="cb copa" bash scripts/superglue_sweep.sh
#
# MODEL (default smollm2-135m) sweeps another model; SETTINGS ("optimizer lr" lines, default
# scripts/superglue_sweep.py settings) runs some of the settings only, e.g. Gemma 3 270M on CB:
#   MODEL=~/.cache/lomo/gemma-3-270m-q4_k_m.gguf SETTINGS="lomo 0.03" TASKS=cb \
#     RESULTS=docs/gemma3-superglue OUT=runs/gemma3-superglue bash scripts/superglue_sweep.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"

LOMO="${LOMO:-.build/release/lomo}"
DATA="${DATA:-../shared/data/superglue}"
OUT="${OUT:-runs/sweep}"
RESULTS="${RESULTS:-docs/superglue-sweep}"
TASKS="${TASKS:-cb copa wsc rte wic boolq multirc}"
MODEL="${MODEL:-smollm2-135m}"
SETTINGS="${SETTINGS:-$(python3 scripts/superglue_sweep.py settings)}"
TRAIN_LIMIT="${TRAIN_LIMIT:-500}"
DEV_COUNT="${DEV_COUNT:-100}"
EVAL_LIMIT="${EVAL_LIMIT:-200}"
MAX_SEQ_LEN="${MAX_SEQ_LEN:-320}"
COMMON=(--seed 0 --limit "$TRAIN_LIMIT" --epochs 1 --batch-size 8 --max-seq-len "$MAX_SEQ_LEN"
        --lr-schedule linear --warmup 0.1 --dtype f32 --weight-decay 0 --clip-grad-value 0
        --overwrite)

[[ -x "$LOMO" ]] || swift build -c release --product lomo

folder() {  # the task's folder name in ../shared/data/superglue
  case "$1" in
    boolq) echo BoolQ ;; cb) echo CB ;; copa) echo COPA ;; rte) echo RTE ;;
    wic) echo WiC ;; wsc) echo WSC ;; multirc) echo MultiRC ;;
    *) echo "unknown task $1" >&2; exit 2 ;;
  esac
}

evaluate() {  # evaluate TASK MODEL DATA REPORT_NAME: writes $RESULTS/TASK/REPORT_NAME.json
  local report="$RESULTS/$1/$4.json"
  [[ -f "$report" ]] && return
  "$LOMO" eval --model "$2" --data "$3" --task "$1" --limit "$EVAL_LIMIT" --seed 0 \
    --max-seq-len "$MAX_SEQ_LEN" --report "$report" >"$OUT/$1/$4.log" 2>&1
}

train_and_score() {  # train_and_score TASK RUN TRAIN_OPTION...: trains on TASK's split, scores dev and val
  local task="$1" run="$2" dir="$OUT/$1" results="$RESULTS/$1"
  shift 2
  [[ -f "$results/$run-val.json" || -f "$results/$run.failed" ]] && return
  echo "$task: $run"
  if [[ ! -f "$dir/$run/final/model.gguf" ]]; then
    local start=$(date +%s)
    "$LOMO" train --model "$MODEL" --data "$dir/train.jsonl" --task "$task" "$@" --output "$dir/$run" \
      --metrics "$dir/$run-metrics.jsonl" >"$dir/$run-train.log" 2>&1 \
      || { echo "  training failed: $dir/$run-train.log"; touch "$results/$run.failed"; return; }
    echo $(( $(date +%s) - start )) >"$results/$run.seconds"
  fi
  evaluate "$task" "$dir/$run/final/model.gguf" "$dir/dev.jsonl" "$run-dev"
  evaluate "$task" "$dir/$run/final/model.gguf" "$DATA/$(folder "$task")/val.jsonl" "$run-val"
  rm -rf "$dir/$run/final" "$dir/$run/checkpoint"  # 0.5 GB each; reports, metrics and logs stay
}

for task in $TASKS; do
  dir="$OUT/$task"
  results="$RESULTS/$task"
  mkdir -p "$dir" "$results"
  val="$DATA/$(folder "$task")/val.jsonl"
  # At most a fifth of the training file; MultiRC's lines are passages of several questions.
  lines=$(wc -l <"$DATA/$(folder "$task")/train.jsonl")
  dev_count=$(( lines / 5 < DEV_COUNT ? lines / 5 : DEV_COUNT ))
  [[ "$task" == multirc ]] && dev_count=$(( dev_count / 4 ))
  [[ -f "$dir/dev.jsonl" ]] || python3 scripts/superglue_sweep.py split \
    "$DATA/$(folder "$task")/train.jsonl" "$dev_count" "$dir/train.jsonl" "$dir/dev.jsonl"
  echo "$task: zero-shot"
  evaluate "$task" "$MODEL" "$val" zeroshot-val
  while read -r optimizer lr; do
    clip=(--clip-grad-norm 0)
    [[ "$optimizer" == lomo ]] && clip=(--clip-grad-norm 1.0)
    train_and_score "$task" "$optimizer-$lr" "${COMMON[@]}" --optimizer "$optimizer" --lr "$lr" "${clip[@]}"
  done <<<"$SETTINGS"
  # lomo's defaults: only the data (its task, the same budget of examples) is given.
  train_and_score "$task" defaults --limit "$TRAIN_LIMIT" --overwrite
done

python3 scripts/superglue_sweep.py table "$RESULTS" $TASKS
