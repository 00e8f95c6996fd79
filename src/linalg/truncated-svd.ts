/**
 * The truncated SVD of linscope (LASER's rank reduction, its higher-order study, benchmarks), in
 * float64: the exact one and a seeded randomized one (Halko, Martinsson & Tropp 2011, Algorithm 4.4: Gaussian sketch, power
 * iterations with re-orthonormalisation, then an exact SVD of the small projected matrix).
 *
 * The authors' code uses `torch.svd_lowrank(W, q=r, niter=2)`: randomized, no oversampling, two
 * power iterations. `{ method: 'randomized', oversample: 0, powerIterations: 2 }` is that recipe;
 * our randomized default oversamples by 10, which is markedly more accurate at the same r.
 *
 * The exact SVD keeps r components of the full thin SVD. For a matrix with max(m, n) ≥ 1.5·min(m, n)
 * it first reduces the long side by Householder QR (LQ of the wide orientation), takes the SVD of the
 * small triangle the way gesdd does, and back-transforms only the r kept vectors (QR before
 * bidiagonalisation: Chan, ACM TOMS 8(1), 1982; what gesdd itself does inside, minus forming every
 * vector and the whole Q): the same components to round-off, faster at LASER's shapes
 * (bench/RESULTS-laser.md). A square matrix takes its SVD with only the kept vectors
 * back-transformed; aspect ratios between 1 and 1.5 take one full gesdd.
 *
 * Which components are kept: 'top' (LASER: the r largest singular values) or 'bottom' (the r
 * smallest, for the higher-order component study). Randomized SVD only finds top components.
 *
 * Other decompositions (eigh, least squares, SPD solves) are called on the backend directly
 * (src/backend: syevd, gels, posv), where they are tested on both backends and both dtypes.
 */
import { backend } from '../backend/index.ts';
import { transpose2d } from '../tensor/elementwise.ts';
import { Rng } from '../tensor/random.ts';
import { Tensor } from '../tensor/tensor.ts';

export type SvdMethod = 'exact' | 'randomized';

export interface TruncatedSvdOptions {
  /** 'exact' (default) or 'randomized'. */
  method?: SvdMethod;
  /** Which components: the r largest ('top', default) or the r smallest ('bottom'; exact only). */
  keep?: 'top' | 'bottom';
  /** Randomized: extra sketch columns beyond r (default 10). */
  oversample?: number;
  /** Randomized: power iterations (default 2). */
  powerIterations?: number;
  /** Randomized: seed of the Gaussian sketch (default 0). */
  seed?: number;
  /** Exact: the route (default `exactRoute(m, n)`); every route gives the same numbers to round-off. */
  exactVia?: ExactRoute;
}

/**
 * How the exact SVD is computed: 'lq' (the LQ of the wide orientation, i.e. the QR of the long side,
 * then the kept vectors of the small triangle's SVD), 'gesdd-part' (square only: the kept vectors of
 * its SVD), 'gesdd' (every vector of the whole matrix's SVD, then keep r).
 */
export type ExactRoute = 'lq' | 'gesdd-part' | 'gesdd';

/** A rank-r factorisation A ≈ U·diag(s)·Vᵀ; all row-major float64. */
export interface TruncatedSvd {
  m: number;
  n: number;
  r: number;
  /** m × r */
  u: Float64Array;
  /** r singular values (descending for 'top', still descending within the kept block for 'bottom'). */
  s: Float64Array;
  /** r × n */
  vt: Float64Array;
}

/** Rank-r truncated SVD of the m × n row-major float64 matrix `a` (not modified). */
export function truncatedSvd(a: Float64Array, m: number, n: number, r: number, opts: TruncatedSvdOptions = {}): TruncatedSvd {
  const full = Math.min(m, n);
  if (!(Number.isInteger(r) && r >= 1 && r <= full)) throw new Error(`truncatedSvd: rank ${r} outside 1…${full} for ${m}×${n}`);
  if (a.length !== m * n) throw new Error(`truncatedSvd: ${a.length} values for ${m}×${n}`);
  const method = opts.method ?? 'exact';
  const keep = opts.keep ?? 'top';
  if (method === 'randomized') {
    if (keep !== 'top') throw new Error("truncatedSvd: the randomized method only finds the top components; use method 'exact' for keep 'bottom'");
    return randomizedSvd(a, m, n, r, opts);
  }
  const first = keep === 'top' ? 0 : full - r;
  const via = opts.exactVia ?? exactRoute(m, n);
  if (via === 'lq') return exactViaLq(a, m, n, first, r);
  if (via === 'gesdd-part') {
    if (m !== n) throw new Error(`truncatedSvd: route 'gesdd-part' needs a square matrix (got ${m}×${n})`);
    const { s, u, vt } = backend().gesddPart(a, n, first, r);
    return { m, n, r, u, s: s.slice(first, first + r), vt };
  }
  const { s, u, vt } = backend().gesdd(a, m, n, true);
  return pickComponents(u!, s, vt!, m, n, full, first, r);
}

/** Aspect ratio max(m, n) / min(m, n) from which the LQ-first route is taken (see RESULTS-laser.md). */
export const LQ_FIRST_ASPECT = 1.5;

/** The fastest exact route measured for an m × n matrix: 'lq' from aspect 1.5, 'gesdd-part' when square. */
export function exactRoute(m: number, n: number): ExactRoute {
  if (Math.max(m, n) >= LQ_FIRST_ASPECT * Math.min(m, n)) return 'lq';
  return m === n ? 'gesdd-part' : 'gesdd';
}

/**
 * The exact SVD through the LQ of the wide orientation. Wide A (m ≤ n): A = L·Q with L m × m lower
 * triangular; L = U·S·V_Lᵀ, so A = U·S·(V_Lᵀ·Q): U and S are L's, and the r kept rows of Vᵀ are
 * [V_Lᵀ(kept, :) 0]·Q — the reflectors applied to r rows only (no n × n Q, and no V = Aᵀ·U/σ, which
 * loses accuracy where σ is small). L's SVD computes only the kept vectors (backend gesddPart).
 * Tall A works on Aᵀ with the roles of U and V swapped.
 *
 * Only LAPACK's column QR runs underneath (the OpenBLAS backend's gelqf is dgeqrt (blocked QR) of the
 * column-major view): the row-wise dgelqf measured 2× slower, and transposing a tall A here (14 ms
 * at 3072 × 768) is cheaper than LAPACKE's row-major dgeqrf/dormqr transposes (see RESULTS-laser.md).
 */
function exactViaLq(a: Float64Array, m: number, n: number, first: number, r: number): TruncatedSvd {
  if (m > n) {
    const t = exactViaLq(transposed(a, m, n), n, m, first, r);
    return { m, n, r, u: transposed(t.vt, r, m), s: t.s, vt: transposed(t.u, n, r) };
  }
  const be = backend();
  const { lq, tau } = be.gelqf(a, m, n);
  const l = new Float64Array(m * m);
  for (let i = 0; i < m; i++) l.set(lq.subarray(i * n, i * n + i + 1), i * m);
  const { s, u, vt } = be.gesddPart(l, m, first, r);
  const vtOut = new Float64Array(r * n);
  for (let i = 0; i < r; i++) vtOut.set(vt.subarray(i * m, (i + 1) * m), i * n);
  be.ormlq(lq, tau, m, n, vtOut, r);
  return { m, n, r, u, s: s.slice(first, first + r), vt: vtOut };
}

/** Transpose of the rows × cols row-major matrix `x`. */
function transposed(x: Float64Array, rows: number, cols: number): Float64Array {
  return transpose2d(new Tensor(x, [rows, cols])).data as Float64Array;
}

/** Components first … first+r−1 of a thin SVD (U m×k, s k, Vᵀ k×n). */
function pickComponents(u: Float64Array, s: Float64Array, vt: Float64Array, m: number, n: number, k: number, first: number, r: number): TruncatedSvd {
  const uOut = new Float64Array(m * r);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < r; j++) uOut[i * r + j] = u[i * k + first + j];
  }
  return {
    m, n, r,
    u: uOut,
    s: s.slice(first, first + r),
    vt: vt.slice(first * n, (first + r) * n),
  };
}

function randomizedSvd(a: Float64Array, m: number, n: number, r: number, opts: TruncatedSvdOptions): TruncatedSvd {
  const be = backend();
  const full = Math.min(m, n);
  const l = Math.min(full, r + (opts.oversample ?? 10));
  const iterations = opts.powerIterations ?? 2;
  const rng = new Rng(opts.seed ?? 0);
  const omega = new Float64Array(n * l);
  for (let i = 0; i < omega.length; i++) omega[i] = rng.normal();
  // Y = A·Ω (m × l), Q = orth(Y)
  let q = be.orthonormalize(product(a, omega, m, n, l, false, false), m, l);
  for (let it = 0; it < iterations; it++) {
    const z = be.orthonormalize(product(a, q, n, m, l, true, false), n, l); // Aᵀ·Q, n × l
    q = be.orthonormalize(product(a, z, m, n, l, false, false), m, l); // A·Z, m × l
  }
  // B = Qᵀ·A (l × n); B = Ũ·Σ·Vᵀ; U = Q·Ũ
  const b = product(q, a, l, m, n, true, false);
  const svdB = be.gesdd(b, l, n, true);
  const uSmall = svdB.u!; // l × l
  const uFull = product(q, uSmall, m, l, l, false, false); // m × l
  return pickComponents(uFull, svdB.s, svdB.vt!, m, n, l, 0, r);
}

/** op(A)·op(B) with op(A) rows × inner and op(B) inner × cols. */
function product(a: Float64Array, b: Float64Array, rows: number, inner: number, cols: number, transA: boolean, transB: boolean): Float64Array {
  const c = new Float64Array(rows * cols);
  backend().gemm({
    transA, transB, m: rows, n: cols, k: inner, alpha: 1,
    a, lda: transA ? rows : inner,
    b, ldb: transB ? inner : cols,
    beta: 0, c, ldc: cols,
  });
  return c;
}

/** U·diag(s)·Vᵀ as an m × n row-major float64 matrix. */
export function reconstruct(f: TruncatedSvd): Float64Array {
  const us = scaledLeft(f);
  return product(us, f.vt, f.m, f.r, f.n, false, false);
}

/** U·diag(s) (m × r): the left factor of the factored form. */
export function scaledLeft(f: TruncatedSvd): Float64Array {
  const us = new Float64Array(f.m * f.r);
  for (let i = 0; i < f.m; i++) {
    for (let j = 0; j < f.r; j++) us[i * f.r + j] = f.u[i * f.r + j] * f.s[j];
  }
  return us;
}
