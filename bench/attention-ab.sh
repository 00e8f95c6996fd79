#!/bin/sh
# Before/after of the blocked attention on whole jobs: alternates, round by round, this tree and a
# detached worktree of BASE (default: the commit before the blocked attention) on
#   bench/attention.ts   attention alone (forward; forward + backward), both trees in one process
#   bench/forward.ts     GPT-2 small forward, 1 × 1024 tokens
#   bench/pretrain.ts    5M-config pretraining step
# at LINSCOPE_THREADS=1 and 2, with `uptime` before and after each run and the peak RSS.
#
#   sh bench/attention-ab.sh [BASE] [ROUNDS]
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
base=${1:-f2765e1}
rounds=${2:-2}
before=${TMPDIR:-/tmp}/linscope-attn-before
[ -d "$before" ] || git -C "$here" worktree add --detach "$before" "$base" >/dev/null
[ -e "$before/node_modules" ] || ln -s "$here/node_modules" "$before/node_modules"
run() { # label dir command...
  label=$1; dir=$2; shift 2
  echo "== $label: $* ($(uptime))"
  (cd "$dir" && /usr/bin/time -f "peak RSS %M KiB" "$@" 2>&1) | grep -E "forward wall|forward CPU|achieved|attention masking|GEMM: attention|tokens/s|CPU-second|pretrain step|this tree|baseline|difference|peak RSS|median" || true
}
for r in $(seq "$rounds"); do
  for t in 1 2; do
    export LINSCOPE_THREADS=$t
    echo "#### round $r, LINSCOPE_THREADS=$t"
    run "attention alone" "$here" node --expose-gc --import tsx bench/attention.ts --baseline "$before" --runs 5
    run "forward, after" "$here" node --import tsx bench/forward.ts
    run "forward, before" "$before" node --import tsx bench/forward.ts
    run "5M step, after" "$here" node --import tsx bench/pretrain.ts --steps 5
    run "5M step, before" "$before" node --import tsx bench/pretrain.ts --steps 5
  done
done
echo "done ($(uptime))"
