/**
 * One optimiser step of language-model training and the validation loss:
 *
 *   loss = CE(logits, next tokens) + λ·R(h₀ … h_L)        (R: see regularizer.ts)
 *   backward, clip ‖g‖ to `gradClip` (when > 0), AdamW step at the scheduled learning rate.
 */
import { add, backward, clipGradNorm, crossEntropy, noGrad } from '../autograd/index.ts';
import type { CheckpointableAdamW } from '../autograd/optim/adam.ts';
import { crossEntropyMean } from '../autograd/ops/fused.ts';
import type { TokenBatch } from './batches.ts';
import type { TrainableModel } from './trainable-model.ts';
import { consecutiveStatePenalty, weightedPenalty, type RegularizerOptions } from './regularizer.ts';

/** Targets equal to this are not scored (prompt tokens, padding). */
export const IGNORE_INDEX = -100;

export interface StepResult {
  /** Total loss CE + λ·R. */
  loss: number;
  ce: number;
  /** R before weighting (0 without a regulariser). */
  reg: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  lr: number;
}

export interface StepOptions {
  regularizer: RegularizerOptions;
  lr: number;
  /** Max global gradient norm (0: no clipping). */
  gradClip: number;
}

export function trainStep(model: TrainableModel, opt: CheckpointableAdamW, batch: TokenBatch, o: StepOptions): StepResult {
  opt.zeroGrad();
  const out = model.forward(batch.inputs, batch.batch, batch.seqLen);
  const ce = crossEntropyMean(out.logits, batch.targets, IGNORE_INDEX);
  const reg = weightedPenalty(out.states, o.regularizer);
  const loss = reg ? add(ce, reg.penalty) : ce;
  const result = { loss: loss.item(), ce: ce.item(), reg: reg ? reg.raw.item() : 0 };
  backward(loss, undefined, { recycleValues: true }); // the forward's activations are the next step's storage
  const gradNorm = o.gradClip > 0 ? clipGradNorm(opt.params, o.gradClip) : clipGradNorm(opt.params, Infinity);
  opt.lr = o.lr;
  opt.step();
  return { ...result, gradNorm, lr: o.lr };
}

export interface EvalResult {
  /** Mean next-token cross-entropy over all scored tokens. */
  loss: number;
  perplexity: number;
  /** Mean cosine regulariser value R (unweighted) over the batches: how far consecutive states turn. */
  cosinePenalty: number;
  tokens: number;
}

/** Validation loss over fixed batches (no graph recorded). */
export function evaluateLoss(model: TrainableModel, batches: readonly TokenBatch[]): EvalResult {
  return noGrad(() => {
    let total = 0, tokens = 0, penalty = 0;
    for (const b of batches) {
      const out = model.forward(b.inputs, b.batch, b.seqLen);
      const sum = crossEntropy(out.logits, b.targets, { ignoreIndex: IGNORE_INDEX, reduction: 'sum' }).item();
      let n = 0;
      for (const t of b.targets) if (t !== IGNORE_INDEX) n++;
      total += sum;
      tokens += n;
      penalty += consecutiveStatePenalty(out.states, 'cosine')!.item();
    }
    const loss = total / tokens;
    return { loss, perplexity: Math.exp(loss), cosinePenalty: penalty / batches.length, tokens };
  });
}
