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
import { tokenLogProb } from '../log-probs.ts';
import { Tensor, allocate } from '../../tensor/tensor.ts';
import type { KVCache } from '../../models/types.ts';
import { makeCache } from '../../models/context.ts';
import { forwardLayerMajor, isLayerMajorModel, type LayerMajorOptions } from '../../models/layer-major.ts';

/** What cached scoring needs from a model: src/models' DecoderModel. */
export interface CachedLM {
  forward(
    inputIds: number[][],
    options?: { attentionMask?: number[][]; cache?: KVCache | boolean; lastTokenLogitsOnly?: boolean },
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

/** log-softmax + argmax over one row of logits. */
function scoreToken(logits: Tensor, offset: number, vocab: number, token: number): { lp: number; greedy: boolean } {
  const d = logits.data;
  let best = 0;
  for (let i = 1; i < vocab; i++) if (d[offset + i] > d[offset + best]) best = i;
  return { lp: tokenLogProb(d, offset, vocab, token), greedy: best === token };
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
    const V = out.logits.shape[2];
    if (!out.cache) throw new Error('the model returned no KV cache');
    // Stage 1: the first continuation token of every request from its context's last position.
    const rows: { prep: Prepared; row: number }[] = [];
    batch.forEach((g, b) => {
      for (const prep of g) {
        const t = scoreToken(out.logits, b * V, V, prep.continuation[0]);
        partial[prep.index] = t.lp;
        if (!t.greedy) greedy[prep.index] = 0;
        if (prep.continuation.length > 1) rows.push({ prep, row: b });
        else done++;
      }
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
      const res = model.forward(input, { cache, attentionMask });
      stats.forwardCalls++;
      stats.slots += chunk.length * Tr;
      chunk.forEach((c, i) => {
        const cont = c.prep.continuation;
        stats.tokens += cont.length - 1;
        let lp = partial[c.prep.index];
        for (let t = 0; t + 1 < cont.length; t++) {
          const st = scoreToken(res.logits, (i * Tr + t) * V, V, cont[t + 1]);
          lp += st.lp;
          if (!st.greedy) greedy[c.prep.index] = 0;
        }
        partial[c.prep.index] = lp;
      });
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
  const batches: { start: number; chunk: typeof items; T: number; ids: number[][]; attentionMask?: number[][] }[] = [];
  for (let s = 0; s < items.length; s += batchSize) {
    const chunk = items.slice(s, s + batchSize);
    const T = chunk[0].input.length;
    const ids = chunk.map((c) => [...c.input, ...new Array<number>(T - c.input.length).fill(opts.padId)]);
    const ragged = chunk.some((c) => c.input.length !== T);
    const attentionMask = ragged ? chunk.map((c) => Array.from({ length: T }, (_, t) => (t < c.input.length ? 1 : 0))) : undefined;
    batches.push({ start: s, chunk, T, ids, ...(attentionMask ? { attentionMask } : {}) });
  }
  const score = (batch: (typeof batches)[number], logits: Tensor): void => {
    const { chunk, T } = batch;
    stats.forwardCalls++;
    stats.slots += chunk.length * T;
    const V = logits.shape[2];
    chunk.forEach((c, b) => {
      let ll = 0;
      let greedy = true;
      const L = c.input.length;
      c.cont.forEach((tok, k) => {
        const st = scoreToken(logits, (b * T + L - c.cont.length + k) * V, V, tok);
        ll += st.lp;
        if (!st.greedy) greedy = false;
      });
      results[c.i] = { logLikelihood: ll, isGreedy: greedy, tokens: c.cont.length };
    });
    opts.onProgress?.(Math.min(batch.start + batchSize, items.length), items.length);
  };
  if (isLayerMajorModel(model)) {
    // layer-major (src/models/layer-major.ts): every batch through each block in turn, so a streamed
    // checkpoint is read once, not once per batch; the same calls per batch as its forward
    forwardLayerMajor(model, batches, (i, hidden) => score(batches[i], model.lmHead(model.finalNorm(hidden))), opts.memory);
  } else {
    for (const batch of batches) score(batch, model.forward(batch.ids, { attentionMask: batch.attentionMask }).logits);
  }
  return { results, stats };
}
