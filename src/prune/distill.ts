/**
 * Distillation of replacement maps: train each map (A, b) with our autograd so that the pruned
 * model's state after the span matches the original model's,
 *
 *     prediction = base + X·A + b          (types.ts: X = h_in or the previous MLP output)
 *     loss       = mse(prediction, h_out)  and/or  mean_t (1 − cos(prediction_t, h_out,t))
 *
 * over the real tokens of calibration batches, with AdamW (seeded batch order). Targets h_out are
 * always the original model's states after the span. Inputs are either
 * - 'original' (default, teacher forcing): h_in (and X) from the original model — each map learns
 *   to stand in for its blocks; the (input, target) rows are computed once and kept in memory
 *   (tokens × d × 3 floats per map), so steps need no forward pass;
 * - 'pruned': h_in from the pruned model as it is being trained — later maps learn to correct the
 *   errors of earlier ones; one pruned forward per step.
 *
 * Maps start from their current values (the least-squares fit). A dropped span has no map and is
 * left alone. Losses are reported as the mean over each epoch's steps (an epoch = one pass over the
 * calibration batches).
 */
import { add, constant, cosineDistanceMean, linear, mse, param, scale, type Var } from '../autograd/index.ts';
import { AdamW } from '../autograd/optim/adam.ts';
import { backward } from '../autograd/graph.ts';
import type { TokenBatch } from '../data/calibration.ts';
import { Rng } from '../tensor/random.ts';
import { Tensor, allocate, type DType } from '../tensor/tensor.ts';
import { PrunedModel } from './pruned-model.ts';
import { tokenRows } from './spans.ts';
import { spanLabel, type Replacement } from './types.ts';
import { runSteps, runStepsYielding } from '../util/steps.ts';

export type DistillLoss = 'mse' | 'cosine' | 'mse+cosine';
export type DistillInputs = 'original' | 'pruned';

export interface DistillOptions {
  /** Optimiser steps (one calibration batch per step). */
  steps: number;
  loss?: DistillLoss;
  /** Weight of the cosine term in 'mse+cosine' (default 1). */
  cosineWeight?: number;
  inputs?: DistillInputs;
  /** AdamW learning rate (default 1e-4: the maps start at the least-squares optimum). */
  lr?: number;
  /** AdamW decoupled weight decay (default 0: decay would pull A toward zero, not toward I). */
  weightDecay?: number;
  /** Seed of the batch order (default 0). */
  seed?: number;
  /** Parameter dtype (default float32, the runtime's). */
  dtype?: DType;
  onStep?: (step: number, loss: number) => void;
}

export interface EpochLoss {
  epoch: number;
  steps: number;
  /** Mean total loss over the epoch's steps (sum over maps). */
  loss: number;
  /** Mean loss of each trained map, in the order of `trained`. */
  perMap: number[];
}

export interface DistillResult {
  model: PrunedModel;
  /** Spans whose maps were trained. */
  trained: string[];
  epochs: EpochLoss[];
}

interface Trainable {
  index: number;
  weightT: Var;
  bias?: Var;
}

/** Rows of a batch's real tokens gathered into [N, d] (the parameter dtype). */
export function gather(t: Tensor, rows: Int32Array, d: number, dtype: DType): Tensor {
  const out = allocate(dtype, rows.length * d);
  for (let i = 0; i < rows.length; i++) out.set(t.data.subarray(rows[i] * d, rows[i] * d + d), i * d);
  return new Tensor(out, [rows.length, d]);
}

/** Σ_rows per-map data for one batch: X, base (undefined for residual maps) and the target. */
interface MapRows {
  x: Tensor;
  base?: Tensor;
  target: Tensor;
}

/** Train the maps of `model`'s replacements (see the module comment). */
export function distillMaps(model: PrunedModel, batches: readonly TokenBatch[], options: DistillOptions): DistillResult {
  return runSteps(distillSteps(model, batches, options));
}

/** {@link distillMaps} giving the event loop a turn after every step, so Ctrl-C is heard (same result). */
export function distillMapsAsync(model: PrunedModel, batches: readonly TokenBatch[], options: DistillOptions): Promise<DistillResult> {
  return runStepsYielding(distillSteps(model, batches, options));
}

function* distillSteps(model: PrunedModel, batches: readonly TokenBatch[], options: DistillOptions): Generator<void, DistillResult, void> {
  const steps = options.steps;
  if (!(Number.isInteger(steps) && steps >= 0)) throw new Error(`distillation steps must be a non-negative integer, got ${steps}`);
  if (batches.length === 0) throw new Error('distillation needs at least one calibration batch');
  const dtype = options.dtype ?? 'float32';
  const lossKind = options.loss ?? 'mse';
  const inputs = options.inputs ?? 'original';
  const d = model.base.config.hiddenSize;
  const original = new PrunedModel(model.base);
  const trainables: Trainable[] = [];
  model.replacements.forEach((r, index) => {
    if (!r.map) return;
    trainables.push({
      index,
      weightT: param(transpose(r.map.weight, dtype), `map${spanLabel(r)}.weightT`),
      bias: r.map.bias ? param(r.map.bias.to(dtype), `map${spanLabel(r)}.bias`) : undefined,
    });
  });
  const trained = trainables.map((t) => spanLabel(model.replacements[t.index]));
  if (trainables.length === 0 || steps === 0) return { model, trained, epochs: [] };

  const current = () => withMaps(model, trainables);
  const rowsOf = batches.map((b) => tokenRows(b).rows);
  // targets: the original state after each trained span, per batch (and the original inputs)
  const cache = new Map<number, MapRows[]>();
  const originalRows = (bi: number): MapRows[] => {
    let cached = cache.get(bi);
    if (!cached) {
      cached = collectRows('original', original, model, trainables, batches[bi], rowsOf[bi], d, dtype);
      cache.set(bi, cached);
    }
    return cached;
  };

  const opt = new AdamW(trainables.flatMap((t) => (t.bias ? [t.weightT, t.bias] : [t.weightT])), {
    lr: options.lr ?? 1e-4,
    weightDecay: options.weightDecay ?? 0,
  });
  const rng = new Rng(options.seed ?? 0);
  let order: number[] = [];
  const epochs: EpochLoss[] = [];
  let epochSum = 0;
  let epochPer = new Array<number>(trainables.length).fill(0);
  let epochSteps = 0;
  for (let step = 0; step < steps; step++) {
    if (order.length === 0) order = shuffled(batches.length, rng);
    const bi = order.shift()!;
    const targets = originalRows(bi);
    const data = inputs === 'original' ? targets : mergeInputs(collectRows('pruned', current(), model, trainables, batches[bi], rowsOf[bi], d, dtype), targets);
    opt.zeroGrad();
    let total: Var | undefined;
    const losses: number[] = [];
    trainables.forEach((t, k) => {
      const { x, base, target } = data[k];
      let pred = linear(constant(x), t.weightT, t.bias);
      if (base) pred = add(pred, constant(base));
      const loss = mapLoss(pred, constant(target), lossKind, options.cosineWeight ?? 1);
      losses.push(loss.value.data[0]);
      total = total ? add(total, loss) : loss;
    });
    backward(total!);
    opt.step();
    const value = losses.reduce((a, b) => a + b, 0);
    options.onStep?.(step + 1, value);
    epochSum += value;
    losses.forEach((l, k) => (epochPer[k] += l));
    epochSteps++;
    if (order.length === 0 || step === steps - 1) {
      epochs.push({ epoch: epochs.length + 1, steps: epochSteps, loss: epochSum / epochSteps, perMap: epochPer.map((l) => l / epochSteps) });
      epochSum = 0;
      epochPer = new Array<number>(trainables.length).fill(0);
      epochSteps = 0;
    }
    yield;
  }
  return { model: current(), trained, epochs };
}

export function mapLoss(pred: Var, target: Var, kind: DistillLoss, cosineWeight: number): Var {
  if (kind === 'mse') return mse(pred, target);
  if (kind === 'cosine') return cosineDistanceMean(pred, target);
  return add(mse(pred, target), scale(cosineDistanceMean(pred, target), cosineWeight));
}

/**
 * One forward of `source` (the original model, or the pruned model being trained) collecting, for
 * each trainable map of `pruned`, the map's input rows; for the original model (`role` 'original')
 * also the target (the state after the span's last block).
 */
function collectRows(role: 'original' | 'pruned', source: PrunedModel, pruned: PrunedModel, trainables: readonly Trainable[], batch: TokenBatch, rows: Int32Array, d: number, dtype: DType): MapRows[] {
  const out: Partial<MapRows>[] = trainables.map(() => ({}));
  const byStart = new Map<number, number>();
  const byEnd = new Map<number, number>();
  trainables.forEach((t, k) => {
    const r = pruned.replacements[t.index];
    byStart.set(r.start, k);
    byEnd.set(r.start + r.count - 1, k);
  });
  let previousMlp: { layer: number; mlpOut: Tensor } | undefined;
  const take = (k: number, h: Tensor, mlp: Tensor | undefined) => {
    const r = pruned.replacements[trainables[k].index];
    const input = r.map!.input;
    const x = input === 'mlp' ? mlp : h;
    if (!x) throw new Error(`distillation: span ${spanLabel(r)} reads the MLP output of block ${r.start - 1}, which did not run before it`);
    out[k].x = gather(x, rows, d, dtype);
    if (input === 'mlp') {
      const base = gather(h, rows, d, dtype);
      const xs = out[k].x!.data;
      for (let i = 0; i < base.size; i++) base.data[i] -= xs[i];
      out[k].base = base;
    }
  };
  source.forward(batch.ids, {
    attentionMask: batch.attentionMask,
    positionIds: batch.positionIds,
    statesOnly: true,
    onBlock: ({ layer, input, output }) => {
      const k = byStart.get(layer);
      if (k !== undefined && role === 'original') take(k, input, previousMlp?.layer === layer - 1 ? previousMlp.mlpOut : undefined);
      const e = byEnd.get(layer);
      if (e !== undefined && role === 'original') out[e].target = gather(output.hidden, rows, d, dtype);
      previousMlp = { layer, mlpOut: output.mlpOut };
    },
    onReplacement: ({ replacement, input, x }) => {
      const k = byStart.get(replacement.start);
      if (k !== undefined && role === 'pruned') take(k, input, replacement.map?.input === 'mlp' ? x : undefined);
      previousMlp = undefined;
    },
  });
  return out as MapRows[];
}

/** Inputs from the pruned model, targets from the original. */
function mergeInputs(inputs: MapRows[], targets: MapRows[]): MapRows[] {
  return inputs.map((m, k) => ({ x: m.x, base: m.base, target: targets[k].target }));
}

/** `model` with the trainables' current values as its maps (float64 copies). */
function withMaps(model: PrunedModel, trainables: readonly Trainable[]): PrunedModel {
  const replacements: Replacement[] = model.replacements.map((r) => ({ ...r }));
  for (const t of trainables) {
    const r = replacements[t.index];
    r.map = { input: r.map!.input, weight: transpose(t.weightT.value, 'float64'), ...(t.bias ? { bias: t.bias.value.to('float64') } : {}) };
  }
  return new PrunedModel(model.base, replacements);
}

/** Transposed copy of a square [d, d] matrix in `dtype`. */
function transpose(m: Tensor, dtype: DType): Tensor {
  const d = m.shape[0];
  const out = allocate(dtype, d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[j * d + i] = m.data[i * d + j];
  return new Tensor(out, [d, d]);
}

export function shuffled(n: number, rng: Rng): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
