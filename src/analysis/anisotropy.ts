/**
 * Anisotropy of a layer's token vectors.
 *
 * `anisotropy` is the authors' definition (LLM-Microscope `calculate_anisotropy_torch`, used for the
 * paper's figures): centre the token vectors, take the covariance eigenvalues λ_i (σ_i²/(N − 1) from
 * the SVD of the centred matrix) and report λ_max / Σλ_i — the share of variance along the first
 * principal direction; 1/d for isotropic data, 1 when everything lies on one line. It is computed
 * here from streamed moments (the centred Gram XcᵀXc = (N − 1)·Cov, whose eigenvalues the
 * (N − 1) factor cancels from), so it costs nothing extra in a linearity pass.
 *
 * `meanCosineSimilarity` is the other common notion (Ethayarajh 2019): the average cosine between
 * two distinct token vectors, uncentred, = (‖Σ_t x_t/‖x_t‖‖² − N)/(N(N − 1)) — exact and streamable
 * through the sum of unit vectors. Rows of zero norm are left out.
 */
import { backend } from '../backend/index.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { StreamMoments } from './moments.ts';
import { featureDim, type RowSelection } from './rows.ts';

/** λ_max / Σλ of a symmetric PSD d × d matrix (the share of its largest eigenvalue). */
function topEigenvalueShare(sym: Float64Array, dim: number): number {
  return largestShare(backend().syevd(sym, dim, false).w);
}

/** λ_max / Σλ for eigenvalues in ascending order. */
export function largestShare(w: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < w.length; i++) total += w[i];
  return total > 0 ? w[w.length - 1] / total : Number.NaN;
}

/** The authors' anisotropy from a stream's moments (needs its Gram matrix). */
export function anisotropyFromMoments(m: StreamMoments): number {
  if (m.count < 2) return Number.NaN;
  return topEigenvalueShare(m.centredGram(), m.dim);
}

/** Mean pairwise cosine similarity of distinct rows, from a stream's sum of unit vectors. */
export function meanCosineFromMoments(m: StreamMoments): number {
  if (!m.unitSum) throw new Error('meanCosineFromMoments: this stream does not keep its sum of unit vectors');
  const n = m.unitCount;
  if (n < 2) return Number.NaN;
  let s2 = 0;
  for (const v of m.unitSum) s2 += v * v;
  return (s2 - n) / (n * (n - 1));
}

/** The authors' anisotropy of the rows of `t` ([N, d] or [B, T, d]). */
export function anisotropy(t: Tensor, rows?: RowSelection): number {
  const m = new StreamMoments(featureDim(t), { unitSum: false });
  m.add(t, rows);
  return anisotropyFromMoments(m);
}

/** Mean cosine similarity between distinct rows of `t`. */
export function meanCosineSimilarity(t: Tensor, rows?: RowSelection): number {
  const m = new StreamMoments(featureDim(t), { gram: false });
  m.add(t, rows);
  return meanCosineFromMoments(m);
}
