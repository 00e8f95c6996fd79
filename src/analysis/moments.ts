/**
 * Streaming first and second moments of token rows, in float64, fed chunk by chunk.
 *
 * Everything is accumulated about a per-stream shift s (the column means of the first chunk seen):
 * x̃ = x − s. Centred statistics are shift-invariant, e.g. XcᵀXc = Σ x̃x̃ᵀ − N·μ̃μ̃ᵀ with μ̃ = Σ x̃ / N,
 * but the subtraction loses digits in proportion to ‖μ‖² / variance. Hidden states of real models
 * have large common offsets (a few huge "massive activation" features), so accumulating about a
 * nearby point instead of the origin keeps the closed-form centring accurate to float64 round-off.
 *
 * `StreamMoments` holds one stream (a layer's hidden states): N, Σx̃, Σ‖x̃‖², optionally Σx̃x̃ᵀ (d × d)
 * and Σ x/‖x‖ (for the mean cosine similarity). `CrossMoments` holds what a pair X → Y = X + D needs
 * beyond X's own moments: Σx̃d̃ᵀ, Σd̃, Σ‖d̃‖², Σ‖x̃ + d̃‖². Memory is O(d²) whatever the token count;
 * the d × d sums go through the backend's float64 GEMM. The per-element loops run as C kernels when
 * they are built (src/tensor/native-statistics.ts), equal bit for bit to the TypeScript loops here;
 * long sums add in four partial sums (partial-sums.ts) in both.
 */
import { backend } from '../backend/index.ts';
import { kernelThreads } from '../tensor/native-kernels.ts';
import { nativeStatistics } from '../tensor/native-statistics.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { partialSums, total } from './partial-sums.ts';
import { checkRows, selectedCount, ShiftedReader, type RowSelection } from './rows.ts';

/** Default rows per chunk when a tensor is read in pieces (bounds the float64 scratch memory). */
export const DEFAULT_CHUNK_ROWS = 1024;

/** C ← C + AᵀB for row-major chunks A (rows × d) and B (rows × d); C is d × d. */
function accumulateCross(a: Float64Array, b: Float64Array, rows: number, dim: number, c: Float64Array): void {
  if (rows === 0) return;
  backend().gemm({
    transA: true, transB: false, m: dim, n: dim, k: rows, alpha: 1,
    a, lda: dim, b, ldb: dim, beta: 1, c, ldc: dim,
  });
}

/**
 * G ← G + AᵀA for a row-major chunk A (rows × d), upper triangle only (`dsyrk`: 8–10 % faster than
 * the block-upper-triangle panel GEMMs used before, bench/RESULTS-linearity.md). The strictly lower
 * part stays zero — read the matrix through `symmetrizeUpper`.
 */
function accumulateGram(a: Float64Array, rows: number, dim: number, gram: Float64Array): void {
  if (rows === 0) return;
  backend().syrkUpper(a, rows, dim, true, gram);
}

/** Column panel width of the block-upper-triangle GEMMs that `accumulateGram` used before `dsyrk` (benchmarks). */
export function gramPanelWidth(dim: number): number {
  return Math.max(128, Math.ceil(dim / 8));
}

/** Flops of `accumulateGram` over `rows` rows (the upper triangle with its diagonal). */
export function gramFlops(rows: number, dim: number): number {
  return rows * dim * (dim + 1);
}

/** Copies the upper triangle of a square row-major matrix onto its lower triangle, in place. */
export function symmetrizeUpper(m: Float64Array, dim: number): Float64Array {
  for (let i = 0; i < dim; i++) for (let j = i + 1; j < dim; j++) m[j * dim + i] = m[i * dim + j];
  return m;
}

export interface StreamMomentsOptions {
  /** Keep Σx̃x̃ᵀ (needed when the stream is the X of a linear fit, or for anisotropy). Default true. */
  gram?: boolean;
  /** Keep Σ x/‖x‖ for the mean cosine similarity. Default true. */
  unitSum?: boolean;
  /** A zeroed d × d buffer to hold Σx̃x̃ᵀ (reused from a finished stream); fresh when absent. */
  gramBuffer?: Float64Array;
}

/** Moments of one stream of d-dimensional rows. */
export class StreamMoments {
  readonly dim: number;
  count = 0;
  /** Reads rows about this stream's reference point s (fixed from the first chunk). */
  readonly reader: ShiftedReader;
  /** Σ (x − s). */
  readonly sum: Float64Array;
  /** Σ ‖x − s‖². */
  sumSquares = 0;
  /** Σ (x − s)(x − s)ᵀ, d × d row-major, when kept: upper triangle only (see `accumulateGram`). */
  readonly gram: Float64Array | null;
  /** Σ x/‖x‖ over rows with ‖x‖ > 0 (uncentred), when kept. */
  readonly unitSum: Float64Array | null;
  /** Rows with ‖x‖ > 0 (the ones in `unitSum`). */
  unitCount = 0;
  /** Scratch: the unit-sum weights of a chunk, and the native kernel's scalar results. */
  private weights = new Float64Array(0);
  private readonly scalars = new Float64Array(3);

  constructor(dim: number, options: StreamMomentsOptions = {}) {
    this.dim = dim;
    this.reader = new ShiftedReader(dim);
    this.sum = new Float64Array(dim);
    this.gram = options.gram === false ? null : options.gramBuffer ?? new Float64Array(dim * dim);
    this.unitSum = options.unitSum === false ? null : new Float64Array(dim);
  }

  /**
   * Reads rows [start, end) of the selection of `t` into `buffer` as x − s (float64), fixing s from
   * this chunk when it is the first one. Returns the filled part of `buffer`.
   */
  readChunk(t: Tensor, rows: RowSelection, start: number, end: number, buffer: Float64Array): Float64Array {
    return this.reader.read(t, rows, start, end, buffer);
  }

  /** The reference point s all sums are taken about (null before the first chunk). */
  get shift(): Float64Array | null {
    return this.reader.shift;
  }

  /** Adds a chunk of rows already shifted by `this.shift`. */
  addShifted(chunk: Float64Array, rows: number): void {
    const d = this.dim;
    const s = this.shift;
    if (!s) throw new Error('StreamMoments.addShifted: the shift is not set (read the first chunk with readChunk)');
    if (chunk.length < rows * d) throw new Error(`StreamMoments.addShifted: the chunk holds ${chunk.length} values, not ${rows} rows of ${d}`);
    const sum = this.sum;
    const unit = this.unitSum;
    if (unit && this.weights.length < rows) this.weights = new Float64Array(rows);
    const weights = unit ? this.weights.subarray(0, rows) : null;
    let squares = 0;
    let weightSum = 0;
    const k = nativeStatistics();
    if (k) {
      const out = this.scalars;
      k.streamAdd(chunk, rows, d, s, sum, weights, out);
      squares = out[0];
      weightSum = out[1];
      this.unitCount += out[2];
    } else {
      let ss = 0;
      for (let j = 0; j < d; j++) ss += s[j] * s[j];
      // per row, four partial sums each (partial-sums.ts), unrolled into locals
      const d4 = d - (d % 4);
      for (let r = 0; r < rows; r++) {
        const o = r * d;
        let sq0 = 0, sq1 = 0, sq2 = 0, sq3 = 0;
        let dot0 = 0, dot1 = 0, dot2 = 0, dot3 = 0;
        let j = 0;
        for (; j < d4; j += 4) {
          const v0 = chunk[o + j], v1 = chunk[o + j + 1], v2 = chunk[o + j + 2], v3 = chunk[o + j + 3];
          sum[j] += v0;
          sum[j + 1] += v1;
          sum[j + 2] += v2;
          sum[j + 3] += v3;
          sq0 += v0 * v0;
          sq1 += v1 * v1;
          sq2 += v2 * v2;
          sq3 += v3 * v3;
          dot0 += v0 * s[j];
          dot1 += v1 * s[j + 1];
          dot2 += v2 * s[j + 2];
          dot3 += v3 * s[j + 3];
        }
        for (; j < d; j++) {
          // the tail falls in partial sums 0, 1, 2
          const v = chunk[o + j];
          sum[j] += v;
          if ((j & 3) === 0) {
            sq0 += v * v;
            dot0 += v * s[j];
          } else if ((j & 3) === 1) {
            sq1 += v * v;
            dot1 += v * s[j];
          } else {
            sq2 += v * v;
            dot2 += v * s[j];
          }
        }
        const sq = sq0 + sq1 + (sq2 + sq3);
        const dot = dot0 + dot1 + (dot2 + dot3);
        squares += sq;
        if (weights) {
          // ‖x‖² = ‖x̃‖² + 2 x̃·s + ‖s‖²; rows of zero norm are left out of the unit sum
          const norm2 = sq + 2 * dot + ss;
          weights[r] = 0;
          if (norm2 > 0) {
            weights[r] = 1 / Math.sqrt(norm2);
            weightSum += weights[r];
            this.unitCount++;
          }
        }
      }
    }
    this.sumSquares += squares;
    if (unit && weights) {
      // Σ x/‖x‖ = X̃ᵀw + s·Σw
      backend().gemm({
        transA: true, transB: false, m: d, n: 1, k: rows, alpha: 1,
        a: chunk, lda: d, b: weights, ldb: 1, beta: 1, c: unit, ldc: 1,
      });
      for (let j = 0; j < d; j++) unit[j] += s[j] * weightSum;
    }
    if (this.gram) accumulateGram(chunk, rows, d, this.gram);
    this.count += rows;
  }

  /** Adds the rows of `t` ([N, d] or [B, T, d]; float32 or float64), optionally a selection of them. */
  add(t: Tensor, rows?: RowSelection, chunkRows = DEFAULT_CHUNK_ROWS): void {
    checkRows('StreamMoments.add', t, this.dim);
    const n = selectedCount(t, rows);
    const buffer = new Float64Array(Math.min(n, chunkRows) * this.dim);
    for (let start = 0; start < n; start += chunkRows) {
      const end = Math.min(n, start + chunkRows);
      this.addShifted(this.readChunk(t, rows, start, end, buffer), end - start);
    }
  }

  /** Column means μ of the rows seen (in the original coordinates). */
  mean(): Float64Array {
    const mu = new Float64Array(this.dim);
    if (this.count === 0 || !this.shift) return mu;
    for (let j = 0; j < this.dim; j++) mu[j] = this.shift[j] + this.sum[j] / this.count;
    return mu;
  }

  /** ‖Xc‖²_F = Σ‖x − μ‖² = Σ‖x̃‖² − N‖μ̃‖². */
  centredSumSquares(): number {
    if (this.count === 0) return 0;
    let m2 = 0;
    for (let j = 0; j < this.dim; j++) m2 += this.sum[j] * this.sum[j];
    return this.sumSquares - m2 / this.count;
  }

  /**
   * XcᵀXc = Σx̃x̃ᵀ − N·μ̃μ̃ᵀ (d × d), the centred Gram matrix (N − 1 times the covariance), into `out`
   * (any contents; fresh when absent).
   */
  centredGram(out?: Float64Array): Float64Array {
    if (!this.gram) throw new Error('StreamMoments: this stream does not keep its Gram matrix');
    const d = this.dim;
    const k = nativeStatistics();
    if (k && this.count > 0) {
      const result = out ?? new Float64Array(d * d);
      k.centredProduct(this.gram, 1, this.sum, this.sum, this.count, d, result, kernelThreads());
      return result;
    }
    const sym = out ?? this.gram.slice();
    if (out) out.set(this.gram);
    return centredProduct(symmetrizeUpper(sym, d), this.sum, this.sum, this.count, d, sym);
  }
}

/**
 * Σ ãb̃ᵀ − (Σã)(Σb̃)ᵀ / N: the centred cross product XcᵀYc from sums about any shifts, into `into`
 * (d × d, any contents, may be `raw` itself; fresh when absent).
 */
export function centredProduct(raw: Float64Array, sumA: Float64Array, sumB: Float64Array, n: number, dim: number, into?: Float64Array): Float64Array {
  const k = nativeStatistics();
  if (k && n !== 0 && raw.length === dim * dim && sumA.length >= dim && sumB.length >= dim && (!into || into.length === dim * dim)) {
    const out = into ?? new Float64Array(dim * dim);
    k.centredProduct(raw, 0, sumA, sumB, n, dim, out, kernelThreads());
    return out;
  }
  const out = into ?? raw.slice();
  if (into && into !== raw) into.set(raw);
  if (n === 0) return out;
  for (let i = 0; i < dim; i++) {
    const ai = sumA[i] / n;
    const o = i * dim;
    for (let j = 0; j < dim; j++) out[o + j] -= ai * sumB[j];
  }
  return out;
}

/** Cross moments of a pair X → Y = X + D, with D shifted by its own reference point. */
export class CrossMoments {
  readonly dim: number;
  count = 0;
  /** Reads explicit delta rows (e.g. an attention output) about D's reference point. */
  readonly deltaReader: ShiftedReader;
  /** Σ x̃ d̃ᵀ (d × d). */
  readonly cross: Float64Array;
  /** Σ d̃. */
  readonly sumDelta: Float64Array;
  /** Σ ‖d̃‖². */
  sumSquaresDelta = 0;
  /** Σ ‖x̃ + d̃‖² = Σ ‖ỹ‖² with ỹ = y − (s_x + s_d). */
  sumSquaresTarget = 0;
  /** Scratch for the native kernel's two sums. */
  private readonly scalars = new Float64Array(2);

  /** `crossBuffer`: a zeroed d × d buffer for Σx̃d̃ᵀ (reused from finished moments); fresh when absent. */
  constructor(dim: number, crossBuffer?: Float64Array) {
    this.dim = dim;
    this.deltaReader = new ShiftedReader(dim);
    this.cross = crossBuffer ?? new Float64Array(dim * dim);
    this.sumDelta = new Float64Array(dim);
  }

  /** Adds a chunk of shifted X rows and the matching shifted D rows. */
  addShifted(x: Float64Array, delta: Float64Array, rows: number): void {
    const d = this.dim;
    const sumDelta = this.sumDelta;
    const k = nativeStatistics();
    if (k && x.length >= rows * d && delta.length >= rows * d) {
      k.crossAdd(x, null, delta, 0, rows, d, sumDelta, this.scalars);
      this.sumSquaresDelta += this.scalars[0];
      this.sumSquaresTarget += this.scalars[1];
    } else {
      const dd = partialSums();
      const yy = partialSums();
      for (let r = 0; r < rows; r++) {
        const o = r * d;
        for (let j = 0; j < d; j++) {
          const v = delta[o + j];
          const y = x[o + j] + v;
          sumDelta[j] += v;
          dd[j & 3] += v * v;
          yy[j & 3] += y * y;
        }
      }
      this.sumSquaresDelta += total(dd);
      this.sumSquaresTarget += total(yy);
    }
    accumulateCross(x, delta, rows, d, this.cross);
    this.count += rows;
  }

  /**
   * Adds a chunk of shifted X rows and shifted Y rows (about s_x + s_d): forms d̃ = ỹ − x̃ in `out`
   * and accumulates it. Returns the filled part of `out`.
   */
  addDifference(x: Float64Array, y: Float64Array, rows: number, out: Float64Array): Float64Array {
    const d = this.dim;
    const sumDelta = this.sumDelta;
    const k = nativeStatistics();
    if (k && x.length >= rows * d && y.length >= rows * d && out.length >= rows * d) {
      k.crossAdd(x, y, out, 1, rows, d, sumDelta, this.scalars);
      this.sumSquaresDelta += this.scalars[0];
      this.sumSquaresTarget += this.scalars[1];
    } else {
      // four partial sums each (partial-sums.ts): lane q takes j = q, q + 4, … of every row in order
      const dd = partialSums();
      const yy = partialSums();
      for (let r = 0; r < rows; r++) {
        const o = r * d;
        for (let q = 0; q < 4; q++) {
          let ddq = dd[q];
          let yyq = yy[q];
          for (let j = q; j < d; j += 4) {
            const yv = y[o + j];
            const v = yv - x[o + j];
            out[o + j] = v;
            sumDelta[j] += v;
            ddq += v * v;
            yyq += yv * yv;
          }
          dd[q] = ddq;
          yy[q] = yyq;
        }
      }
      this.sumSquaresDelta += total(dd);
      this.sumSquaresTarget += total(yy);
    }
    const delta = out.subarray(0, rows * d);
    accumulateCross(x, delta, rows, d, this.cross);
    this.count += rows;
    return delta;
  }

  /** Reference point of D (s_y − s_x when D is formed from two shifted streams). */
  get deltaShift(): Float64Array | null {
    return this.deltaReader.shift;
  }
}
