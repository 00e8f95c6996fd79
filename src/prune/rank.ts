/**
 * Ranking blocks (or spans of k consecutive blocks) for removal, on calibration data, by three
 * scores between a span's input state h_in and its output state h_out, accumulated over batches:
 *
 * - linearity (Razzhigaev et al. 2024): the Procrustes linearity score of h_in → h_out
 *   (src/analysis: centre, normalise to unit Frobenius norm, least squares, 1 − residual), over all
 *   real tokens. Most linear is removed first. The score "without residual" (target h_out − h_in)
 *   is reported too and can be ranked on with `linearityVariant`.
 * - block influence (ShortGPT, Men et al. 2024): BI = 1 − mean_t cos(h_in,t, h_out,t) over all real
 *   tokens. Lowest BI is removed first.
 * - angular distance (Gromov et al. 2024): mean_t arccos(cos(h_in,t, h_out,t))/π. Gromov et al. take
 *   the last token of each sequence only (`angularTokens: 'last'`); the default averages over all
 *   real tokens like BI. Smallest distance is removed first.
 *
 * Cosines are computed in float64 per token; cos is clamped to [−1, 1] before arccos. A zero vector
 * has cosine 0 with anything (torch's ε-guarded definition).
 */
import { LinearityAccumulator } from '../analysis/linearity-accumulator.ts';
import type { TokenBatch } from '../data/calibration.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { PrunedModel } from './pruned-model.ts';
import { runSteps } from '../util/steps.ts';
import { candidateSpans, streamSpansSteps } from './spans.ts';
import type { Criterion, RankedSpan, Span, SpanScores } from './types.ts';

export interface ScoreOptions {
  /** Tokens the angular distance averages over: all real tokens (default) or each row's last one (Gromov et al.). */
  angularTokens?: 'all' | 'last';
  /** Measure linearity (O(d²) memory and work per span); default true. */
  linearity?: boolean;
}

/** Accumulates every score of one span over batches. */
export class SpanScoreAccumulator {
  readonly span: Span;
  readonly dim: number;
  private readonly linear: LinearityAccumulator | null;
  private tokens = 0;
  private cosSum = 0;
  private angleSum = 0;
  private angleCount = 0;
  private readonly angularTokens: 'all' | 'last';

  constructor(span: Span, dim: number, options: ScoreOptions = {}) {
    this.span = span;
    this.dim = dim;
    this.linear = options.linearity === false ? null : new LinearityAccumulator(dim);
    this.angularTokens = options.angularTokens ?? 'all';
  }

  /** Adds the span's input and output states on the selected rows (`lastRows`: each sequence's last real token). */
  add(input: Tensor, output: Tensor, rows: ArrayLike<number>, lastRows: ArrayLike<number>): void {
    this.linear?.add(input, output, rows);
    const d = this.dim;
    const x = input.data;
    const y = output.data;
    const cosines = (sel: ArrayLike<number>, f: (c: number) => void) => {
      for (let i = 0; i < sel.length; i++) f(rowCosine(x, y, sel[i] * d, d));
    };
    cosines(rows, (c) => {
      this.cosSum += c;
      this.tokens++;
      if (this.angularTokens === 'all') {
        this.angleSum += angularDistance(c);
        this.angleCount++;
      }
    });
    if (this.angularTokens === 'last') {
      cosines(lastRows, (c) => {
        this.angleSum += angularDistance(c);
        this.angleCount++;
      });
    }
  }

  scores(): SpanScores {
    if (this.tokens === 0) throw new Error(`span ${this.span.start}+${this.span.count}: no tokens were measured`);
    const lin = this.linear && this.tokens >= 2 ? this.linear.result({ robust: false }) : undefined;
    return {
      start: this.span.start,
      count: this.span.count,
      tokens: this.tokens,
      linearity: lin ? lin.withResidual.exact : Number.NaN,
      linearityWithoutResidual: lin ? lin.withoutResidual.exact : Number.NaN,
      bi: 1 - this.cosSum / this.tokens,
      angular: this.angleSum / this.angleCount,
    };
  }
}

/** cos(x_r, y_r) of row r (offset `o`) in float64; 0 when either row is zero. */
export function rowCosine(x: ArrayLike<number>, y: ArrayLike<number>, o: number, d: number): number {
  let xx = 0, yy = 0, xy = 0;
  for (let j = 0; j < d; j++) {
    const a = x[o + j], b = y[o + j];
    xx += a * a;
    yy += b * b;
    xy += a * b;
  }
  return xx > 0 && yy > 0 ? xy / Math.sqrt(xx * yy) : 0;
}

/** arccos(cos)/π with cos clamped to [−1, 1]. */
export function angularDistance(cos: number): number {
  return Math.acos(Math.min(1, Math.max(-1, cos))) / Math.PI;
}

export interface MeasureOptions extends ScoreOptions {
  /** Spans to score (default: every run of `count` kept blocks). */
  spans?: readonly Span[];
  /** Span length when `spans` is not given (default 1). */
  count?: number;
  onBatch?: (done: number, total: number) => void;
}

/** Scores of every candidate span of `model` over the calibration batches. */
export function measureSpans(model: PrunedModel, batches: readonly TokenBatch[], options: MeasureOptions = {}): SpanScores[] {
  return runSteps(measureSpansSteps(model, batches, options));
}

/** {@link measureSpans} pausing after every batch (src/util/steps.ts). */
export function* measureSpansSteps(model: PrunedModel, batches: readonly TokenBatch[], options: MeasureOptions = {}): Generator<void, SpanScores[], void> {
  const spans = options.spans ?? candidateSpans(model, options.count ?? 1);
  if (spans.length === 0) throw new Error(`no span of ${options.count ?? 1} kept block(s) is left to score`);
  const dim = model.base.config.hiddenSize;
  // a span's statistics exist from its first block to its last (layer-major), then only its scores
  const acc: (SpanScoreAccumulator | undefined)[] = spans.map(() => undefined);
  const scores: SpanScores[] = [];
  yield* streamSpansSteps(model, batches, spans, (k, s) => (acc[k] ??= new SpanScoreAccumulator(spans[k], dim, options)).add(s.input, s.output, s.rows, s.lastRows), options.onBatch, {
    previous: false,
    onSpanDone: (k) => {
      scores[k] = (acc[k] ?? new SpanScoreAccumulator(spans[k], dim, options)).scores();
      acc[k] = undefined;
    },
  });
  return scores;
}

export interface RankOptions {
  /** Linearity variant ranked on (default 'withResidual', the paper's score). */
  linearityVariant?: 'withResidual' | 'withoutResidual';
}

/** The value a criterion sorts on: higher = more removable. */
function removalKey(s: SpanScores, criterion: Criterion, options: RankOptions = {}): number {
  switch (criterion) {
    case 'linearity':
      return options.linearityVariant === 'withoutResidual' ? s.linearityWithoutResidual : s.linearity;
    case 'bi':
      return -s.bi;
    case 'angular':
      return -s.angular;
    default:
      throw new Error(`unknown criterion "${criterion as string}" (linearity, bi or angular)`);
  }
}

/**
 * Candidates in removal order for a criterion (most removable first; ties and NaNs: NaNs last, then
 * the earlier span first).
 */
export function rankSpans(scores: readonly SpanScores[], criterion: Criterion, options: RankOptions = {}): RankedSpan[] {
  const keyed = scores.map((s) => ({ ...s, key: removalKey(s, criterion, options), rank: 0 }));
  keyed.sort((a, b) => {
    const an = Number.isNaN(a.key), bn = Number.isNaN(b.key);
    if (an !== bn) return an ? 1 : -1;
    return b.key - a.key || a.start - b.start;
  });
  keyed.forEach((s, i) => (s.rank = i));
  return keyed;
}
