/**
 * Streaming the hidden states of spans of blocks over calibration batches: for each batch, one
 * forward of the (possibly already pruned) model, and for each requested span its input state
 * h_in (entering its first block), its output state h_out (leaving its last block) and the output
 * of the block before it (for maps that read that block's MLP output). Only real tokens count:
 * `rows` lists the flattened B·T indices where the attention mask is 1.
 */
import type { TokenBatch } from '../data/calibration.ts';
import type { BlockOutput } from '../models/types.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { runSteps } from '../util/steps.ts';
import type { PrunedModel } from './pruned-model.ts';
import { spanLabel, type Span } from './types.ts';

/** One span's states in one batch. */
export interface SpanStates {
  input: Tensor;
  output: Tensor;
  /** The block before the span, when it is kept and ran right before it. */
  previous?: BlockOutput;
  /** Flattened indices of the real tokens. */
  rows: Int32Array;
  /** Flattened index of the last real token of each row. */
  lastRows: Int32Array;
}

/** Indices (into the flattened B·T rows) of real tokens, and of each row's last real token. */
export function tokenRows(batch: Pick<TokenBatch, 'attentionMask'>): { rows: Int32Array; lastRows: Int32Array } {
  const mask = batch.attentionMask;
  const rows: number[] = [];
  const last: number[] = [];
  mask.forEach((row, b) => {
    let lastReal = -1;
    row.forEach((m, t) => {
      if (m) {
        rows.push(b * row.length + t);
        lastReal = b * row.length + t;
      }
    });
    if (lastReal >= 0) last.push(lastReal);
  });
  return { rows: Int32Array.from(rows), lastRows: Int32Array.from(last) };
}

/** Checks that every span is a run of kept blocks of `model`. */
function checkSpans(model: PrunedModel, spans: readonly Span[]): void {
  for (const s of spans) {
    for (let i = s.start; i < s.start + s.count; i++) {
      if (!model.isKept(i)) throw new Error(`span ${spanLabel(s)}: block ${i} is not a kept block of the model (kept: ${model.keptBlocks().join(', ')})`);
    }
  }
}

/** Every span of `count` consecutive kept blocks. */
export function candidateSpans(model: PrunedModel, count: number): Span[] {
  if (!(Number.isInteger(count) && count >= 1)) throw new Error(`span length must be a positive integer, got ${count}`);
  const out: Span[] = [];
  for (let s = 0; s + count <= model.originalLayers; s++) {
    let ok = true;
    for (let i = s; i < s + count && ok; i++) ok = model.isKept(i);
    if (ok) out.push({ start: s, count });
  }
  return out;
}

/**
 * Runs `model` on each batch and calls `visit(spanIndex, states, batchIndex)` for every span once
 * its last block has run. Inputs are held only until their span completes.
 */
export function streamSpans(
  model: PrunedModel,
  batches: readonly TokenBatch[],
  spans: readonly Span[],
  visit: (spanIndex: number, states: SpanStates, batchIndex: number) => void,
  onBatch?: (done: number, total: number) => void,
): void {
  runSteps(streamSpansSteps(model, batches, spans, visit, onBatch));
}

/** {@link streamSpans} pausing after every batch (src/util/steps.ts). */
export function* streamSpansSteps(
  model: PrunedModel,
  batches: readonly TokenBatch[],
  spans: readonly Span[],
  visit: (spanIndex: number, states: SpanStates, batchIndex: number) => void,
  onBatch?: (done: number, total: number) => void,
): Generator<void, void, void> {
  checkSpans(model, spans);
  const startsAt = new Map<number, number[]>();
  const endsAt = new Map<number, number[]>();
  spans.forEach((s, k) => {
    startsAt.set(s.start, [...(startsAt.get(s.start) ?? []), k]);
    endsAt.set(s.start + s.count - 1, [...(endsAt.get(s.start + s.count - 1) ?? []), k]);
  });
  for (const [bi, batch] of batches.entries()) {
    const { rows, lastRows } = tokenRows(batch);
    const inputs = new Map<number, { input: Tensor; previous?: BlockOutput }>();
    let previous: { layer: number; output: BlockOutput } | undefined;
    model.forward(batch.ids, {
      attentionMask: batch.attentionMask,
      positionIds: batch.positionIds,
      statesOnly: true,
      onReplacement: () => {
        previous = undefined;
      },
      onBlock: ({ layer, input, output }) => {
        for (const k of startsAt.get(layer) ?? []) {
          inputs.set(k, { input, previous: previous && previous.layer === layer - 1 ? previous.output : undefined });
        }
        for (const k of endsAt.get(layer) ?? []) {
          const entry = inputs.get(k)!;
          inputs.delete(k);
          visit(k, { input: entry.input, output: output.hidden, previous: entry.previous, rows, lastRows }, bi);
        }
        previous = { layer, output };
      },
    });
    onBatch?.(bi + 1, batches.length);
    yield;
  }
}
