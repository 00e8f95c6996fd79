/**
 * The two nearest neighbours of every row (excluding itself), by blocked GEMM distances
 * ‖x_i − x_j‖² = ‖x_i‖² + ‖x_j‖² − 2 x_iᵀx_j, then exact re-ranking: the few closest candidates of
 * each row by the GEMM formula are re-measured as ‖x_i − x_j‖ from the difference itself. The formula
 * alone loses precision for near-duplicates of large vectors (it cannot return an exact 0 for two
 * identical rows), and the intrinsic-dimension estimator treats r1 < 1e-8 specially.
 */
import { backend } from '../backend/index.ts';

export interface TwoNearest {
  /** Distance to the nearest other row. */
  r1: Float64Array;
  /** Distance to the second nearest other row. */
  r2: Float64Array;
}

export interface NeighbourOptions {
  /** Rows per GEMM block (default 256). */
  blockRows?: number;
  /** Candidates per row re-measured exactly (default 8). */
  candidates?: number;
}

/** Nearest and second-nearest distances for each of the n rows of the n × d float64 matrix `x`. */
export function twoNearestNeighbours(x: Float64Array, n: number, d: number, options: NeighbourOptions = {}): TwoNearest {
  if (n < 3) throw new Error(`twoNearestNeighbours: need at least 3 points, got ${n}`);
  const blockRows = options.blockRows ?? 256;
  const k = Math.min(options.candidates ?? 8, n - 1);
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j] * x[i * d + j];
    sq[i] = s;
  }
  const r1 = new Float64Array(n);
  const r2 = new Float64Array(n);
  const gram = new Float64Array(Math.min(blockRows, n) * n);
  const candDist = new Float64Array(k);
  const candIndex = new Int32Array(k);
  const exact = new Float64Array(k);
  for (let b0 = 0; b0 < n; b0 += blockRows) {
    const m = Math.min(blockRows, n - b0);
    backend().gemm({
      transA: false, transB: true, m, n, k: d, alpha: 1,
      a: x.subarray(b0 * d, (b0 + m) * d), lda: d, b: x, ldb: d, beta: 0, c: gram, ldc: n,
    });
    for (let r = 0; r < m; r++) {
      const i = b0 + r;
      // the k smallest GEMM estimates, kept sorted ascending
      let count = 0;
      const row = r * n;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const dist = sq[i] + sq[j] - 2 * gram[row + j];
        if (count === k && dist >= candDist[k - 1]) continue;
        let p = count < k ? count++ : k - 1;
        while (p > 0 && candDist[p - 1] > dist) {
          candDist[p] = candDist[p - 1];
          candIndex[p] = candIndex[p - 1];
          p--;
        }
        candDist[p] = dist;
        candIndex[p] = j;
      }
      for (let c = 0; c < k; c++) {
        const j = candIndex[c];
        let s = 0;
        for (let f = 0; f < d; f++) {
          const e = x[i * d + f] - x[j * d + f];
          s += e * e;
        }
        exact[c] = Math.sqrt(s);
      }
      let a = Infinity;
      let b = Infinity;
      for (let c = 0; c < k; c++) {
        const v = exact[c];
        if (v < a) {
          b = a;
          a = v;
        } else if (v < b) b = v;
      }
      r1[i] = a;
      r2[i] = b;
    }
  }
  return { r1, r2 };
}
