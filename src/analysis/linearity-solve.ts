/**
 * Solving the linearity least-squares problem from its normal equations (see
 * `linearity-statistics.ts` for the algebra). The reference is the authors' solve
 * (`procrustes_similarity`: least squares of Yn on Xn by torch.linalg.lstsq / pinv); every path here
 * gives its minimum-norm answer with the same eigenvalue cutoff. Three ways to factor X, one per case:
 *
 * - N > d and X well conditioned: certified Cholesky factors (`linearity-cholesky.ts`), BLAS-3 only;
 * - N ≤ d: the token side (`linearity-tokens.ts`, called by the layer-major pair, which still holds
 *   the rows): an N × N Gram and its eigendecomposition;
 * - otherwise (rank-deficient or ill-conditioned X, or `method: 'eigen'`): the path below, ONE float64
 *   eigendecomposition M_xx = XnᵀXn = V Λ Vᵀ (`syevd`) and ONE float64 GEMM B = Vᵀ C_xd per pair.
 *
 * The eigen path gives two solvers:
 *
 * - exact: the minimum-norm solution A = M_xx⁺ M_xt. Eigenvalues λ_i ≤ rcond · λ_max are treated as
 *   zero, LAPACK/NumPy style. Because λ = σ², the default rcond = max(N, d)·ε on eigenvalues is the
 *   float64 noise floor of a Gram matrix: directions of X with σ_i/σ_max above √rcond (≈ 1e-6) are
 *   kept, those that are zero in exact arithmetic (N ≤ d after centring, or rank-deficient X) are
 *   dropped. Then the result equals torch.linalg.pinv(Xn) @ Yn (the authors' SVD solve) to round-off
 *   whenever X has no singular values between ~1e-6·σ_max and its true zeros; the accuracy is that of
 *   the normal equations, ~ε·κ(X)² (the same for the Cholesky path). Score = Σ_kept ‖B_i‖² / λ_i (B = Vᵀ M_xt).
 * - robust: ridge regression A = (M_xx + λI)⁻¹ M_xt with λ = ridge · tr(M_xx)/d (tr M_xx = 1, so
 *   λ = ridge/d). Its score 1 − ‖Xn A − Tn‖² = 2 tr(AᵀM_xt) − tr(AᵀM_xx A) is, in the eigenbasis,
 *   Σ_i ‖B_i‖² (2/(λ_i + λ) − λ_i/(λ_i + λ)²) over all d directions. Slightly below the exact score
 *   by construction; insensitive to the near-null directions that make the exact score fragile.
 *
 * Both targets share the GEMM: with T = D the rows are B_i = v_iᵀ C_xd; with T = Y = X + D,
 * v_iᵀ C_xy = v_iᵀ C_xx + v_iᵀ C_xd = ‖Xc‖² λ_i v_iᵀ + v_iᵀ C_xd, so ‖v_iᵀ C_xy‖² follows from
 * ‖v_iᵀ C_xd‖², v_iᵀ C_xd v_i and ‖v_i‖² in O(d²). (`fitLinearMap` still forms the maps; its ridge
 * map is a Cholesky solve, `ridgeFit`.)
 */
import { backend } from '../backend/index.ts';
import { choleskyFactors, choleskyScores, type CholeskyFactors } from './linearity-cholesky.ts';
import type { CentredPairStatistics } from './linearity-statistics.ts';
import type { TokenSpectrum } from './linearity-tokens.ts';

export const FLOAT64_EPS = 2.220446049250313e-16;

/** Default relative ridge of the robust solver (λ = ridge × mean eigenvalue of M_xx). */
export const DEFAULT_RIDGE = 1e-8;

/** Default eigenvalue cutoff of the exact solver, relative to the largest eigenvalue. */
export function defaultRcond(tokens: number, dim: number): number {
  return Math.max(tokens, dim) * FLOAT64_EPS;
}

/** Eigendecomposition of the normal matrix M_xx = XcᵀXc / ‖Xc‖². */
export interface NormalEigen {
  dim: number;
  /** Eigenvalues, ascending (they sum to 1). */
  w: Float64Array;
  /** Eigenvectors as the columns of a d × d row-major matrix. */
  v: Float64Array;
}

export function normalMatrixEigen(cxx: Float64Array, xx: number, dim: number): NormalEigen {
  const m = new Float64Array(dim * dim);
  for (let i = 0; i < m.length; i++) m[i] = cxx[i] / xx;
  const { w, v } = backend().syevd(m, dim, true);
  return { dim, w, v: v! };
}

/** Index of the first eigenvalue above the cutoff (eigenvalues ascending). */
export function firstKept(w: Float64Array, rcond: number): number {
  const n = w.length;
  if (n === 0) return 0;
  const cut = rcond * w[n - 1];
  let first = 0;
  while (first < n && !(w[first] > cut)) first++;
  return first;
}

/** B_k = V_kᵀ · C for the kept eigenvector columns k ≥ first: (d − first) × d. */
function projectOnKept(eig: NormalEigen, first: number, c: Float64Array): Float64Array {
  const d = eig.dim;
  const rank = d - first;
  const b = new Float64Array(rank * d);
  if (rank === 0) return b;
  backend().gemm({
    transA: true, transB: false, m: rank, n: d, k: d, alpha: 1,
    a: eig.v.subarray(first), lda: d, b: c, ldb: d, beta: 0, c: b, ldc: d,
  });
  return b;
}

export interface ExactFit {
  score: number;
  /** Number of directions of X kept by the cutoff. */
  rank: number;
}

/** Exact (pseudo-inverse) score Σ_i ‖(VᵀM_xt)_i‖² / λ_i for a target with XcᵀTc = cxt, ‖Tc‖² = tt. */
export function exactScore(eig: NormalEigen, cxt: Float64Array, xx: number, tt: number, rcond: number): ExactFit {
  const d = eig.dim;
  const first = firstKept(eig.w, rcond);
  const b = projectOnKept(eig, first, cxt);
  let explained = 0;
  for (let k = 0; k < d - first; k++) {
    let row = 0;
    for (let j = 0; j < d; j++) row += b[k * d + j] * b[k * d + j];
    explained += row / eig.w[first + k];
  }
  return { score: explained / (xx * tt), rank: d - first };
}

/** The exact map A = M_xx⁺ M_xt in normalised coordinates (d × d). */
export function exactMap(eig: NormalEigen, cxt: Float64Array, xx: number, tt: number, rcond: number): Float64Array {
  const d = eig.dim;
  const first = firstKept(eig.w, rcond);
  const rank = d - first;
  const b = projectOnKept(eig, first, cxt);
  const scale = 1 / Math.sqrt(xx * tt);
  for (let k = 0; k < rank; k++) {
    const f = scale / eig.w[first + k];
    for (let j = 0; j < d; j++) b[k * d + j] *= f;
  }
  const a = new Float64Array(d * d);
  if (rank === 0) return a;
  backend().gemm({
    transA: false, transB: false, m: d, n: d, k: rank, alpha: 1,
    a: eig.v.subarray(first), lda: d, b, ldb: d, beta: 0, c: a, ldc: d,
  });
  return a;
}

export interface RidgeFit {
  score: number;
  /** A in normalised coordinates (d × d). */
  map: Float64Array;
  /** The absolute ridge λ added to M_xx. */
  lambda: number;
}

/** Ridge solution by Cholesky and its score from the explicit residual expansion. */
export function ridgeFit(cxx: Float64Array, cxt: Float64Array, xx: number, tt: number, dim: number, ridge: number): RidgeFit {
  return ridgeFits(cxx, [{ cxt, tt }], xx, dim, ridge)[0];
}

/** Ridge solutions for several targets of the same X with one Cholesky factorisation. */
export function ridgeFits(cxx: Float64Array, targets: readonly { cxt: Float64Array; tt: number }[], xx: number, dim: number, ridge: number): RidgeFit[] {
  const d = dim;
  const k = targets.length;
  const w = k * d;
  const mxx = new Float64Array(d * d);
  let trace = 0;
  for (let i = 0; i < mxx.length; i++) mxx[i] = cxx[i] / xx;
  for (let i = 0; i < d; i++) trace += mxx[i * d + i];
  const lambda = (ridge * trace) / d;
  const regularised = mxx.slice();
  for (let i = 0; i < d; i++) regularised[i * d + i] += lambda;
  // right-hand sides side by side: row i of M_xt for target t sits at columns t·d … t·d + d − 1
  const rhs = new Float64Array(d * w);
  targets.forEach(({ cxt, tt }, t) => {
    const scale = 1 / Math.sqrt(xx * tt);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) rhs[i * w + t * d + j] = cxt[i * d + j] * scale;
  });
  const solution = backend().posv(regularised, d, rhs, w);
  if (!solution) {
    throw new Error(`linearity: M_xx + λI is not positive definite (λ = ${lambda}); raise the ridge`);
  }
  const mxxA = new Float64Array(d * w);
  backend().gemm({
    transA: false, transB: false, m: d, n: w, k: d, alpha: 1,
    a: mxx, lda: d, b: solution, ldb: w, beta: 0, c: mxxA, ldc: w,
  });
  return targets.map((_, t) => {
    const map = new Float64Array(d * d);
    let cross = 0;
    let quad = 0;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        const at = i * w + t * d + j;
        const a = solution[at];
        map[i * d + j] = a;
        cross += a * rhs[at];
        quad += a * mxxA[at];
      }
    }
    return { score: 1 - (1 - 2 * cross + quad), map, lambda };
  });
}

export interface SolveOptions {
  /** Eigenvalue cutoff of the exact solver relative to λ_max (default max(N, d)·ε). */
  rcond?: number;
  /** Relative ridge of the robust solver (default 1e-8). */
  ridge?: number;
  /** Also compute the robust (ridge) score. Default true. */
  robust?: boolean;
  /**
   * 'auto' (default): certified Cholesky factors when N > d and X is well conditioned, else one
   * eigendecomposition; 'eigen': always the eigendecomposition (the reference path).
   */
  method?: 'auto' | 'eigen';
}

/** Scores of one variant (target Y or D = Y − X). */
export interface VariantScores {
  /** Pseudo-inverse (minimum-norm least squares) score: the paper's definition. */
  exact: number;
  /** Ridge score (undefined when not asked for). */
  robust?: number;
  /** Directions of X kept by the exact solver. */
  rank: number;
}

/** Linearity of one pair X → Y. */
export interface PairLinearity {
  tokens: number;
  dim: number;
  withResidual: VariantScores;
  withoutResidual: VariantScores;
}

const degenerate = (): VariantScores => ({ exact: Number.NaN, robust: Number.NaN, rank: 0 });

/**
 * Per eigen-direction energies of both targets: for each i, ‖v_iᵀ C_xd‖² and ‖v_iᵀ C_xy‖², from
 * one GEMM B = Vᵀ C_xd (d × d, float64).
 */
export function directionEnergies(eig: NormalEigen, cxd: Float64Array, xx: number): { delta: Float64Array; target: Float64Array } {
  const d = eig.dim;
  const v = eig.v;
  const b = new Float64Array(d * d);
  backend().gemm({ transA: true, transB: false, m: d, n: d, k: d, alpha: 1, a: v, lda: d, b: cxd, ldb: d, beta: 0, c: b, ldc: d });
  const delta = new Float64Array(d);
  const target = new Float64Array(d);
  const dot = new Float64Array(d);
  const norm = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let p = 0;
    const o = i * d;
    for (let j = 0; j < d; j++) p += b[o + j] * b[o + j];
    delta[i] = p;
  }
  // v_iᵀ C_xd v_i = Σ_j B[i, j] V[j, i] and ‖v_i‖², walking V by rows
  for (let j = 0; j < d; j++) {
    const o = j * d;
    for (let i = 0; i < d; i++) {
      const vji = v[o + i];
      dot[i] += b[i * d + j] * vji;
      norm[i] += vji * vji;
    }
  }
  for (let i = 0; i < d; i++) {
    const a = xx * eig.w[i];
    target[i] = a * a * norm[i] + 2 * a * dot[i] + delta[i];
  }
  return { delta, target };
}

/** Exact and ridge scores of one target from its per-direction energies e_i = ‖v_iᵀ C_xt‖² (eigenvalues w ascending). */
function scoresFromEnergies(w: Float64Array, energy: Float64Array, xx: number, tt: number, first: number, lambda: number | undefined): VariantScores {
  const n = w.length;
  const norm = 1 / (xx * tt);
  let exact = 0;
  for (let i = first; i < n; i++) exact += energy[i] / w[i];
  let robust: number | undefined;
  if (lambda !== undefined) {
    robust = 0;
    for (let i = 0; i < n; i++) {
      const s = w[i] + lambda;
      robust += energy[i] * (2 / s - w[i] / (s * s));
    }
    robust *= norm;
  }
  return { exact: exact * norm, robust, rank: n - first };
}

/** How X's normal matrix is factored: its eigendecomposition, or certified Cholesky factors. */
export type NormalFactor = NormalEigen | CholeskyFactors;

function isCholesky(f: NormalFactor): f is CholeskyFactors {
  return (f as CholeskyFactors).kind === 'cholesky';
}

/** The ridge λ (normalised) of a normal matrix with trace `trace` in d dimensions. */
function ridgeLambda(trace: number, dim: number, options: SolveOptions): number {
  return ((options.ridge ?? DEFAULT_RIDGE) * trace) / dim;
}

function traceOfNormal(s: CentredPairStatistics): number {
  let trace = 0;
  for (let i = 0; i < s.dim; i++) trace += s.cxx[i * s.dim + i] / s.xx;
  return trace;
}

/**
 * Factors X's normal matrix for `solvePairLinearity`: certified Cholesky factors when N > d and no
 * eigenvalue is near the exact solver's cutoff (`linearity-cholesky.ts`), else the eigendecomposition
 * (`method: 'eigen'` forces it). Undefined for a constant X.
 */
export function factorNormalMatrix(s: CentredPairStatistics, options: SolveOptions = {}): NormalFactor | undefined {
  if (!(s.xx > 0) || s.tokens < 2) return undefined;
  if ((options.method ?? 'auto') === 'auto') {
    const rcond = options.rcond ?? defaultRcond(s.tokens, s.dim);
    const lambda = options.robust ?? true ? ridgeLambda(traceOfNormal(s), s.dim, options) : undefined;
    const chol = choleskyFactors(s, rcond, lambda);
    if (chol) return chol;
  }
  return normalMatrixEigen(s.cxx, s.xx, s.dim);
}

/**
 * Both variants and both solvers for one pair. `factor` may be passed when X's normal matrix was
 * already factored (pairs that share X, e.g. a block and its attention part); else it is factored
 * here (`factorNormalMatrix`). `work`: a d × d scratch buffer for the Cholesky scores (optional).
 */
export function solvePairLinearity(s: CentredPairStatistics, options: SolveOptions = {}, factor?: NormalFactor, work?: Float64Array): PairLinearity {
  const rcond = options.rcond ?? defaultRcond(s.tokens, s.dim);
  const robust = options.robust ?? true;
  const result: PairLinearity = { tokens: s.tokens, dim: s.dim, withResidual: degenerate(), withoutResidual: degenerate() };
  if (!(s.xx > 0) || s.tokens < 2) return result;
  if (!(s.yy > 0) && !(s.dd > 0)) return result;
  const d = s.dim;
  const f = factor ?? factorNormalMatrix(s, options)!;
  if (isCholesky(f)) {
    const c = choleskyScores(f, s, work);
    const scores = (x: { exact: number; robust?: number }, tt: number): VariantScores => ({
      exact: x.exact / tt, robust: robust && x.robust !== undefined ? x.robust / tt : undefined, rank: d,
    });
    if (s.yy > 0) result.withResidual = scores(c.target, s.yy);
    if (s.dd > 0) result.withoutResidual = scores(c.delta, s.dd);
    return result;
  }
  let lambda: number | undefined;
  if (robust) {
    lambda = ridgeLambda(traceOfNormal(s), d, options);
    // M_xx + λI must be positive definite, as the Cholesky solve of the ridge map requires
    if (!(f.w[0] + lambda > 0)) throw notPositiveDefinite(lambda);
  }
  const first = firstKept(f.w, rcond);
  const energies = directionEnergies(f, s.cxd, s.xx);
  if (s.yy > 0) result.withResidual = scoresFromEnergies(f.w, energies.target, s.xx, s.yy, first, lambda);
  if (s.dd > 0) result.withoutResidual = scoresFromEnergies(f.w, energies.delta, s.xx, s.dd, first, lambda);
  return result;
}

const notPositiveDefinite = (lambda: number) => new Error(`linearity: M_xx + λI is not positive definite (λ = ${lambda}); raise the ridge`);

/**
 * Both variants and both solvers for one pair from its token-side spectrum (`linearity-tokens.ts`,
 * N ≤ d): the same sums as `solvePairLinearity` over the N eigen-directions of X's row space.
 */
export function solveFromTokenSpectrum(t: TokenSpectrum, tokens: number, dim: number, options: SolveOptions = {}): PairLinearity {
  const rcond = options.rcond ?? defaultRcond(tokens, dim);
  const robust = options.robust ?? true;
  const result: PairLinearity = { tokens, dim, withResidual: degenerate(), withoutResidual: degenerate() };
  if (!(t.xx > 0) || tokens < 2) return result;
  if (!(t.yy > 0) && !(t.dd > 0)) return result;
  let lambda: number | undefined;
  if (robust) {
    let trace = 0;
    for (let i = 0; i < t.w.length; i++) trace += t.w[i];
    lambda = ridgeLambda(trace, dim, options);
    // the d − N directions outside X's row space have eigenvalue 0
    const smallest = t.w.length < dim ? Math.min(t.w[0], 0) : t.w[0];
    if (!(smallest + lambda > 0)) throw notPositiveDefinite(lambda);
  }
  const first = firstKept(t.w, rcond);
  if (t.yy > 0) result.withResidual = scoresFromEnergies(t.w, t.target, t.xx, t.yy, first, lambda);
  if (t.dd > 0) result.withoutResidual = scoresFromEnergies(t.w, t.delta, t.xx, t.dd, first, lambda);
  return result;
}
