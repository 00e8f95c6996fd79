/**
 * Rank-r approximations W ≈ U_r·diag(S_r)·V_rᵀ (Eckart–Young: the best in Frobenius and spectral
 * norm), as one dense matrix or as two factors, from the exact or the randomized SVD.
 */
import { matmul } from '../tensor/matmul.ts';
import { Tensor } from '../tensor/tensor.ts';
import { checkRank, matrixShape, scaleColumns } from './matrix.ts';
import { randomizedSvd, type RandomizedSvdOptions } from './randomized-svd.ts';
import { svd, truncateSvd, type Svd } from './svd.ts';

export interface LowRankOptions extends RandomizedSvdOptions {
  /** 'exact' (full thin SVD, default) or 'randomized' (Halko et al.; oversample/powerIters/seed apply). */
  method?: 'exact' | 'randomized';
}

function truncated(w: Tensor, rank: number, opts: LowRankOptions): Svd {
  const [m, n] = matrixShape(w, 'lowRank');
  checkRank(rank, Math.min(m, n), 'lowRank');
  const method = opts.method ?? 'exact';
  if (method === 'randomized') return randomizedSvd(w, rank, opts);
  if (method !== 'exact') throw new Error(`lowRank: method must be 'exact' or 'randomized', got '${method}'`);
  return truncateSvd(svd(w, { float64: opts.float64 }), rank);
}

/** left = U_r·diag(S_r) [m, r] and right = V_rᵀ [r, n], so that left·right is the rank-r approximation. */
export function lowRankFactors(w: Tensor, rank: number, opts: LowRankOptions = {}): { left: Tensor; right: Tensor } {
  const f = truncated(w, rank, opts);
  return { left: scaleColumns(f.U, f.S.data), right: f.Vt };
}

/** U_r·diag(S_r)·V_rᵀ with the shape of W (dtype of W, or float64 with `{ float64: true }`). */
export function lowRankApprox(w: Tensor, rank: number, opts: LowRankOptions = {}): Tensor {
  const { left, right } = lowRankFactors(w, rank, opts);
  if (rank === 0) return Tensor.zeros(w.shape, left.dtype);
  return matmul(left, right);
}
