/**
 * Per-document metrics and their aggregation with standard errors, as lm-evaluation-harness
 * computes them (lm_eval/api/task.py ConfigurableTask.process_results, lm_eval/api/metrics.py,
 * lm_eval/evaluator_utils.py _compute_task_aggregations; harness commit 4e7e0d47):
 *
 * - multiple choice: pred = argmax(ll) (first on ties); acc = [pred == gold];
 *   acc_norm = [argmax(ll_i / len(choice_i)) == gold], len in characters (code points) of the
 *   choice text *without* the target delimiter;
 * - loglikelihood (lambada): perplexity item = ll, acc = is_greedy;
 * - aggregation: mean; perplexity = exp(−mean(ll)); cb's f1 = mean over the 3 classes of the
 *   binary F1 of "class c vs rest" (sklearn f1_score, 0 when undefined);
 * - stderr: mean → sample std / √n (closed form); perplexity → bootstrap: chunks i = 0…iters/1000−1
 *   each seeded random.Random(i), 1000 resamples `choices(xs, k=n)` per chunk, sample std of the
 *   replicates; cb's f1 aggregation has no stderr ("N/A"); n ≤ 1 → "N/A".
 */
import { PythonRandom } from './python-random.ts';

/** Python len(): code points. */
export function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** np.argmax: the first index of the maximum. */
export function firstArgmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation (n − 1), as metrics.sample_stddev. */
export function sampleStddev(xs: ArrayLike<number>): number {
  const n = xs.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[i];
  const mu = s / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (xs[i] - mu) ** 2;
  return Math.sqrt(ss / (n - 1));
}

export function meanStderr(xs: readonly number[]): number {
  return sampleStddev(xs) / Math.sqrt(xs.length);
}

export function perplexity(lls: readonly number[]): number {
  return Math.exp(-mean(lls));
}

/** Binary F1 of `positive` vs the rest (sklearn f1_score with zero_division → 0). */
function binaryF1(golds: readonly number[], preds: readonly number[], positive: number): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < golds.length; i++) {
    const g = golds[i] === positive;
    const p = preds[i] === positive;
    if (g && p) tp++;
    else if (p) fp++;
    else if (g) fn++;
  }
  const denom = 2 * tp + fp + fn;
  return denom === 0 ? 0 : (2 * tp) / denom;
}

/** super_glue/cb/aggregate.py cb_multi_fi: mean of the three one-vs-rest F1 scores. */
export function cbMacroF1(items: readonly (readonly [number, number])[]): number {
  const golds = items.map((x) => x[0]);
  const preds = items.map((x) => x[1]);
  return (binaryF1(golds, preds, 0) + binaryF1(golds, preds, 1) + binaryF1(golds, preds, 2)) / 3;
}

/** The harness's bootstrap standard error of perplexity(xs). */
export function bootstrapPerplexityStderr(xs: readonly number[], iters: number): number {
  const n = xs.length;
  const chunk = Math.min(1000, iters);
  const chunks = Math.floor(iters / chunk);
  const reps = new Float64Array(chunks * chunk);
  let k = 0;
  for (let i = 0; i < chunks; i++) {
    const rnd = new PythonRandom(i);
    for (let r = 0; r < chunk; r++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += xs[Math.floor(rnd.random() * n)];
      reps[k++] = Math.exp(-(s / n));
    }
  }
  return sampleStddev(reps);
}

export type StderrValue = number | 'N/A';

/** Aggregate of one metric and its stderr. */
export function aggregate(metric: string, items: readonly unknown[], bootstrapIters: number): { value: number; stderr: StderrValue } {
  if (metric === 'perplexity') {
    const xs = items as number[];
    return { value: perplexity(xs), stderr: bootstrapIters > 0 && xs.length > 1 ? bootstrapPerplexityStderr(xs, bootstrapIters) : 'N/A' };
  }
  if (metric === 'f1') return { value: cbMacroF1(items as [number, number][]), stderr: 'N/A' };
  const xs = items as number[];
  return { value: mean(xs), stderr: bootstrapIters > 0 && xs.length > 1 ? meanStderr(xs) : 'N/A' };
}
