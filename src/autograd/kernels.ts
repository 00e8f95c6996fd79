/** Small tight loops shared by several ops' backward steps. */
import type { TypedArray } from '../tensor/tensor.ts';

/** dst[j] += s · Σ_rows src[row, j] for a [rows, n] array (float64 accumulation): bias/gain gradients. */
export function accumulateColumnSums(dst: TypedArray, src: TypedArray, n: number, s: number): void {
  const acc = new Float64Array(n);
  for (let off = 0; off < src.length; off += n) {
    for (let j = 0; j < n; j++) acc[j] += src[off + j];
  }
  for (let j = 0; j < n; j++) dst[j] += s * acc[j];
}

/** dst[j] += Σ_rows a[row, j]·b[row, j] for [rows, n] arrays (float64 accumulation): gain gradients. */
export function accumulateColumnDots(dst: TypedArray, a: TypedArray, b: TypedArray, n: number): void {
  const acc = new Float64Array(n);
  for (let off = 0; off < a.length; off += n) {
    for (let j = 0; j < n; j++) acc[j] += a[off + j] * b[off + j];
  }
  for (let j = 0; j < n; j++) dst[j] += acc[j];
}
