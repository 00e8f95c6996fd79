/** Eigendecomposition of a symmetric matrix, A = V·diag(λ)·Vᵀ, through the active backend. */
import { backend } from '../backend/index.ts';
import { Tensor } from '../tensor/tensor.ts';
import { inDtype, matrixShape, workDtype, type PrecisionOptions } from './matrix.ts';

export interface EighOptions extends PrecisionOptions {
  /** Compute the eigenvectors (default true). */
  vectors?: boolean;
}

export interface Eigh {
  /** Eigenvalues, ascending, [n]. */
  values: Tensor;
  /** Eigenvectors as the columns of [n, n] (column j belongs to values[j]); absent when not asked for. */
  vectors?: Tensor;
}

/**
 * Eigenvalues (ascending) and eigenvectors (columns) of the symmetric n × n matrix A. Only the upper
 * triangle of A is read, so a matrix that is symmetric up to rounding is treated as exactly symmetric.
 */
export function eigh(a: Tensor, opts: EighOptions = {}): Eigh {
  const [n, n2] = matrixShape(a, 'eigh');
  if (n !== n2) throw new Error(`eigh: A must be square, got ${a}`);
  const x = inDtype(a, workDtype(a, opts));
  const vectors = opts.vectors ?? true;
  const r = backend().syevd(x.data, n, vectors);
  return vectors ? { values: new Tensor(r.w, [n]), vectors: new Tensor(r.v!, [n, n]) } : { values: new Tensor(r.w, [n]) };
}
