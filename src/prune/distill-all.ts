/**
 * Distillation of all parameters of a pruned model (the linearity paper's "removal + distillation
 * of all parameters"): the pruned model's kept blocks, embeddings, final norm, head and maps train
 * together so that its residual stream matches the original model's where the two meet,
 *
 *     loss = Σ_spans ℓ(h_after span, h*_after span) + ℓ(h_L, h*_L)        (ℓ: mse, cosine or both)
 *
 * over the real tokens of the calibration batches (h* from the original model, computed once per
 * batch; h from the pruned model on the tape, distill-model.ts), with AdamW in a seeded batch order.
 * `distill.ts` trains the maps alone on fixed inputs; this trains the whole pruned network.
 */
import { add, backward, constant, type Var } from '../autograd/index.ts';
import { AdamW } from '../autograd/optim/adam.ts';
import { isNotMatrix } from '../autograd/optim/optimizer.ts';
import type { TokenBatch } from '../data/calibration.ts';
import { Rng } from '../tensor/random.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { gather, mapLoss, shuffled, type DistillLoss, type EpochLoss } from './distill.ts';
import { gatherRows, TrainablePruned } from './distill-model.ts';
import { PrunedModel } from './pruned-model.ts';
import { tokenRows } from './spans.ts';

export interface DistillAllOptions {
  steps: number;
  loss?: DistillLoss;
  cosineWeight?: number;
  /** AdamW learning rate (default 1e-4). */
  lr?: number;
  weightDecay?: number;
  seed?: number;
  onStep?: (step: number, loss: number) => void;
}

export interface DistillAllResult {
  model: PrunedModel;
  /** Trained parameters (elements). */
  parameters: number;
  epochs: EpochLoss[];
}

/** The original model's states after each replacement's span and at the end, real tokens only. */
function targets(original: PrunedModel, pruned: PrunedModel, batch: TokenBatch, rows: Int32Array): { spans: Tensor[]; final: Tensor } {
  const d = original.base.config.hiddenSize;
  const states: Tensor[] = [];
  const { preFinalNorm } = original.forward(batch.ids, {
    attentionMask: batch.attentionMask, positionIds: batch.positionIds, statesOnly: true,
    onBlock: ({ layer, input, output }) => {
      if (layer === 0) states[0] = input;
      states[layer + 1] = output.hidden;
    },
  });
  return {
    spans: pruned.replacements.map((r) => gather(states[r.start + r.count], rows, d, 'float32')),
    final: gather(preFinalNorm, rows, d, 'float32'),
  };
}

export function distillAll(pruned: PrunedModel, batches: readonly TokenBatch[], o: DistillAllOptions): DistillAllResult {
  if (!(Number.isInteger(o.steps) && o.steps >= 0)) throw new Error(`distillation steps must be a non-negative integer, got ${o.steps}`);
  if (batches.length === 0) throw new Error('distillation needs at least one calibration batch');
  const student = new TrainablePruned(pruned);
  const params = student.parameters('all');
  const parameters = params.reduce((n, p) => n + p.size, 0);
  if (o.steps === 0) return { model: pruned, parameters, epochs: [] };
  const original = new PrunedModel(pruned.base);
  const rowsOf = batches.map((b) => tokenRows(b).rows);
  const cache = new Map<number, ReturnType<typeof targets>>();
  const opt = new AdamW(params, { lr: o.lr ?? 1e-4, weightDecay: o.weightDecay ?? 0, noDecay: isNotMatrix });
  const kind = o.loss ?? 'mse';
  const rng = new Rng(o.seed ?? 0);
  let order: number[] = [];
  const epochs: EpochLoss[] = [];
  let sum = 0, count = 0;
  for (let step = 0; step < o.steps; step++) {
    if (order.length === 0) order = shuffled(batches.length, rng);
    const bi = order.shift()!;
    let t = cache.get(bi);
    if (!t) {
      t = targets(original, pruned, batches[bi], rowsOf[bi]);
      cache.set(bi, t);
    }
    opt.zeroGrad();
    const out = student.forward(batches[bi], true);
    const terms: Var[] = out.spanOutputs.map((s, k) => mapLoss(gatherRows(s, rowsOf[bi]), constant(t.spans[k]), kind, o.cosineWeight ?? 1));
    terms.push(mapLoss(gatherRows(out.final, rowsOf[bi]), constant(t.final), kind, o.cosineWeight ?? 1));
    const loss = terms.reduce((a, b) => add(a, b));
    backward(loss);
    opt.step();
    const value = loss.item();
    o.onStep?.(step + 1, value);
    sum += value;
    count++;
    if (order.length === 0 || step === o.steps - 1) {
      epochs.push({ epoch: epochs.length + 1, steps: count, loss: sum / count, perMap: [] });
      sum = 0;
      count = 0;
    }
  }
  return { model: student.toPruned(), parameters, epochs };
}
