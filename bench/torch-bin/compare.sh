#!/usr/bin/env bash
# .bin vs safetensors vs torch.load, interleaved: ROUNDS rounds of every loader, each in its own
# process under /usr/bin/time -v (wall time and peak RSS). Files must exist (generate.py).
#   bash bench/torch-bin/compare.sh /tmp/linscope-bench-bin [ROUNDS]
set -euo pipefail
dir=$1
rounds=${2:-3}
cd "$(dirname "$0")/../.."
cat "$dir/bin/pytorch_model.bin" "$dir/safetensors/model.safetensors" > /dev/null  # warm the page cache once
echo "# uptime before: $(uptime)"
run() {
  local out
  out=$( { /usr/bin/time -v "$@" 2> >(grep -E 'Maximum resident|Elapsed' >&2); } 2>&1 )
  echo "$out" | tr '\n' ' '
  echo
}
for r in $(seq 1 "$rounds"); do
  run node --import tsx bench/torch-bin/load.ts "$dir/bin"
  run node --import tsx bench/torch-bin/load.ts "$dir/safetensors"
  run /usr/bin/python3 bench/torch-bin/torch-load.py "$dir/bin/pytorch_model.bin"
  run /usr/bin/python3 bench/torch-bin/torch-load.py "$dir/bin/pytorch_model.bin" --float32
  run node --import tsx bench/torch-bin/load.ts "$dir/bin" --stream
done
echo "# uptime after: $(uptime)"
