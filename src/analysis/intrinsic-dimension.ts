/**
 * Intrinsic dimension by TwoNN (Facco, d'Errico, Rodriguez & Laio, Sci. Rep. 2017), in the variant
 * the linearity paper's authors use (LLM-Microscope `intrinsic_dimension`, applied to the first
 * 4096 token vectors of each layer):
 *
 * 1. float64; centre the vectors and divide them by their mean length (the estimate is scale-free,
 *    this only fixes the scale of the ε below);
 * 2. for every point, r1 and r2 = distances to its nearest and second-nearest other point;
 *    μ = r2 / r1; points with r1 < ε (ε = 1e-8: duplicates) get μ = −1;
 * 3. sort μ; discard the u values μ ≤ 1 + ε (duplicates and exact ties); with N points and the
 *    n = N − u kept ones, F_emp(μ_(j)) = (u + j) / N;
 * 4. under the TwoNN model −log(1 − F(μ)) = d·log μ; fit that line through the origin by least
 *    squares on the smallest ⌊n / 5⌋ ratios only (reduction factor 5 — the heavy upper tail, where
 *    1 − F → 0, is dropped): d = Σ log μ_j · (−log(1 − F_j)) / Σ (log μ_j)².
 *
 * Facco et al.'s own recipe fits the same line on the lowest 90 % of points; `reductionFactor: 10/9`
 * gives that (⌊n·0.9⌋ points). The maximum-likelihood estimate d = n / Σ log μ over the kept
 * ratios is also returned, for comparison.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { twoNearestNeighbours, type NeighbourOptions } from './nearest-neighbours.ts';
import { columnMeans, featureDim, gatherRows64, type RowSelection } from './rows.ts';

export interface TwoNNOptions extends NeighbourOptions {
  /** Fit the first ⌊n / reductionFactor⌋ sorted ratios (authors: 5). */
  reductionFactor?: number;
  /** Duplicate / tie threshold (authors: 1e-8). */
  eps?: number;
  /** Use only the first this-many rows (the authors use 4096). Default: all. */
  maxPoints?: number;
  rows?: RowSelection;
}

export interface TwoNNResult {
  /** The authors' estimate (line fit through the origin on the lower part of the ratios). */
  dimension: number;
  /** Maximum-likelihood TwoNN estimate n / Σ log μ over the kept ratios. */
  maximumLikelihood: number;
  /** Points used. */
  points: number;
  /** Ratios discarded as duplicates or ties (μ ≤ 1 + ε). */
  discarded: number;
  /** Ratios in the line fit. */
  fitted: number;
  /** All ratios μ, ascending (−1 marks duplicates). */
  mu: Float64Array;
}

/** Centres rows and divides them by the mean row length, in place (the authors' preprocessing). */
function centreToUnitMeanLength(x: Float64Array, n: number, d: number): void {
  const mean = columnMeans(x, n, d);
  let avgLen = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = x[i * d + j] - mean[j];
      x[i * d + j] = v;
      s += v * v;
    }
    avgLen += Math.sqrt(s) / n;
  }
  if (avgLen > 0) for (let i = 0; i < x.length; i++) x[i] /= avgLen;
}

/** The TwoNN estimate from nearest-neighbour distances (steps 2–4 above). */
function twoNNFromDistances(r1: Float64Array, r2: Float64Array, options: { reductionFactor?: number; eps?: number } = {}): Omit<TwoNNResult, 'points'> {
  const eps = options.eps ?? 1e-8;
  const factor = options.reductionFactor ?? 5;
  const total = r1.length;
  const mu = new Float64Array(total);
  for (let i = 0; i < total; i++) mu[i] = r1[i] < eps ? -1 : r2[i] / r1[i];
  mu.sort();
  let discarded = 0;
  while (discarded < total && mu[discarded] <= 1 + eps) discarded++;
  const n = total - discarded;
  const fitted = Math.max(0, Math.min(Math.floor(n / factor), n - 1));
  let sxy = 0;
  let sxx = 0;
  for (let j = 0; j < fitted; j++) {
    const lx = Math.log(mu[discarded + j]);
    const ly = -Math.log(1 - (discarded + j + 1) / total);
    sxy += lx * ly;
    sxx += lx * lx;
  }
  let sumLog = 0;
  for (let j = discarded; j < total; j++) sumLog += Math.log(mu[j]);
  return {
    dimension: fitted > 0 && sxx > 0 ? sxy / sxx : Number.NaN,
    maximumLikelihood: n > 0 && sumLog > 0 ? n / sumLog : Number.NaN,
    discarded,
    fitted,
    mu,
  };
}

/** TwoNN intrinsic dimension of the rows of `t` ([N, d] or [B, T, d]). */
export function intrinsicDimension(t: Tensor, options: TwoNNOptions = {}): TwoNNResult {
  const d = featureDim(t);
  let x = gatherRows64(t, options.rows);
  let n = x.length / d;
  if (options.maxPoints !== undefined && n > options.maxPoints) {
    n = options.maxPoints;
    x = x.subarray(0, n * d);
  }
  centreToUnitMeanLength(x, n, d);
  const { r1, r2 } = twoNearestNeighbours(x, n, d, options);
  return { points: n, ...twoNNFromDistances(r1, r2, options) };
}
