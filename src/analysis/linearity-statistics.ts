/**
 * The linearity score of "Your Transformer is Secretly Linear" (Razzhigaev et al., ACL 2024) in
 * closed form from streamed moments.
 *
 * Definition (the authors' `procrustes_similarity`, LLM-Microscope): for two N × d matrices of
 * token vectors X (layer i) and Y (layer i + 1),
 *
 *     Xc = X − 1μxᵀ,  Yc = Y − 1μyᵀ               (centre each column)
 *     Xn = Xc / ‖Xc‖_F,  Yn = Yc / ‖Yc‖_F          (unit Frobenius norm)
 *     A  = argmin_A ‖Xn A − Yn‖_F                  (least squares; minimum-norm: A = Xn⁺ Yn)
 *     score = 1 − ‖Xn A − Yn‖²_F.
 *
 * "Without residual" (`procrustes_similarity_centered`): the same with Y replaced by D = Y − X,
 * the difference taken on the raw states first, then centred and normalised on its own
 * (so Dn = (Yc − Xc) / ‖Yc − Xc‖_F, not Yn − Xn).
 *
 * Everything needed is a handful of moments. With μ the column means and T ∈ {Y, D} the target:
 *
 *     XcᵀXc = XᵀX − N μx μxᵀ                       (d × d, "C_xx")
 *     XcᵀDc = XᵀD − N μx μdᵀ
 *     XcᵀYc = XcᵀXc + XcᵀDc                        (Y = X + D, so no separate XᵀY is kept)
 *     ‖Xc‖² = tr XcᵀXc,  ‖Tc‖² = Σ‖t‖² − N‖μt‖²
 *
 * and in normalised coordinates M_xx = XnᵀXn = XcᵀXc / ‖Xc‖², M_xt = XnᵀTn = XcᵀTc / (‖Xc‖‖Tc‖),
 * ‖Tn‖² = 1. For any map A the residual expands to
 *
 *     ‖Xn A − Tn‖² = 1 − 2 tr(Aᵀ M_xt) + tr(Aᵀ M_xx A).
 *
 * The least-squares A solves the normal equations M_xx A = M_xt. The exact (minimum-norm) solution
 * is A = M_xx⁺ M_xt; with M_xx = V Λ Vᵀ and B = Vᵀ M_xt both traces equal Σ_i ‖B_i‖² / λ_i over the
 * kept eigenvalues, so score = Σ_i ‖B_i‖² / λ_i: the fraction of the target's centred energy that
 * lies in the column space of X (the multivariate R² of regressing T on X with an intercept).
 * All sums are taken about per-stream shifts (see `moments.ts`), which the centred forms ignore.
 */
import type { CrossMoments, StreamMoments } from './moments.ts';
import { centredProduct } from './moments.ts';

/** Which target a linear map is fitted to: Y itself, or the block's update D = Y − X. */
export type LinearityVariant = 'withResidual' | 'withoutResidual';

/** Centred second moments of a pair X → Y = X + D. */
export interface CentredPairStatistics {
  tokens: number;
  dim: number;
  /** XcᵀXc, d × d row-major. */
  cxx: Float64Array;
  /** XcᵀDc, d × d row-major. */
  cxd: Float64Array;
  /** ‖Xc‖²_F. */
  xx: number;
  /** ‖Dc‖²_F. */
  dd: number;
  /** ‖Yc‖²_F. */
  yy: number;
  meanX: Float64Array;
  meanDelta: Float64Array;
  meanY: Float64Array;
}

/**
 * Refuse a stream whose sum of squares is NaN or ±Infinity: some row held a NaN or an Inf (or
 * overflowed), and LAPACK would fail on it with a bare "illegal value". `what` names the stream.
 */
export function assertFiniteStream(sumSquares: number, what: string): void {
  if (!Number.isFinite(sumSquares)) {
    throw new Error(`linearity: ${what} holds NaN or Inf values (the forward pass overflowed or a weight is not finite; try --dtype float64)`);
  }
}

/**
 * The centred statistics of a pair from X's stream moments and the pair's cross moments; `into`
 * gives two d × d buffers for C_xx and C_xd (any contents; fresh when absent).
 */
export function centredPairStatistics(x: StreamMoments, pair: CrossMoments, into?: { cxx: Float64Array; cxd: Float64Array }): CentredPairStatistics {
  const n = x.count;
  const d = x.dim;
  if (pair.count !== n) throw new Error(`linearity: X has ${n} rows but the pair has ${pair.count}`);
  if (n === 0) throw new Error('linearity: no tokens were added');
  assertFiniteStream(x.sumSquares, 'the input states X');
  assertFiniteStream(pair.sumSquaresDelta + pair.sumSquaresTarget, 'the target states Y');
  const cxx = x.centredGram(into?.cxx);
  const cxd = centredProduct(pair.cross, x.sum, pair.sumDelta, n, d, into?.cxd);
  let xx = 0;
  for (let i = 0; i < d; i++) xx += cxx[i * d + i];
  let md2 = 0;
  let my2 = 0;
  for (let j = 0; j < d; j++) {
    const dj = pair.sumDelta[j];
    const yj = x.sum[j] + dj;
    md2 += dj * dj;
    my2 += yj * yj;
  }
  const dd = pair.sumSquaresDelta - md2 / n;
  const yy = pair.sumSquaresTarget - my2 / n;
  const meanX = x.mean();
  const meanDelta = new Float64Array(d);
  const meanY = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    meanDelta[j] = (pair.deltaShift ? pair.deltaShift[j] : 0) + pair.sumDelta[j] / n;
    meanY[j] = meanX[j] + meanDelta[j];
  }
  return { tokens: n, dim: d, cxx, cxd, xx, dd, yy, meanX, meanDelta, meanY };
}

/** XcᵀTc and ‖Tc‖² for the chosen target. */
export function targetStatistics(s: CentredPairStatistics, variant: LinearityVariant): { cxt: Float64Array; tt: number } {
  if (variant === 'withoutResidual') return { cxt: s.cxd, tt: s.dd };
  const cxt = s.cxx.slice();
  for (let i = 0; i < cxt.length; i++) cxt[i] += s.cxd[i];
  return { cxt, tt: s.yy };
}
