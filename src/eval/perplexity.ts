/**
 * Perplexity of a causal LM on a text set.
 *
 * The texts are joined with "\n\n" and tokenized once (the Hugging Face "perplexity of fixed-length
 * models" recipe; the tokenizer's default special tokens, e.g. one BOS for Llama, are added at the
 * start of the stream only). Two protocols:
 *
 * - 'chunks': consecutive non-overlapping chunks of `maxLength` tokens (the final partial chunk is
 *   dropped); in each chunk, tokens 2…L are scored given the tokens before them in the chunk, so
 *   every chunk scores L − 1 tokens with 0…L−2 tokens of context.
 * - 'sliding': windows of `maxLength` tokens every `stride` tokens (src/data/slices.ts
 *   `slidingWindows`); with stride < maxLength each token after the first is scored exactly once,
 *   in the first window where it is among the last `stride` positions, so it has at least
 *   maxLength − stride tokens of context (stride = maxLength is the chunk protocol, keeping the
 *   final partial window).
 *
 * perplexity = exp(Σ NLL / number of scored tokens), NLL in nats. `describeProtocol` says which
 * protocol ran, with its numbers, for printing next to results.
 */
import { chunkTokens, slidingWindows } from '../data/slices.ts';
import type { CausalLM, EvalTokenizer } from './model-api.ts';
import { logitRows } from './log-probs.ts';
import { headAt } from './selected-logits.ts';
import { firstPosition } from '../models/gather-positions.ts';
import { yieldToSignals } from '../util/interrupt.ts';
import { forwardLayerMajorAsync, isLayerMajorModel, type LayerMajorOptions } from '../models/layer-major.ts';
import type { Tensor } from '../tensor/tensor.ts';

export interface PerplexityOptions {
  /** Window / chunk length in tokens (required; at most the model's context). */
  maxLength: number;
  /** 'chunks' (default) or 'sliding'. */
  mode?: 'chunks' | 'sliding';
  /** Sliding mode: step between window starts (default maxLength / 2). */
  stride?: number;
  /** Windows per forward pass (default 4). */
  batchSize?: number;
  /** Score at most this many windows (the first ones). */
  maxWindows?: number;
  /** Passed to tokenizer.encode for the joined stream (default: tokenizer default). */
  addSpecialTokens?: boolean;
  onProgress?: (done: number, total: number) => void;
  /** Memory budget of the layer-major pass (default: from the machine; src/models/layer-major.ts). */
  memory?: LayerMajorOptions;
}

export interface PerplexityResult {
  perplexity: number;
  /** Mean NLL per scored token (nats). */
  meanNll: number;
  scoredTokens: number;
  streamTokens: number;
  windows: number;
  /** Windows the whole stream has (more than `windows` when `maxWindows` cut the evaluation short). */
  totalWindows: number;
  mode: 'chunks' | 'sliding';
  maxLength: number;
  stride: number;
  /** One sentence describing the protocol and its numbers. */
  protocol: string;
}

interface Window {
  ids: number[];
  scoreFrom: number;
}

/** Perplexity on a list of texts (joined with "\n\n"). */
export async function textPerplexity(model: CausalLM, tokenizer: EvalTokenizer, texts: readonly string[], opts: PerplexityOptions): Promise<PerplexityResult> {
  const encodeOpts = opts.addSpecialTokens === undefined ? undefined : { addSpecialTokens: opts.addSpecialTokens };
  const ids = tokenizer.encode(texts.join('\n\n'), encodeOpts);
  return tokenPerplexity(model, ids, opts);
}

/** Perplexity on one token stream. */
export async function tokenPerplexity(model: CausalLM, ids: readonly number[], opts: PerplexityOptions): Promise<PerplexityResult> {
  const mode = opts.mode ?? 'chunks';
  const maxLength = opts.maxLength;
  const stride = mode === 'chunks' ? maxLength : (opts.stride ?? Math.max(1, Math.floor(maxLength / 2)));
  let windows: Window[] =
    mode === 'chunks'
      ? chunkTokens(ids, maxLength).map((c) => ({ ids: c, scoreFrom: 1 }))
      : slidingWindows(ids, { maxLength, stride }).map((w) => ({ ids: w.ids, scoreFrom: w.scoreFrom }));
  const totalWindows = windows.length;
  if (opts.maxWindows !== undefined) windows = windows.slice(0, opts.maxWindows);
  if (windows.length === 0) {
    throw new Error(`perplexity: the text has ${ids.length} tokens, fewer than one ${mode === 'chunks' ? 'chunk' : 'window'} of ${maxLength}`);
  }
  const batchSize = opts.batchSize ?? 4;
  let nll = 0;
  let scored = 0;
  // groups of windows; the windows of one group have equal length except possibly the last
  // sliding window: it is padded on the right
  const groups: { start: number; group: Window[]; width: number; input: number[][]; attentionMask: number[][]; padded: boolean }[] = [];
  for (let start = 0; start < windows.length; start += batchSize) {
    const group = windows.slice(start, start + batchSize);
    const width = Math.max(...group.map((w) => w.ids.length));
    const input = group.map((w) => [...w.ids, ...new Array<number>(width - w.ids.length).fill(w.ids[w.ids.length - 1])]);
    const attentionMask = group.map((w) => [...new Array<number>(w.ids.length).fill(1), ...new Array<number>(width - w.ids.length).fill(0)]);
    const padded = group.some((w) => w.ids.length < width);
    groups.push({ start, group, width, input, attentionMask, padded });
  }
  // the positions that predict a scored token: t − 1 for t from the window's scoreFrom
  const scoredAt = groups.map((g) => g.group.flatMap((w, b) => Array.from({ length: w.ids.length - w.scoreFrom }, (_, k): [number, number] => [b, w.scoreFrom + k - 1])));
  /** Adds the batch's negative log-likelihoods; `logitsRow(j)` = the logits row of its j-th scored position. */
  const score = (i: number, logits: Tensor, logitsRow: (j: number) => number): void => {
    const g = groups[i];
    const at = scoredAt[i];
    const targets = Int32Array.from(at, ([b, t]) => g.group[b].ids[t + 1]);
    const rows = Int32Array.from(at, (_, j) => logitsRow(j));
    const vocab = logits.shape[logits.shape.length - 1];
    const { logSumExp } = logitRows(logits.data, vocab, rows, rows.length);
    for (let j = 0; j < rows.length; j++) nll -= logits.data[rows[j] * vocab + targets[j]] - logSumExp[j];
    scored += rows.length;
    opts.onProgress?.(Math.min(g.start + batchSize, windows.length), windows.length);
  };
  if (isLayerMajorModel(model)) {
    // layer-major (src/models/layer-major.ts): every group through each block in turn, so a
    // streamed checkpoint is read once; the last block (from the first scored position on), the final
    // norm and the LM head run on the scored positions only
    const batches = groups.map((g, i) => ({ ids: g.input, ...(g.padded ? { attentionMask: g.attentionMask } : {}), queryFrom: firstPosition(scoredAt[i]) }));
    await forwardLayerMajorAsync(model, batches, (i, hidden, from) => score(i, headAt(model, hidden, scoredAt[i], from), (j) => j), opts.memory);
  } else {
    for (const [i, g] of groups.entries()) {
      score(i, (await model.forward(g.input, g.padded ? { attentionMask: g.attentionMask } : {})).logits, (j) => scoredAt[i][j][0] * g.width + scoredAt[i][j][1]);
      await yieldToSignals(); // an event-loop turn per group: Ctrl-C is heard
    }
  }
  const meanNll = nll / scored;
  const result: PerplexityResult = {
    perplexity: Math.exp(meanNll),
    meanNll,
    scoredTokens: scored,
    streamTokens: ids.length,
    windows: windows.length,
    totalWindows,
    mode,
    maxLength,
    stride,
    protocol: '',
  };
  result.protocol = describeProtocol(result);
  return result;
}

/** "perplexity 12.34: 10 non-overlapping chunks of 256 tokens (2550 scored of 2600) …" */
function describeProtocol(r: Omit<PerplexityResult, 'protocol'>): string {
  const how =
    r.mode === 'chunks'
      ? `${r.windows} non-overlapping chunks of ${r.maxLength} tokens (first token of each chunk unscored, final partial chunk dropped)`
      : `${r.windows} sliding windows of ≤${r.maxLength} tokens, stride ${r.stride} (each token scored once with ≥${r.maxLength - r.stride} tokens of context)`;
  const part = r.windows < r.totalWindows ? ` (the first ${r.windows} of ${r.totalWindows})` : '';
  return `perplexity ${r.perplexity.toFixed(4)} = exp(mean NLL ${r.meanNll.toFixed(6)} nats) over ${r.scoredTokens} scored tokens of a ${r.streamTokens}-token stream; ${how}${part}`;
}
