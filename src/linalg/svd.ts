/** Thin singular value decomposition of a matrix, A = U·diag(S)·Vᵀ, through the active backend. */
import { backend } from '../backend/index.ts';
import { Tensor } from '../tensor/tensor.ts';
import { checkRank, inDtype, leadingColumns, matrixShape, workDtype, type PrecisionOptions } from './matrix.ts';

export interface SvdOptions extends PrecisionOptions {
  /** Compute U and Vᵀ (default true). With false only S is computed, which is much cheaper. */
  vectors?: boolean;
}

/** A thin SVD: U [m, k], S [k] descending, Vt [k, n], with k = min(m, n) (or the truncation rank). */
export interface Svd {
  U: Tensor;
  S: Tensor;
  Vt: Tensor;
}

/** Singular values only. */
export interface SingularValues {
  S: Tensor;
  U?: undefined;
  Vt?: undefined;
}

/**
 * Thin SVD of the m × n matrix A: U [m, k], S [k] (descending, ≥ 0), Vt [k, n], k = min(m, n).
 * With `{ vectors: false }` only S. Computed in A's dtype, or in float64 with `{ float64: true }`.
 */
export function svd(a: Tensor, opts: SvdOptions & { vectors: false }): SingularValues;
export function svd(a: Tensor, opts?: SvdOptions & { vectors?: true }): Svd;
export function svd(a: Tensor, opts?: SvdOptions): Svd | SingularValues;
export function svd(a: Tensor, opts: SvdOptions = {}): Svd | SingularValues {
  const [m, n] = matrixShape(a, 'svd');
  const x = inDtype(a, workDtype(a, opts));
  const k = Math.min(m, n);
  const vectors = opts.vectors ?? true;
  const r = backend().gesdd(x.data, m, n, vectors);
  const S = new Tensor(r.s, [k]);
  if (!vectors) return { S };
  return { U: new Tensor(r.u!, [m, k]), S, Vt: new Tensor(r.vt!, [k, n]) };
}

/** The leading `rank` components of a thin SVD: U [m, r], S [r], Vt [r, n] (copies). */
export function truncateSvd(f: Svd, rank: number): Svd {
  checkRank(rank, f.S.size, 'truncateSvd');
  return {
    U: leadingColumns(f.U, rank),
    S: f.S.slice0(0, rank).clone(),
    Vt: f.Vt.slice0(0, rank).clone(),
  };
}
