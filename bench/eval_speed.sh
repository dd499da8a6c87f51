#!/usr/bin/env bash
# Multiple-choice evaluation speed on the SuperGLUE validation sets: `lomo eval` of one build
# against another (e.g. before and after a change), the default model, the paper's scoring.
# Both runs of a task go one after the other; the figure is each run's scoring time from its
# --report (model loading excluded).
#
#   OLD=/path/to/old/lomo bash bench/eval_speed.sh
#   OLD=... NEW=.build/release/lomo LIMIT=100 THREADS=2 TASKS="rte boolq" bash bench/eval_speed.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=${OLD:?set OLD to the lomo to compare with}
NEW=${NEW:-.build/release/lomo}
LIMIT=${LIMIT:-100}
THREADS=${THREADS:-2}
TASKS=${TASKS:-cb copa wsc rte wic boolq multirc}
DATA=${DATA:-../shared/data/superglue}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
declare -A folder=([cb]=CB [copa]=COPA [wsc]=WSC [rte]=RTE [wic]=WiC [boolq]=BoolQ [multirc]=MultiRC)
echo "$(lscpu | sed -n 's/^Model name: *//p'); $THREADS threads; $LIMIT items per task (--limit, seed 0)"
printf '| task | old s | new s | speed-up | old accuracy | new accuracy |\n|---|---|---|---|---|---|\n'
for task in $TASKS; do
  run() {
    "$1" eval --data "$DATA/${folder[$task]}/val.jsonl" --task "$task" --limit "$LIMIT" --threads "$THREADS" \
      --report "$2" > /dev/null 2>&1
  }
  run "$OLD" "$WORK/old.json"
  run "$NEW" "$WORK/new.json"
  python3 - "$task" "$WORK/old.json" "$WORK/new.json" <<'PY'
import json, sys
task, old, new = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
accuracy = lambda r: f"{100 * r['metrics']['accuracy']:.2f}%"
print(f"| {task} | {old['seconds']:.1f} | {new['seconds']:.1f} | {old['seconds'] / new['seconds']:.2f}x | {accuracy(old)} | {accuracy(new)} |")
PY
done
