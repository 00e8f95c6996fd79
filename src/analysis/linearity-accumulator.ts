/**
 * Streaming linearity of one pair of layers X → Y: feed batches of matching rows, then read the
 * scores (both variants, both solvers) or fit the map for per-token residuals. Keeps only
 * N, ΣX, ΣD, XᵀX, XᵀD and the sums of squares (D = Y − X), float64, about per-stream shifts:
 * O(d²) memory for any number of tokens. See `linearity-statistics.ts` for the algebra.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { fitLinearMap, type FitOptions, type LinearFit } from './linear-fit.ts';
import { solvePairLinearity, type PairLinearity, type SolveOptions } from './linearity-solve.ts';
import { centredPairStatistics, type CentredPairStatistics } from './linearity-statistics.ts';
import { CrossMoments, DEFAULT_CHUNK_ROWS, StreamMoments } from './moments.ts';
import { checkRows, rowCount, selectedCount, ShiftedReader, type RowSelection } from './rows.ts';

export class LinearityAccumulator {
  readonly dim: number;
  readonly x: StreamMoments;
  readonly pair: CrossMoments;
  private readonly yReader: ShiftedReader;

  constructor(dim: number, readonly chunkRows = DEFAULT_CHUNK_ROWS) {
    this.dim = dim;
    this.x = new StreamMoments(dim, { unitSum: false });
    this.pair = new CrossMoments(dim);
    this.yReader = new ShiftedReader(dim);
  }

  get tokens(): number {
    return this.x.count;
  }

  /** Adds matching rows of X ([N, d] or [B, T, d]) and Y (same shape), optionally a selection. */
  add(x: Tensor, y: Tensor, rows?: RowSelection): void {
    const d = this.dim;
    checkRows('LinearityAccumulator.add (x)', x, d);
    checkRows('LinearityAccumulator.add (y)', y, d, rowCount(x));
    const n = selectedCount(x, rows);
    const size = Math.min(n, this.chunkRows) * d;
    const xb = new Float64Array(size);
    const yb = new Float64Array(size);
    const db = new Float64Array(size);
    for (let start = 0; start < n; start += this.chunkRows) {
      const end = Math.min(n, start + this.chunkRows);
      const m = end - start;
      const xs = this.x.readChunk(x, rows, start, end, xb);
      this.alignTargetShift();
      const ys = this.yReader.read(y, rows, start, end, yb);
      if (!this.pair.deltaShift) {
        const sx = this.x.shift!;
        this.pair.deltaReader.shift = this.yReader.shift!.map((v, j) => v - sx[j]);
      }
      this.x.addShifted(xs, m);
      this.pair.addDifference(xs, ys, m, db);
    }
  }

  /** Adds rows of X and of the update D with Y = X + D (e.g. a block part's output). */
  addDelta(x: Tensor, delta: Tensor, rows?: RowSelection): void {
    const d = this.dim;
    checkRows('LinearityAccumulator.addDelta (x)', x, d);
    checkRows('LinearityAccumulator.addDelta (delta)', delta, d, rowCount(x));
    const n = selectedCount(x, rows);
    const size = Math.min(n, this.chunkRows) * d;
    const xb = new Float64Array(size);
    const db = new Float64Array(size);
    for (let start = 0; start < n; start += this.chunkRows) {
      const end = Math.min(n, start + this.chunkRows);
      const xs = this.x.readChunk(x, rows, start, end, xb);
      const ds = this.pair.deltaReader.read(delta, rows, start, end, db);
      this.x.addShifted(xs, end - start);
      this.pair.addShifted(xs, ds, end - start);
    }
  }

  /** Once both X's and D's shifts are known, Y's reference point must be their sum. */
  private alignTargetShift(): void {
    if (this.yReader.shift || !this.pair.deltaShift || !this.x.shift) return;
    const sx = this.x.shift;
    this.yReader.shift = this.pair.deltaShift.map((v, j) => v + sx[j]);
  }

  /** Centred, closed-form statistics of everything added so far. */
  statistics(): CentredPairStatistics {
    return centredPairStatistics(this.x, this.pair);
  }

  /** Linearity scores, with and without the residual, exact and robust. */
  result(options: SolveOptions = {}): PairLinearity {
    return solvePairLinearity(this.statistics(), options);
  }

  /** The fitted map of one variant, for per-token residuals in a second pass. */
  fit(options: FitOptions = {}): LinearFit {
    return fitLinearMap(this.statistics(), options);
  }
}
