/**
 * Healing a pruned model: fine-tuning it with the language-model loss on the calibration text,
 *
 *     loss = mean over real next-token pairs of −log p(x_{t+1} | x_{≤t})
 *
 * training all parameters or (`adjacent`) only the kept blocks next to each removed span and the
 * maps, with AdamW in a seeded batch order (the pruned model on the tape: distill-model.ts).
 */
import { backward } from '../autograd/index.ts';
import { crossEntropyMean } from '../autograd/ops/fused.ts';
import { AdamW } from '../autograd/optim/adam.ts';
import { isNotMatrix } from '../autograd/optim/optimizer.ts';
import type { TokenBatch } from '../data/calibration.ts';
import { Rng } from '../tensor/random.ts';
import { shuffled } from './distill.ts';
import { TrainablePruned, type TrainScope } from './distill-model.ts';
import type { PrunedModel } from './pruned-model.ts';

const IGNORE = -100;

export interface HealOptions {
  steps: number;
  scope?: TrainScope;
  /** AdamW learning rate (default 1e-4). */
  lr?: number;
  weightDecay?: number;
  seed?: number;
  onStep?: (step: number, loss: number) => void;
}

export interface HealResult {
  model: PrunedModel;
  scope: TrainScope;
  /** Trained parameters (elements). */
  parameters: number;
  /** Training loss (next-token cross-entropy) of each step. */
  losses: number[];
}

/** Next-token targets of a batch, B·T row-major: ids[t + 1] where both positions are real, else ignored. */
export function nextTokenTargets(batch: Pick<TokenBatch, 'ids' | 'attentionMask'>): Int32Array {
  const B = batch.ids.length, T = batch.ids[0].length;
  const out = new Int32Array(B * T).fill(IGNORE);
  for (let b = 0; b < B; b++) {
    const ids = batch.ids[b], mask = batch.attentionMask[b];
    for (let t = 0; t + 1 < T; t++) if (mask[t] && mask[t + 1]) out[b * T + t] = ids[t + 1];
  }
  return out;
}

export function healPruned(pruned: PrunedModel, batches: readonly TokenBatch[], o: HealOptions): HealResult {
  if (!(Number.isInteger(o.steps) && o.steps >= 0)) throw new Error(`heal steps must be a non-negative integer, got ${o.steps}`);
  if (batches.length === 0) throw new Error('healing needs at least one calibration batch');
  const scope = o.scope ?? 'all';
  const student = new TrainablePruned(pruned);
  const params = student.parameters(scope);
  if (params.length === 0) throw new Error(`--heal-scope ${scope}: no parameters to train (no kept block is next to a removed span)`);
  const parameters = params.reduce((n, p) => n + p.size, 0);
  if (o.steps === 0) return { model: pruned, scope, parameters, losses: [] };
  const targets = batches.map(nextTokenTargets);
  const opt = new AdamW(params, { lr: o.lr ?? 1e-4, weightDecay: o.weightDecay ?? 0, noDecay: isNotMatrix });
  const rng = new Rng(o.seed ?? 0);
  let order: number[] = [];
  const losses: number[] = [];
  for (let step = 0; step < o.steps; step++) {
    if (order.length === 0) order = shuffled(batches.length, rng);
    const bi = order.shift()!;
    opt.zeroGrad();
    const loss = crossEntropyMean(student.forward(batches[bi]).logits!, targets[bi], IGNORE);
    backward(loss);
    opt.step();
    losses.push(loss.item());
    o.onStep?.(step + 1, loss.item());
  }
  return { model: student.toPruned(), scope, parameters, losses };
}
