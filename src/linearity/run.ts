/**
 * A whole linearity run over one or more models: load the probe set once, then per model tokenize,
 * look the result up in the cache (keyed by the model's content fingerprint + the exact token sequences + every
 * option that changes a number), or load the model and analyse it.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Tokenizer } from '../data/types.ts';
import { openModelSource } from '../io/model-source.ts';
import { normalizeConfig, type DecoderConfig } from '../models/config.ts';
import { createModel } from '../models/decoder.ts';
import { intendedConfig } from '../models/linscope-maps.ts';
import { resolveTokenizer } from '../io/tokenizer-override.ts';
import type { WeightSource } from '../models/types.ts';
import { linearityTokenWarning } from '../analysis/sample-size.ts';
import { contentFingerprint } from '../io/fingerprint.ts';
import { NUMERICS_VERSION } from '../tensor/numerics.ts';
import { cacheKey, ResultCache, stableHashOfRows } from '../report/cache.ts';
import { analyseModelAsync, checkPartsSupported, pairCount, progressSteps, type AnalyseHooks } from './analyse.ts';
import { loadProbeSource, probeSequences, type ProbeSource } from './data.ts';
import { checkLinearityMemory } from './memory.ts';
import { checkOptions, type AnalysisOptions, type DataSpec, type ExecutionOptions, type SamplingOptions } from './options.ts';
import type { LinearityRun, ModelInfo, ModelLinearity } from './result.ts';

/** Bump when the meaning or layout of a cached `ModelLinearity` changes. */
export const RESULT_VERSION = 1;

/** A model built in code (benchmarks, tests): its weights, a name and an identity for the cache. */
export interface InMemoryModel {
  source: WeightSource;
  label: string;
  /** Anything that identifies these weights (e.g. the config and seed they were drawn with). */
  identity: unknown;
  tokenizer?: Tokenizer;
}

export type ModelInput = string | InMemoryModel;

export interface CacheSettings {
  /** Look up and store results (default true). */
  enabled?: boolean;
  /** Recompute and overwrite existing entries. */
  refresh?: boolean;
  /** Cache folder (default $LINSCOPE_CACHE or ./.cache/linscope). */
  dir?: string;
}

/** Progress of one model's batches: `start` once, `batch` after each, `end` when done or cached. */
export interface RunProgress {
  start(label: string, totalBatches: number): void;
  batch(done: number): void;
  end(note?: string): void;
}

export interface LinearityRequest {
  models: readonly ModelInput[];
  /** Tokenizer override for models given by path: a tokenizer.json folder or a llama2.c tok*.bin. */
  tokenizer?: string;
  /** Names in charts and tables, one per model (default: folder names). */
  labels?: readonly (string | undefined)[];
  data: DataSpec;
  sampling: SamplingOptions;
  analysis: AnalysisOptions;
  execution?: Partial<ExecutionOptions>;
  cache?: CacheSettings;
  /** The command line, recorded in the outputs. */
  command?: string;
  progress?: RunProgress;
  /** Messages (cache hits, model summaries); default silent. */
  log?: (message: string) => void;
  /** Warnings about the numbers (e.g. too few tokens); default stderr. */
  warn?: (message: string) => void;
  /** Never contact the Hugging Face hub for models given by id (default: $HF_HUB_OFFLINE). */
  offline?: boolean;
}

function packageVersion(): string {
  try {
    return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string;
  } catch {
    return 'unknown';
  }
}

/** A short name for a model path or hub id: its last path component. */
export function defaultLabel(spec: string): string {
  const trimmed = spec.replace(/[\\/]+$/, '');
  return basename(trimmed) || trimmed;
}

/** Makes labels unique by numbering repeats: a, a (2), a (3). */
export function uniqueLabels(labels: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return labels.map((l) => {
    const n = (seen.get(l) ?? 0) + 1;
    seen.set(l, n);
    return n === 1 ? l : `${l} (${n})`;
  });
}

interface OpenedModel {
  spec: string;
  source: WeightSource;
  config: DecoderConfig;
  identity: unknown;
  tokenizer?: Tokenizer;
}

async function openModel(input: ModelInput, offline: boolean | undefined, tokenizerOverride?: string): Promise<OpenedModel> {
  if (typeof input !== 'string') {
    return { spec: input.label, source: input.source, config: normalizeConfig(intendedConfig(input.source.config)), identity: input.identity, tokenizer: input.tokenizer };
  }
  const source = await openModelSource(input, { offline });
  const tokenizer = tokenizerOverride ? await resolveTokenizer(source, tokenizerOverride) : await source.tokenizer();
  return { spec: input, source, config: normalizeConfig(intendedConfig(source.config)), identity: contentFingerprint(source.dir, { depth: 1 }), tokenizer };
}

/** The cache key of one model's result: what was run, on exactly which tokens, measured how. */
export function resultKey(identity: unknown, sequences: readonly (readonly number[])[], analysis: AnalysisOptions) {
  return cacheKey({ kind: 'linearity', version: RESULT_VERSION, numerics: NUMERICS_VERSION, model: identity, data: { sequences: stableHashOfRows(sequences) }, options: analysis });
}

/** Runs the analysis for every model (or takes it from the cache) and collects the results. */
export async function runLinearity(request: LinearityRequest): Promise<LinearityRun> {
  const started = performance.now();
  const { data, sampling, analysis } = request;
  checkOptions(sampling, analysis);
  if (request.models.length === 0) throw new Error('no model given: pass --model (repeatable)');
  const log = request.log ?? (() => {});
  const warn = request.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  /** Adds the warnings a result calls for (they depend on the run, so they are never cached). */
  const withWarnings = (r: ModelLinearity, label: string): ModelLinearity => {
    const tokens = linearityTokenWarning(r.tokens, r.model.hiddenSize);
    if (!tokens) return r;
    warn(`${label}: ${tokens}`);
    return { ...r, warnings: [tokens] };
  };
  const cache = new ResultCache(request.cache?.dir, request.cache?.enabled === false ? { enabled: false } : {});
  const labels = uniqueLabels(request.models.map((m, i) => request.labels?.[i] ?? (typeof m === 'string' ? defaultLabel(m) : m.label)));
  // models first (config and header only), so an impossible memory need is refused before the probe set is built
  const models: OpenedModel[] = [];
  for (const input of request.models) {
    const opened = await openModel(input, request.offline, request.tokenizer);
    checkLinearityMemory(opened.config, data, sampling, analysis);
    models.push(opened);
  }
  const probe: ProbeSource = await loadProbeSource(data, sampling);
  const results: ModelLinearity[] = [];

  for (const [i, opened] of models.entries()) {
    const cfg = opened.config;
    if (analysis.parts) checkPartsSupported(cfg);
    if (pairCount(cfg.numLayers, analysis.lastPair) < 1) throw new Error(`${opened.spec}: --last-pair skip leaves no pair (the model has ${cfg.numLayers} block)`);
    // never beyond the model's context (learned position tables end there)
    const maxTokens = Math.min(sampling.maxTokens ?? Number.POSITIVE_INFINITY, cfg.maxPositions ?? Number.POSITIVE_INFINITY);
    const { sequences } = probeSequences(probe, data, sampling, { vocabSize: cfg.vocabSize, tokenizer: opened.tokenizer, maxTokens });
    const info: ModelInfo = {
      spec: opened.spec,
      label: labels[i],
      modelType: cfg.modelType,
      layers: cfg.numLayers,
      hiddenSize: cfg.hiddenSize,
      vocabSize: cfg.vocabSize,
      parallelResidual: cfg.parallelResidual,
      identity: opened.identity,
    };
    const key = resultKey(opened.identity, sequences, analysis);
    const hit = request.cache?.refresh ? undefined : cache.get<ModelLinearity>(key);
    if (hit) {
      log(`${labels[i]}: cached result (${cache.describe(key)})`);
      results.push(withWarnings({ ...hit, model: { ...hit.model, spec: opened.spec, label: labels[i] }, cached: true }, labels[i]));
      continue;
    }
    const model = createModel(opened.source, { dtype: analysis.dtype, streaming: request.execution?.streaming ?? false });
    const totalSteps = progressSteps(sequences.length, cfg.numLayers, analysis);
    request.progress?.start(labels[i], totalSteps);
    // per-token steps follow each block's statistics steps (layer-major): count both kinds together
    let steps = 0;
    const hooks: AnalyseHooks = {
      onBatch: () => request.progress?.batch(++steps),
      maxMemory: request.execution?.maxMemory,
      decode: opened.tokenizer ? (ids) => opened.tokenizer!.decode(ids) : undefined,
    };
    let result: ModelLinearity;
    try {
      result = await analyseModelAsync(model, info, sequences, analysis, hooks);
    } finally {
      request.progress?.end();
    }
    cache.set(key, result);
    results.push(withWarnings(result, labels[i]));
  }

  return {
    tool: 'linscope linearity',
    version: packageVersion(),
    createdAt: new Date().toISOString(),
    ...(request.command ? { command: request.command } : {}),
    data: probe.info,
    sampling,
    options: analysis,
    models: results,
    seconds: (performance.now() - started) / 1000,
  };
}
