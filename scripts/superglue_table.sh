#!/usr/bin/env bash
# Reproduces the README's SuperGLUE table: for each task, zero-shot accuracy of the base model,
# then LOMO and AdamW fine-tuning on the same sampled training examples, each followed by
# `lomo eval` on the same sampled validation examples. Reports (JSON) and logs go to $OUT;
# a step whose report exists is skipped, so an interrupted run continues where it stopped.
# The Markdown table is printed at the end (scripts/superglue_table.py).
#
#   bash scripts/superglue_table.sh                 # all six tasks, the README's budget
#   TASKS="rte copa" TRAIN_LIMIT=200 bash scripts/superglue_table.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"

LOMO="${LOMO:-.build/release/lomo}"
DATA="${DATA:-../shared/data/superglue}"
OUT="${OUT:-runs/superglue}"
TASKS="${TASKS:-cb copa wsc wic rte boolq}"
TRAIN_LIMIT="${TRAIN_LIMIT:-500}"
EVAL_LIMIT="${EVAL_LIMIT:-200}"
MAX_SEQ_LEN="${MAX_SEQ_LEN:-320}"
OPTIMIZERS="${OPTIMIZERS:-lomo adamw}"
# The shared options of both optimizers: the paper's schedule and clipping, at this budget.
COMMON=(--seed 0 --limit "$TRAIN_LIMIT" --epochs 1 --batch-size 8 --max-seq-len "$MAX_SEQ_LEN"
        --lr-schedule linear --warmup 0.1 --clip-grad-norm 1.0 --dtype f32 --overwrite)
LOMO_OPTIONS=(--optimizer lomo --lr "${LOMO_LR:-0.1}")
ADAMW_OPTIONS=(--optimizer adamw --lr "${ADAMW_LR:-5e-5}")

[[ -x "$LOMO" ]] || swift build -c release --product lomo
mkdir -p "$OUT"

folder() {  # the task's folder name in ../shared/data/superglue
  case "$1" in
    boolq) echo BoolQ ;; cb) echo CB ;; copa) echo COPA ;; rte) echo RTE ;;
    wic) echo WiC ;; wsc) echo WSC ;; multirc) echo MultiRC ;;
    *) echo "unknown task $1" >&2; exit 2 ;;
  esac
}

evaluate() {  # evaluate TASK MODEL REPORT
  local val="$DATA/$(folder "$1")/val.jsonl"
  "$LOMO" eval --model "$2" --data "$val" --task "$1" --limit "$EVAL_LIMIT" --seed 0 \
    --max-seq-len "$MAX_SEQ_LEN" --report "$3" >"${3%.json}.log" 2>&1
}

for task in $TASKS; do
  train="$DATA/$(folder "$task")/train.jsonl"
  if [[ ! -f "$OUT/$task-zeroshot.json" ]]; then
    echo "$task: zero-shot"
    evaluate "$task" smollm2-135m "$OUT/$task-zeroshot.json"
  fi
  for optimizer in $OPTIMIZERS; do
    report="$OUT/$task-$optimizer.json"
    [[ -f "$report" ]] && continue
    echo "$task: $optimizer"
    if [[ "$optimizer" == lomo ]]; then options=("${LOMO_OPTIONS[@]}"); else options=("${ADAMW_OPTIONS[@]}"); fi
    start=$(date +%s)
    "$LOMO" train --data "$train" --task "$task" "${COMMON[@]}" "${options[@]}" \
      --output "$OUT/$task-$optimizer" >"$OUT/$task-$optimizer-train.log" 2>&1
    echo $(( $(date +%s) - start )) >"$OUT/$task-$optimizer.seconds"
    evaluate "$task" "$OUT/$task-$optimizer/final/model.gguf" "$report"
    rm -rf "$OUT/$task-$optimizer/final"  # 0.5 GB each; the report and logs stay
  done
done

python3 scripts/superglue_table.py "$OUT" $TASKS
