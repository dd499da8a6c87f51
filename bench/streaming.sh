#!/bin/bash
# Weights streamed from disk (README, "Models larger than memory"): LOMO bf16 with activation
# checkpointing, B=1, T=512, 2 threads. llama-7b in memory and streamed with a 2 GB budget
# (4 of its 32 layers in memory, every other layer read from disk twice a step), then
# llama-13b (26 GB of bf16 weights, more than this 24 GiB machine) streamed with the default
# budget and with 2 GB. Run on a quiet machine from the repository root after
# `swift build -c release`; the streamed file goes to STREAM_DIR (default runs/streaming,
# which needs about 26 GB free). Outputs: runs/streaming/. PARTS=7b or PARTS=13b runs one half.
set -u
cd "$(dirname "$0")/.."
export OMP_WAIT_POLICY=passive
L=$(pwd)/.build/release/lomo
O=runs/streaming
D=${STREAM_DIR:-$O}
mkdir -p "$O" "$D"
lscpu | grep "Model name" > "$O/cpu.txt"
# run NAME LOMO-ARGS...
run() {
  name=$1; shift
  echo "== $name: lomo $*" >> "$O/log.txt"
  "$L" "$@" > "$O/$name.out" 2> "$O/$name.err"
  echo "exit $? $(date -u +%FT%T)" >> "$O/log.txt"
}
S="bench --dtype bf16 --activation-checkpointing --batch-size 1 --seq-len 512 --steps 2 --warmup-steps 1 --threads 2"
if [[ " ${PARTS:-7b 13b} " == *" 7b "* ]]; then
  run llama7b-memory $S --model llama-7b
  run llama7b-streamed-2GB $S --model llama-7b --stream-weights --stream-dir "$D" --stream-budget 2GB
  run llama7b-inference $S --model llama-7b --optimizer inference
fi
if [[ " ${PARTS:-7b 13b} " == *" 13b "* ]]; then
  run llama13b-streamed $S --model llama-13b --stream-weights --stream-dir "$D"
  run llama13b-streamed-2GB $S --model llama-13b --stream-weights --stream-dir "$D" --stream-budget 2GB
fi
