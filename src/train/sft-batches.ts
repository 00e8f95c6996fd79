/**
 * Supervised fine-tuning sequences and batches: prompt ++ answer token ids, right-padded, with
 * targets only on the answer tokens (every other target is IGNORE_INDEX), and the scoring of
 * answers (log-likelihood, first-token accuracy, choice among labels) from a forward's logits.
 */
import { splitPromptAnswer } from '../eval/answer-tokens.ts';
import type { EvalTokenizer } from '../eval/model-api.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { TokenBatch } from './batches.ts';
import type { SftExample } from './finetune-tasks.ts';
import { IGNORE_INDEX } from './train-step.ts';

export interface SftSequence {
  /** prompt ++ answer (BOS first when the tokenizer adds one). */
  ids: number[];
  /** Index in `ids` of the first answer token. */
  answerStart: number;
}

/** Tokenises examples; prompts longer than `maxLen` − answer are cut from the left (BOS kept). */
export function tokenizeExamples(examples: readonly SftExample[], tokenizer: EvalTokenizer, maxLen: number): SftSequence[] {
  return examples.map((e) => tokenizePair(tokenizer, e.prompt, e.answer, maxLen));
}

export function tokenizePair(tokenizer: EvalTokenizer, prompt: string, answer: string, maxLen: number): SftSequence {
  const split = splitPromptAnswer(tokenizer, prompt, answer);
  let p = split.prompt;
  const room = maxLen - split.answer.length;
  if (room < 2) throw new Error(`answer ${JSON.stringify(answer)} does not fit in ${maxLen} tokens`);
  if (p.length > room) {
    const bos = tokenizer.bosId !== undefined && p[0] === tokenizer.bosId;
    p = bos ? [p[0], ...p.slice(p.length - room + 1)] : p.slice(p.length - room);
  }
  return { ids: [...p, ...split.answer], answerStart: p.length };
}

export interface SftBatch extends TokenBatch {
  /** Row-major indices (b·T + t) of the real (unpadded) input positions. */
  realRows: Int32Array;
}

/** One right-padded batch: inputs ids[0 … n−2], targets ids[t + 1] on answer positions only. */
export function sftBatch(seqs: readonly SftSequence[], padId: number): SftBatch {
  const T = Math.max(...seqs.map((s) => s.ids.length - 1));
  const B = seqs.length;
  const inputs = new Int32Array(B * T).fill(padId);
  const targets = new Int32Array(B * T).fill(IGNORE_INDEX);
  const real: number[] = [];
  seqs.forEach((s, b) => {
    for (let t = 0; t < s.ids.length - 1; t++) {
      inputs[b * T + t] = s.ids[t];
      real.push(b * T + t);
      if (t + 1 >= s.answerStart) targets[b * T + t] = s.ids[t + 1];
    }
  });
  return { inputs, targets, batch: B, seqLen: T, realRows: Int32Array.from(real) };
}

/** Consecutive batches of at most `size` sequences. */
export function sftBatches(seqs: readonly SftSequence[], size: number, padId: number): SftBatch[] {
  const out: SftBatch[] = [];
  for (let i = 0; i < seqs.length; i += size) out.push(sftBatch(seqs.slice(i, i + size), padId));
  return out;
}

export interface AnswerScore {
  /** Σ log p(answer tokens | prefix). */
  logLikelihood: number;
  answerTokens: number;
  /** The most likely next token after the prompt is the answer's first token. */
  firstTokenCorrect: boolean;
}

/** Scores row b of a batch from logits [B, T, V] (log-softmax in float64). */
export function scoreRow(logits: Tensor, seq: SftSequence, b: number): AnswerScore {
  const [, T, V] = logits.shape;
  const x = logits.data;
  let ll = 0;
  let first = false;
  for (let t = seq.answerStart - 1; t < seq.ids.length - 1; t++) {
    const off = (b * T + t) * V;
    let max = -Infinity, arg = 0;
    for (let j = 0; j < V; j++) if (x[off + j] > max) { max = x[off + j]; arg = j; }
    let s = 0;
    for (let j = 0; j < V; j++) s += Math.exp(x[off + j] - max);
    const target = seq.ids[t + 1];
    ll += x[off + target] - max - Math.log(s);
    if (t === seq.answerStart - 1) first = arg === target;
  }
  return { logLikelihood: ll, answerTokens: seq.ids.length - seq.answerStart, firstTokenCorrect: first };
}
