#!/bin/bash
# The per-rank memory plan (`lomo bench --dry-run`, nothing allocated) of LOMO bf16 with
# activation checkpointing, 1 × 512 per rank, for the LLaMA sizes on 1, 2, 4 and 8 ranks: the
# README's "largest model on N machines of 24 GiB". Prints one Markdown row per model.
set -eu
cd "$(dirname "$0")/.."
L=.build/release/lomo
echo "| model | 1 rank | 2 ranks | 4 ranks | 8 ranks |"
echo "|---|---|---|---|---|"
for m in llama-7b llama-13b llama-30b llama-65b; do
  row="| $m |"
  for n in 1 2 4 8; do
    total=$("$L" bench --model "$m" --dtype bf16 --activation-checkpointing --batch-size 1 --seq-len 512 \
      --ranks "$n" --dry-run | awk '$1 == "total" { print $2, $3 }')
    row="$row $total |"
  done
  echo "$row"
done
