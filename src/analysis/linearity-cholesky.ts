/**
 * The linearity scores of a pair from Cholesky factors of X's Gram matrix, for N > d where Xc has
 * full column rank: the same numbers as the eigendecomposition path (`linearity-solve.ts`), hence as
 * the authors' least-squares solve (`procrustes_similarity`: torch.linalg.lstsq / pinv of Xn), 2.2–2.5×
 * faster at d = 4096 (bench/RESULTS-linearity.md: every step is BLAS-3, while the symmetric
 * eigensolver's tridiagonal reduction is half BLAS-2). Unnormalised statistics, C = C_xx, Λ = λ·‖Xc‖²:
 *
 * - exact: C = L·Lᵀ, Z = L⁻¹C_xd, score_D = ‖Z‖² / ‖Dc‖²; with the residual, L⁻¹C_xy = Lᵀ + Z, so
 *   ‖L⁻¹C_xy‖² = ‖Xc‖² + 2 tr C_xd + ‖Z‖² (⟨Lᵀ, Z⟩ = tr(L·L⁻¹C_xd)).
 * - ridge: C + ΛI = R·Rᵀ, K = (C + ΛI)⁻¹ (`dpotri`), A = K·C_xd (the ridge map, one GEMM);
 *   score_D = (‖R⁻¹C_xd‖² + Λ‖A‖²) / ‖Dc‖² = (⟨C_xd, A⟩ + Λ‖A‖²) / ‖Dc‖² (= Σ_i e_i (λ_i + 2λ)/(λ_i + λ)²
 *   of the eigen path); with the residual, K·C_xy = I − ΛK + A, so no second GEMM.
 * Cost: 2 `dpotrf` (d³/6 each) + `dpotri` (d³/3) + `dtrsm` (d³/2) + 1 GEMM (d³) ≈ 2.2·d³ multiply-adds.
 *
 * The exact score equals the eigen path's only when that path keeps every direction, i.e. when no
 * eigenvalue of C is at or below rcond·λ_max. The rule used (a certificate, not an estimate):
 * λ_min(C) ≥ 1/‖K‖_F − Λ, because ‖K‖_F² = Σ 1/(λ_i + Λ)² ≥ 1/(λ_min + Λ)² (and, when that shows
 * too little — λ_min near Λ, or no ridge —, λ_min(C) ≥ 1/‖C⁻¹‖_F with C⁻¹ from L, one more `dpotri`);
 * and λ_max(C) ≤ min(‖C‖_F, tr C, max_i Σ_j |C_ij|). The Cholesky scores are used when
 *     that lower bound > CERTIFY_MARGIN · rcond · min(‖C‖_F, tr C, ‖C‖_∞),
 * else the caller falls back to the eigendecomposition. The margin (16) covers the backward errors of
 * both factorisations (≤ a small multiple of d·ε·‖C‖, and rcond ≥ d·ε): every
 * eigenvalue the eigen path computes is then far above its cutoff, so it keeps all d directions and
 * both paths solve the same full-rank problem; they differ by round-off only (measured ≤ 1e-12 in
 * test/analysis/linearity-solve-paths.test.ts and bench/solve-paths.ts; near the certificate both
 * are normal-equation solves, accurate to ~ε·κ(XᵀX): bench/solve/conditioning.ts).
 */
import { backend } from '../backend/index.ts';
import { nativeStatistics } from '../tensor/native-statistics.ts';
import { partialSums, sumSquares as sumSquaresTS, total } from './partial-sums.ts';
import type { CentredPairStatistics } from './linearity-statistics.ts';

export const CERTIFY_MARGIN = 16;

/** Cholesky factors of one X's Gram matrix, certified to keep every direction. */
export interface CholeskyFactors {
  kind: 'cholesky';
  dim: number;
  /** C_xx = L·Lᵀ (lower, row-major). */
  l: Float64Array;
  /** K = (C_xx + ΛI)⁻¹ and Λ (unnormalised), when the ridge scores are wanted. */
  ridge?: { k: Float64Array; lambda: number };
  /** The certified lower bound on λ_min(C_xx). */
  lowerBound: number;
}

function frobenius(a: Float64Array): number {
  return Math.sqrt(sumSquares(a));
}

function sumSquares(a: Float64Array): number {
  const k = nativeStatistics();
  if (k) return k.sumSquares(a, a.length);
  return sumSquaresTS(a);
}

function trace(a: Float64Array, d: number): number {
  let t = 0;
  for (let i = 0; i < d; i++) t += a[i * d + i];
  return t;
}

/** max_i Σ_j |a_ij|, an upper bound on λ_max of a symmetric matrix. */
function maxRowSum(a: Float64Array, d: number): number {
  const k = nativeStatistics();
  if (k && a.length >= d * d) return k.maxRowSum(a, d);
  let worst = 0;
  const s4 = partialSums();
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) s4[j & 3] += Math.abs(a[i * d + j]);
    worst = Math.max(worst, total(s4));
  }
  return worst;
}

/**
 * Factors C_xx (and C_xx + ΛI when `lambda` — the normalised ridge λ — is given) and certifies
 * that no eigenvalue of C_xx is near the cutoff `rcond`·λ_max; undefined when it cannot.
 */
export function choleskyFactors(s: CentredPairStatistics, rcond: number, lambda?: number): CholeskyFactors | undefined {
  const d = s.dim;
  if (s.tokens <= d) return undefined; // the centred Xc has rank ≤ N − 1 < d
  const be = backend();
  const l = be.potrf(s.cxx, d);
  if (!l) return undefined;
  let ridge: CholeskyFactors['ridge'];
  let lowerBound = Number.NEGATIVE_INFINITY;
  if (lambda !== undefined) {
    const shift = lambda * s.xx;
    // C + ΛI factored from C itself with its diagonal shifted for the call (potrf copies its input)
    // and put back exactly: no d × d copy
    const diagonal = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      diagonal[i] = s.cxx[i * d + i];
      s.cxx[i * d + i] += shift;
    }
    let r: Float64Array | null;
    try {
      r = be.potrf(s.cxx, d);
    } finally {
      for (let i = 0; i < d; i++) s.cxx[i * d + i] = diagonal[i];
    }
    if (!r) return undefined;
    const k = be.potri(r, d);
    lowerBound = 1 / frobenius(k) - shift;
    ridge = { k, lambda: shift };
  }
  const needed = CERTIFY_MARGIN * rcond * Math.min(frobenius(s.cxx), trace(s.cxx, d), maxRowSum(s.cxx, d));
  // the ridge factor cannot show λ_min below ≈ Λ; then (or without a ridge) C⁻¹ itself decides
  if (!(lowerBound > needed)) lowerBound = 1 / frobenius(be.potri(l, d));
  if (!(lowerBound > needed)) return undefined;
  return { kind: 'cholesky', dim: d, l, ridge, lowerBound };
}

/**
 * Exact and ridge scores of both targets (D = Y − X and Y) of one pair from its X's factors; `work`
 * is a d × d scratch buffer (any contents; fresh when absent).
 */
export function choleskyScores(f: CholeskyFactors, s: CentredPairStatistics, work?: Float64Array): { delta: { exact: number; robust?: number }; target: { exact: number; robust?: number } } {
  const d = f.dim;
  const be = backend();
  const traceCross = trace(s.cxd, d);
  const z = work && work.length === d * d ? work : new Float64Array(d * d);
  z.set(s.cxd);
  be.trsm(f.l, d, z, d, false);
  const zz = sumSquares(z);
  const delta: { exact: number; robust?: number } = { exact: zz };
  const target: { exact: number; robust?: number } = { exact: s.xx + 2 * traceCross + zz };
  if (f.ridge) {
    // A = K·C_xd (one GEMM with the explicit K); ‖W‖² = ‖R⁻¹C_xd‖² = ⟨C_xd, A⟩
    const { k, lambda: shift } = f.ridge;
    const a = z; // Z is summed up: its buffer takes A (beta = 0 overwrites it)
    be.gemm({ transA: false, transB: false, m: d, n: d, k: d, alpha: 1, a: k, lda: d, b: s.cxd, ldb: d, beta: 0, c: a, ldc: d });
    // with the residual: K·C_xy = I − ΛK + A, and ‖R⁻¹C_xy‖² = ⟨C_xy, K·C_xy⟩, entry by entry
    // sums = [⟨C_xd, A⟩, ‖A‖², ⟨C_xy, K·C_xy⟩, ‖K·C_xy‖²]
    const sums = new Float64Array(4);
    const native = nativeStatistics();
    if (native) {
      native.ridgeSums(s.cxd, a, k, s.cxx, d, shift, sums);
    } else {
      const wd = partialSums();
      const ad = partialSums();
      const wy = partialSums();
      const ay = partialSums();
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          const at = i * d + j;
          const cxd = s.cxd[at];
          const aij = a[at];
          const kcxy = (i === j ? 1 : 0) - shift * k[at] + aij;
          const q = j & 3;
          wd[q] += cxd * aij;
          ad[q] += aij * aij;
          wy[q] += (s.cxx[at] + cxd) * kcxy;
          ay[q] += kcxy * kcxy;
        }
      }
      sums.set([total(wd), total(ad), total(wy), total(ay)]);
    }
    delta.robust = sums[0] + shift * sums[1];
    target.robust = sums[2] + shift * sums[3];
  }
  return { delta, target };
}
