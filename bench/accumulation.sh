#!/bin/bash
# Gradient accumulation against one big batch (README, "Gradient accumulation, layer by
# layer"): an effective batch of 32 sequences of 512 tokens on smollm2-135m (f32) and llama-7b
# (bf16), then one SuperGLUE task (CB) trained with 4 micro-batches of 8 and with one batch of
# 32. Run on a quiet machine from the repository root after `swift build -c release`; every
# output and the peak RSS of each command (/usr/bin/time -v) go to runs/accumulation/.
# PARTS=bench or PARTS=superglue runs one half.
set -u
cd "$(dirname "$0")/.."
export OMP_WAIT_POLICY=passive
L=.build/release/lomo
O=runs/accumulation
SG=../shared/data/superglue/CB
mkdir -p "$O"
lscpu | grep "Model name" > "$O/cpu.txt"
run() {
  name=$1; shift
  echo "== $name: lomo $*" >> "$O/log.txt"
  /usr/bin/time -v "$L" "$@" > "$O/$name.out" 2> "$O/$name.err"
  echo "exit $? $(date -u +%FT%T)" >> "$O/log.txt"
}
if [[ "${PARTS:-bench superglue}" == *bench* ]]; then
  S="--seq-len 512 --steps 2 --warmup-steps 1"
  run smol-b32-ckpt bench --model smollm2-135m --dtype f32 --batch-size 32 --activation-checkpointing $S
  run smol-4x8 bench --model smollm2-135m --dtype f32 --batch-size 8 --gradient-accumulation-steps 4 $S
  run smol-8x4 bench --model smollm2-135m --dtype f32 --batch-size 4 --gradient-accumulation-steps 8 $S
  run smol-32x1 bench --model smollm2-135m --dtype f32 --batch-size 1 --gradient-accumulation-steps 32 $S
  S="--seq-len 512 --steps 1 --warmup-steps 0"
  run llama7b-b32-ckpt bench --model llama-7b --dtype bf16 --batch-size 32 --activation-checkpointing $S
  run llama7b-32x1 bench --model llama-7b --dtype bf16 --batch-size 1 --gradient-accumulation-steps 32 $S
fi
if [[ "${PARTS:-bench superglue}" == *superglue* ]]; then
  T="--data $SG/train.jsonl --task cb --seed 0 --epochs 2 --max-seq-len 320 --lr-schedule linear
     --warmup 0.1 --clip-grad-norm 1.0 --dtype f32 --optimizer lomo --lr 0.1 --overwrite"
  E="--data $SG/val.jsonl --task cb --seed 0 --max-seq-len 320"
  run cb-b32 train $T --batch-size 32 --activation-checkpointing --output "$O/cb-b32"
  run cb-b32-eval eval $E --model "$O/cb-b32/final/model.gguf" --report "$O/cb-b32.json"
  run cb-4x8 train $T --batch-size 8 --gradient-accumulation-steps 4 --output "$O/cb-4x8"
  run cb-4x8-eval eval $E --model "$O/cb-4x8/final/model.gguf" --report "$O/cb-4x8.json"
fi
