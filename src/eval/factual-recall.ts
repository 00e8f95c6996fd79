/**
 * Factual-recall evaluation of a causal LM on `FactCase`s (prompt, answer with its leading space),
 * with the LASER paper's metrics (their `DatasetMetrics` and CounterFact scripts):
 *
 * - answer log-loss: for each case the mean negative log-probability of the answer tokens given the
 *   prompt, teacher-forced, −(1/|a|)·Σ_i log p(a_i | prompt, a_<i); averaged over cases. (The
 *   authors' "mean log prob" is the negative of this.) Also the pooled answer perplexity
 *   exp(Σ_cases Σ_i −log p / Σ_cases |a|), their "perplexity".
 * - top-k accuracy (k = 1, 5, 10): the first answer token is among the k most likely next tokens
 *   after the prompt (rank = number of tokens with a strictly larger logit; ties count as hits).
 *   `topKMatch: 'string'` instead uses the authors' CounterFact rule: one of the k best tokens,
 *   decoded, lower-cased and stripped, equals the whole answer lower-cased and stripped (only
 *   possible for one-token answers).
 * - greedy generation accuracy (optional): generate |a| + `extraTokens` new tokens greedily and
 *   compare the *newly generated* text (decoded new tokens only, special tokens skipped, cut at EOS)
 *   to the answer after stripping whitespace and lower-casing: "starts with" and "contains".
 *   The authors' Llama script decodes prompt + generation and checks "contains", which also
 *   counts answers that merely occur in the prompt; we score new tokens only.
 *
 * - choice accuracy (cases with `choices`, LASER's FEVER and TruthfulQA true/false classification):
 *   the case is correct when Σ_i log p(answer_i | prompt, …) exceeds that of every other choice,
 *   strictly (the authors' `true_logprob > false_logprob`). Each other choice is scored as one more
 *   teacher-forced sequence prompt + choice; with one-token choices (" true"/" false" in Llama's and
 *   GPT-J's vocabularies) this is the authors' comparison of two next-token log-probabilities.
 *
 * Batches are left-padded (attention mask 0 on pads), grouped by length; results do not depend on
 * the batch size beyond float rounding. Only the answer positions go through the LM head
 * (selected-logits.ts).
 */
import type { FactCase } from '../data/types.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { makeBatches } from '../data/calibration.ts';
import type { CausalLM, EvalTokenizer, GenerateFn } from './model-api.ts';
import { splitPromptAnswer } from './answer-tokens.ts';
import { logitRows, topKIds } from './log-probs.ts';
import { uncachedGreedy } from './greedy.ts';
import { headAt, logitsAt } from './selected-logits.ts';
import { firstPosition } from '../models/gather-positions.ts';
import { forwardLayerMajorAsync, isLayerMajorModel, type LayerMajorOptions } from '../models/layer-major.ts';

export interface FactualRecallOptions {
  /** Sequences per forward pass (default 16). */
  batchSize?: number;
  /** k values of top-k accuracy (default [1, 5, 10]). */
  topK?: number[];
  /** 'token' (default): first answer token id; 'string': the authors' decoded-string rule. */
  topKMatch?: 'token' | 'string';
  /** Run greedy generation (default false). */
  generation?: boolean;
  /** New tokens beyond the answer length (default 2). */
  extraTokens?: number;
  /** Generation routine (default: uncached greedy through `forward`). */
  generate?: GenerateFn;
  /** Passed to tokenizer.encode (default: the tokenizer's own default, e.g. BOS for Llama). */
  addSpecialTokens?: boolean;
  /** Keep the 10 best first-token ids per case (default false). */
  keepTopTokens?: boolean;
  /** Called after each batch with (cases done, total). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Teacher-forced logits of one batch at the pairs `at` (default: `logitsAt` through the whole
   * model). Batches are numbered in evaluation order, which depends only on the cases and the
   * batch size, so a caller can keep per-batch state across evaluations (LASER's prefix cache).
   */
  batchLogits?: BatchLogitsFn;
  /**
   * Logits of all batches at once (layer-major; LASER's prefix cache): calls `done(i, logits)` for
   * batch i at its pairs `ats[i]`, in batch order. Wins over `batchLogits`.
   */
  allLogits?: AllLogitsFn;
  /** Memory budget of the layer-major pass (default: from the machine; src/models/layer-major.ts). */
  memory?: LayerMajorOptions;
}

/** Logits of every batch at its (row, position) pairs, handed over batch by batch in order. */
export type AllLogitsFn = (batches: readonly TeacherForcedBatch[], ats: readonly (readonly (readonly [number, number])[])[], done: (i: number, logits: Tensor) => void) => Promise<void>;

/** One left-padded teacher-forcing batch, numbered in evaluation order. */
export interface TeacherForcedBatch {
  index: number;
  ids: number[][];
  attentionMask: number[][];
}

/** Logits [N, V] of a batch at the (row, position) pairs `at`, in that order. */
export type BatchLogitsFn = (batch: TeacherForcedBatch, at: readonly (readonly [number, number])[]) => Promise<Tensor>;

export interface CaseResult {
  id: string;
  promptTokens: number;
  answerTokens: number[];
  /** Σ_i log p(a_i | …). */
  answerLogProb: number;
  /** −answerLogProb / |a|. */
  logLoss: number;
  /** Rank of the first answer token after the prompt (0 = top-1). */
  firstTokenRank: number;
  /** k → hit, for each requested k. */
  topK: Record<number, boolean>;
  /** The 10 most likely first tokens (with `keepTopTokens`). */
  topTokens?: number[];
  /** Σ log p of each of the case's `choices`, in that order (classification cases). */
  choiceLogProbs?: number[];
  /** The answer's log-probability is strictly the largest among the choices. */
  choiceCorrect?: boolean;
  /** Newly generated text (with `generation`). */
  generated?: string;
  generationStartsWith?: boolean;
  generationContains?: boolean;
}

export interface FactualRecallSummary {
  cases: number;
  /** Mean over cases of the per-case answer log-loss (nats/token). */
  logLoss: number;
  /** exp(total answer NLL / total answer tokens). */
  answerPerplexity: number;
  answerTokens: number;
  /** k → fraction of cases whose first answer token is in the top k. */
  topK: Record<number, number>;
  /** Fraction of classification cases (those with `choices`) classified correctly; absent when none has choices. */
  choiceAccuracy?: number;
  /** Fractions, when generation ran. */
  generationStartsWith?: number;
  generationContains?: number;
}

export interface FactualRecallResult {
  summary: FactualRecallSummary;
  perCase: CaseResult[];
}

interface Prepared {
  fact: FactCase;
  prompt: number[];
  answer: number[];
  /** Tokenized prompt + choice for each of `fact.choices` (absent or empty when the case has none). */
  choices?: { prompt: number[]; answer: number[] }[];
}

/** Tokenize once; reuse across many evaluations of the same cases (e.g. a LASER search). */
export function prepareCases(cases: readonly FactCase[], tokenizer: EvalTokenizer, addSpecialTokens?: boolean): PreparedCases {
  return {
    items: cases.map((fact) => {
      const { prompt, answer } = splitPromptAnswer(tokenizer, fact.prompt, fact.answer, addSpecialTokens);
      const choices = (fact.choices ?? []).map((c) => splitPromptAnswer(tokenizer, fact.prompt, c, addSpecialTokens));
      if (fact.choices && !fact.choices.includes(fact.answer)) throw new Error(`case ${fact.id}: the answer ${JSON.stringify(fact.answer)} is not among its choices`);
      return { fact, prompt, answer, choices };
    }),
  };
}

export interface PreparedCases {
  readonly items: readonly Prepared[];
}

/** Evaluate `model` on fact cases (see the module comment for the metrics). */
export async function evaluateFactualRecall(
  model: CausalLM,
  tokenizer: EvalTokenizer,
  cases: readonly FactCase[] | PreparedCases,
  opts: FactualRecallOptions = {},
): Promise<FactualRecallResult> {
  const prepared = 'items' in cases ? cases : prepareCases(cases as readonly FactCase[], tokenizer, opts.addSpecialTokens);
  const items = prepared.items;
  const batchSize = opts.batchSize ?? 16;
  const ks = opts.topK ?? [1, 5, 10];
  const maxK = Math.max(10, ...ks);
  const match = opts.topKMatch ?? 'token';
  const padId = tokenizer.padId ?? tokenizer.eosId ?? 0;

  const results: CaseResult[] = new Array(items.length);
  // One teacher-forced sequence per case (its answer), plus one per other choice of a classification case.
  const scored: { item: number; choice: number; prompt: number[]; answer: number[] }[] = items.map((it, item) => ({ item, choice: -1, prompt: it.prompt, answer: it.answer }));
  items.forEach((it, item) => it.choices?.forEach((c, choice) => {
    if (it.fact.choices![choice] !== it.fact.answer) scored.push({ item, choice, prompt: c.prompt, answer: c.answer });
  }));
  const choiceLogProbs = items.map((it) => new Array<number>(it.choices?.length ?? 0).fill(NaN));
  const sequences = scored.map((s) => [...s.prompt, ...s.answer.slice(0, -1)]);
  const total = scored.length + (opts.generation ? items.length : 0);
  let done = 0;
  // every batch and the (row, position) pairs whose logits it needs, planned up front
  const planned = makeBatches(sequences, { batchSize, padding: 'left', padId, sortByLength: true }).map((batch) => {
    const width = batch.ids[0].length;
    // logits at absolute position t predict token t+1: the answer tokens are predicted at P−1 … P+A−2.
    const at: [number, number][] = [];
    const firstRow: number[] = [];
    batch.indices.forEach((seqIndex, b) => {
      const it = scored[seqIndex];
      const start = width - batch.lengths[b] + it.prompt.length - 1;
      firstRow.push(at.length);
      for (let i = 0; i < it.answer.length; i++) at.push([b, start + i]);
    });
    return { batch, at, firstRow };
  });
  const scoreBatch = ({ batch, at, firstRow }: (typeof planned)[number], logits: Tensor): void => {
    const vocab = logits.shape[1];
    // every row's log-sum-exp and the rank of the token it predicts, in one call
    const targets = new Int32Array(at.length);
    batch.indices.forEach((seqIndex, b) => scored[seqIndex].answer.forEach((tok, i) => { targets[firstRow[b] + i] = tok; }));
    const rows = logitRows(logits.data, vocab, null, at.length, targets);
    batch.indices.forEach((seqIndex, b) => {
      const s = scored[seqIndex];
      const row = (i: number) => (firstRow[b] + i) * vocab;
      let sum = 0;
      for (let i = 0; i < s.answer.length; i++) sum += logits.data[row(i) + s.answer[i]] - rows.logSumExp[firstRow[b] + i];
      if (s.choice >= 0) {
        choiceLogProbs[s.item][s.choice] = sum;
        return;
      }
      const caseIndex = s.item;
      const it = items[caseIndex];
      const rank = rows.rank![firstRow[b]];
      const best = match === 'string' || opts.keepTopTokens ? topKIds(logits.data, row(0), vocab, maxK) : undefined;
      const topK: Record<number, boolean> = {};
      for (const k of ks) topK[k] = match === 'string' ? stringHit(tokenizer, best!.slice(0, k), it.fact.answer) : rank < k;
      results[caseIndex] = {
        id: it.fact.id,
        promptTokens: it.prompt.length,
        answerTokens: it.answer,
        answerLogProb: sum,
        logLoss: -sum / it.answer.length,
        firstTokenRank: rank,
        topK,
        ...(opts.keepTopTokens ? { topTokens: best!.slice(0, 10) } : {}),
      };
    });
    done += batch.indices.length;
    opts.onProgress?.(done, total);
  };
  if (opts.allLogits) {
    const batches = planned.map((p, index) => ({ index, ids: p.batch.ids, attentionMask: p.batch.attentionMask }));
    await opts.allLogits(batches, planned.map((p) => p.at), (i, logits) => scoreBatch(planned[i], logits));
  } else if (!opts.batchLogits && isLayerMajorModel(model)) {
    // layer-major (src/models/layer-major.ts): all batches through each block in turn, so a
    // streamed checkpoint is read once; the head only at the answer positions
    const batches = planned.map((p) => ({ ids: p.batch.ids, attentionMask: p.batch.attentionMask, queryFrom: firstPosition(p.at) }));
    await forwardLayerMajorAsync(model, batches, (i, hidden, from) => scoreBatch(planned[i], headAt(model, hidden, planned[i].at, from)), opts.memory);
  } else {
    const batchLogits: BatchLogitsFn = opts.batchLogits ?? ((b, at) => logitsAt(model, b.ids, { attentionMask: b.attentionMask }, at));
    for (const [index, p] of planned.entries()) scoreBatch(p, await batchLogits({ index, ids: p.batch.ids, attentionMask: p.batch.attentionMask }, p.at));
  }
  items.forEach((it, i) => {
    if (!it.fact.choices || !it.choices) return;
    const lp = choiceLogProbs[i];
    const gold = it.fact.choices.indexOf(it.fact.answer);
    lp[gold] = results[i].answerLogProb;
    results[i].choiceLogProbs = lp;
    results[i].choiceCorrect = lp.every((v, j) => j === gold || lp[gold] > v);
  });

  if (opts.generation) {
    const generate = opts.generate ?? uncachedGreedy(model);
    const extra = opts.extraTokens ?? 2;
    for (const batch of makeBatches(items.map((it) => it.prompt), { batchSize, padding: 'left', padId, sortByLength: true })) {
      const budgets = batch.indices.map((i) => items[i].answer.length + extra);
      const prompts = batch.indices.map((i) => items[i].prompt);
      const generated = await generate(prompts, Math.max(...budgets), { eosId: tokenizer.eosId, padId });
      batch.indices.forEach((caseIndex, b) => {
        let fresh = generated[b].slice(0, budgets[b]);
        const eos = tokenizer.eosId === undefined ? -1 : fresh.indexOf(tokenizer.eosId);
        if (eos >= 0) fresh = fresh.slice(0, eos);
        const text = tokenizer.decode(fresh, { skipSpecialTokens: true });
        const g = normalise(text);
        const a = normalise(items[caseIndex].fact.answer);
        Object.assign(results[caseIndex], { generated: text, generationStartsWith: g.startsWith(a), generationContains: g.includes(a) });
      });
      done += batch.indices.length;
      opts.onProgress?.(done, total);
    }
  }
  return { summary: summarise(results, ks), perCase: results };
}

/** The authors' normalisation: strip surrounding whitespace, lower-case. */
function normalise(s: string): string {
  return s.trim().toLowerCase();
}

function stringHit(tokenizer: EvalTokenizer, ids: number[], answer: string): boolean {
  const a = normalise(answer);
  return ids.some((id) => normalise(tokenizer.decode([id])) === a);
}

/** Aggregate per-case results. */
function summarise(results: readonly CaseResult[], ks: readonly number[] = [1, 5, 10]): FactualRecallSummary {
  const n = results.length;
  let loss = 0;
  let nll = 0;
  let tokens = 0;
  const hits: Record<number, number> = Object.fromEntries(ks.map((k) => [k, 0]));
  let starts = 0;
  let contains = 0;
  let generated = 0;
  let classified = 0;
  let correct = 0;
  for (const r of results) {
    if (r.choiceCorrect !== undefined) {
      classified++;
      if (r.choiceCorrect) correct++;
    }
    loss += r.logLoss;
    nll -= r.answerLogProb;
    tokens += r.answerTokens.length;
    for (const k of ks) if (r.topK[k]) hits[k]++;
    if (r.generated !== undefined) {
      generated++;
      if (r.generationStartsWith) starts++;
      if (r.generationContains) contains++;
    }
  }
  const summary: FactualRecallSummary = {
    cases: n,
    logLoss: n ? loss / n : NaN,
    answerPerplexity: tokens ? Math.exp(nll / tokens) : NaN,
    answerTokens: tokens,
    topK: Object.fromEntries(ks.map((k) => [k, n ? hits[k] / n : NaN])),
  };
  if (classified > 0) summary.choiceAccuracy = correct / classified;
  if (generated > 0) {
    summary.generationStartsWith = starts / generated;
    summary.generationContains = contains / generated;
  }
  return summary;
}
