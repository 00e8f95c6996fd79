#!/bin/bash
# Batched greedy generation, linscope vs PyTorch, alternating per round, at 1 and 2 threads.
# Usage: bash bench/generate-batch-peer.sh MODEL_DIR [batches=1,4,16] [promptTokens=32] [newTokens=16] [rounds=2] [OUT=/tmp/linscope-generate-batch]
# (the torch side needs /usr/bin/python3 with torch; a Llama-layout model folder with one model.safetensors)
set -e
model=$1; batches=${2:-1,4,16}; prompt=${3:-32}; new=${4:-16}; rounds=${5:-2}; out=${6:-/tmp/linscope-generate-batch}
cd "$(dirname "$0")/.."
eval "$(node --import tsx bench/peers/peer-env.ts)" # both tools: the same OpenBLAS kernels and allocator settings
mkdir -p "$out"
for threads in 1 2; do
  export LINSCOPE_THREADS=$threads OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads
  for round in $(seq 1 "$rounds"); do
    echo "## $threads thread(s), round $round ($(uptime | sed 's/.*load/load/'))"
    /usr/bin/time -f "linscope peak RSS %M KB" node --import tsx bench/generate-batch.ts "$model" "$out/t$threads.json" "$batches" "$prompt" "$new"
    /usr/bin/time -f "torch peak RSS %M KB" /usr/bin/python3 bench/generate-batch-torch.py "$model" "$out/t$threads.json"
  done
done
