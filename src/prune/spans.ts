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
import { LayerMajorRun, residualStore, type LayerMajorOptions } from '../models/layer-major.ts';
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
 * Runs `model` over all batches and calls `visit(spanIndex, states, batchIndex)` for every span
 * and batch once the span's last block has run. Layer-major (src/models/layer-major.ts): every
 * batch goes through one step (a kept block or a replacement) before the next, so a streamed
 * checkpoint is read once; a span's visits come in batch order, and `onSpanDone(k)` follows the
 * last of them. A span's input states are kept (in memory up to the budget, spilled above) only
 * until it ends.
 */
export function streamSpans(
  model: PrunedModel,
  batches: readonly TokenBatch[],
  spans: readonly Span[],
  visit: (spanIndex: number, states: SpanStates, batchIndex: number) => void,
  onBatch?: (done: number, total: number) => void,
  options: StreamSpansOptions = {},
): void {
  runSteps(streamSpansSteps(model, batches, spans, visit, onBatch, options));
}

export interface StreamSpansOptions {
  /** Called when span k has been visited for every batch (its statistics can be finished and dropped). */
  onSpanDone?: (spanIndex: number) => void;
  memory?: LayerMajorOptions;
  /** Pass each span the block before it (`SpanStates.previous`; default true). Without it its outputs are not kept. */
  previous?: boolean;
}

/** {@link streamSpans} pausing after every batch of every step (src/util/steps.ts). */
export function* streamSpansSteps(
  model: PrunedModel,
  batches: readonly TokenBatch[],
  spans: readonly Span[],
  visit: (spanIndex: number, states: SpanStates, batchIndex: number) => void,
  onBatch?: (done: number, total: number) => void,
  options: StreamSpansOptions = {},
): Generator<void, void, void> {
  checkSpans(model, spans);
  const startsAt = new Map<number, number[]>();
  const endsAt = new Map<number, number[]>();
  spans.forEach((s, k) => {
    startsAt.set(s.start, [...(startsAt.get(s.start) ?? []), k]);
    endsAt.set(s.start + s.count - 1, [...(endsAt.get(s.start + s.count - 1) ?? []), k]);
  });
  const steps = model.steps();
  const nb = batches.length;
  const total = steps.length * nb;
  const run = new LayerMajorRun(model.base, residualStore(model.base, options.memory));
  const rows = batches.map((b) => tokenRows(b));
  /** The state index where each open span started. */
  const spanState = new Map<number, number>();
  /** Span k's `previous` block output was kept (under `k:attn/i`, `k:mlp/i`). */
  const spanPrevious = new Set<number>();
  /** The step before the current one was block `lastBlock` (its outputs kept as `prev:attn/i`, `prev:mlp/i`); undefined after a replacement. */
  let lastBlock: number | undefined;
  /** States still stored. */
  const live = new Set<number>([0]);
  const previousOf = (prefix: string, state: number, i: number): BlockOutput => ({
    hidden: run.state(state, i),
    attnOut: run.store.get(`${prefix}:attn/${i}`),
    mlpOut: run.store.get(`${prefix}:mlp/${i}`),
  });
  try {
    run.hold(() => batches.forEach((b, i) => run.embed(i, b)));
    for (const [s, step] of steps.entries()) {
      const layer = step.layer;
      const starting = layer === undefined ? [] : (startsAt.get(layer) ?? []);
      const next = steps[s + 1];
      // keep this block's outputs when the next step may read them: a span starting there, or an 'mlp' map
      const keepOutputs = next !== undefined && (next.replacement ? next.replacement.map?.input === 'mlp' : options.previous !== false && startsAt.has(next.layer));
      const ending = layer === undefined ? [] : (endsAt.get(layer) ?? []);
      for (const k of starting) {
        spanState.set(k, s);
        if (options.previous !== false && lastBlock !== undefined && lastBlock === layer! - 1) spanPrevious.add(k);
      }
      const release = run.open();
      try {
        for (let i = 0; i < nb; i++) {
          if (step.replacement) {
            const previous = lastBlock !== undefined && step.replacement.map?.input === 'mlp' ? previousOf('prev', s, i) : undefined;
            run.setState(s + 1, i, model.applyReplacement(step.replacement, run.state(s, i), previous).output);
          } else {
            for (const k of starting) {
              if (!spanPrevious.has(k)) continue;
              run.store.set(`${k}:attn/${i}`, run.store.get(`prev:attn/${i}`));
              run.store.set(`${k}:mlp/${i}`, run.store.get(`prev:mlp/${i}`));
            }
            const { out } = run.runBlockAt(s, layer!, i);
            for (const k of ending) {
              const from = spanState.get(k)!;
              visit(k, { input: run.state(from, i), output: out.hidden, previous: spanPrevious.has(k) ? previousOf(String(k), from, i) : undefined, ...rows[i] }, i);
            }
            if (keepOutputs) {
              run.store.set(`prev:attn/${i}`, out.attnOut);
              run.store.set(`prev:mlp/${i}`, out.mlpOut);
            } else {
              run.store.delete(`prev:attn/${i}`);
              run.store.delete(`prev:mlp/${i}`);
            }
          }
          onBatch?.(s * nb + i + 1, total);
          yield;
        }
      } finally {
        release();
      }
      if (step.replacement) {
        for (let i = 0; i < nb; i++) {
          run.store.delete(`prev:attn/${i}`);
          run.store.delete(`prev:mlp/${i}`);
        }
      }
      lastBlock = layer;
      for (const k of ending) {
        spanState.delete(k);
        if (spanPrevious.delete(k)) {
          for (let i = 0; i < nb; i++) {
            run.store.delete(`${k}:attn/${i}`);
            run.store.delete(`${k}:mlp/${i}`);
          }
        }
        options.onSpanDone?.(k);
      }
      // states before s + 1 are no longer needed unless an open span started there
      const open = new Set(spanState.values());
      for (const k of live) {
        if (k <= s && !open.has(k)) {
          run.dropState(k);
          live.delete(k);
        }
      }
      live.add(s + 1);
    }
  } finally {
    run.close();
  }
}
