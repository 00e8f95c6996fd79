/**
 * Choosing the blocks to remove and what to put in their place.
 *
 * - one-shot (default): rank single blocks once on the original model and remove the k best;
 *   chosen blocks that are neighbours are merged into one span with one map.
 * - span (`span: true`): rank every run of k consecutive blocks once and remove the best run
 *   (Gromov et al.'s procedure, with any criterion).
 * - sequential (`sequential: true`): remove one block, re-measure on the pruned model, repeat k
 *   times; each map is fitted on the states of the model pruned so far.
 *
 * Method 'drop' removes the span (identity); 'linear' puts the least-squares map of fit.ts in its
 * place. With `mapInput: 'mlp'` the map reads the MLP output of the block before the span
 * (ReplaceMe's foldable form); where that block does not exist (span at block 0) or was removed,
 * the map falls back to reading the residual stream, and the replacement records which it used.
 */
import type { TokenBatch } from '../data/calibration.ts';
import type { DecoderModel } from '../models/decoder.ts';
import { runSteps, runStepsYielding } from '../util/steps.ts';
import { fitSpanMapsSteps, type FitMapOptions, type SpanFitRequest } from './fit.ts';
import { PrunedModel } from './pruned-model.ts';
import { measureSpansSteps, rankSpans, type RankOptions, type ScoreOptions } from './rank.ts';
import { candidateSpans } from './spans.ts';
import type { Criterion, MapInput, RankedSpan, Replacement, Span } from './types.ts';

export type PruneMethod = 'drop' | 'linear';

export interface PruneOptions extends ScoreOptions, RankOptions, FitMapOptions {
  /** Blocks to remove. */
  k: number;
  method: PruneMethod;
  criterion: Criterion;
  /** Remove one run of k consecutive blocks. */
  span?: boolean;
  /** Remove one block at a time, re-measuring after each. */
  sequential?: boolean;
  /** What linear maps read (default 'residual'). */
  mapInput?: MapInput;
  /** Progress: a phase name and batches done / total. */
  onProgress?: (phase: string, done: number, total: number) => void;
}

/** One ranking pass and what it chose. */
export interface PruneStep {
  /** The ranking measured in this step (removal order). */
  ranking: RankedSpan[];
  /** Spans removed after this step's ranking. */
  chosen: Span[];
  /** Fit quality of each chosen span's map (method 'linear'). */
  fits?: { span: Span; input: MapInput; explained: number; tokens: number; lambda: number }[];
}

export interface PruneResult {
  model: PrunedModel;
  steps: PruneStep[];
}

/** Prune `k` blocks of `model` (see the module comment). */
export function pruneModel(model: DecoderModel | PrunedModel, batches: readonly TokenBatch[], options: PruneOptions): PruneResult {
  return runSteps(pruneSteps(model, batches, options));
}

/** {@link pruneModel} giving the event loop a turn after every batch, so Ctrl-C is heard (same result). */
export function pruneModelAsync(model: DecoderModel | PrunedModel, batches: readonly TokenBatch[], options: PruneOptions): Promise<PruneResult> {
  return runStepsYielding(pruneSteps(model, batches, options));
}

function* pruneSteps(model: DecoderModel | PrunedModel, batches: readonly TokenBatch[], options: PruneOptions): Generator<void, PruneResult, void> {
  let current = model instanceof PrunedModel ? model : new PrunedModel(model);
  const k = options.k;
  if (!(Number.isInteger(k) && k >= 0)) throw new Error(`k must be a non-negative integer, got ${k}`);
  if (k > current.numLayers - 1) throw new Error(`cannot remove ${k} of ${current.numLayers} blocks (at least one must stay)`);
  if (options.span && options.sequential) throw new Error('choose either span (one run of k blocks) or sequential (one block at a time), not both');
  const steps: PruneStep[] = [];
  if (k === 0) return { model: current, steps };
  const progress = (phase: string) => (done: number, total: number) => options.onProgress?.(phase, done, total);

  const rounds = options.sequential ? k : 1;
  for (let round = 0; round < rounds; round++) {
    const count = options.span ? k : 1;
    const spans = candidateSpans(current, count).filter((s) => removable(current, s));
    if (spans.length === 0) throw new Error(`no removable span of ${count} block(s) is left (kept: ${current.keptBlocks().join(', ')})`);
    const label = options.sequential ? `rank ${round + 1}/${k}` : 'rank';
    const ranking = rankSpans(yield* measureSpansSteps(current, batches, { ...options, spans, onBatch: progress(label) }), options.criterion, options);
    const picked = options.sequential || options.span ? [ranking[0]] : ranking.slice(0, k);
    const chosen = mergeNeighbours(picked);
    const step: PruneStep = { ranking, chosen };
    let replacements: Replacement[];
    if (options.method === 'drop') {
      replacements = chosen.map((s) => ({ start: s.start, count: s.count }));
    } else {
      const requests: SpanFitRequest[] = chosen.map((s) => ({ ...s, input: mapInputFor(current, s, options.mapInput ?? 'residual') }));
      const fits = yield* fitSpanMapsSteps(current, batches, requests, { ...options, onBatch: progress(options.sequential ? `fit ${round + 1}/${k}` : 'fit') });
      replacements = chosen.map((s, i) => ({ start: s.start, count: s.count, map: fits[i].map }));
      step.fits = fits.map((f, i) => ({ span: chosen[i], input: requests[i].input, explained: f.explained, tokens: f.tokens, lambda: f.lambda }));
    }
    current = current.with(replacements);
    steps.push(step);
  }
  return { model: current, steps };
}

/** A span may go unless an 'mlp' map after it reads the MLP output of its last block. */
function removable(model: PrunedModel, span: Span): boolean {
  const next = model.replacements.find((r) => r.start === span.start + span.count);
  return !(next?.map?.input === 'mlp');
}

/** 'mlp' when the block before the span is kept, else 'residual'. */
function mapInputFor(model: PrunedModel, span: Span, wanted: MapInput): MapInput {
  return wanted === 'mlp' && span.start > 0 && model.isKept(span.start - 1) ? 'mlp' : 'residual';
}

/** Chosen spans sorted, neighbours (and overlaps) merged. */
export function mergeNeighbours(spans: readonly Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.start <= last.start + last.count) {
      last.count = Math.max(last.count, s.start + s.count - last.start);
    } else {
      out.push({ start: s.start, count: s.count });
    }
  }
  return out;
}
