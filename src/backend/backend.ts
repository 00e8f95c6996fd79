/**
 * The numerical backend: the few dense kernels whose speed decides everything (GEMM) and the LAPACK
 * routines linscope needs. All matrices are row-major. A backend works in float32 or float64,
 * chosen by the typed arrays it is handed (all arrays of one call share a dtype).
 *
 * Two implementations: `openblas` (OpenBLAS + LAPACKE through koffi, the fast one) and `pure-ts`
 * (plain TypeScript, for tests and machines without the native library).
 */
import type { TypedArray } from '../tensor/tensor.ts';

export interface GemmArgs {
  transA: boolean;
  transB: boolean;
  /** Rows of op(A) and C. */
  m: number;
  /** Columns of op(B) and C. */
  n: number;
  /** Columns of op(A) = rows of op(B). */
  k: number;
  alpha: number;
  a: TypedArray;
  lda: number;
  b: TypedArray;
  ldb: number;
  beta: number;
  c: TypedArray;
  ldc: number;
}

export interface SvdResult<T extends TypedArray = TypedArray> {
  /** Singular values, descending, length min(m, n). */
  s: T;
  /** Left singular vectors, m × min(m, n) row-major (thin), when vectors were asked for. */
  u?: T;
  /** Right singular vectors transposed, min(m, n) × n row-major (thin), when vectors were asked for. */
  vt?: T;
}

export interface EighResult<T extends TypedArray = TypedArray> {
  /** Eigenvalues, ascending. */
  w: T;
  /** Eigenvectors as columns of an n × n row-major matrix, when asked for. */
  v?: T;
}

export interface Backend {
  readonly name: 'openblas' | 'pure-ts';
  /** C ← α·op(A)·op(B) + β·C. Offsets are expressed by passing subarrays. */
  gemm(args: GemmArgs): void;
  /** Thin SVD of the m × n row-major matrix `a` (divide and conquer). `a` is not modified. */
  gesdd<T extends TypedArray>(a: T, m: number, n: number, vectors: boolean): SvdResult<T>;
  /**
   * SVD of the square float64 n × n row-major matrix `a` with only the singular vectors of components
   * first … first+count−1: s (all n, descending), u (n × count), vt (count × n). Computed as gesdd
   * does for a square matrix (bidiagonalisation, divide and conquer, back-transformation), the
   * back-transformation applied to the kept vectors only. `a` is not modified.
   */
  gesddPart(a: Float64Array, n: number, first: number, count: number): { s: Float64Array; u: Float64Array; vt: Float64Array };
  /** Symmetric eigendecomposition of the n × n matrix `a` (upper triangle read). `a` is not modified. */
  syevd<T extends TypedArray>(a: T, n: number, vectors: boolean): EighResult<T>;
  /**
   * Least squares: X minimising ‖A·X − B‖_F for A m × n (m ≥ n, full rank) and B m × nrhs, by QR.
   * Returns X as n × nrhs. Inputs are not modified.
   */
  gels<T extends TypedArray>(a: T, m: number, n: number, b: T, nrhs: number): T;
  /**
   * Solve A·X = B for symmetric positive definite A (n × n) by Cholesky; B is n × nrhs.
   * Returns X, or null when A is not positive definite. Inputs are not modified.
   */
  posv<T extends TypedArray>(a: T, n: number, b: T, nrhs: number): T | null;
  /**
   * Lower Cholesky factor L (A = L·Lᵀ, float64 n × n, upper part zero) of the symmetric matrix `a`,
   * or null when `a` is not positive definite. `a` is not modified.
   */
  potrf(a: Float64Array, n: number): Float64Array | null;
  /** Solves L·X = B (or Lᵀ·X = B when `transpose`) in place for lower triangular L; B is n × nrhs. */
  trsm(l: Float64Array, n: number, b: Float64Array, nrhs: number, transpose: boolean): void;
  /** A⁻¹ (full symmetric n × n) from A's lower Cholesky factor L. */
  potri(l: Float64Array, n: number): Float64Array;
  /**
   * Upper triangle of C += A·Aᵀ (C rows × rows) or, with `transpose`, C += AᵀA (C cols × cols), for
   * the row-major rows × cols matrix `a`; the strictly lower part of C is left as it was.
   */
  syrkUpper(a: Float64Array, rows: number, cols: number, transpose: boolean, c: Float64Array): void;
  /**
   * Householder LQ A = L·Q of the float64 m × n row-major matrix `a` (m ≤ n), packed like LAPACK's
   * ?gelqf read row-major (it is the QR of Aᵀ): L in the lower triangle of `lq` (m × n), the tail of
   * reflector i right of the diagonal in row i, Q = H_{m−1}·…·H₀ with H_i = I − τ_i·v_i·v_iᵀ
   * (v_i starting with 1 at column i). `a` is not modified.
   */
  gelqf(a: Float64Array, m: number, n: number): { lq: Float64Array; tau: Float64Array };
  /** C ← C·Q in place for Q (n × n) from `gelqf` of an m × n matrix and C rows × n (row-major). */
  ormlq(lq: Float64Array, tau: Float64Array, m: number, n: number, c: Float64Array, rows: number): void;
  /** Orthonormal basis Q (m × n, m ≥ n) of the columns of the m × n matrix `a` (Householder QR). */
  orthonormalize<T extends TypedArray>(a: T, m: number, n: number): T;
  /** Threads used by the BLAS (1 for pure-ts). */
  threads(): number;
  setThreads(n: number): void;
}

/** The one error for a component range outside an n × n matrix (gesddPart on every backend). */
export function checkComponentRange(first: number, count: number, n: number): void {
  if (!(Number.isInteger(first) && Number.isInteger(count) && first >= 0 && count >= 1 && first + count <= n)) {
    throw new Error(`gesddPart: components ${first}…${first + count - 1} outside 0…${n - 1}`);
  }
}
