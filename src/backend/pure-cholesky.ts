/**
 * The Cholesky family in plain TypeScript, float64, row-major, for the pure backend (and as the
 * oracle the OpenBLAS calls are tested against): LAPACK's dpotrf (A = L·Lᵀ, lower factor), dtrsm
 * (L·X = B or Lᵀ·X = B), dpotri (A⁻¹ from L) and BLAS's dsyrk (A·Aᵀ or AᵀA, upper triangle).
 */

/** Lower Cholesky factor L of the symmetric n × n matrix `a` (lower triangle read), or null when `a` is not positive definite. */
export function potrf(a: Float64Array, n: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let pivot = a[rj + j];
    for (let k = 0; k < j; k++) pivot -= l[rj + k] * l[rj + k];
    if (!(pivot > 0) || !Number.isFinite(pivot)) return null;
    const ljj = Math.sqrt(pivot);
    l[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= l[ri + k] * l[rj + k];
      l[ri + j] = s / ljj;
    }
  }
  return l;
}

/** Solves L·X = B (or Lᵀ·X = B when `transpose`) in place: B is n × nrhs, L lower triangular n × n. */
export function trsm(l: Float64Array, n: number, b: Float64Array, nrhs: number, transpose: boolean): void {
  if (!transpose) {
    for (let i = 0; i < n; i++) {
      const bi = i * nrhs;
      for (let k = 0; k < i; k++) {
        const f = l[i * n + k];
        if (f === 0) continue;
        const bk = k * nrhs;
        for (let c = 0; c < nrhs; c++) b[bi + c] -= f * b[bk + c];
      }
      const d = l[i * n + i];
      for (let c = 0; c < nrhs; c++) b[bi + c] /= d;
    }
    return;
  }
  for (let i = n - 1; i >= 0; i--) {
    const bi = i * nrhs;
    for (let k = i + 1; k < n; k++) {
      const f = l[k * n + i];
      if (f === 0) continue;
      const bk = k * nrhs;
      for (let c = 0; c < nrhs; c++) b[bi + c] -= f * b[bk + c];
    }
    const d = l[i * n + i];
    for (let c = 0; c < nrhs; c++) b[bi + c] /= d;
  }
}

/** A⁻¹ = L⁻ᵀ·L⁻¹ (full symmetric n × n) from the lower Cholesky factor L. */
export function potri(l: Float64Array, n: number): Float64Array {
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  trsm(l, n, inv, n, false);
  trsm(l, n, inv, n, true);
  return inv;
}

/** Upper triangle of C += A·Aᵀ, or C += AᵀA when `transpose` (A row-major rows × cols). */
export function syrkUpper(a: Float64Array, rows: number, cols: number, transpose: boolean, c: Float64Array): void {
  const n = transpose ? cols : rows;
  const k = transpose ? rows : cols;
  const at = (i: number, p: number) => (transpose ? a[p * cols + i] : a[i * cols + p]);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += at(i, p) * at(j, p);
      c[i * n + j] += s;
    }
  }
}
