# The environment every peer benchmark gives both tools (sourced by bench/*-peer.sh; bench/peers/run.ts
# reads the same two settings from this file). Measured reasoning: bench/RESULTS-peers.md, "The
# allocator and the kernel set".
#
# - The OpenBLAS kernel set: linscope removes an inherited OPENBLAS_CORETYPE unless
#   LINSCOPE_OPENBLAS_CORETYPE names one (src/backend/native-library.ts); PyTorch gets the same.
# - The allocator: glibc told to keep freed memory mapped, as a caching allocator (tcmalloc, jemalloc)
#   does. With glibc's defaults PyTorch takes every tensor above the mmap threshold as fresh pages and
#   faults them in anew on every op.
if [ -n "$LINSCOPE_OPENBLAS_CORETYPE" ]; then export OPENBLAS_CORETYPE=$LINSCOPE_OPENBLAS_CORETYPE; else unset OPENBLAS_CORETYPE; fi
export MALLOC_MMAP_MAX_=0
export MALLOC_TRIM_THRESHOLD_=68719476736
