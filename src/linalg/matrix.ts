/** Small shared helpers for the Tensor-level linear algebra: shape checks, dtype choice, column slices. */
import { Tensor, allocate, type DType } from '../tensor/tensor.ts';

/** Options shared by the routines that can compute in double precision. */
export interface PrecisionOptions {
  /** Compute in float64 (inputs are converted) and return float64 tensors. Default: the input's dtype. */
  float64?: boolean;
}

/** [rows, columns] of a 2-D tensor; a clear error naming `fn` otherwise. */
export function matrixShape(a: Tensor, fn: string, what = 'A'): [number, number] {
  if (a.ndim !== 2) throw new Error(`${fn}: ${what} must be a 2-D matrix, got ${a}`);
  return [a.shape[0], a.shape[1]];
}

/** The dtype a routine computes in: float64 when asked, else the input's. */
export function workDtype(a: Tensor, opts: PrecisionOptions | undefined): DType {
  return opts?.float64 ? 'float64' : a.dtype;
}

/** `a` in `dtype`, without a copy when it already is. */
export function inDtype(a: Tensor, dtype: DType): Tensor {
  return a.dtype === dtype ? a : a.to(dtype);
}

/** A copy of columns [0, r) of the m × n matrix `a` (m × r). */
export function leadingColumns(a: Tensor, r: number): Tensor {
  const [m, n] = a.shape;
  if (r === n) return a;
  const out = allocate(a.dtype, m * r);
  for (let i = 0; i < m; i++) out.set(a.data.subarray(i * n, i * n + r), i * r);
  return new Tensor(out, [m, r]);
}

/** A copy of `a` (m × n) with column j multiplied by s[j]. */
export function scaleColumns(a: Tensor, s: ArrayLike<number>): Tensor {
  const [m, n] = a.shape;
  const out = a.clone();
  const d = out.data;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) d[i * n + j] *= s[j];
  return out;
}

/** Checks that `rank` is an integer in [0, limit]. */
export function checkRank(rank: number, limit: number, fn: string): void {
  if (!Number.isInteger(rank) || rank < 0 || rank > limit) {
    throw new Error(`${fn}: rank must be an integer between 0 and min(m, n) = ${limit}, got ${rank}`);
  }
}
