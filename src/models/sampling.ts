/**
 * Choosing the next token from one row of logits, in Hugging Face's order of logits processors:
 * temperature → top-k → top-p (nucleus) → softmax → draw. Temperature 0 (or undefined) is greedy.
 */
import type { Rng } from '../tensor/random.ts';

export interface SamplingOptions {
  /** 0 / undefined: greedy (argmax). */
  temperature?: number;
  /** Keep only the k most likely tokens (ties with the k-th are kept, as HF does). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p. */
  topP?: number;
}

/** Index of the largest value (the first one on ties, like torch.argmax). */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** Draw a token from `logits` (one vocabulary row). */
export function sampleToken(logits: ArrayLike<number>, options: SamplingOptions, rng: Rng): number {
  const t = options.temperature ?? 0;
  if (!(t > 0)) return argmax(logits);
  const V = logits.length;
  const scores = new Float64Array(V);
  for (let i = 0; i < V; i++) scores[i] = logits[i] / t;
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let keep = V;
  if (options.topK !== undefined && options.topK > 0 && options.topK < V) {
    const kth = scores[order[options.topK - 1]];
    keep = options.topK;
    while (keep < V && scores[order[keep]] >= kth) keep++;
  }
  // softmax over the kept tokens (sorted descending)
  const max = scores[order[0]];
  const probs = new Float64Array(keep);
  let sum = 0;
  for (let r = 0; r < keep; r++) {
    probs[r] = Math.exp(scores[order[r]] - max);
    sum += probs[r];
  }
  for (let r = 0; r < keep; r++) probs[r] /= sum;
  if (options.topP !== undefined && options.topP < 1) {
    // HF drops tokens whose ascending cumulative probability is ≤ 1 − p, i.e. keeps the head whose
    // mass before it is < p; at least one token stays.
    let mass = 0;
    let n = 0;
    while (n < keep && (n === 0 || mass < options.topP)) mass += probs[n++];
    keep = n;
    let s = 0;
    for (let r = 0; r < keep; r++) s += probs[r];
    for (let r = 0; r < keep; r++) probs[r] /= s;
  }
  let u = rng.uniform();
  for (let r = 0; r < keep; r++) {
    u -= probs[r];
    if (u < 0) return order[r];
  }
  return order[keep - 1];
}
