#!/usr/bin/env bash
# linscope and PyTorch at 2 threads on Debian's two builds of OpenBLAS 0.3.21, interleaved: the
# pthread build (the system default) and the OpenMP one (libopenblas0-openmp, loaded through
# LD_LIBRARY_PATH). PyTorch on the OpenMP build is timed with 1 and with 2 intra-op threads; linscope
# on it with its passive OpenMP threads and with GOMP_SPINCOUNT=300000. Prints one tagged JSON line
# per process (bench/peers/linscope-job.ts, bench/peers/torch_peers.py); the reading is in
# bench/RESULTS-peers.md ("PyTorch on the OpenMP build of OpenBLAS").
#
#   bash bench/peers/openblas-builds.sh [rounds] [jobs...]     # default: 2 rounds, every job
# Inputs: /tmp/linscope-peers (bench/peers/run.ts or make-inputs.ts makes them).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-2}
shift || true
jobs=${*:-forward linearity train laser perplexity generate}
omp=/usr/lib/x86_64-linux-gnu/openblas-openmp
[ -e "$omp/libopenblas.so.0" ] || { echo "openblas-builds: $omp is missing (apt-get install libopenblas0-openmp)" >&2; exit 1; }
eval "$(node --import tsx bench/peers/peer-env.ts)"
export OPENBLAS_NUM_THREADS=2 LINSCOPE_THREADS=2 OMP_NUM_THREADS=2
dir=/tmp/linscope-peers
for round in $(seq "$rounds"); do
  for job in $jobs; do
    echo "== round $round $job, load$(uptime | sed 's/.*average//')"
    node --import tsx bench/peers/linscope-job.ts "$job" $dir 2 | sed 's/^/linscope-pthread /'
    LD_LIBRARY_PATH=$omp node --import tsx bench/peers/linscope-job.ts "$job" $dir 2 | sed 's/^/linscope-openmp /'
    GOMP_SPINCOUNT=300000 LD_LIBRARY_PATH=$omp node --import tsx bench/peers/linscope-job.ts "$job" $dir 2 | sed 's/^/linscope-openmp-spin /'
    TORCH_THREADS=1 /usr/bin/python3 bench/peers/torch_peers.py "$job" $dir 2 | sed 's/^/torch-pthread-1 /'
    TORCH_THREADS=1 LD_LIBRARY_PATH=$omp /usr/bin/python3 bench/peers/torch_peers.py "$job" $dir 2 | sed 's/^/torch-openmp-1 /'
    TORCH_THREADS=2 LD_LIBRARY_PATH=$omp /usr/bin/python3 bench/peers/torch_peers.py "$job" $dir 2 | sed 's/^/torch-openmp-2 /'
  done
done
