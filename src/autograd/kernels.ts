/** Small kernels shared by several ops' backward steps. */
import { backend } from '../backend/index.ts';
import type { TypedArray } from '../tensor/tensor.ts';

let ones32 = new Float32Array(0);
let ones64 = new Float64Array(0);

/** A vector of `n` ones in the dtype of `like` (cached, grown on demand; do not write to it). */
function onesLike(like: TypedArray, n: number): TypedArray {
  if (like instanceof Float64Array) {
    if (ones64.length < n) ones64 = new Float64Array(n).fill(1);
    return ones64.subarray(0, n);
  }
  if (ones32.length < n) ones32 = new Float32Array(n).fill(1);
  return ones32.subarray(0, n);
}

/**
 * dst[j] += s · Σ_rows src[row, j] for a [rows, n] array — bias gradients. One GEMM with a row of
 * ones, (1 × rows)·(rows × n), so the reduction runs in the BLAS rather than in a JS loop.
 */
export function accumulateColumnSums(dst: TypedArray, src: TypedArray, n: number, s: number): void {
  const rows = src.length / n;
  if (rows === 0) return;
  backend().gemm({
    transA: false, transB: false, m: 1, n, k: rows, alpha: s,
    a: onesLike(src, rows), lda: rows, b: src, ldb: n, beta: 1, c: dst, ldc: n,
  });
}

/** dst[j] += Σ_rows a[row, j]·b[row, j] for [rows, n] arrays (float64 accumulation): gain gradients. */
export function accumulateColumnDots(dst: TypedArray, a: TypedArray, b: TypedArray, n: number): void {
  const acc = new Float64Array(n);
  for (let off = 0; off < a.length; off += n) {
    for (let j = 0; j < n; j++) acc[j] += a[off + j] * b[off + j];
  }
  for (let j = 0; j < n; j++) dst[j] += acc[j];
}
