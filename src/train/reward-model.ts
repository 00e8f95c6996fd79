/**
 * Pairwise reward modelling on top of any trainable decoder (trainable-model.ts), in the layout of
 * Hugging Face's `<Arch>ForSequenceClassification` with num_labels = 1 (the usual reward-model
 * head, e.g. TRL's RewardTrainer):
 *
 *   r(x) = w · normed_L(x)[last]       w = `score.weight` [1, d], no bias;
 *
 * normed_L is the final norm's output (HF's last hidden state) and `last` the last real
 * (unpadded) token of the sequence. The loss over P pairs is the contrastive (Bradley–Terry) loss
 *
 *   L = (1/P) Σ_p −log σ(r(chosen_p) − r(rejected_p)),
 *
 * computed as the cross-entropy of the two-way logits [r_chosen, r_rejected] with target 0
 * (−log softmax([a, b])₀ = −log σ(a − b)). Pairwise accuracy: the share of pairs with
 * r(chosen) > r(rejected) (a tie counts as wrong).
 *
 * Export: the head goes into the HF folder as `score.weight` and config.json names the
 * `…ForSequenceClassification` class (num_labels 1, a pad_token_id transformers pools correctly:
 * reward-pad-token.ts), so
 * `AutoModelForSequenceClassification.from_pretrained(folder)` is the trained reward model; an
 * architecture whose class name cannot be derived is refused, never exported without its head.
 */
import { backward, clipGradNorm, constant, crossEntropy, linear, matmul, noGrad, param, reshape, type Var } from '../autograd/index.ts';
import type { CheckpointableAdamW } from '../autograd/optim/adam.ts';
import type { StepResult } from './train-step.ts';
import type { EvalTokenizer } from '../eval/model-api.ts';
import type { WeightSource } from '../models/types.ts';
import type { Rng } from '../tensor/random.ts';
import { Tensor } from '../tensor/tensor.ts';
import { saveHFModel } from './hf-folder.ts';
import { padTokenFiles, rewardPadding, withPadRow, type RewardPadding } from './reward-pad-token.ts';
import type { TrainableModel } from './trainable-model.ts';

export const REWARD_HEAD_TENSOR = 'score.weight';
/** config.json record describing the head (for readers; transformers ignores it). */
export const REWARD_HEAD_CONFIG_KEY = 'linscope_reward_head';

/** A fresh head, N(0, initializer_range²) as HF initialises `score`. */
export function initRewardHead(model: TrainableModel, rng: Rng): Var {
  const std = typeof model.rawConfig.initializer_range === 'number' ? model.rawConfig.initializer_range : 0.02;
  return param(rng.randn([1, model.config.hiddenSize], std), REWARD_HEAD_TENSOR);
}

/** The head saved with a reward-model export, when the source has one. */
export function loadRewardHead(source: WeightSource, model: TrainableModel): Var | undefined {
  if (!source.hasTensor(REWARD_HEAD_TENSOR)) return undefined;
  const t = source.getTensor(REWARD_HEAD_TENSOR, 'float32');
  if (t.shape.length !== 2 || t.shape[0] !== 1 || t.shape[1] !== model.config.hiddenSize) {
    throw new Error(`"${REWARD_HEAD_TENSOR}" has shape [${t.shape.join(', ')}], expected [1, ${model.config.hiddenSize}] (a one-output reward head)`);
  }
  return param(t.clone(), REWARD_HEAD_TENSOR);
}

/** A text's token ids with the tokenizer's special tokens; cut from the left (BOS kept) to `maxLen`. */
export function rewardTokens(tokenizer: EvalTokenizer, text: string, maxLen: number): number[] {
  const ids = tokenizer.encode(text);
  if (ids.length <= maxLen) return ids;
  const bos = tokenizer.bosId !== undefined && ids[0] === tokenizer.bosId;
  return bos ? [ids[0], ...ids.slice(ids.length - maxLen + 1)] : ids.slice(ids.length - maxLen);
}

export interface TokenPair {
  chosen: number[];
  rejected: number[];
}

export interface PairBatch {
  inputs: Int32Array;
  /** 2P rows: chosen of pair p at row 2p, rejected at row 2p + 1. */
  batch: number;
  seqLen: number;
  /** Row-major index b·T + t of each row's last real token. */
  lastIndex: Int32Array;
  /** Row-major indices of every real token (for the linearity measurement). */
  realRows: Int32Array;
}

/** Right-padded batch of P pairs (padding cannot reach real tokens under causal attention). */
export function pairBatch(pairs: readonly TokenPair[], padId: number): PairBatch {
  const rows = pairs.flatMap((p) => [p.chosen, p.rejected]);
  if (rows.some((r) => r.length === 0)) throw new Error('reward: a sequence encodes to no tokens');
  const T = Math.max(...rows.map((r) => r.length));
  const B = rows.length;
  const inputs = new Int32Array(B * T).fill(padId);
  const lastIndex = new Int32Array(B);
  const real: number[] = [];
  rows.forEach((r, b) => {
    r.forEach((id, t) => {
      inputs[b * T + t] = id;
      real.push(b * T + t);
    });
    lastIndex[b] = b * T + r.length - 1;
  });
  return { inputs, batch: B, seqLen: T, lastIndex, realRows: Int32Array.from(real) };
}

/** Rewards [2P, 1] of a batch (records a graph unless called under noGrad). */
export function rewards(model: TrainableModel, head: Var, b: PairBatch): { rewards: Var; states: Var[] } {
  const out = model.forward(b.inputs, b.batch, b.seqLen);
  const D = model.config.hiddenSize;
  const flat = reshape(out.normed, b.batch * b.seqLen, D);
  // select each row's last real token: a one-hot [2P, B·T] matrix times the states
  const pick = new Float32Array(b.batch * b.batch * b.seqLen);
  b.lastIndex.forEach((idx, row) => (pick[row * b.batch * b.seqLen + idx] = 1));
  const last = matmul(constant(new Tensor(pick, [b.batch, b.batch * b.seqLen])), flat);
  return { rewards: linear(last, head), states: out.states };
}

/** Mean −log σ(r_chosen − r_rejected) over the pairs of `r` [2P, 1] (chosen, rejected interleaved). */
export function pairwiseLoss(r: Var): Var {
  const P = r.value.size / 2;
  return crossEntropy(reshape(r, P, 2), new Int32Array(P), { reduction: 'mean' });
}

/** One optimiser step on the pairwise loss (body and head), gradient clipped to `gradClip` (0: none). */
export function rewardStep(model: TrainableModel, head: Var, opt: CheckpointableAdamW, b: PairBatch, lr: number, gradClip: number): StepResult {
  opt.zeroGrad();
  const loss = pairwiseLoss(rewards(model, head, b).rewards);
  const value = loss.item();
  backward(loss);
  const gradNorm = clipGradNorm(opt.params, gradClip > 0 ? gradClip : Infinity);
  opt.lr = lr;
  opt.step();
  return { loss: value, ce: value, reg: 0, gradNorm, lr };
}

export interface RewardEval {
  pairs: number;
  /** Share of pairs with r(chosen) > r(rejected). */
  pairwiseAccuracy: number;
  /** Mean −log σ(r_chosen − r_rejected). */
  loss: number;
  /** Mean r(chosen) − r(rejected). */
  meanMargin: number;
}

/** Pairwise accuracy, loss and margin from rewards (chosen, rejected interleaved). */
export function pairMetrics(r: ArrayLike<number>): RewardEval {
  const P = r.length / 2;
  let correct = 0, loss = 0, margin = 0;
  for (let p = 0; p < P; p++) {
    const d = r[2 * p] - r[2 * p + 1];
    if (d > 0) correct++;
    // −log σ(d) = log(1 + e^{−d}), stable for both signs
    loss += d > 0 ? Math.log1p(Math.exp(-d)) : -d + Math.log1p(Math.exp(d));
    margin += d;
  }
  return { pairs: P, pairwiseAccuracy: correct / P, loss: loss / P, meanMargin: margin / P };
}

/** Rewards of every pair (no graph), batch by batch. */
export function evaluateRewards(model: TrainableModel, head: Var, batches: readonly PairBatch[]): RewardEval {
  const all: number[] = [];
  noGrad(() => {
    for (const b of batches) all.push(...rewards(model, head, b).rewards.value.data);
  });
  return pairMetrics(all);
}

/** HF's sequence-classification class of a causal-LM config, or one clear error. */
export function sequenceClassificationClass(config: Record<string, unknown>): string {
  const arch = Array.isArray(config.architectures) ? config.architectures[0] : undefined;
  const m = typeof arch === 'string' ? /^(.*?)(ForCausalLM|LMHeadModel)$/.exec(arch) : null;
  if (!m) {
    throw new Error(`cannot name the Hugging Face sequence-classification class of architectures ${JSON.stringify(config.architectures)}: refusing to export the reward model without its head`);
  }
  return `${m[1]}ForSequenceClassification`;
}

/**
 * The reward model as an HF folder: the body, `score.weight`, and a …ForSequenceClassification config
 * whose pad_token_id transformers pools correctly for the `sequences` linscope scored
 * (reward-pad-token.ts: a `<pad>` token is added when the EOS occurs inside them). Returns the padding chosen.
 */
export function saveRewardModel(dir: string, model: TrainableModel, head: Var, tokenizerDir: string | undefined, sequences: Iterable<readonly number[]>, metadata: Record<string, string> = {}): RewardPadding {
  const raw = model.rawConfig as Record<string, unknown>;
  const cls = sequenceClassificationClass(raw);
  const padding = rewardPadding(raw, sequences);
  const vocab = raw.vocab_size as number;
  const config = {
    ...raw,
    architectures: [cls],
    num_labels: 1,
    id2label: { 0: 'LABEL_0' },
    label2id: { LABEL_0: 0 },
    ...(padding.added ? { vocab_size: vocab + 1 } : {}),
    pad_token_id: padding.padId,
    [REWARD_HEAD_CONFIG_KEY]: {
      tensor: REWARD_HEAD_TENSOR,
      reward: 'score.weight · (final-norm hidden state of the last non-padding token); no bias',
      loss: '-log sigmoid(r_chosen - r_rejected)',
      pad_token: padding.reason,
    },
  };
  const tensors: Record<string, Tensor> = { [REWARD_HEAD_TENSOR]: head.value, ...(padding.added ? withPadRow(model.namedTensors(), vocab) : {}) };
  const files = padding.added ? padTokenFiles(tokenizerDir, vocab, padding.padId) : undefined;
  saveHFModel(dir, model, tokenizerDir, metadata, { config, tensors, files });
  return padding;
}
