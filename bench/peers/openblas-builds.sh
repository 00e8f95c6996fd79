#!/usr/bin/env bash
# linscope and PyTorch at 2 threads on Debian's two builds of OpenBLAS 0.3.21, interleaved: the
# pthread build (the system default) and the OpenMP one (libopenblas0-openmp). linscope picks the
# build itself (LINSCOPE_OPENBLAS_BUILD, src/backend/native-library.ts): the system's (pthread) one,
# the OpenMP one with libgomp's default wait policy (what LINSCOPE_OPENBLAS_BUILD=openmp gives) and
# with passive OpenMP threads. PyTorch on the OpenMP build (loaded through LD_LIBRARY_PATH) is timed with 1 and
# with 2 intra-op threads. Prints one tagged JSON line per process (bench/peers/linscope-job.ts,
# bench/peers/torch_peers.py); the reading is in bench/RESULTS-peers.md.
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
ls_job() { node --import tsx bench/peers/linscope-job.ts "$1" $dir 2; }
torch_job() { /usr/bin/python3 bench/peers/torch_peers.py "$1" $dir 2; }
for round in $(seq "$rounds"); do
  for job in $jobs; do
    echo "== round $round $job, load$(uptime | sed 's/.*average//')"
    LINSCOPE_OPENBLAS_BUILD=system ls_job "$job" | sed 's/^/linscope-pthread /'
    LINSCOPE_OPENBLAS_BUILD=openmp ls_job "$job" | sed 's/^/linscope-openmp /'
    LINSCOPE_OPENBLAS_BUILD=openmp OMP_WAIT_POLICY=passive ls_job "$job" | sed 's/^/linscope-openmp-passive /'
    TORCH_THREADS=1 torch_job "$job" | sed 's/^/torch-pthread-1 /'
    TORCH_THREADS=1 LD_LIBRARY_PATH=$omp torch_job "$job" | sed 's/^/torch-openmp-1 /'
    TORCH_THREADS=2 LD_LIBRARY_PATH=$omp torch_job "$job" | sed 's/^/torch-openmp-2 /'
  done
done
