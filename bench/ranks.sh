#!/bin/bash
# Sharded training (ZeRO-3 over mpirun) on 1, 2 and 4 ranks of this machine (README, "More
# than one machine"): the same global batch each time (4 sequences of 512 tokens for
# smollm2-135m, f32 and bf16; 2 of 512 for llama-7b bf16 with checkpointing on 1 and 2
# ranks), each rank with 2/N threads (4 ranks share 2 cores: 1 thread each, oversubscribed).
# Run on a quiet machine from the repository root after `swift build -c release`; outputs go to
# runs/ranks/. PARTS=smol or PARTS=7b runs one half; PARTS=7b4 llama-7b on 4 ranks (not in the
# default: its 4 ranks plan 5.9 GiB each, about all of a 24 GiB machine).
set -u
cd "$(dirname "$0")/.."
export OMP_WAIT_POLICY=passive OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
L=$(pwd)/.build/release/lomo
O=runs/ranks
mkdir -p "$O"
lscpu | grep "Model name" > "$O/cpu.txt"
# run NAME RANKS LOMO-ARGS...
run() {
  name=$1 ranks=$2; shift 2
  echo "== $name: $ranks rank(s): lomo $*" >> "$O/log.txt"
  if [ "$ranks" = 1 ]; then
    "$L" "$@" > "$O/$name.out" 2> "$O/$name.err"
  else
    mpirun --oversubscribe -n "$ranks" "$L" "$@" > "$O/$name.out" 2> "$O/$name.err"
  fi
  echo "exit $? $(date -u +%FT%T)" >> "$O/log.txt"
}
if [[ "${PARTS:-smol 7b}" == *smol* ]]; then
  for dtype in f32 bf16; do
    S="bench --model smollm2-135m --dtype $dtype --seq-len 512 --steps 3 --warmup-steps 1"
    run "smol-$dtype-1" 1 $S --batch-size 4 --threads 2
    run "smol-$dtype-2" 2 $S --batch-size 2 --threads 1
    run "smol-$dtype-4" 4 $S --batch-size 1 --threads 1
  done
fi
if [[ " ${PARTS:-smol 7b} " == *" 7b "* ]]; then
  S="bench --model llama-7b --dtype bf16 --activation-checkpointing --seq-len 512 --steps 1 --warmup-steps 1"
  run llama7b-1 1 $S --batch-size 2 --threads 2
  run llama7b-2 2 $S --batch-size 1 --threads 1
fi
if [[ " ${PARTS:-smol 7b} " == *" 7b4 "* ]]; then
  # 4 ranks of llama-7b plan 5.9 GiB each: about all of a 24 GiB machine.
  S="bench --model llama-7b --dtype bf16 --activation-checkpointing --seq-len 512 --steps 1 --warmup-steps 0"
  run llama7b-4 4 $S --batch-size 1 --threads 1
fi
