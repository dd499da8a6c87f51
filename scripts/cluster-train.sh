#!/usr/bin/env bash
# A real multi-host run on one machine: trains SmolLM2-135M (the default model) with LOMO and
# global-norm clipping on 2 pretend hosts (../shared/cluster: network namespaces joined by a
# bridge, ranks started by mpirun over TCP), then checks that the model rank 0 saved equals the
# model one process trains on the same global batch (`lomo inspect --compare`, 1e-5 relative).
# Needs root (namespaces) and the built lomo (`swift build -c release`).
#
#   scripts/cluster-train.sh            HOSTS=2 STEPS=3 by default
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
lomo="$root/.build/release/lomo"
cluster="${LOMO_CLUSTER:-$root/../shared/cluster}"
hosts=${HOSTS:-2}
steps=${STEPS:-3}
[ -x "$lomo" ] || { echo "cluster-train: build lomo first (swift build -c release)" >&2; exit 1; }
[ -x "$cluster/netns-cluster.sh" ] || { echo "cluster-train: no $cluster/netns-cluster.sh" >&2; exit 1; }

work=$(mktemp -d /tmp/lomo-cluster.XXXXXX)
cleanup() {
  bash "$cluster/netns-cluster.sh" down || true
  rm -rf "$work"
}
trap cleanup EXIT
bash "$cluster/netns-cluster.sh" down || true
bash "$cluster/netns-cluster.sh" up "$hosts"

# Pre-tokenised sequences of 12 tokens, two per rank and step.
for i in $(seq 0 $((4 * hosts - 1))); do
  ids=$(for t in $(seq 0 11); do echo $((100 + (i * 7 + t * 13) % 500)); done | paste -sd, -)
  echo "{\"input_ids\": [$ids]}"
done > "$work/train.jsonl"
common=(train --data "$work/train.jsonl" --max-steps "$steps" --lr 0.01 --clip-grad-norm 1.0
        --threads 1 --save-format safetensors)

echo "cluster-train: one process, $((2 * hosts)) sequences per step" >&2
"$lomo" "${common[@]}" --batch-size $((2 * hosts)) --output "$work/one" > "$work/one.log"

echo "cluster-train: $hosts hosts over TCP, 2 sequences per rank and step" >&2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ip netns exec lomo-h1 mpirun --mca plm_rsh_agent "$cluster/rsh-agent.sh" \
  --mca btl tcp,self --mca btl_tcp_if_include 10.231.0.0/24 --mca oob_tcp_if_include 10.231.0.0/24 \
  --host "$(bash "$cluster/netns-cluster.sh" hosts)" -n "$hosts" \
  "$lomo" "${common[@]}" --batch-size 2 --output "$work/hosts" | tee "$work/hosts.log"

"$lomo" inspect "$work/one/final" --compare "$work/hosts/final" --tolerance 1e-5 | tail -1
echo "cluster-train: $hosts hosts equal one process" >&2
