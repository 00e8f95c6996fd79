/**
 * What a linearity run holds, estimated before the probe set is built (src/util/memory-estimate.ts
 * decides whether it fits). The probe set is kept whole (the token sequences: 9 bytes per token on
 * the JavaScript heap, measured, plus the text slices; batches are padded one at a time and the
 * sequences are hashed as a stream); the run is layer-major (src/linearity/analyse.ts): one batch
 * goes through one block at a time (its intermediates, the attention scores B × heads × T²), the
 * residual stream of all tokens is kept between blocks but spills to disk above `--max-memory`, so
 * it is not counted here; the statistics of one pair (O(d²)) live at a time. The weights come on top.
 */
import { existsSync, statSync } from 'node:fs';
import type { DecoderConfig } from '../models/config.ts';
import { checkMemoryBudget, formatBytes, HEAP_SHARE, memoryLimits, type MemoryLimits, type MemoryPart } from '../util/memory-estimate.ts';
import type { AnalysisOptions, DataSpec, SamplingOptions } from './options.ts';
import { pairCount } from './analyse.ts';
import { pairStatisticsBytes } from '../analysis/linearity-pair.ts';

/** JavaScript heap per probe token: the sequence arrays (9 B, measured) and slack for tokenizing. */
const HEAP_BYTES_PER_TOKEN = 16;
const HEAP_BYTES_PER_SEQUENCE = 200;

/** Most tokens one sequence can have for this model (an upper bound: ≤ one token per character, plus BOS). */
function tokensPerSequence(config: DecoderConfig, data: DataSpec, sampling: SamplingOptions): number {
  const context = Math.min(sampling.maxTokens ?? Infinity, config.maxPositions ?? Infinity);
  const natural = data.kind === 'random' ? data.length : sampling.chars + 1;
  return Math.min(natural, context);
}

/** The parts of a run over `config` (one model at a time). */
export function linearityMemoryParts(config: DecoderConfig, data: DataSpec, sampling: SamplingOptions, analysis: AnalysisOptions): MemoryPart[] {
  const d = config.hiddenSize;
  const L = config.numLayers;
  const P = pairCount(L, analysis.lastPair);
  const T = tokensPerSequence(config, data, sampling);
  let sequences = sampling.samples;
  let tokens = sequences * T;
  if (data.kind === 'ids') {
    // the file holds the sequences: a few bytes of JSON per id
    tokens = existsSync(data.path) ? statSync(data.path).size / 3 : 0; // a missing file is reported when it is read
    sequences = Math.max(1, tokens / T);
  }
  const B = Math.min(analysis.batchSize, sequences);
  const floatBytes = analysis.dtype === 'float64' ? 8 : 4;
  const parts: MemoryPart[] = [
    { what: `token sequences (${sequences.toLocaleString('en-US')} sequences, up to ${Math.round(tokens).toLocaleString('en-US')} tokens)`, bytes: tokens * HEAP_BYTES_PER_TOKEN + sequences * HEAP_BYTES_PER_SEQUENCE, heap: true },
    { what: `one batch through one block (${B} × ${T} tokens, d ${d})`, bytes: B * T * (8 * d + 3 * config.intermediateSize) * floatBytes + B * config.numHeads * T * T * 4, heap: false },
    { what: `statistics of one pair of ${P} (d² each)`, bytes: pairStatisticsBytes(d, analysis.parts), heap: false },
  ];
  if (data.kind === 'text') parts.push({ what: `${sequences.toLocaleString('en-US')} text slices`, bytes: sequences * (sampling.chars * 2 + 64), heap: true });
  if (analysis.intrinsicDim) parts.push({ what: `intrinsic dimension (${analysis.idTokens} tokens per state)`, bytes: (P + 1) * analysis.idTokens * d * 8 + analysis.idTokens * analysis.idTokens * 8, heap: false });
  if (analysis.logitLens) parts.push({ what: 'logit lens (one batch of logits)', bytes: B * T * config.vocabSize * 4 * 2, heap: false });
  return parts;
}

/** Refuses (before the probe set is built) a run whose probe set or batches cannot fit. */
export function checkLinearityMemory(config: DecoderConfig, data: DataSpec, sampling: SamplingOptions, analysis: AnalysisOptions, limits: MemoryLimits = memoryLimits()): void {
  const parts = linearityMemoryParts(config, data, sampling, analysis);
  const perSample = parts.filter((p) => p.heap).reduce((s, p) => s + p.bytes, 0) / Math.max(1, sampling.samples);
  const fit = Math.floor((HEAP_SHARE * limits.heapBytes) / perSample);
  const lower = data.kind === 'ids'
    ? 'use fewer or shorter sequences in --data, or a smaller --batch-size'
    : `lower --samples (about ${fit.toLocaleString('en-US')} fit; each holds about ${formatBytes(perSample)}) ` +
      `or --${data.kind === 'random' ? 'random-tokens' : 'chars'} / --max-tokens, or --batch-size`;
  checkMemoryBudget(parts, lower, limits);
}
