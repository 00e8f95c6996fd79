/**
 * The linearity profile of a whole model, streamed over forwards: for every block i the score of
 * states[i] → states[i + 1], optionally of its two parts — attention (block input x →
 * x + attn_i) and MLP (h = x + attn_i → h + mlp_i) — plus each state's anisotropy and mean cosine.
 *
 * Moments are shared: each state's Σx̃x̃ᵀ is accumulated once and serves as X for its block and
 * for the block's attention part (and as an anisotropy source); each pair adds only its Σx̃d̃ᵀ. One
 * eigendecomposition per X serves every pair that starts from it.
 */
import { Tensor } from '../tensor/tensor.ts';
import { anisotropyFromMoments, largestShare, meanCosineFromMoments } from './anisotropy.ts';
import { addBlockParts, partBuffers } from './block-part-moments.ts';
import { fitLinearMap, type FitOptions, type LinearFit, type TokenResiduals } from './linear-fit.ts';
import { factorNormalMatrix, solvePairLinearity, type PairLinearity, type SolveOptions } from './linearity-solve.ts';
import { assertFiniteStream, centredPairStatistics, type CentredPairStatistics } from './linearity-statistics.ts';
import { CrossMoments, DEFAULT_CHUNK_ROWS, StreamMoments } from './moments.ts';
import { checkRows, rowCount, selectedCount, type RowSelection } from './rows.ts';

/** One forward's worth of states (all tensors [N, d] or [B, T, d] with the same rows). */
export interface ForwardStates {
  /** The residual stream: block 0's input, then each block's output (blocks + 1 tensors). */
  states: readonly Tensor[];
  /** What each block's attention adds to the residual stream (needed with `parts`). */
  attnOutputs?: readonly Tensor[];
  /** What each block's MLP adds to the residual stream (needed with `parts`). */
  mlpOutputs?: readonly Tensor[];
  /** Rows to use (e.g. without padding); all rows when omitted. */
  rows?: RowSelection;
}

export type BlockPart = 'layer' | 'attention' | 'mlp';

export interface LinearityProfileOptions {
  dim: number;
  /** Number of blocks L (states has L + 1 entries). */
  blocks: number;
  /** Blocks to measure (default all). */
  track?: readonly number[];
  /** Also measure each block's attention and MLP parts. */
  parts?: boolean;
  /**
   * Input of the MLP part: 'afterAttention' (x + attn, sequential blocks; default) or 'blockInput'
   * (x, for parallel attention/MLP blocks such as GPT-J and GPT-NeoX).
   */
  mlpInput?: 'afterAttention' | 'blockInput';
  /** Keep every state's Gram matrix for anisotropy (default true). */
  anisotropy?: boolean;
  chunkRows?: number;
}

export interface BlockLinearity {
  block: number;
  /** states[i] → states[i + 1]. */
  layer: PairLinearity;
  attention?: PairLinearity;
  mlp?: PairLinearity;
}

export interface LinearityProfile {
  tokens: number;
  dim: number;
  blocks: BlockLinearity[];
  /** Authors' anisotropy (top covariance eigenvalue share) per state; NaN unless `anisotropy` was asked for. */
  anisotropy: number[];
  /** Mean pairwise cosine similarity per state. */
  meanCosine: number[];
}

interface TrackedBlock {
  block: number;
  layer: CrossMoments;
  attention?: CrossMoments;
  mid?: StreamMoments;
  mlp?: CrossMoments;
}

export class LinearityProfileAccumulator {
  readonly dim: number;
  readonly blocks: number;
  readonly parts: boolean;
  readonly mlpInput: 'afterAttention' | 'blockInput';
  readonly chunkRows: number;
  readonly states: StreamMoments[];
  private readonly tracked: TrackedBlock[];
  private readonly byBlock = new Map<number, TrackedBlock>();
  /** Every state's anisotropy is wanted (else all are NaN). */
  private readonly anisotropy: boolean;

  constructor(options: LinearityProfileOptions) {
    const { dim, blocks } = options;
    this.dim = dim;
    this.blocks = blocks;
    this.parts = options.parts ?? false;
    this.mlpInput = options.mlpInput ?? 'afterAttention';
    this.chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
    const track = [...new Set(options.track ?? Array.from({ length: blocks }, (_, i) => i))].sort((a, b) => a - b);
    for (const b of track) {
      if (!Number.isInteger(b) || b < 0 || b >= blocks) throw new Error(`LinearityProfile: block ${b} is out of range 0…${blocks - 1}`);
    }
    const keepAll = options.anisotropy ?? true;
    this.anisotropy = keepAll;
    const isX = new Set(track);
    this.states = Array.from({ length: blocks + 1 }, (_, i) => new StreamMoments(dim, { gram: keepAll || isX.has(i) }));
    this.tracked = track.map((block) => {
      const t: TrackedBlock = { block, layer: new CrossMoments(dim) };
      if (this.parts) {
        t.attention = new CrossMoments(dim);
        t.mlp = new CrossMoments(dim);
        if (this.mlpInput === 'afterAttention') t.mid = new StreamMoments(dim, { unitSum: false });
      }
      this.byBlock.set(block, t);
      return t;
    });
  }

  get tokens(): number {
    return this.states[0].count;
  }

  /** Adds one forward's states (and block parts when measuring them). */
  add(f: ForwardStates): void {
    const d = this.dim;
    const L = this.blocks;
    if (f.states.length !== L + 1) throw new Error(`LinearityProfile.add: expected ${L + 1} states (blocks + 1), got ${f.states.length}`);
    const rowsTotal = rowCount(f.states[0]);
    for (const s of f.states) checkRows('LinearityProfile.add (state)', s, d, rowsTotal);
    if (this.parts) {
      for (const [name, list] of [['attnOutputs', f.attnOutputs], ['mlpOutputs', f.mlpOutputs]] as const) {
        if (!list || list.length !== L) throw new Error(`LinearityProfile.add: parts need ${name} for all ${L} blocks`);
        for (const t of list) checkRows(`LinearityProfile.add (${name})`, t, d, rowsTotal);
      }
    }
    const n = selectedCount(f.states[0], f.rows);
    const size = Math.min(n, this.chunkRows) * d;
    let prevBuf = new Float64Array(size);
    let nextBuf = new Float64Array(size);
    const deltaBuf = new Float64Array(size);
    const partBufs = partBuffers(size, this.parts, deltaBuf);
    for (let start = 0; start < n; start += this.chunkRows) {
      const end = Math.min(n, start + this.chunkRows);
      const m = end - start;
      let prev = this.states[0].readChunk(f.states[0], f.rows, start, end, prevBuf);
      for (let i = 0; i < L; i++) {
        const x = this.states[i];
        const next = this.states[i + 1].readChunk(f.states[i + 1], f.rows, start, end, nextBuf);
        x.addShifted(prev, m);
        const t = this.byBlock.get(i);
        if (t) {
          if (!t.layer.deltaShift) t.layer.deltaReader.shift = this.states[i + 1].shift!.map((v, j) => v - x.shift![j]);
          t.layer.addDifference(prev, next, m, deltaBuf);
          if (this.parts) addBlockParts({ attention: t.attention!, mlp: t.mlp!, mid: t.mid }, prev, x.shift!, f.attnOutputs![i], f.mlpOutputs![i], f.rows, start, end, partBufs);
        }
        [prevBuf, nextBuf] = [nextBuf, prevBuf];
        prev = next;
      }
      this.states[L].addShifted(prev, m);
    }
  }

  /** Name the first stream holding NaN/Inf (states, then block parts) before LAPACK sees it. */
  private checkFinite(): void {
    this.states.forEach((s, i) => assertFiniteStream(s.sumSquares, `hidden state ${i} (${i === 0 ? 'the embeddings' : `output of block ${i - 1}`})`));
    for (const t of this.tracked) {
      if (t.attention) assertFiniteStream(t.attention.sumSquaresDelta, `the attention output of block ${t.block}`);
      if (t.mlp) assertFiniteStream(t.mlp.sumSquaresDelta, `the MLP output of block ${t.block}`);
    }
  }

  /** Centred statistics of one tracked block's pair. */
  statistics(block: number, part: BlockPart = 'layer'): CentredPairStatistics {
    this.checkFinite();
    const t = this.byBlock.get(block);
    if (!t) throw new Error(`LinearityProfile: block ${block} is not tracked`);
    if (part !== 'layer' && !this.parts) throw new Error('LinearityProfile: block parts were not measured (parts: false)');
    const x = part === 'mlp' && t.mid ? t.mid : this.states[block];
    return centredPairStatistics(x, t[part]!);
  }

  /** Scores of every tracked block (and part), anisotropy and mean cosine of every state. */
  result(options: SolveOptions = {}): LinearityProfile {
    this.checkFinite();
    const blocks: BlockLinearity[] = [];
    const anisotropy = this.states.map(() => Number.NaN);
    for (const t of this.tracked) {
      const s = this.statistics(t.block, 'layer');
      const factor = factorNormalMatrix(s, options);
      if (this.anisotropy && factor && 'w' in factor) anisotropy[t.block] = largestShare(factor.w);
      const entry: BlockLinearity = { block: t.block, layer: solvePairLinearity(s, options, factor) };
      if (this.parts) {
        entry.attention = solvePairLinearity(this.statistics(t.block, 'attention'), options, factor);
        entry.mlp = solvePairLinearity(this.statistics(t.block, 'mlp'), options, t.mid ? undefined : factor);
      }
      blocks.push(entry);
    }
    this.states.forEach((s, i) => {
      if (Number.isNaN(anisotropy[i]) && s.gram && this.anisotropy) anisotropy[i] = anisotropyFromMoments(s);
    });
    return { tokens: this.tokens, dim: this.dim, blocks, anisotropy, meanCosine: this.states.map(meanCosineFromMoments) };
  }

  /** The fitted map of one block (part) for per-token residuals in a second pass. */
  fit(block: number, part: BlockPart = 'layer', options: FitOptions = {}): LinearFit {
    return fitLinearMap(this.statistics(block, part), options);
  }

  /**
   * Per-token residuals of a fitted block (part) on one forward's states (second pass); rows as in
   * `f.rows`. Builds the MLP part's input x + attn itself.
   */
  residuals(fit: LinearFit, f: ForwardStates, block: number, part: BlockPart = 'layer'): TokenResiduals {
    const x = f.states[block];
    if (part === 'layer') return fit.perToken(x, f.states[block + 1], f.rows);
    const attn = f.attnOutputs?.[block];
    const mlp = f.mlpOutputs?.[block];
    if (!attn || !mlp) throw new Error(`LinearityProfile.residuals: the ${part} part needs attnOutputs and mlpOutputs`);
    if (part === 'attention') return fit.perTokenDelta(x, attn, f.rows);
    if (this.mlpInput === 'blockInput') return fit.perTokenDelta(x, mlp, f.rows);
    const mid = new Float64Array(x.size);
    for (let i = 0; i < mid.length; i++) mid[i] = x.data[i] + attn.data[i];
    return fit.perTokenDelta(new Tensor(mid, x.shape), mlp, f.rows);
  }
}
