/**
 * Layer-major execution: every batch of a piece of work goes through block ℓ before block ℓ + 1
 * is touched, so each weight is read from the checkpoint once per pass however many batches
 * there are (with a streamed model the block's tensors are held while it runs —
 * `DecoderModel.holdWeights` — and dropped after; a model held in memory simply has every block
 * resident). The residual stream of all batches lives in a `ResidualStore`, in memory up to the
 * budget and on disk above it. A batch's states equal those of `DecoderModel.forward` on the
 * same batch exactly: the same embed, block and norm calls in the same order per batch.
 *
 *   const run = new LayerMajorRun(model, store);
 *   run.hold(() => batches.forEach((b, i) => run.embed(i, b)));
 *   for (let l = 0; l < L; l++) run.hold(() => { for (i…) run.runBlock(l, i); });
 */
import type { DecoderConfig } from './config.ts';
import type { ForwardInputs } from './context.ts';
import type { BlockOutput, ForwardContext } from './types.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { ResidualStore } from './residual-store.ts';
import { defaultMaxMemory } from '../util/memory-budget.ts';
import { runSteps, runStepsYielding } from '../util/steps.ts';

/** What a layer-major pass needs from a model (a `DecoderModel` has it all). */
export interface LayerMajorModel {
  readonly config: Pick<DecoderConfig, 'numLayers'> & Partial<Pick<DecoderConfig, 'hiddenSize' | 'vocabSize' | 'intermediateSize'>>;
  embed(inputIds: readonly (readonly number[])[], options?: ForwardInputs): { hidden: Tensor; ctx: ForwardContext };
  /** Block `layer`; with ctx.queryFrom set (the last block only) it returns the rows at positions ≥ queryFrom. */
  runBlock(layer: number, hidden: Tensor, ctx: ForwardContext): BlockOutput;
  finalNorm(hidden: Tensor): Tensor;
  lmHead(hidden: Tensor): Tensor;
  /** Keep the weights read until the release is called (streamed models; see decoder.ts). */
  holdWeights?(): () => void;
  weightNames?(): string[];
  blockWeightNames?(layer: number): string[];
  weightShape?(name: string): number[];
  readonly dtype?: 'float32' | 'float64';
  readonly streaming?: boolean;
}

export interface LayerMajorBatch {
  ids: readonly (readonly number[])[];
  attentionMask?: number[][];
  positionIds?: number[][];
  /**
   * The caller reads the last block's output at positions ≥ queryFrom only: that block then runs its
   * queries, residual stream and MLP on those rows (ForwardContext.queryFrom) and `finish` gets
   * [B, T − queryFrom, D] with `from` = queryFrom.
   */
  queryFrom?: number;
}

/** Bytes the model's weights take in memory while a layer-major pass runs: everything when held in memory, else the largest block and the embedding. */
export function residentWeightBytes(model: LayerMajorModel): number {
  if (!model.weightNames || !model.weightShape || !model.blockWeightNames) return 0;
  const bytesPer = model.dtype === 'float64' ? 8 : 4;
  const size = (name: string) => model.weightShape!(name).reduce((a, b) => a * b, 1) * bytesPer;
  if (!model.streaming) return model.weightNames().reduce((s, n) => s + size(n), 0);
  let block = 0;
  for (let l = 0; l < model.config.numLayers; l++) block = Math.max(block, model.blockWeightNames(l).reduce((s, n) => s + size(n), 0));
  return block + (model.config.vocabSize ?? 0) * (model.config.hiddenSize ?? 0) * bytesPer;
}

/** How a layer-major pass may use memory: the budget (`--max-memory`) and where the residual stream spills. */
export interface LayerMajorOptions {
  /** Bytes for everything (default 80 % of the available memory, src/util/memory-budget.ts). */
  maxMemory?: number;
  spillDir?: string;
  /** Token rows a merged batch may reach in `forwardLayerMajorSteps` (default `mergedTokenLimit`; 0 = never merge). */
  mergeTokens?: number;
}

/** The residual store of a pass: the budget less the weights held and `otherBytes` (statistics, outputs). */
export function residualStore(model: LayerMajorModel, options: LayerMajorOptions = {}, otherBytes = 0): ResidualStore {
  const budget = (options.maxMemory ?? defaultMaxMemory()) - residentWeightBytes(model) - otherBytes;
  return new ResidualStore(Math.max(0, budget), options.spillDir);
}

const key = (state: number, batch: number) => `${state}/${batch}`;

export class LayerMajorRun {
  private readonly ctxs: ForwardContext[] = [];

  constructor(readonly model: LayerMajorModel, readonly store: ResidualStore) {}

  get batches(): number {
    return this.ctxs.length;
  }

  /** Runs `fn` with every weight it reads held until it returns (each read once). */
  hold<T>(fn: () => T): T {
    const release = this.model.holdWeights?.() ?? (() => {});
    try {
      return fn();
    } finally {
      release();
    }
  }

  /** Opens a hold across several steps (e.g. a generator that yields between batches). */
  open(): () => void {
    return this.model.holdWeights?.() ?? (() => {});
  }

  /** Starts batch `i` at state `state` from a stream and context computed elsewhere (e.g. a cached prefix). */
  seed(i: number, state: number, hidden: Tensor, ctx: ForwardContext): void {
    this.ctxs[i] = ctx;
    this.store.set(key(state, i), hidden);
  }

  /** The call context of batch `i`. */
  context(i: number): ForwardContext {
    return this.ctxs[i];
  }

  /** Embeds batch `i`: its state 0 (block 0's input). */
  embed(i: number, batch: LayerMajorBatch): Tensor {
    const { hidden, ctx } = this.model.embed(batch.ids, {
      ...(batch.attentionMask ? { attentionMask: batch.attentionMask } : {}),
      ...(batch.positionIds ? { positionIds: batch.positionIds } : {}),
    });
    this.ctxs[i] = ctx;
    this.store.set(key(0, i), hidden);
    return hidden;
  }

  /** Runs block `layer` on batch `i`'s state `layer`; stores the output as state `layer + 1`. */
  runBlock(layer: number, i: number): { x: Tensor; out: BlockOutput } {
    return this.runBlockAt(layer, layer, i);
  }

  /** Runs block `layer` on batch `i`'s state `state` (when steps and blocks differ, e.g. a pruned model); stores state `state + 1`. */
  runBlockAt(state: number, layer: number, i: number): { x: Tensor; out: BlockOutput } {
    const x = this.state(state, i);
    const out = this.model.runBlock(layer, x, this.ctxs[i]);
    this.store.set(key(state + 1, i), out.hidden);
    return { x, out };
  }

  /** State `k` of batch `i` (k = 0: embeddings; k = ℓ + 1: output of block ℓ). */
  state(k: number, i: number): Tensor {
    return this.store.get(key(k, i));
  }

  /** Replaces state `k` of batch `i` (e.g. with the final norm applied). */
  setState(k: number, i: number, t: Tensor): void {
    this.store.set(key(k, i), t);
  }

  /** Forgets state `k` of every batch. */
  dropState(k: number): void {
    for (let i = 0; i < this.ctxs.length; i++) this.store.delete(key(k, i));
  }

  /** Forgets everything (and removes spilled files). */
  close(): void {
    this.store.close();
    this.ctxs.length = 0;
  }
}

/**
 * Every batch through the whole model, layer-major: `finish(i, hidden)` receives batch i's last
 * block output (before the final norm), in batch order, while the final norm and head are held.
 * Consecutive batches of one width run as one merged batch (`mergeEqualWidth`): every token row
 * takes the same calls as in its own batch, only the GEMMs see more rows at once, so batch i's
 * states equal `forward` on batch i (tested on every fixture). Pauses after each group of each block.
 */
export function* forwardLayerMajorSteps(
  model: LayerMajorModel,
  batches: readonly LayerMajorBatch[],
  finish: (i: number, hidden: Tensor, from: number) => void,
  options: LayerMajorOptions = {},
): Generator<void, void, void> {
  const groups = mergeEqualWidth(batches, options.mergeTokens ?? mergedTokenLimit(model));
  yield* blocksLayerMajorSteps(model, groups.map((g) => g.batch), 0, model.config.numLayers, (g, h, _ctx, from) => {
    for (const m of groups[g].members) finish(m.index, groups[g].members.length === 1 ? h : h.slice0(m.offset, m.offset + m.rows), from);
  }, options);
}

/**
 * Token rows a merged batch may reach: GEMMs of small batches (e.g. 16 prompts × 24 tokens on
 * GPT-2 small) run at ~85 % of the sgemm peak and at 93–98 % from ~1500 rows (bench/RESULTS-peers.md),
 * while a block's largest temporary (tokens × intermediate size, float32) is kept ≤ 32 MiB.
 */
export function mergedTokenLimit(model: LayerMajorModel): number {
  const width = Math.max(model.config.intermediateSize ?? 0, model.config.hiddenSize ?? 0, 1);
  return Math.max(1, Math.min(2048, Math.floor((32 << 20) / (4 * width))));
}

/** A merged batch and where each original batch sits in it (first row, rows). */
export interface MergedBatch {
  batch: LayerMajorBatch;
  members: { index: number; offset: number; rows: number }[];
}

const widthOf = (b: LayerMajorBatch) => b.ids[0]?.length ?? 0;
/** Batches merge when their keys are equal; a ragged batch (rows of different lengths) never merges. */
const shapeKey = (b: LayerMajorBatch) =>
  b.ids.every((r) => r.length === widthOf(b)) ? `${widthOf(b)}/${b.attentionMask ? 1 : 0}/${b.positionIds ? 1 : 0}` : NaN;

/**
 * Consecutive batches of one padded width (and the same optional inputs) merged while the merged
 * batch holds at most `maxTokens` tokens; a batch larger than that stays alone, none is split.
 */
export function mergeEqualWidth(batches: readonly LayerMajorBatch[], maxTokens: number): MergedBatch[] {
  const groups: MergedBatch[] = [];
  let tokens = 0;
  batches.forEach((b, index) => {
    const last = groups.at(-1);
    const rows = b.ids.length;
    const fits = last && shapeKey(last.batch) === shapeKey(b) && tokens + rows * widthOf(b) <= maxTokens;
    if (!last || !fits) {
      groups.push({ batch: b, members: [{ index, offset: 0, rows }] });
      tokens = rows * widthOf(b);
      return;
    }
    const offset = last.batch.ids.length;
    const queryFrom = last.batch.queryFrom !== undefined && b.queryFrom !== undefined ? Math.min(last.batch.queryFrom, b.queryFrom) : undefined;
    last.batch = {
      ids: [...last.batch.ids, ...b.ids],
      ...(b.attentionMask ? { attentionMask: [...last.batch.attentionMask!, ...b.attentionMask] } : {}),
      ...(b.positionIds ? { positionIds: [...last.batch.positionIds!, ...b.positionIds] } : {}),
      ...(queryFrom !== undefined ? { queryFrom } : {}),
    };
    last.members.push({ index, offset, rows });
    tokens += rows * widthOf(b);
  });
  return groups;
}

/**
 * Blocks `from`…`to`−1 over every batch, layer-major: each input is a batch to embed (then `from`
 * must be 0) or a stream entering `from` with its context. `finish(i, hidden, ctx)` receives the
 * stream entering `to`, in batch order, with the final norm and head held.
 */
export function* blocksLayerMajorSteps(
  model: LayerMajorModel,
  inputs: readonly (LayerMajorBatch | { hidden: Tensor; ctx: ForwardContext })[],
  from: number,
  to: number,
  finish: (i: number, hidden: Tensor, ctx: ForwardContext, from: number) => void,
  options: LayerMajorOptions = {},
): Generator<void, void, void> {
  const run = new LayerMajorRun(model, residualStore(model, options));
  // the last block of the model runs from a batch's queryFrom on (0: every position)
  const queryFrom = (i: number): number => {
    const input = inputs[i];
    return to === model.config.numLayers && 'ids' in input ? input.queryFrom ?? 0 : 0;
  };
  try {
    run.hold(() =>
      inputs.forEach((input, i) => {
        if ('ids' in input) {
          if (from !== 0) throw new Error(`blocksLayerMajor: batches to embed start at block 0, not ${from}`);
          run.embed(i, input);
        } else {
          run.seed(i, from, input.hidden, input.ctx);
        }
      }),
    );
    for (let l = from; l < to; l++) {
      const release = run.open();
      try {
        for (let i = 0; i < inputs.length; i++) {
          const ctx = run.context(i);
          const q = l === to - 1 ? queryFrom(i) : 0;
          if (q > 0) ctx.queryFrom = q;
          try {
            run.runBlockAt(l, l, i);
          } finally {
            delete ctx.queryFrom;
          }
          yield;
        }
      } finally {
        release();
      }
      run.dropState(l);
    }
    const release = run.open();
    try {
      for (let i = 0; i < inputs.length; i++) {
        finish(i, run.state(to, i), run.context(i), queryFrom(i));
        run.store.delete(`${to}/${i}`);
        yield;
      }
    } finally {
      release();
    }
  } finally {
    run.close();
  }
}

/** {@link forwardLayerMajorSteps} straight through. */
export function forwardLayerMajor(model: LayerMajorModel, batches: readonly LayerMajorBatch[], finish: (i: number, hidden: Tensor, from: number) => void, options: LayerMajorOptions = {}): void {
  runSteps(forwardLayerMajorSteps(model, batches, finish, options));
}

/** {@link forwardLayerMajorSteps} with an event-loop turn at every pause (Ctrl-C is heard). */
export function forwardLayerMajorAsync(model: LayerMajorModel, batches: readonly LayerMajorBatch[], finish: (i: number, hidden: Tensor, from: number) => void, options: LayerMajorOptions = {}): Promise<void> {
  return runStepsYielding(forwardLayerMajorSteps(model, batches, finish, options));
}

/** True when `model` can run layer-major (a `DecoderModel`, or anything with its stages). */
export function isLayerMajorModel(model: unknown): model is LayerMajorModel {
  const m = model as Partial<LayerMajorModel>;
  return typeof m.embed === 'function' && typeof m.runBlock === 'function' && typeof m.finalNorm === 'function' &&
    typeof m.lmHead === 'function' && typeof m.config?.numLayers === 'number';
}
