/**
 * The reference linearity computation on stored rows, exactly as the paper's code does it: centre,
 * normalise, solve the least-squares problem on Xn itself (not its normal equations) and take the
 * explicit residual. For tests, and for small N where keeping all rows is cheap.
 *
 * Solvers: 'svd' — A = Xn⁺ Tn through the thin SVD (`gesdd`), singular values ≤ rcond·σ_max dropped
 * with torch.linalg.pinv's default rcond = max(N, d)·ε (the authors' `get_est_svd` inverts every
 * singular value; the cutoff only changes directions that are zero up to round-off). 'qr' — LAPACK
 * `gels` (Householder QR); needs N > d so that the centred Xn has full column rank.
 */
import { backend } from '../backend/index.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { FLOAT64_EPS } from './linearity-solve.ts';
import type { LinearityVariant } from './linearity-statistics.ts';
import { checkRows, columnMeans, featureDim, gatherRows64, rowCount, type RowSelection } from './rows.ts';

export interface DirectOptions {
  variant?: LinearityVariant;
  solver?: 'svd' | 'qr';
  /** Singular-value cutoff relative to σ_max for 'svd' (default max(N, d)·ε). */
  rcond?: number;
  rows?: RowSelection;
}

export interface DirectResult {
  /** 1 − ‖Xn A − Tn‖²_F. */
  score: number;
  /** Singular values kept ('svd') or d ('qr'). */
  rank: number;
  /** A, d × d row-major, in normalised coordinates. */
  map: Float64Array;
}

/** Centres the columns of an N × d matrix in place and divides it by its Frobenius norm; returns that norm. */
function centreAndNormalise(a: Float64Array, n: number, d: number): number {
  const mean = columnMeans(a, n, d);
  let norm2 = 0;
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) {
      const v = a[r * d + j] - mean[j];
      a[r * d + j] = v;
      norm2 += v * v;
    }
  }
  const norm = Math.sqrt(norm2);
  if (norm > 0) for (let i = 0; i < a.length; i++) a[i] /= norm;
  return norm;
}

/** Minimum-norm least squares A = Xn⁺ T through the thin SVD, with a relative singular-value cutoff. */
function pinvSolve(xn: Float64Array, n: number, d: number, t: Float64Array, rcond: number): { map: Float64Array; rank: number } {
  const be = backend();
  const k = Math.min(n, d);
  const { s, u, vt } = be.gesdd(xn, n, d, true);
  const utT = new Float64Array(k * d);
  be.gemm({ transA: true, transB: false, m: k, n: d, k: n, alpha: 1, a: u!, lda: k, b: t, ldb: d, beta: 0, c: utT, ldc: d });
  const cut = rcond * (k > 0 ? s[0] : 0);
  let rank = 0;
  for (let i = 0; i < k; i++) {
    const keep = s[i] > cut;
    if (keep) rank++;
    const f = keep ? 1 / s[i] : 0;
    for (let j = 0; j < d; j++) utT[i * d + j] *= f;
  }
  const map = new Float64Array(d * d);
  be.gemm({ transA: true, transB: false, m: d, n: d, k, alpha: 1, a: vt!, lda: d, b: utT, ldb: d, beta: 0, c: map, ldc: d });
  return { map, rank };
}

/** ‖X A − T‖²_F computed explicitly. */
function residualSquares(x: Float64Array, n: number, d: number, map: Float64Array, t: Float64Array): number {
  const pred = new Float64Array(n * d);
  backend().gemm({ transA: false, transB: false, m: n, n: d, k: d, alpha: 1, a: x, lda: d, b: map, ldb: d, beta: 0, c: pred, ldc: d });
  let sum = 0;
  for (let i = 0; i < pred.length; i++) {
    const e = pred[i] - t[i];
    sum += e * e;
  }
  return sum;
}

/** The paper's linearity score of X → Y from the stored rows. */
export function linearityDirect(x: Tensor, y: Tensor, options: DirectOptions = {}): DirectResult {
  const d = featureDim(x);
  checkRows('linearityDirect (y)', y, d, rowCount(x));
  const xs = gatherRows64(x, options.rows);
  const t = gatherRows64(y, options.rows);
  const n = xs.length / d;
  if (options.variant === 'withoutResidual') for (let i = 0; i < t.length; i++) t[i] -= xs[i];
  const nx = centreAndNormalise(xs, n, d);
  const nt = centreAndNormalise(t, n, d);
  if (!(nx > 0) || !(nt > 0)) return { score: Number.NaN, rank: 0, map: new Float64Array(d * d) };
  let map: Float64Array;
  let rank: number;
  if (options.solver === 'qr') {
    if (n <= d) throw new Error(`linearityDirect: the QR solver needs more tokens than features after centring (N = ${n}, d = ${d}); use 'svd'`);
    map = backend().gels(xs, n, d, t, d);
    rank = d;
  } else {
    ({ map, rank } = pinvSolve(xs, n, d, t, options.rcond ?? Math.max(n, d) * FLOAT64_EPS));
  }
  return { score: 1 - residualSquares(xs, n, d, map, t), rank, map };
}
