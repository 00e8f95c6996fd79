#!/bin/bash
# Scoring throughput of `linscope eval` vs plain forwards (linscope's own and PyTorch's, the harness's
# HF-backend way), one thread each, alternating linscope / torch twice on the same requests.
# Usage: bash bench/eval-scoring-peer.sh MODEL_DIR [tasks] [limit=40] [OUT=/tmp/linscope-eval-scoring] [TOKENIZER_DIR]
# (the torch side needs /usr/bin/python3 with torch; bench/eval-scoring-torch.py handles Llama and
# GPT-2 models; TOKENIZER_DIR tokenizes for a model folder without a tokenizer, see eval-scoring.ts)
set -e
model=$1; tasks=${2:-arc_easy,winogrande,boolq,truthfulqa_mc2,lambada_openai,copa}; limit=${3:-40}; out=${4:-/tmp/linscope-eval-scoring}
tokenizer=${5:+--tokenizer $5}
cd "$(dirname "$0")/.."
eval "$(node --import tsx bench/peers/peer-env.ts)" # both tools: the same OpenBLAS kernels and allocator settings
export LINSCOPE_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 # TORCH_THREADS from peer-env.ts
for round in 1 2; do
  echo "## round $round: linscope (plain and cached, interleaved per task)"
  node --import tsx bench/eval-scoring.ts "$model" "$tasks" "$limit" 16 1 --dump "$out/round$round" $tokenizer
  echo; echo "## round $round: PyTorch plain scoring of the same requests"
  /usr/bin/python3 bench/eval-scoring-torch.py "$model" "$out/round$round" 1
  echo
done
