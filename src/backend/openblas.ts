/** The fast backend: OpenBLAS GEMM and LAPACKE, called through koffi on the caller's typed arrays (no copies). */
import type { TypedArray } from '../tensor/tensor.ts';
import { checkComponentRange, type Backend, type EighResult, type GemmArgs, type SvdResult } from './backend.ts';
import type { NativeFunctions } from './native-library.ts';

const ROW_MAJOR = 101;
const COL_MAJOR = 102;
const NO_TRANS = 111;
const TRANS = 112;
const UPPER = 121;
const LOWER = 122;
const NON_UNIT = 131;
const LEFT = 141;
const ch = (c: string) => c.charCodeAt(0);
/** dgeqrt's block size (measured best of 32–256 at 3072 × 768 and 6144 × 2048). */
const GEQRT_BLOCK = 128;

/** Copies the lower triangle of a row-major n × n matrix onto its upper triangle. */
function symmetrizeFromLower(a: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j];
}

function like<T extends TypedArray>(x: T, n: number): T {
  return (x instanceof Float64Array ? new Float64Array(n) : new Float32Array(n)) as T;
}

function check(info: number, routine: string): void {
  if (info < 0) throw new Error(`${routine}: argument ${-info} had an illegal value`);
  if (info > 0) throw new Error(`${routine}: did not converge (info = ${info})`);
}

/** op(B) elements (2 MiB of float32, more than a core's L2) from which a one-row product runs as gemv. */
export const GEMV_MIN_ELEMENTS = 1 << 19;

/** OpenBLAS core types whose builds have the small-matrix sgemm kernel (src/tensor/few-row-gemm.ts). */
const SMALL_KERNEL_CORES = /^(skylakex|cooperlake|sapphirerapids)$/i;
/** m·n·k of a product kept within that kernel's range (it measured slower from ~10⁶ on). */
export const SMALL_KERNEL_MNK = 1 << 19;
/** Products cut into slabs narrower than this (k ≳ 8000 at 32 rows) lose to one call. */
export const SMALL_KERNEL_MIN_COLUMNS = 2;

export class OpenBlasBackend implements Backend {
  readonly name = 'openblas' as const;
  /** The kernel set OpenBLAS chose for this CPU (e.g. Cooperlake on Zen 4). */
  readonly core: string;
  /** Whether OpenBLAS runs thin sgemm products with its small-matrix kernel, reading B in place. */
  readonly smallMatrixKernel: boolean;
  /** How the library is threaded: Debian's default pthread build or its OpenMP one (native-library.ts). */
  readonly threading: 'sequential' | 'pthread' | 'openmp';
  constructor(private readonly fn: NativeFunctions) {
    this.core = fn.corename().trim();
    this.threading = (['sequential', 'pthread', 'openmp'] as const)[fn.parallel()] ?? 'pthread';
    this.smallMatrixKernel = SMALL_KERNEL_CORES.test(this.core);
  }

  gemm(g: GemmArgs): void {
    if (g.m === 0 || g.n === 0) return;
    if (g.m === 1 && g.n * g.k >= GEMV_MIN_ELEMENTS) {
      // one row times a matrix larger than L2 (a weight, in a generation step): gemv streams op(B)
      // once, where OpenBLAS's gemm would first copy it into packed panels (GPT-2's 50257 × 768
      // head: 32 ms per token as gemm, 10 as gemv). Smaller products (attention tiles) stay gemm.
      const v = g.c instanceof Float64Array ? this.fn.cblas_dgemv : this.fn.cblas_sgemv;
      // c[n] = α·op(B)ᵀ·a + β·c: B stored [n, k] (transB) is gemv's NoTrans, [k, n] its Trans. With
      // β = 0, c may hold anything (allocateUninitialized): cleared here, since some OpenBLAS
      // versions scale y by β (0·NaN = NaN) where gemm's β = 0 clears C
      if (g.beta === 0) g.c.fill(0, 0, g.n);
      v(ROW_MAJOR, g.transB ? NO_TRANS : TRANS, g.transB ? g.n : g.k, g.transB ? g.k : g.n, g.alpha, g.b, g.ldb, g.a, g.transA ? g.lda : 1, g.beta, g.c, 1);
      return;
    }
    const f = g.c instanceof Float64Array ? this.fn.cblas_dgemm : this.fn.cblas_sgemm;
    f(ROW_MAJOR, g.transA ? TRANS : NO_TRANS, g.transB ? TRANS : NO_TRANS, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, g.c, g.ldc);
  }

  gesdd<T extends TypedArray>(a: T, m: number, n: number, vectors: boolean): SvdResult<T> {
    const k = Math.min(m, n);
    const work = a.slice(0, m * n) as T;
    const s = like(a, k);
    const u = vectors ? like(a, m * k) : like(a, 1);
    const vt = vectors ? like(a, k * n) : like(a, 1);
    const f = a instanceof Float64Array ? this.fn.dgesdd : this.fn.sgesdd;
    // The row-major m × n array is the column-major n × m matrix Aᵀ = V·S·Uᵀ. Decomposing that
    // directly skips LAPACKE's row-major transposes of A, U and Vᵀ (~20% of a 768 × 3072 SVD):
    // Aᵀ's left vectors (n × k column-major) are Vᵀ row-major, its Vᵀ (k × m column-major) is U row-major.
    const info = f(COL_MAJOR, ch(vectors ? 'S' : 'N'), n, m, work, n, s, vt, vectors ? n : 1, u, vectors ? k : 1);
    check(info, 'LAPACKE_?gesdd');
    return vectors ? { s, u, vt } : { s };
  }

  // gesdd's own square route (dgebrd, dbdsdc, dormbr), with dormbr applied to the kept vectors only.
  // Column-major, `a` is B = Aᵀ = (U·S·Vᵀ)ᵀ: B's left vectors are A's rows of Vᵀ, its right vectors A's U.
  gesddPart(a: Float64Array, n: number, first: number, count: number): { s: Float64Array; u: Float64Array; vt: Float64Array } {
    checkComponentRange(first, count, n);
    const w = a.slice(0, n * n);
    const s = new Float64Array(n);
    const e = new Float64Array(n);
    const tauq = new Float64Array(n);
    const taup = new Float64Array(n);
    check(this.fn.dgebrd(COL_MAJOR, n, n, w, n, s, e, tauq, taup), 'LAPACKE_dgebrd');
    const ub = new Float64Array(n * n);
    const vtb = new Float64Array(n * n);
    check(this.fn.dbdsdc(COL_MAJOR, ch('U'), ch('I'), n, s, e, ub, n, vtb, n, new Float64Array(1), new Int32Array(1)), 'LAPACKE_dbdsdc');
    // B's left vectors first…: contiguous columns of ub, which read row-major are the rows of A's Vᵀ
    const vt = ub.subarray(first * n, (first + count) * n);
    check(this.fn.dormbr(COL_MAJOR, ch('Q'), ch('L'), ch('N'), n, count, n, w, n, tauq, vt, n), 'LAPACKE_dormbr');
    // B's right vectors first…: rows first… of vtb (stride n), A's columns of U
    check(this.fn.dormbr(COL_MAJOR, ch('P'), ch('R'), ch('T'), count, n, n, w, n, taup, vtb.subarray(first), n), 'LAPACKE_dormbr');
    const u = new Float64Array(n * count);
    for (let i = 0; i < n; i++) for (let j = 0; j < count; j++) u[i * count + j] = vtb[first + j + i * n];
    return { s, u, vt: vt.slice() };
  }

  syevd<T extends TypedArray>(a: T, n: number, vectors: boolean): EighResult<T> {
    const work = a.slice() as T;
    const w = like(a, n);
    const f = a instanceof Float64Array ? this.fn.dsyevd : this.fn.ssyevd;
    check(f(ROW_MAJOR, ch(vectors ? 'V' : 'N'), ch('U'), n, work, n, w), 'LAPACKE_?syevd');
    return vectors ? { w, v: work } : { w };
  }

  gels<T extends TypedArray>(a: T, m: number, n: number, b: T, nrhs: number): T {
    if (m < n) throw new Error(`gels: needs at least as many rows as columns (got ${m} × ${n})`);
    const aw = a.slice() as T;
    const bw = b.slice() as T;
    const f = a instanceof Float64Array ? this.fn.dgels : this.fn.sgels;
    const info = f(ROW_MAJOR, ch('N'), m, n, nrhs, aw, n, bw, nrhs);
    if (info > 0) throw new Error(`gels: the matrix is rank deficient (diagonal element ${info} of R is zero)`);
    check(info, 'LAPACKE_?gels');
    return bw.slice(0, n * nrhs) as T;
  }

  posv<T extends TypedArray>(a: T, n: number, b: T, nrhs: number): T | null {
    const aw = a.slice() as T;
    const bw = b.slice() as T;
    const f = a instanceof Float64Array ? this.fn.dposv : this.fn.sposv;
    const info = f(ROW_MAJOR, ch('U'), n, nrhs, aw, n, bw, nrhs);
    if (info > 0) return null;
    check(info, 'LAPACKE_?posv');
    return bw;
  }

  // A symmetric row-major matrix is its own column-major transpose, so LAPACK is called column-major
  // on the upper triangle: the column-major upper factor U (A = UᵀU) is, read row-major, the lower
  // factor L = Uᵀ. This skips LAPACKE's row-major copies (d² doubles each way).
  potrf(a: Float64Array, n: number): Float64Array | null {
    const l = a.slice(0, n * n);
    const info = this.fn.dpotrf(COL_MAJOR, ch('U'), n, l, n);
    if (info > 0) return null;
    check(info, 'LAPACKE_dpotrf');
    for (let i = 0; i < n; i++) l.fill(0, i * n + i + 1, i * n + n);
    return l;
  }

  trsm(l: Float64Array, n: number, b: Float64Array, nrhs: number, transpose: boolean): void {
    if (n === 0 || nrhs === 0) return;
    this.fn.cblas_dtrsm(ROW_MAJOR, LEFT, LOWER, transpose ? TRANS : NO_TRANS, NON_UNIT, n, nrhs, 1, l, n, b, nrhs);
  }

  potri(l: Float64Array, n: number): Float64Array {
    const inv = l.slice(0, n * n);
    check(this.fn.dpotri(COL_MAJOR, ch('U'), n, inv, n), 'LAPACKE_dpotri');
    symmetrizeFromLower(inv, n);
    return inv;
  }

  syrkUpper(a: Float64Array, rows: number, cols: number, transpose: boolean, c: Float64Array): void {
    const n = transpose ? cols : rows;
    const k = transpose ? rows : cols;
    if (n === 0 || k === 0) return;
    this.fn.cblas_dsyrk(ROW_MAJOR, UPPER, transpose ? TRANS : NO_TRANS, n, k, 1, a, cols, 1, c, n);
  }

  // The row-major m × n array is the column-major n × m matrix Aᵀ, whose QR is A's LQ: the QR of that
  // view gives exactly ?gelqf's row-major packed layout with no LAPACKE transposes. The row-wise
  // dgelqf itself measured 2× slower than dgeqrf (265 vs 130 ms at 3072 × 768, 1 thread), and
  // dgeqrt (recursive panels, block 128) faster again: 96–111 vs 126–138 ms, 1274 vs 1560 ms at
  // 6144 × 2048. Its T factors' diagonals are the τ's of the same reflectors (H = I − V·T·Vᵀ).
  gelqf(a: Float64Array, m: number, n: number): { lq: Float64Array; tau: Float64Array } {
    if (m > n) throw new Error(`gelqf: needs at most as many rows as columns (got ${m} × ${n})`);
    const lq = a.slice(0, m * n);
    const tau = new Float64Array(m);
    if (m === 0) return { lq, tau };
    const nb = Math.min(GEQRT_BLOCK, m);
    const t = new Float64Array(nb * m);
    check(this.fn.dgeqrt(COL_MAJOR, n, m, nb, lq, Math.max(1, n), t, nb), 'LAPACKE_dgeqrt');
    for (let j = 0; j < m; j++) tau[j] = t[(j % nb) + j * nb];
    return { lq, tau };
  }

  // C·Q with C rows × n row-major is, column-major, Q_QR·Cᵀ, Q_QR = Qᵀ being the QR factor of the view Aᵀ.
  ormlq(lq: Float64Array, tau: Float64Array, m: number, n: number, c: Float64Array, rows: number): void {
    if (n === 0 || rows === 0) return;
    check(this.fn.dormqr(COL_MAJOR, ch('L'), ch('N'), n, rows, m, lq, Math.max(1, n), tau, c, Math.max(1, n)), 'LAPACKE_dormqr');
  }

  orthonormalize<T extends TypedArray>(a: T, m: number, n: number): T {
    const q = a.slice() as T;
    const tau = like(a, Math.min(m, n));
    const f64 = a instanceof Float64Array;
    check((f64 ? this.fn.dgeqrf : this.fn.sgeqrf)(ROW_MAJOR, m, n, q, n, tau), 'LAPACKE_?geqrf');
    check((f64 ? this.fn.dorgqr : this.fn.sorgqr)(ROW_MAJOR, m, n, Math.min(m, n), q, n, tau), 'LAPACKE_?orgqr');
    return q;
  }

  threads(): number {
    return this.fn.getThreads();
  }

  setThreads(n: number): void {
    this.fn.setThreads(Math.max(1, Math.floor(n)));
  }
}
