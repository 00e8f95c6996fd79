/**
 * Log-likelihood of continuations, computed once per shared context.
 *
 * For a request with context tokens c and continuation tokens x₁…x_k, the harness runs the model
 * on (c ++ x)[-(max_length+1):][:-1] and sums log p(x_i | c, x_<i) (lm_eval/models/huggingface.py
 * _loglikelihood_tokens); it also records whether every x_i is the argmax ("is_greedy").
 * Multiple-choice tasks send the same context with 2–13 continuations, so here:
 *
 * 1. requests are grouped by their (left-truncated) context P; a P with one continuation is scored
 *    plainly (one forward of P ++ x_<k, nothing to share); every other distinct P runs once, in
 *    batches of left-padded contexts sorted by length (little padding), building a KV cache and
 *    the next-token distribution after P, which scores x₁ of every continuation of P;
 * 2. the continuations with k > 1 are fed x₁…x_{k−1} on top of copies of their context's cache
 *    rows (right-padded, longest first), which scores x₂…x_k.
 *
 * This equals the harness's full-sequence computation up to float rounding: causal attention
 * makes the logits at a position depend only on the tokens before it, and padding is masked.
 */
import { logitRows } from '../log-probs.ts';
import { headAt } from '../selected-logits.ts';
import { firstPosition } from '../../models/gather-positions.ts';
import { Tensor, allocate } from '../../tensor/tensor.ts';
import type { KVCache } from '../../models/types.ts';
import { makeCache } from '../../models/context.ts';
import { forwardLayerMajor, isLayerMajorModel, type LayerMajorOptions } from '../../models/layer-major.ts';

/** What cached scoring needs from a model: src/models' DecoderModel. */
export interface CachedLM {
  forward(
    inputIds: number[][],
    options?: { attentionMask?: number[][]; cache?: KVCache | boolean; lastTokenLogitsOnly?: boolean; logitsAt?: readonly (readonly [number, number])[] },
  ): { logits: Tensor; cache?: KVCache };
}

export interface ScoreRequest {
  context: number[];
  continuation: number[];
}

export interface ScoreResult {
  /** Σ log p(continuation token | everything before it). */
  logLikelihood: number;
  /** Every continuation token is the model's argmax. */
  isGreedy: boolean;
  /** Continuation tokens scored. */
  tokens: number;
}

export interface ScoreOptions {
  maxLength: number;
  /** Sequences per forward call (contexts in stage 1, continuations in stage 2). */
  batchSize: number;
  /** Token used for padding slots (masked; any valid id). */
  padId: number;
  /** Called after each forward with the number of requests finished so far. */
  onProgress?: (done: number, total: number) => void;
  /** Memory budget of plain scoring's layer-major pass (default: from the machine; src/models/layer-major.ts). */
  memory?: LayerMajorOptions;
}

export interface ScoreStats {
  requests: number;
  distinctContexts: number;
  forwardCalls: number;
  /** Token slots run through the model, padding included / real tokens only. */
  slots: number;
  tokens: number;
  /** Tokens a plain one-forward-per-request scorer would run (Σ len of the harness's input window). */
  plainTokens: number;
}

interface Prepared {
  index: number;
  prefix: number[];
  continuation: number[];
}

/** log p(tokens[i]) and whether it is the argmax, at logits row rows[i] (one logitRows call). */
function scoreTokens(logits: Tensor, rows: readonly number[], tokens: readonly number[]): { lp: Float64Array; greedy: Uint8Array } {
  const V = logits.shape[logits.shape.length - 1];
  const d = logits.data;
  const stats = logitRows(d, V, Int32Array.from(rows), rows.length);
  const lp = new Float64Array(rows.length);
  const greedy = new Uint8Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    lp[i] = d[rows[i] * V + tokens[i]] - stats.logSumExp[i];
    greedy[i] = stats.argmax[i] === tokens[i] ? 1 : 0;
  }
  return { lp, greedy };
}

/** A cache whose row r is row `rows[r]` of `cache`. */
function selectCacheRows(cache: KVCache, rows: readonly number[]): KVCache {
  const pick = (t: Tensor): Tensor => {
    const [, T, W] = t.shape;
    const out = new Tensor(allocate(t.dtype, rows.length * T * W), [rows.length, T, W]);
    rows.forEach((src, r) => out.data.set(t.data.subarray(src * T * W, (src + 1) * T * W), r * T * W));
    return out;
  };
  return makeCache(cache.keys.map(pick), cache.values.map(pick), rows.map((r) => [...cache.mask[r]]));
}

export function scoreRequests(model: CachedLM, requests: readonly ScoreRequest[], opts: ScoreOptions): { results: ScoreResult[]; stats: ScoreStats } {
  const { maxLength, batchSize } = opts;
  if (!(batchSize >= 1)) throw new Error(`batch size must be ≥ 1, got ${batchSize}`);
  const stats: ScoreStats = { requests: requests.length, distinctContexts: 0, forwardCalls: 0, slots: 0, tokens: 0, plainTokens: 0 };
  const groups = new Map<string, Prepared[]>();
  requests.forEach((r, index) => {
    if (r.context.length === 0 || r.continuation.length === 0) throw new Error(`request ${index}: empty context or continuation`);
    if (r.continuation.length > maxLength) throw new Error(`request ${index}: the continuation has ${r.continuation.length} tokens, more than the model's maximum length ${maxLength}`);
    const total = r.context.length + r.continuation.length;
    const start = Math.max(0, total - (maxLength + 1));
    stats.plainTokens += Math.min(total, maxLength + 1) - 1;
    const prefix = r.context.slice(start);
    const key = prefix.join(',');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push({ index, prefix, continuation: r.continuation });
  });
  stats.distinctContexts = groups.size;
  const results: ScoreResult[] = new Array(requests.length);
  const partial = new Float64Array(requests.length);
  const greedy = new Uint8Array(requests.length).fill(1);
  let done = 0;
  // A context with a single continuation gains nothing from the cache: such requests run plain
  // (one forward of context ++ continuation[:-1]), which saves the second call and the cache copy.
  const single = [...groups.values()].filter((g) => g.length === 1).map((g) => g[0]);
  const contexts = [...groups.values()].filter((g) => g.length > 1).sort((a, b) => b[0].prefix.length - a[0].prefix.length);
  if (single.length > 0) {
    const plain = scoreRequestsPlain(model, single.map((p) => requests[p.index]), {
      ...opts, onProgress: (d) => opts.onProgress?.(d, requests.length),
    });
    single.forEach((p, i) => {
      partial[p.index] = plain.results[i].logLikelihood;
      greedy[p.index] = plain.results[i].isGreedy ? 1 : 0;
    });
    done = single.length;
    stats.forwardCalls += plain.stats.forwardCalls;
    stats.slots += plain.stats.slots;
    stats.tokens += plain.stats.tokens;
  }

  for (let s = 0; s < contexts.length; s += batchSize) {
    const batch = contexts.slice(s, s + batchSize);
    const T = batch[0][0].prefix.length;
    const ids = batch.map((g) => [...new Array<number>(T - g[0].prefix.length).fill(opts.padId), ...g[0].prefix]);
    const mask = batch.map((g) => [...new Array<number>(T - g[0].prefix.length).fill(0), ...new Array<number>(g[0].prefix.length).fill(1)]);
    const anyPad = batch.some((g) => g[0].prefix.length !== T);
    const out = model.forward(ids, { attentionMask: anyPad ? mask : undefined, cache: true, lastTokenLogitsOnly: true });
    stats.forwardCalls++;
    stats.slots += batch.length * T;
    for (const g of batch) stats.tokens += g[0].prefix.length;
    if (!out.cache) throw new Error('the model returned no KV cache');
    // Stage 1: the first continuation token of every request from its context's last position.
    const first = batch.flatMap((g, b) => g.map((prep) => ({ prep, row: b })));
    const t1 = scoreTokens(out.logits, first.map((f) => f.row), first.map((f) => f.prep.continuation[0]));
    const rows: { prep: Prepared; row: number }[] = [];
    first.forEach((f, i) => {
      partial[f.prep.index] = t1.lp[i];
      if (!t1.greedy[i]) greedy[f.prep.index] = 0;
      if (f.prep.continuation.length > 1) rows.push(f);
      else done++;
    });
    // Stage 2: the remaining continuation tokens on top of the cached context.
    rows.sort((a, b) => b.prep.continuation.length - a.prep.continuation.length);
    for (let r = 0; r < rows.length; r += batchSize) {
      const chunk = rows.slice(r, r + batchSize);
      const Tr = chunk[0].prep.continuation.length - 1;
      const cache = selectCacheRows(out.cache, chunk.map((c) => c.row));
      const input = chunk.map((c) => {
        const rest = c.prep.continuation.slice(0, -1);
        return [...rest, ...new Array<number>(Tr - rest.length).fill(opts.padId)];
      });
      // Right padding is invisible to the real tokens (causal), but masking it keeps the pad slots'
      // position ids in range for models with learned positions.
      const ragged = chunk.some((c) => c.prep.continuation.length - 1 !== Tr);
      const attentionMask = ragged ? chunk.map((c) => Array.from({ length: Tr }, (_, t) => (t < c.prep.continuation.length - 1 ? 1 : 0))) : undefined;
      // logits at the continuation positions only (not at the padding slots)
      const at = chunk.flatMap((c, i) => c.prep.continuation.slice(1).map((_, t): [number, number] => [i, t]));
      const res = model.forward(input, { cache, attentionMask, logitsAt: at });
      if (res.logits.size !== at.length * res.logits.shape[res.logits.shape.length - 1]) throw new Error('cached scoring: the model returned logits at every position, not at the requested ones (logitsAt)');
      stats.forwardCalls++;
      stats.slots += chunk.length * Tr;
      const st = scoreTokens(res.logits, at.map((_, j) => j), chunk.flatMap((c) => c.prep.continuation.slice(1)));
      let j = 0;
      for (const c of chunk) {
        const cont = c.prep.continuation;
        stats.tokens += cont.length - 1;
        let lp = partial[c.prep.index];
        for (let t = 0; t + 1 < cont.length; t++, j++) {
          lp += st.lp[j];
          if (!st.greedy[j]) greedy[c.prep.index] = 0;
        }
        partial[c.prep.index] = lp;
      }
      done += chunk.length;
      opts.onProgress?.(done, requests.length);
    }
    opts.onProgress?.(done, requests.length);
  }
  for (let i = 0; i < requests.length; i++) results[i] = { logLikelihood: partial[i], isGreedy: greedy[i] === 1, tokens: requests[i].continuation.length };
  return { results, stats };
}

/** Any causal LM (e.g. a pruned model without a KV cache) for plain scoring. */
export interface PlainLM {
  forward(inputIds: number[][], options?: { attentionMask?: number[][] }): { logits: Tensor };
}

/**
 * Plain scoring, the harness's own way: one forward of each request's input window
 * (c ++ x)[-(max_length+1):][:-1], requests sorted longest first and right-padded in batches. For
 * models without a KV cache, and as the baseline of bench/eval-scoring.ts. A model with block
 * stages (a `DecoderModel`, a pruned model) runs all batches layer-major, reading each weight once.
 */
export function scoreRequestsPlain(model: PlainLM, requests: readonly ScoreRequest[], opts: ScoreOptions): { results: ScoreResult[]; stats: ScoreStats } {
  const { maxLength, batchSize } = opts;
  if (!(batchSize >= 1)) throw new Error(`batch size must be ≥ 1, got ${batchSize}`);
  const stats: ScoreStats = { requests: requests.length, distinctContexts: requests.length, forwardCalls: 0, slots: 0, tokens: 0, plainTokens: 0 };
  const items = requests.map((r, i) => {
    if (r.context.length === 0 || r.continuation.length === 0) throw new Error(`request ${i}: empty context or continuation`);
    if (r.continuation.length > maxLength) throw new Error(`request ${i}: the continuation has ${r.continuation.length} tokens, more than the model's maximum length ${maxLength}`);
    const input = [...r.context, ...r.continuation].slice(-(maxLength + 1)).slice(0, -1);
    stats.plainTokens += input.length;
    stats.tokens += input.length;
    return { i, input, cont: r.continuation };
  }).sort((a, b) => b.input.length - a.input.length);
  const results: ScoreResult[] = new Array(requests.length);
  const batches: { start: number; chunk: typeof items; T: number; ids: number[][]; attentionMask?: number[][]; at: [number, number][]; queryFrom: number }[] = [];
  for (let s = 0; s < items.length; s += batchSize) {
    const chunk = items.slice(s, s + batchSize);
    const T = chunk[0].input.length;
    const ids = chunk.map((c) => [...c.input, ...new Array<number>(T - c.input.length).fill(opts.padId)]);
    const ragged = chunk.some((c) => c.input.length !== T);
    const attentionMask = ragged ? chunk.map((c) => Array.from({ length: T }, (_, t) => (t < c.input.length ? 1 : 0))) : undefined;
    // the positions that predict the continuation: the input window's last n
    const at = chunk.flatMap((c, b) => c.cont.map((_, k): [number, number] => [b, c.input.length - c.cont.length + k]));
    batches.push({ start: s, chunk, T, ids, ...(attentionMask ? { attentionMask } : {}), at, queryFrom: firstPosition(at) });
  }
  /** Scores batch `batch` from `logitsRow(j)`, the logits row of its j-th `at` position. */
  const score = (batch: (typeof batches)[number], logits: Tensor, logitsRow: (j: number) => number): void => {
    stats.forwardCalls++;
    stats.slots += batch.chunk.length * batch.T;
    const st = scoreTokens(logits, batch.at.map((_, j) => logitsRow(j)), batch.chunk.flatMap((c) => c.cont));
    let j = 0;
    for (const c of batch.chunk) {
      let ll = 0;
      let greedy = true;
      for (let k = 0; k < c.cont.length; k++, j++) {
        ll += st.lp[j];
        if (!st.greedy[j]) greedy = false;
      }
      results[c.i] = { logLikelihood: ll, isGreedy: greedy, tokens: c.cont.length };
    }
    opts.onProgress?.(Math.min(batch.start + batchSize, items.length), items.length);
  };
  if (isLayerMajorModel(model)) {
    // layer-major (src/models/layer-major.ts): every batch through each block in turn, so a streamed
    // checkpoint is read once, not once per batch; the last block (from the first continuation
    // position on), the final norm and the LM head run on the positions that are read only (the
    // harness's log-softmax over every position reads just those)
    forwardLayerMajor(model, batches, (i, hidden, from) => score(batches[i], headAt(model, hidden, batches[i].at, from), (j) => j), opts.memory);
  } else {
    for (const batch of batches) {
      const logits = model.forward(batch.ids, { attentionMask: batch.attentionMask }).logits;
      score(batch, logits, (j) => batch.at[j][0] * batch.T + batch.at[j][1]);
    }
  }
  return { results, stats };
}
