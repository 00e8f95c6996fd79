/**
 * Log-likelihood of continuations, computed once per shared context.
 *
 * For a request with context tokens c and continuation tokens x₁…x_k, the harness runs the model
 * on (c ++ x)[-(max_length+1):][:-1] and sums log p(x_i | c, x_<i) (lm_eval/models/huggingface.py
 * _loglikelihood_tokens); it also records whether every x_i is the argmax ("is_greedy").
 * Multiple-choice tasks send the same context with 2–13 continuations, so here:
 *
 * 1. requests are grouped by a shared prefix P of their (left-truncated) contexts c: requests with
 *    the same c share P = c; of the contexts left with one continuation, those sharing a start of
 *    at least MIN_SHARED_PREFIX tokens (Winogrande's two options: the sentence up to the blank)
 *    share P = that start; any other request is scored plainly (one forward of c ++ x_<k).
 *    Every P runs once, in batches of left-padded prefixes sorted by length (little padding),
 *    building a KV cache and the next-token distribution after P, which scores x₁ where c = P;
 * 2. each request's rest of the window, c after P ++ x₁…x_{k−1}, runs on top of a copy of its
 *    prefix's cache rows (right-padded, longest first), which scores the remaining tokens.
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
import { forwardLayerMajor, isLayerMajorModel, mergedTokenLimit, type LayerMajorOptions } from '../../models/layer-major.ts';

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
  /** Groups of different contexts that ran their shared start once (cached scoring). */
  sharedPrefixes: number;
}

interface Prepared {
  index: number;
  /** The context after left truncation to the harness's window. */
  context: number[];
  continuation: number[];
}

/** Requests that run on top of one cached prefix (a start of each member's context). */
interface PrefixGroup {
  prefix: number[];
  members: Prepared[];
}

/** Contexts with one continuation share a cached prefix when they start with this many equal tokens. */
export const MIN_SHARED_PREFIX = 8;

function commonPrefixLength(a: readonly number[], b: readonly number[], limit: number): number {
  let i = 0;
  while (i < limit && a[i] === b[i]) i++;
  return i;
}

/**
 * Groups of single-continuation requests whose contexts share their first MIN_SHARED_PREFIX or
 * more tokens (neighbours in lexicographic order; the group's prefix is the start all share), and
 * the requests left alone.
 */
function sharedPrefixGroups(singles: Prepared[]): { groups: PrefixGroup[]; alone: Prepared[] } {
  const sorted = [...singles].sort((a, b) => {
    const n = commonPrefixLength(a.context, b.context, Math.min(a.context.length, b.context.length));
    return n < a.context.length && n < b.context.length ? a.context[n] - b.context[n] : a.context.length - b.context.length;
  });
  const groups: PrefixGroup[] = [];
  const alone: Prepared[] = [];
  for (let i = 0; i < sorted.length;) {
    let shared = sorted[i].context.length;
    let j = i + 1;
    for (; j < sorted.length; j++) {
      const n = commonPrefixLength(sorted[i].context, sorted[j].context, shared);
      if (n < MIN_SHARED_PREFIX) break;
      shared = n;
    }
    if (j - i > 1) groups.push({ prefix: sorted[i].context.slice(0, shared), members: sorted.slice(i, j) });
    else alone.push(sorted[i]);
    i = j;
  }
  return { groups, alone };
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
  const T = cache.length;
  const pick = (t: Tensor): Tensor => {
    const [, capacity, W] = t.shape; // the first T rows of each sequence hold its keys (values)
    const out = new Tensor(allocate(t.dtype, rows.length * T * W), [rows.length, T, W]);
    rows.forEach((src, r) => out.data.set(t.data.subarray(src * capacity * W, (src * capacity + T) * W), r * T * W));
    return out;
  };
  return makeCache(cache.keys.map(pick), cache.values.map(pick), rows.map((r) => [...cache.mask[r]]));
}

/**
 * End (exclusive) of the batch of sequences from `start` on, longest first (`lengthAt(i)`): at least
 * `batchSize` of them, and more while the padded batch stays within `tokenLimit` tokens and at least
 * MERGE_MIN_FILL of its slots hold real tokens (padding runs through every GEMM; GEMMs over a few
 * hundred rows run at 70–90 % of the rate over 512 or more: bench/RESULTS-eval.md).
 */
function batchEnd(count: number, start: number, batchSize: number, tokenLimit: number, lengthAt: (i: number) => number): number {
  const width = Math.max(1, lengthAt(start));
  let end = Math.min(count, start + batchSize);
  let real = 0;
  for (let i = start; i < end; i++) real += lengthAt(i);
  while (end < count && (end - start + 1) * width <= tokenLimit && real + lengthAt(end) >= MERGE_MIN_FILL * (end - start + 1) * width) real += lengthAt(end++);
  return end;
}

/** The least share of real tokens in a batch grown beyond `batchSize`. */
const MERGE_MIN_FILL = 0.85;

export function scoreRequests(model: CachedLM, requests: readonly ScoreRequest[], opts: ScoreOptions): { results: ScoreResult[]; stats: ScoreStats } {
  const { maxLength, batchSize } = opts;
  if (!(batchSize >= 1)) throw new Error(`batch size must be ≥ 1, got ${batchSize}`);
  const stats: ScoreStats = { requests: requests.length, distinctContexts: 0, forwardCalls: 0, slots: 0, tokens: 0, plainTokens: 0, sharedPrefixes: 0 };
  const byContext = new Map<string, Prepared[]>();
  requests.forEach((r, index) => {
    if (r.context.length === 0 || r.continuation.length === 0) throw new Error(`request ${index}: empty context or continuation`);
    if (r.continuation.length > maxLength) throw new Error(`request ${index}: the continuation has ${r.continuation.length} tokens, more than the model's maximum length ${maxLength}`);
    const total = r.context.length + r.continuation.length;
    const start = Math.max(0, total - (maxLength + 1));
    stats.plainTokens += Math.min(total, maxLength + 1) - 1;
    const context = r.context.slice(start);
    const key = context.join(',');
    let g = byContext.get(key);
    if (!g) byContext.set(key, (g = []));
    g.push({ index, context, continuation: r.continuation });
  });
  stats.distinctContexts = byContext.size;
  const partial = new Float64Array(requests.length);
  const greedy = new Uint8Array(requests.length).fill(1);
  let done = 0;
  // Contexts with several continuations are each a prefix of their own; those with one share a
  // prefix with others where they can. A request sharing nothing gains nothing from the cache: it
  // runs plain (one forward of context ++ continuation[:-1]), which saves the second call and the
  // cache copy.
  const shared = sharedPrefixGroups([...byContext.values()].filter((g) => g.length === 1).map((g) => g[0]));
  const groups = [
    ...[...byContext.values()].filter((g) => g.length > 1).map((members): PrefixGroup => ({ prefix: members[0].context, members })),
    ...shared.groups,
  ].sort((a, b) => b.prefix.length - a.prefix.length);
  stats.sharedPrefixes = shared.groups.length;
  if (shared.alone.length > 0) {
    const plain = scoreRequestsPlain(model, shared.alone.map((p) => requests[p.index]), {
      ...opts, onProgress: (d) => opts.onProgress?.(d, requests.length),
    });
    shared.alone.forEach((p, i) => {
      partial[p.index] = plain.results[i].logLikelihood;
      greedy[p.index] = plain.results[i].isGreedy ? 1 : 0;
    });
    done = shared.alone.length;
    stats.forwardCalls += plain.stats.forwardCalls;
    stats.slots += plain.stats.slots;
    stats.tokens += plain.stats.tokens;
  }

  // Short sequences fill a forward beyond `batchSize` rows, up to the layer-major merge's token
  // limit (GEMMs over a few hundred rows would repack every weight for little work)
  const tokenLimit = opts.memory?.mergeTokens ?? (isLayerMajorModel(model) ? mergedTokenLimit(model) : 0);
  for (let s = 0, e = 0; s < groups.length; s = e) {
    e = batchEnd(groups.length, s, batchSize, tokenLimit, (i) => groups[i].prefix.length);
    const batch = groups.slice(s, e);
    const T = batch[0].prefix.length;
    const ids = batch.map((g) => [...new Array<number>(T - g.prefix.length).fill(opts.padId), ...g.prefix]);
    const mask = batch.map((g) => [...new Array<number>(T - g.prefix.length).fill(0), ...new Array<number>(g.prefix.length).fill(1)]);
    const anyPad = batch.some((g) => g.prefix.length !== T);
    const out = model.forward(ids, { attentionMask: anyPad ? mask : undefined, cache: true, lastTokenLogitsOnly: true });
    stats.forwardCalls++;
    stats.slots += batch.length * T;
    for (const g of batch) stats.tokens += g.prefix.length;
    if (!out.cache) throw new Error('the model returned no KV cache');
    // Stage 1: the first continuation token of every request whose context is its prefix, from the prefix's last position.
    const members = batch.flatMap((g, b) => g.members.map((prep) => ({ prep, row: b, after: prep.context.slice(g.prefix.length) })));
    const first = members.filter((m) => m.after.length === 0);
    const t1 = scoreTokens(out.logits, first.map((f) => f.row), first.map((f) => f.prep.continuation[0]));
    first.forEach((f, i) => {
      partial[f.prep.index] = t1.lp[i];
      if (!t1.greedy[i]) greedy[f.prep.index] = 0;
    });
    // Stage 2: the rest of each window (context after the prefix ++ continuation[:-1]) on top of the
    // cached prefix; it scores the continuation tokens stage 1 did not.
    const rows = members.map((m) => ({ ...m, rest: [...m.after, ...m.prep.continuation.slice(0, -1)], scoredFrom: m.after.length === 0 ? 1 : 0 })).filter((m) => m.rest.length > 0);
    done += members.length - rows.length;
    rows.sort((a, b) => b.rest.length - a.rest.length);
    for (let r = 0, e = 0; r < rows.length; r = e) {
      e = batchEnd(rows.length, r, batchSize, tokenLimit, (i) => rows[i].rest.length);
      const chunk = rows.slice(r, e);
      const Tr = chunk[0].rest.length;
      const cache = selectCacheRows(out.cache, chunk.map((c) => c.row));
      const input = chunk.map((c) => [...c.rest, ...new Array<number>(Tr - c.rest.length).fill(opts.padId)]);
      // Right padding is invisible to the real tokens (causal), but masking it keeps the pad slots'
      // position ids in range for models with learned positions.
      const ragged = chunk.some((c) => c.rest.length !== Tr);
      const attentionMask = ragged ? chunk.map((c) => Array.from({ length: Tr }, (_, t) => (t < c.rest.length ? 1 : 0))) : undefined;
      // logits only where a continuation token is predicted: x_j (0-based) at rest position |after| − 1 + j
      const at = chunk.flatMap((c, i) => c.prep.continuation.slice(c.scoredFrom).map((_, j): [number, number] => [i, c.after.length - 1 + c.scoredFrom + j]));
      const res = model.forward(input, { cache, attentionMask, logitsAt: at });
      if (res.logits.size !== at.length * res.logits.shape[res.logits.shape.length - 1]) throw new Error('cached scoring: the model returned logits at every position, not at the requested ones (logitsAt)');
      stats.forwardCalls++;
      stats.slots += chunk.length * Tr;
      const st = scoreTokens(res.logits, at.map((_, j) => j), chunk.flatMap((c) => c.prep.continuation.slice(c.scoredFrom)));
      let j = 0;
      for (const c of chunk) {
        const cont = c.prep.continuation;
        stats.tokens += c.rest.length;
        let lp = c.scoredFrom === 1 ? partial[c.prep.index] : 0;
        for (let t = c.scoredFrom; t < cont.length; t++, j++) {
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
  const results: ScoreResult[] = new Array(requests.length);
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
  const stats: ScoreStats = { requests: requests.length, distinctContexts: requests.length, forwardCalls: 0, slots: 0, tokens: 0, plainTokens: 0, sharedPrefixes: 0 };
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
