#!/usr/bin/env bash
# Installs what linscope needs: OpenBLAS + LAPACKE (the fast numerical backend; both of Debian's
# builds of OpenBLAS: the pthread one stays the system default, the OpenMP one is for
# LINSCOPE_OPENBLAS_BUILD=openmp, see src/backend/native-library.ts), a C compiler and a font for
# charts (Debian packages, only when
# missing), then the npm dependencies, then builds the native kernels (native/kernels.c, for this
# CPU, into build/).
set -euo pipefail
cd "$(dirname "$0")/.."

want=()
for pkg in libopenblas0-pthread libopenblas0-openmp liblapacke fonts-dejavu-core gcc; do
  dpkg -s "$pkg" >/dev/null 2>&1 || want+=("$pkg")
done
if [ ${#want[@]} -gt 0 ]; then
  echo "setup: installing ${want[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${want[@]}" >/dev/null
fi
npm ci --no-audit --no-fund
node --import tsx scripts/build-kernels.ts
