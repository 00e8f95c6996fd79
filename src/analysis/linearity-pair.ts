/**
 * The statistics of ONE block's pair states[i] → states[i + 1] (and optionally its attention and MLP
 * parts), for layer-major execution: the caller pushes every batch of the block through, reads the
 * scores, and drops the object, so only O(d²) float64 lives at a time however deep the model is.
 *
 * The algebra and the order of every addition are those of `LinearityProfileAccumulator`
 * (linearity-profile.ts): the same shifted readers, the same chunks, the same moments. A state's
 * moments are accumulated once, when the state first appears (as Y of the pair before, or as X of
 * pair 0), and handed on as X of the next pair (`next()`), so the numbers are identical to the
 * profile's whole-model pass.
 */
import { Tensor } from '../tensor/tensor.ts';
import { anisotropyFromMoments, largestShare } from './anisotropy.ts';
import { addBlockParts, partBuffers } from './block-part-moments.ts';
import { fitLinearMap, type FitOptions, type LinearFit, type TokenResiduals } from './linear-fit.ts';
import { factorNormalMatrix, solveFromTokenSpectrum, solvePairLinearity, type SolveOptions } from './linearity-solve.ts';
import { centredRows, TOKEN_SIDE_MAX, tokenSpectrum, type PairRows } from './linearity-tokens.ts';
import { assertFiniteStream, centredPairStatistics, type CentredPairStatistics } from './linearity-statistics.ts';
import { CrossMoments, DEFAULT_CHUNK_ROWS, StreamMoments } from './moments.ts';
import { checkRows, rowCount, selectedCount, type RowSelection } from './rows.ts';
import type { BlockPart, BlockLinearity } from './linearity-profile.ts';

/** One batch of a block: its input x, its output y and (with parts) what each sublayer added. */
export interface PairBatch {
  x: Tensor;
  y: Tensor;
  attnOut?: Tensor;
  mlpOut?: Tensor;
  rows?: RowSelection;
}

export interface LinearityPairOptions {
  dim: number;
  block: number;
  parts?: boolean;
  mlpInput?: 'afterAttention' | 'blockInput';
  /** Keep Y's Gram matrix (it is X of the next pair, or anisotropy of the last state is wanted). */
  yGram?: boolean;
  chunkRows?: number;
  /** X's moments handed on from the pair before (`next()`); fresh for pair 0. */
  x?: StreamMoments;
  /**
   * Buffers handed on from the pair before (its `scratch`), so a run allocates them once: the chunk
   * buffers, and the d × d matrices of finished statistics (the pair before's X Gram and cross
   * products go back to the scratch when it is released).
   */
  scratch?: PairScratch;
  /** Keep Σ x/‖x‖ of X (when fresh) and Y for the mean cosine similarity. Default true. */
  unitSum?: boolean;
}

/** d × d accumulators a scratch keeps for reuse at most (a pair's, with parts). */
const POOLED_MATRICES = 5;

/**
 * The float64 buffers of a pair, handed from pair to pair so a run allocates them once instead of
 * per batch and per pair (each ~2 ms to allocate and fault in afresh at d = 768): the chunk buffers
 * `add` reads rows into (6 MB each at d = 768, 1024-row chunks), which also hold the solve's d × d
 * matrices when they are large enough, and the d × d accumulators of released pairs.
 */
export class PairScratch {
  private readonly buffers: Float64Array[] = [];
  private readonly matrices: Float64Array[] = [];

  /** Chunk buffer `i` with room for at least `size` values (grown when needed; contents stale). */
  get(i: number, size: number): Float64Array {
    let b = this.buffers[i];
    if (!b || b.length < size) this.buffers[i] = b = new Float64Array(size);
    return b;
  }

  /**
   * `size` values of chunk buffer `i` (contents stale) for work between batches (the solve), or a
   * fresh array when that buffer is missing or too small.
   */
  spare(i: number, size: number): Float64Array {
    const b = this.buffers[i];
    return b && b.length >= size ? b.subarray(0, size) : new Float64Array(size);
  }

  /** A zeroed buffer of `size` values (from the pool when one fits). */
  zeroMatrix(size: number): Float64Array {
    const i = this.matrices.findIndex((m) => m.length === size);
    return i >= 0 ? this.matrices.splice(i, 1)[0].fill(0) : new Float64Array(size);
  }

  /** Hands buffers no one reads any more back to the pool. */
  give(...matrices: Array<Float64Array | null | undefined>): void {
    for (const m of matrices) {
      if (m && this.matrices.length < POOLED_MATRICES && !this.matrices.includes(m)) this.matrices.push(m);
    }
  }
}

/** Bytes of float64 statistics one pair holds (X's and Y's Grams, the cross products, parts). */
export function pairStatisticsBytes(dim: number, parts: boolean, mlpInput: 'afterAttention' | 'blockInput' = 'afterAttention'): number {
  const matrices = 3 + (parts ? 2 + (mlpInput === 'afterAttention' ? 1 : 0) : 0);
  return matrices * dim * dim * 8;
}

/** Live pair statistics (for tests of their lifetime): bytes now and the peak since `reset`. */
export const livePairStatistics = {
  bytes: 0,
  peak: 0,
  reset(): void {
    this.peak = this.bytes;
  },
};

export class LinearityPairAccumulator {
  readonly dim: number;
  readonly block: number;
  readonly parts: boolean;
  readonly mlpInput: 'afterAttention' | 'blockInput';
  readonly chunkRows: number;
  /** Moments of X (this pair's input state). */
  readonly x: StreamMoments;
  /** Moments of Y (accumulated here; X of the next pair). */
  readonly y: StreamMoments;
  private readonly xAdded: boolean;
  private readonly layer: CrossMoments;
  private readonly attention?: CrossMoments;
  private readonly mid?: StreamMoments;
  private readonly mlp?: CrossMoments;
  private readonly bytes: number;
  private released = false;
  /** The pair's buffers (hand them to the next pair's `scratch`). */
  readonly scratch: PairScratch;

  constructor(options: LinearityPairOptions) {
    const d = options.dim;
    this.dim = d;
    this.block = options.block;
    this.parts = options.parts ?? false;
    this.mlpInput = options.mlpInput ?? 'afterAttention';
    this.chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
    const scratch = (this.scratch = options.scratch ?? new PairScratch());
    const zeroed = () => scratch.zeroMatrix(d * d);
    this.xAdded = options.x !== undefined;
    this.x = options.x ?? new StreamMoments(d, { unitSum: options.unitSum, gramBuffer: zeroed() });
    const yGram = options.yGram ?? true;
    this.y = new StreamMoments(d, { gram: yGram, unitSum: options.unitSum, gramBuffer: yGram ? zeroed() : undefined });
    this.layer = new CrossMoments(d, zeroed());
    if (this.parts) {
      this.attention = new CrossMoments(d, zeroed());
      this.mlp = new CrossMoments(d, zeroed());
      if (this.mlpInput === 'afterAttention') this.mid = new StreamMoments(d, { unitSum: false, gramBuffer: zeroed() });
    }
    this.bytes = pairStatisticsBytes(d, this.parts, this.mlpInput);
    livePairStatistics.bytes += this.bytes;
    livePairStatistics.peak = Math.max(livePairStatistics.peak, livePairStatistics.bytes);
  }

  get tokens(): number {
    return this.layer.count;
  }

  /** Adds one batch of the block. */
  add(b: PairBatch): void {
    const d = this.dim;
    const n0 = rowCount(b.x);
    checkRows('LinearityPair.add (x)', b.x, d);
    checkRows('LinearityPair.add (y)', b.y, d, n0);
    if (this.parts) {
      if (!b.attnOut || !b.mlpOut) throw new Error('LinearityPair.add: parts need the attention and MLP outputs');
      checkRows('LinearityPair.add (attnOut)', b.attnOut, d, n0);
      checkRows('LinearityPair.add (mlpOut)', b.mlpOut, d, n0);
    }
    const n = selectedCount(b.x, b.rows);
    const size = Math.min(n, this.chunkRows) * d;
    const xBuf = this.scratch.get(0, size);
    const yBuf = this.scratch.get(1, size);
    const deltaBuf = this.scratch.get(2, size);
    const partBufs = partBuffers(size, this.parts, deltaBuf, (i, n) => this.scratch.get(3 + i, n));
    for (let start = 0; start < n; start += this.chunkRows) {
      const end = Math.min(n, start + this.chunkRows);
      const m = end - start;
      const xs = this.x.readChunk(b.x, b.rows, start, end, xBuf);
      const ys = this.y.readChunk(b.y, b.rows, start, end, yBuf);
      if (!this.xAdded) this.x.addShifted(xs, m);
      if (!this.layer.deltaShift) this.layer.deltaReader.shift = this.y.shift!.map((v, j) => v - this.x.shift![j]);
      this.layer.addDifference(xs, ys, m, deltaBuf);
      if (this.parts) addBlockParts({ attention: this.attention!, mlp: this.mlp!, mid: this.mid }, xs, this.x.shift!, b.attnOut!, b.mlpOut!, b.rows, start, end, partBufs);
      this.y.addShifted(ys, m);
    }
  }

  /** Names the first stream holding NaN/Inf before LAPACK sees it (the profile's messages). */
  private checkFinite(): void {
    const i = this.block;
    const state = (k: number) => `hidden state ${k} (${k === 0 ? 'the embeddings' : `output of block ${k - 1}`})`;
    assertFiniteStream(this.x.sumSquares, state(i));
    assertFiniteStream(this.y.sumSquares, state(i + 1));
    if (this.attention) assertFiniteStream(this.attention.sumSquaresDelta, `the attention output of block ${i}`);
    if (this.mlp) assertFiniteStream(this.mlp.sumSquaresDelta, `the MLP output of block ${i}`);
  }

  /** Centred statistics of the block or of one of its parts (C_xx and C_xd into `into` when given). */
  statistics(part: BlockPart = 'layer', into?: { cxx: Float64Array; cxd: Float64Array }): CentredPairStatistics {
    this.checkFinite();
    if (part !== 'layer' && !this.parts) throw new Error('LinearityPair: block parts were not measured (parts: false)');
    const moments = part === 'layer' ? this.layer : part === 'attention' ? this.attention! : this.mlp!;
    const x = part === 'mlp' && this.mid ? this.mid : this.x;
    return centredPairStatistics(x, moments, into);
  }

  /**
   * The pair's scores (and parts), and X's anisotropy when asked for (free from an
   * eigendecomposition; with Cholesky factors it costs an eigenvalue-only `syevd`). With `rows`
   * (every batch's X and Y again, in the order added) and N ≤ 0.85·d, the block is solved on the token
   * side (`linearity-tokens.ts`); parts always use the statistics.
   */
  result(options: SolveOptions = {}, more: { rows?: () => Iterable<PairRows>; anisotropy?: boolean } = {}): { block: BlockLinearity; anisotropyX: number; solvedBy: 'tokens' | 'cholesky' | 'eigen' } {
    // the block's C_xx, C_xd and the solve's work matrix live in the idle chunk buffers when they
    // fit: no result holds them (the factors and the eigenvectors are new arrays)
    const n = this.dim * this.dim;
    const into = { cxx: this.scratch.spare(0, n), cxd: this.scratch.spare(1, n) };
    return this.solve(this.statistics('layer', into), this.scratch.spare(2, n), options, more);
  }

  private solve(s: CentredPairStatistics, work: Float64Array, options: SolveOptions, more: { rows?: () => Iterable<PairRows>; anisotropy?: boolean }): { block: BlockLinearity; anisotropyX: number; solvedBy: 'tokens' | 'cholesky' | 'eigen' } {
    const tokenSide = more.rows && !this.parts && s.tokens <= TOKEN_SIDE_MAX * s.dim && s.tokens >= 2 && (options.method ?? 'auto') === 'auto';
    if (tokenSide) {
      const spectrum = tokenSpectrum(centredRows(more.rows!(), s.tokens, s.dim));
      const layer = solveFromTokenSpectrum(spectrum, s.tokens, s.dim, options);
      return { block: { block: this.block, layer }, anisotropyX: more.anisotropy ? largestShare(spectrum.w) : Number.NaN, solvedBy: 'tokens' };
    }
    const factor = factorNormalMatrix(s, options);
    const block: BlockLinearity = { block: this.block, layer: solvePairLinearity(s, options, factor, work) };
    if (this.parts) {
      block.attention = solvePairLinearity(this.statistics('attention'), options, factor);
      block.mlp = solvePairLinearity(this.statistics('mlp'), options, this.mid ? undefined : factor);
    }
    let anisotropyX = Number.NaN;
    if (factor && 'w' in factor) anisotropyX = largestShare(factor.w);
    else if (more.anisotropy && this.x.gram) anisotropyX = anisotropyFromMoments(this.x);
    return { block, anisotropyX, solvedBy: factor && 'kind' in factor ? 'cholesky' : 'eigen' };
  }

  /** The fitted map of the block (or a part), for per-token residuals. */
  fit(part: BlockPart = 'layer', options: FitOptions = {}): LinearFit {
    return fitLinearMap(this.statistics(part), options);
  }

  /** Per-token residuals of a fitted map on one batch of this block (rows as in `b.rows`). */
  residuals(fit: LinearFit, b: PairBatch, part: BlockPart = 'layer'): TokenResiduals {
    if (part === 'layer') return fit.perToken(b.x, b.y, b.rows);
    if (!b.attnOut || !b.mlpOut) throw new Error(`LinearityPair.residuals: the ${part} part needs attnOut and mlpOut`);
    if (part === 'attention' || this.mlpInput === 'blockInput') return fit.perTokenDelta(b.x, part === 'attention' ? b.attnOut : b.mlpOut, b.rows);
    const mid = new Float64Array(b.x.size);
    for (let i = 0; i < mid.length; i++) mid[i] = b.x.data[i] + b.attnOut.data[i];
    return fit.perTokenDelta(new Tensor(mid, b.x.shape), b.mlpOut, b.rows);
  }

  /**
   * Drops this pair's statistics; returns Y's moments for the next pair's X. X's Gram matrix and
   * the cross products go back to the scratch for the next pair built with it: read nothing of this
   * pair (`x` included) after releasing it.
   */
  release(): StreamMoments {
    if (!this.released) {
      this.released = true;
      livePairStatistics.bytes -= this.bytes;
      this.scratch.give(this.x.gram, this.layer.cross, this.attention?.cross, this.mlp?.cross, this.mid?.gram);
    }
    return this.y;
  }
}
