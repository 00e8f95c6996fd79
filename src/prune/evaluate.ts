/**
 * Before/after evaluation of a pruned model:
 *
 * - perplexity on a token stream with src/eval's protocols: non-overlapping chunks and/or sliding
 *   windows with a stride (each result carries its protocol sentence, to print beside the number);
 * - mean KL divergence KL(p_original ‖ p_pruned) of the next-token distributions, averaged over
 *   every position of the non-overlapping chunks of the same stream, log-softmax in float64;
 * - cloze / CounterFact accuracy through src/eval's factual recall (top-1 of the first answer token
 *   and the answer log-loss), when cases are given.
 */
import { chunkTokens } from '../data/slices.ts';
import type { FactCase } from '../data/types.ts';
import { evaluateFactualRecall, prepareCases, type PreparedCases } from '../eval/factual-recall.ts';
import { logitRows } from '../eval/log-probs.ts';
import { fastExp } from '../tensor/fast-exp.ts';
import type { CausalLM, EvalTokenizer } from '../eval/model-api.ts';
import { tokenPerplexity, type PerplexityResult } from '../eval/perplexity.ts';
import type { LayerMajorOptions } from '../models/layer-major.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { yieldToSignals } from '../util/interrupt.ts';
import { runStepsYielding } from '../util/steps.ts';
import { canPair, pairedLayerMajorSteps } from './paired-layer-major.ts';
import { PrunedModel } from './pruned-model.ts';

export interface EvalSettings {
  /** The evaluation token stream (e.g. held-out texts joined and tokenized once). */
  ids: readonly number[];
  /** Window length for perplexity and KL. */
  maxLength: number;
  /** Sliding-window stride; when set, sliding-window perplexity is computed too. */
  stride?: number;
  /** Score at most this many windows (the first ones). */
  maxWindows?: number;
  /** Windows per forward (default 4). */
  batchSize?: number;
  /** Memory budget of the layer-major passes (default: from the machine; src/models/layer-major.ts). */
  memory?: LayerMajorOptions;
  /** Cloze / CounterFact cases and the tokenizer to encode them. */
  facts?: { cases: readonly FactCase[] | PreparedCases; tokenizer: EvalTokenizer };
}

export interface ModelEvaluation {
  chunks: PerplexityResult;
  sliding?: PerplexityResult;
  /** Mean KL(original ‖ model) in nats per position; 0 for the original itself. */
  kl?: number;
  klPositions?: number;
  /** Top-1 accuracy of the first answer token and answer log-loss on the fact cases. */
  factTop1?: number;
  factLogLoss?: number;
  factCases?: number;
}

/** Evaluate `model` (and its KL to `original`, when given) on the settings' data. */
export async function evaluateModel(model: CausalLM, settings: EvalSettings, original?: CausalLM): Promise<ModelEvaluation> {
  const common = { maxLength: settings.maxLength, maxWindows: settings.maxWindows, batchSize: settings.batchSize };
  const result: ModelEvaluation = { chunks: await tokenPerplexity(model, settings.ids, { ...common, mode: 'chunks' }) };
  if (settings.stride !== undefined) {
    result.sliding = await tokenPerplexity(model, settings.ids, { ...common, mode: 'sliding', stride: settings.stride });
  }
  if (original) {
    const kl = original === model ? { kl: 0, positions: 0 } : await meanKlDivergence(original, model, settings);
    result.kl = kl.kl;
    result.klPositions = kl.positions;
  }
  if (settings.facts) {
    const { summary } = await evaluateFactualRecall(model, settings.facts.tokenizer, settings.facts.cases, { topK: [1], batchSize: 16 });
    result.factTop1 = summary.topK[1];
    result.factLogLoss = summary.logLoss;
    result.factCases = summary.cases;
  }
  return result;
}

/** Tokenize fact cases once for repeated evaluation. */
export function prepareFacts(cases: readonly FactCase[], tokenizer: EvalTokenizer): PreparedCases {
  return prepareCases(cases, tokenizer);
}

/**
 * Mean over positions of KL(p ‖ q) = Σ_v p_v (log p_v − log q_v), p from `reference`, q from
 * `model`, at every position of the non-overlapping chunks of the stream. Two pruned models (the
 * original is a `PrunedModel` without replacements) run side by side layer-major
 * (src/prune/paired-layer-major.ts: each block read once for both, only one group's logits held);
 * other models group by group. Both give the same sums in the same order.
 */
export async function meanKlDivergence(reference: CausalLM, model: CausalLM, settings: Pick<EvalSettings, 'ids' | 'maxLength' | 'maxWindows' | 'batchSize' | 'memory'>): Promise<{ kl: number; positions: number }> {
  let windows = chunkTokens(settings.ids, settings.maxLength);
  if (settings.maxWindows !== undefined) windows = windows.slice(0, settings.maxWindows);
  if (windows.length === 0) throw new Error(`KL: the stream has ${settings.ids.length} tokens, fewer than one chunk of ${settings.maxLength}`);
  const batchSize = settings.batchSize ?? 4;
  let total = 0;
  let positions = 0;
  if (reference instanceof PrunedModel && model instanceof PrunedModel && canPair(reference, model)) {
    const groups: { ids: number[][] }[] = [];
    for (let start = 0; start < windows.length; start += batchSize) groups.push({ ids: windows.slice(start, start + batchSize) });
    await runStepsYielding(pairedLayerMajorSteps([reference, model], groups, (_, p, q) => {
      const { sum, count } = klSum(p, q);
      total += sum;
      positions += count;
    }, settings.memory));
    return { kl: total / positions, positions };
  }
  for (let start = 0; start < windows.length; start += batchSize) {
    const group = windows.slice(start, start + batchSize);
    const p = (await reference.forward(group)).logits;
    const q = (await model.forward(group)).logits;
    const { sum, count } = klSum(p, q);
    total += sum;
    positions += count;
    await yieldToSignals(); // an event-loop turn per group: Ctrl-C is heard
  }
  return { kl: total / positions, positions };
}

/** Σ over positions of KL(softmax(p) ‖ softmax(q)) for logits [B, T, V], and the number of positions. */
export function klSum(p: Tensor, q: Tensor): { sum: number; count: number } {
  const V = p.dim(-1);
  if (q.dim(-1) !== V || q.size !== p.size) throw new Error(`KL: logits shapes differ (${p} vs ${q})`);
  const count = p.size / V;
  const lp = logitRows(p.data, V, null, count).logSumExp;
  const lq = logitRows(q.data, V, null, count).logSumExp;
  let sum = 0;
  for (let r = 0; r < count; r++) {
    const o = r * V;
    let kl = 0;
    for (let v = 0; v < V; v++) {
      const logP = p.data[o + v] - lp[r];
      kl += fastExp(logP) * (logP - (q.data[o + v] - lq[r]));
    }
    sum += Math.max(0, kl);
  }
  return { sum, count };
}
