/**
 * One normalised description of a decoder, read from any supported architecture's `config.json`.
 *
 * Each reader below follows the Hugging Face transformers v4.42 config class of its architecture:
 * the same keys (including legacy aliases such as `n_embd`, `n_embed`, `rotary_emb_base`) and the
 * same defaults, so a diff-only `config.json` (what `save_pretrained` writes) and the fully resolved
 * one give the same `DecoderConfig`.
 */
import type { ModelConfig } from '../io/config.ts';
import { scalarActivation } from '../tensor/activations.ts';

/** Architectures (HF `model_type`) we run. */
export const SUPPORTED_MODEL_TYPES = [
  'gpt2', 'opt', 'llama', 'mistral', 'qwen2', 'gpt_neox', 'bloom', 'gptj', 'phi', 'falcon', 'gemma',
] as const;
export type ModelType = (typeof SUPPORTED_MODEL_TYPES)[number];

/** Code families: one module each under `src/models/` (Mistral and Qwen2 run as Llama variants). */
export type FamilyName = 'gpt2' | 'opt' | 'llama' | 'gpt_neox' | 'bloom' | 'gptj' | 'phi' | 'falcon' | 'gemma';

/** Legacy `model_type` spellings that name a supported architecture. */
const MODEL_TYPE_ALIASES: Record<string, ModelType> = {
  RefinedWeb: 'falcon',
  RefinedWebModel: 'falcon',
};

export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'dynamic'; factor: number; maxPositions: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number }
  | { type: 'yarn'; factor: number; originalMaxPositions: number; betaFast: number; betaSlow: number; attentionFactor: number; truncate: boolean }
  | { type: 'longrope'; shortFactor: number[]; longFactor: number[]; originalMaxPositions: number; attentionFactor: number };

export interface RopeConfig {
  theta: number;
  /** Leading coordinates of each head that rotate (headDim unless partial rotary). */
  rotaryDim: number;
  /** `half` = rotate_half (NeoX/Llama/HF), `interleaved` = rotate_every_two (GPT-J). */
  style: 'half' | 'interleaved';
  scaling?: RopeScaling;
}

export interface NormConfig {
  kind: 'layernorm' | 'rmsnorm';
  eps: number;
  /** Gemma's RMSNorm scales by (1 + w). */
  unitOffset: boolean;
}

export interface DecoderConfig {
  modelType: ModelType;
  family: FamilyName;
  numLayers: number;
  hiddenSize: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  /** Learned-position table size (GPT-2, OPT) or the trained context; undefined when unbounded (BLOOM). */
  maxPositions?: number;
  norm: NormConfig;
  /** HF ACT2FN name of the MLP activation. */
  activation: string;
  /** SwiGLU/GeGLU MLP (gate, up, down) instead of fc_in → act → fc_out. */
  gatedMlp: boolean;
  rope?: RopeConfig;
  alibi: boolean;
  /** Attention and MLP read the same block input and their outputs add to the residual together. */
  parallelResidual: boolean;
  /** Biases on q/k/v, on the attention output, on the MLP matrices, on the LM head. */
  qkvBias: boolean;
  attnOutBias: boolean;
  mlpBias: boolean;
  lmHeadBias: boolean;
  tieWordEmbeddings: boolean;
  /** Multiplier on attention scores; GPT-2 may further divide by (layer + 1). */
  attentionScale: number;
  scaleAttnByInverseLayerIdx: boolean;
  /** Sliding-window attention (Mistral; Qwen2 when `use_sliding_window`), applied from layer `slidingWindowFromLayer`. */
  slidingWindow?: number;
  slidingWindowFromLayer: number;
  /** Gemma multiplies token embeddings by sqrt(hiddenSize) (rounded to the model dtype). */
  embeddingMultiplier: number;
  /** OPT: layer norm before (true) or after (false, opt-350m) each sublayer; projection width of the embeddings. */
  normBeforeSublayer: boolean;
  embedProjDim: number;
  /** Whether a final norm follows the last block (OPT's `_remove_final_layer_norm` turns it off). */
  finalNorm: boolean;
  /** BLOOM: the residual branch starts from the normed input. */
  residualFromNorm: boolean;
  /** Falcon: fused-QKV layout and number of norms in a parallel block. */
  falcon?: { newDecoderArchitecture: boolean; multiQuery: boolean; parallelNorms: 1 | 2 };
  /** Phi: LayerNorm on each query/key head. */
  qkLayerNorm: boolean;
  bosTokenId?: number;
  eosTokenIds: number[];
  padTokenId?: number;
  /** The config.json as read. */
  raw: ModelConfig;
}

// ---------------------------------------------------------------------------------------------
// Small typed readers (aliases in order of preference; the first non-null value wins).

function pick(raw: ModelConfig, keys: readonly string[]): unknown {
  for (const k of keys) if (raw[k] !== undefined && raw[k] !== null) return raw[k];
  return undefined;
}

function num(raw: ModelConfig, keys: readonly string[], fallback: number): number {
  const v = pick(raw, keys);
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new Error(`config.json: "${keys.find((k) => raw[k] != null)}" should be a number, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** An integer setting; the fallback is returned unchecked (derived values are validated later). */
function int(raw: ModelConfig, keys: readonly string[], fallback: number): number {
  if (pick(raw, keys) === undefined) return fallback;
  const v = num(raw, keys, fallback);
  if (!Number.isInteger(v)) throw new Error(`config.json: "${keys.find((k) => raw[k] != null)}" should be an integer, got ${v}`);
  return v;
}

function optInt(raw: ModelConfig, keys: readonly string[]): number | undefined {
  return pick(raw, keys) === undefined ? undefined : int(raw, keys, 0);
}

function bool(raw: ModelConfig, keys: readonly string[], fallback: boolean): boolean {
  const v = pick(raw, keys);
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new Error(`config.json: "${keys.find((k) => raw[k] != null)}" should be true/false, got ${JSON.stringify(v)}`);
  return v;
}

function str(raw: ModelConfig, keys: readonly string[], fallback: string): string {
  const v = pick(raw, keys);
  if (v === undefined) return fallback;
  if (typeof v !== 'string') throw new Error(`config.json: "${keys[0]}" should be a string, got ${JSON.stringify(v)}`);
  return v;
}

function tokenIds(raw: ModelConfig, key: string, fallback: number[]): number[] {
  const v = raw[key];
  if (v === undefined) return fallback;
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return [];
}

/** HF `rope_scaling` (either `type` or `rope_type` key). */
function parseRopeScaling(raw: ModelConfig, maxPositions: number | undefined): RopeScaling | undefined {
  const rs = raw.rope_scaling;
  if (rs === undefined || rs === null) return undefined;
  if (typeof rs !== 'object') throw new Error(`config.json: "rope_scaling" should be an object, got ${JSON.stringify(rs)}`);
  const type = rs.rope_type ?? rs.type;
  const factor = rs.factor;
  const needFactor = (): number => {
    if (typeof factor !== 'number' || !(factor > 0)) throw new Error(`config.json: rope_scaling of type "${type}" needs a positive "factor", got ${JSON.stringify(factor)}`);
    return factor;
  };
  switch (type) {
    case 'default':
      return undefined;
    case 'linear':
      return { type: 'linear', factor: needFactor() };
    case 'dynamic':
      if (maxPositions === undefined) throw new Error('config.json: dynamic rope_scaling needs "max_position_embeddings"');
      return { type: 'dynamic', factor: needFactor(), maxPositions };
    case 'llama3': {
      const need = (k: string): number => {
        if (typeof rs[k] !== 'number') throw new Error(`config.json: rope_scaling of type "llama3" needs "${k}"`);
        return rs[k];
      };
      return {
        type: 'llama3', factor: needFactor(), lowFreqFactor: need('low_freq_factor'),
        highFreqFactor: need('high_freq_factor'), originalMaxPositions: need('original_max_position_embeddings'),
      };
    }
    case 'yarn':
      return parseYarn(rs, maxPositions, needFactor());
    case 'longrope':
      return parseLongrope(raw, rs, maxPositions);
    default:
      throw new Error(`config.json: rope_scaling type ${JSON.stringify(type)} is not supported (supported: linear, dynamic, llama3, yarn, longrope)`);
  }
}

/** YaRN's cos/sin multiplier: 0.1 · m · ln(s) + 1 for s > 1, else 1 (transformers' get_mscale). */
function yarnMscale(scale: number, m = 1): number {
  return scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1;
}

/**
 * rope_scaling type "yarn", with transformers' defaults (modeling_rope_utils `_compute_yarn_parameters`):
 * an `original_max_position_embeddings` in rope_scaling replaces the factor by max_position_embeddings / it;
 * attention_factor defaults to mscale(factor, mscale) / mscale(factor, mscale_all_dim) when both are set,
 * else mscale(factor); beta_fast 32, beta_slow 1; truncate true.
 */
function parseYarn(rs: Record<string, any>, maxPositions: number | undefined, factor: number): RopeScaling {
  const opt = (k: string, d: number): number => {
    const v = rs[k];
    if (v === undefined || v === null || v === 0) return d; // transformers: `rope_scaling.get(k) or default`
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`config.json: rope_scaling "${k}" must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  let f = factor;
  let original = maxPositions;
  if (typeof rs.original_max_position_embeddings === 'number') {
    original = rs.original_max_position_embeddings;
    if (maxPositions === undefined) throw new Error('config.json: yarn rope_scaling with original_max_position_embeddings needs "max_position_embeddings"');
    f = maxPositions / rs.original_max_position_embeddings;
  }
  if (original === undefined || !(original > 0)) throw new Error('config.json: yarn rope_scaling needs "max_position_embeddings"');
  const mscale = rs.mscale;
  const mscaleAllDim = rs.mscale_all_dim;
  let attentionFactor = rs.attention_factor;
  if (attentionFactor === undefined || attentionFactor === null) {
    attentionFactor = mscale && mscaleAllDim ? yarnMscale(f, mscale) / yarnMscale(f, mscaleAllDim) : yarnMscale(f);
  }
  if (typeof attentionFactor !== 'number' || !(attentionFactor > 0)) throw new Error(`config.json: rope_scaling "attention_factor" must be a positive number, got ${JSON.stringify(attentionFactor)}`);
  return {
    type: 'yarn', factor: f, originalMaxPositions: original, betaFast: opt('beta_fast', 32), betaSlow: opt('beta_slow', 1),
    attentionFactor, truncate: rs.truncate !== false,
  };
}

/**
 * rope_scaling type "longrope" (Phi-3 style): per-frequency short_factor / long_factor lists;
 * a top-level `original_max_position_embeddings` makes the factor max_position_embeddings / it;
 * attention_factor defaults to √(1 + ln(factor) / ln(original)) (1 when factor ≤ 1).
 */
function parseLongrope(raw: ModelConfig, rs: Record<string, any>, maxPositions: number | undefined): RopeScaling {
  const list = (k: string): number[] => {
    const v = rs[k];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && x > 0)) throw new Error(`config.json: longrope rope_scaling needs "${k}", a list of positive numbers`);
    return v;
  };
  let original = typeof rs.original_max_position_embeddings === 'number' ? rs.original_max_position_embeddings : maxPositions;
  let factor = typeof rs.factor === 'number' ? rs.factor : undefined;
  if (typeof raw.original_max_position_embeddings === 'number') {
    original = raw.original_max_position_embeddings;
    if (maxPositions === undefined) throw new Error('config.json: longrope rope_scaling needs "max_position_embeddings"');
    factor = maxPositions / raw.original_max_position_embeddings;
  }
  if (original === undefined || !(original > 0)) throw new Error('config.json: longrope rope_scaling needs "max_position_embeddings"');
  if (factor === undefined) throw new Error('config.json: longrope rope_scaling needs "factor" (or a top-level original_max_position_embeddings)');
  const attentionFactor = typeof rs.attention_factor === 'number' ? rs.attention_factor
    : factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(original));
  return { type: 'longrope', shortFactor: list('short_factor'), longFactor: list('long_factor'), originalMaxPositions: original, attentionFactor };
}

/** Fields shared by all architectures, with neutral defaults; each reader overrides what it needs. */
function base(raw: ModelConfig, modelType: ModelType, family: FamilyName): Omit<DecoderConfig,
  'numLayers' | 'hiddenSize' | 'numHeads' | 'numKvHeads' | 'headDim' | 'intermediateSize' | 'vocabSize' | 'norm' | 'activation' | 'attentionScale'> {
  return {
    modelType, family, raw,
    gatedMlp: false, alibi: false, parallelResidual: false,
    qkvBias: false, attnOutBias: false, mlpBias: false, lmHeadBias: false,
    tieWordEmbeddings: bool(raw, ['tie_word_embeddings'], true),
    scaleAttnByInverseLayerIdx: false,
    slidingWindowFromLayer: 0,
    embeddingMultiplier: 1,
    normBeforeSublayer: true,
    embedProjDim: 0,
    finalNorm: true,
    residualFromNorm: false,
    qkLayerNorm: false,
    eosTokenIds: [],
  };
}

const layerNorm = (eps: number): NormConfig => ({ kind: 'layernorm', eps, unitOffset: false });
const rmsNorm = (eps: number, unitOffset = false): NormConfig => ({ kind: 'rmsnorm', eps, unitOffset });

function ids(raw: ModelConfig, bos: number | undefined, eos: number[], pad?: number) {
  return {
    bosTokenId: tokenIds(raw, 'bos_token_id', bos === undefined ? [] : [bos])[0],
    eosTokenIds: tokenIds(raw, 'eos_token_id', eos),
    padTokenId: tokenIds(raw, 'pad_token_id', pad === undefined ? [] : [pad])[0],
  };
}

// ---------------------------------------------------------------------------------------------
// One reader per architecture (defaults from the HF v4.42 config classes).

function gpt2(raw: ModelConfig): DecoderConfig {
  const hiddenSize = int(raw, ['n_embd', 'hidden_size'], 768);
  const numHeads = int(raw, ['n_head', 'num_attention_heads'], 12);
  const headDim = hiddenSize / numHeads;
  return {
    ...base(raw, 'gpt2', 'gpt2'),
    numLayers: int(raw, ['n_layer', 'num_hidden_layers'], 12),
    hiddenSize, numHeads, numKvHeads: numHeads, headDim,
    intermediateSize: int(raw, ['n_inner'], 4 * hiddenSize),
    vocabSize: int(raw, ['vocab_size'], 50257),
    maxPositions: int(raw, ['n_positions', 'max_position_embeddings'], 1024),
    norm: layerNorm(num(raw, ['layer_norm_epsilon'], 1e-5)),
    activation: str(raw, ['activation_function'], 'gelu_new'),
    qkvBias: true, attnOutBias: true, mlpBias: true,
    attentionScale: bool(raw, ['scale_attn_weights'], true) ? 1 / Math.sqrt(headDim) : 1,
    scaleAttnByInverseLayerIdx: bool(raw, ['scale_attn_by_inverse_layer_idx'], false),
    ...ids(raw, 50256, [50256]),
  };
}

function opt(raw: ModelConfig): DecoderConfig {
  const hiddenSize = int(raw, ['hidden_size'], 768);
  const numHeads = int(raw, ['num_attention_heads'], 12);
  const bias = bool(raw, ['enable_bias'], true);
  const normBefore = bool(raw, ['do_layer_norm_before'], true);
  if (!bool(raw, ['layer_norm_elementwise_affine'], true)) {
    throw new Error('config.json: OPT with layer_norm_elementwise_affine=false is not supported');
  }
  return {
    ...base(raw, 'opt', 'opt'),
    numLayers: int(raw, ['num_hidden_layers'], 12),
    hiddenSize, numHeads, numKvHeads: numHeads, headDim: hiddenSize / numHeads,
    intermediateSize: int(raw, ['ffn_dim'], 3072),
    vocabSize: int(raw, ['vocab_size'], 50272),
    maxPositions: int(raw, ['max_position_embeddings'], 2048),
    norm: layerNorm(1e-5),
    activation: str(raw, ['activation_function'], 'relu'),
    qkvBias: bias, attnOutBias: bias, mlpBias: bias,
    attentionScale: 1 / Math.sqrt(hiddenSize / numHeads),
    normBeforeSublayer: normBefore,
    embedProjDim: int(raw, ['word_embed_proj_dim'], hiddenSize),
    finalNorm: normBefore && !bool(raw, ['_remove_final_layer_norm'], false),
    ...ids(raw, 2, [2], 1),
  };
}

/** Llama, Mistral and Qwen2 (one family, small differences). */
function llamaLike(raw: ModelConfig, modelType: 'llama' | 'mistral' | 'qwen2'): DecoderConfig {
  const d = {
    llama: { intermediate: 11008, kv: undefined, maxPos: 2048, vocab: 32000 },
    mistral: { intermediate: 14336, kv: 8, maxPos: 4096 * 32, vocab: 32000 },
    qwen2: { intermediate: 22016, kv: 32, maxPos: 32768, vocab: 151936 },
  }[modelType];
  const hiddenSize = int(raw, ['hidden_size'], 4096);
  const numHeads = int(raw, ['num_attention_heads'], 32);
  const numKvHeads = int(raw, ['num_key_value_heads'], d.kv ?? numHeads);
  const headDim = int(raw, ['head_dim'], hiddenSize / numHeads);
  const maxPositions = int(raw, ['max_position_embeddings'], d.maxPos);
  const numLayers = int(raw, ['num_hidden_layers'], 32);
  const attentionBias = modelType === 'llama' && bool(raw, ['attention_bias'], false);
  const mlpBias = modelType === 'llama' && bool(raw, ['mlp_bias'], false);
  let slidingWindow: number | undefined;
  let slidingWindowFromLayer = 0;
  if (modelType === 'mistral') {
    slidingWindow = raw.sliding_window === undefined ? 4096 : (optInt(raw, ['sliding_window']) ?? undefined);
  } else if (modelType === 'qwen2' && bool(raw, ['use_sliding_window'], false)) {
    slidingWindow = int(raw, ['sliding_window'], 4096);
    slidingWindowFromLayer = int(raw, ['max_window_layers'], 28);
  }
  return {
    ...base(raw, modelType, 'llama'),
    numLayers, hiddenSize, numHeads, numKvHeads, headDim,
    intermediateSize: int(raw, ['intermediate_size'], d.intermediate),
    vocabSize: int(raw, ['vocab_size'], d.vocab),
    maxPositions,
    norm: rmsNorm(num(raw, ['rms_norm_eps'], 1e-6)),
    activation: str(raw, ['hidden_act'], 'silu'),
    gatedMlp: true,
    rope: { theta: num(raw, ['rope_theta'], 10000), rotaryDim: headDim, style: 'half', scaling: parseRopeScaling(raw, maxPositions) },
    qkvBias: attentionBias || modelType === 'qwen2', attnOutBias: attentionBias, mlpBias,
    tieWordEmbeddings: bool(raw, ['tie_word_embeddings'], false),
    attentionScale: 1 / Math.sqrt(headDim),
    slidingWindow, slidingWindowFromLayer,
    ...(modelType === 'qwen2' ? ids(raw, undefined, []) : ids(raw, 1, [2])),
  };
}

function gptNeox(raw: ModelConfig): DecoderConfig {
  const hiddenSize = int(raw, ['hidden_size'], 6144);
  const numHeads = int(raw, ['num_attention_heads'], 64);
  const headDim = hiddenSize / numHeads;
  const maxPositions = int(raw, ['max_position_embeddings'], 2048);
  const bias = bool(raw, ['attention_bias'], true);
  return {
    ...base(raw, 'gpt_neox', 'gpt_neox'),
    numLayers: int(raw, ['num_hidden_layers'], 44),
    hiddenSize, numHeads, numKvHeads: numHeads, headDim,
    intermediateSize: int(raw, ['intermediate_size'], 24576),
    vocabSize: int(raw, ['vocab_size'], 50432),
    maxPositions,
    norm: layerNorm(num(raw, ['layer_norm_eps'], 1e-5)),
    activation: str(raw, ['hidden_act'], 'gelu'),
    rope: {
      theta: num(raw, ['rotary_emb_base', 'rope_theta'], 10000),
      rotaryDim: Math.trunc(headDim * num(raw, ['rotary_pct'], 0.25)),
      style: 'half',
      scaling: parseRopeScaling(raw, maxPositions),
    },
    parallelResidual: bool(raw, ['use_parallel_residual'], true),
    qkvBias: bias, attnOutBias: bias, mlpBias: true,
    tieWordEmbeddings: bool(raw, ['tie_word_embeddings'], false),
    attentionScale: 1 / Math.sqrt(headDim),
    ...ids(raw, 0, [2]),
  };
}

function bloom(raw: ModelConfig): DecoderConfig {
  const hiddenSize = int(raw, ['n_embed', 'hidden_size'], 64);
  const numHeads = int(raw, ['n_head', 'num_attention_heads'], 8);
  return {
    ...base(raw, 'bloom', 'bloom'),
    numLayers: int(raw, ['n_layer', 'num_hidden_layers'], 2),
    hiddenSize, numHeads, numKvHeads: numHeads, headDim: hiddenSize / numHeads,
    intermediateSize: 4 * hiddenSize,
    vocabSize: int(raw, ['vocab_size'], 250880),
    norm: layerNorm(num(raw, ['layer_norm_epsilon'], 1e-5)),
    activation: 'gelu_pytorch_tanh',
    alibi: true,
    qkvBias: true, attnOutBias: true, mlpBias: true,
    attentionScale: 1 / Math.sqrt(hiddenSize / numHeads),
    residualFromNorm: bool(raw, ['apply_residual_connection_post_layernorm'], false),
    ...ids(raw, 1, [2], 3),
  };
}

function gptj(raw: ModelConfig): DecoderConfig {
  const hiddenSize = int(raw, ['n_embd', 'hidden_size'], 4096);
  const numHeads = int(raw, ['n_head', 'num_attention_heads'], 16);
  const headDim = hiddenSize / numHeads;
  return {
    ...base(raw, 'gptj', 'gptj'),
    numLayers: int(raw, ['n_layer', 'num_hidden_layers'], 28),
    hiddenSize, numHeads, numKvHeads: numHeads, headDim,
    intermediateSize: int(raw, ['n_inner'], 4 * hiddenSize),
    vocabSize: int(raw, ['vocab_size'], 50400),
    maxPositions: int(raw, ['n_positions', 'max_position_embeddings'], 2048),
    norm: layerNorm(num(raw, ['layer_norm_epsilon'], 1e-5)),
    activation: str(raw, ['activation_function'], 'gelu_new'),
    rope: { theta: 10000, rotaryDim: int(raw, ['rotary_dim'], 64), style: 'interleaved' },
    parallelResidual: true,
    mlpBias: true, lmHeadBias: true,
    tieWordEmbeddings: bool(raw, ['tie_word_embeddings'], false),
    attentionScale: 1 / Math.sqrt(headDim),
    ...ids(raw, 50256, [50256]),
  };
}

function phi(raw: ModelConfig): DecoderConfig {
  const hiddenSize = int(raw, ['hidden_size'], 2048);
  const numHeads = int(raw, ['num_attention_heads'], 32);
  const headDim = hiddenSize / numHeads;
  const maxPositions = int(raw, ['max_position_embeddings'], 2048);
  return {
    ...base(raw, 'phi', 'phi'),
    numLayers: int(raw, ['num_hidden_layers'], 24),
    hiddenSize, numHeads, numKvHeads: int(raw, ['num_key_value_heads'], numHeads), headDim,
    intermediateSize: int(raw, ['intermediate_size'], 8192),
    vocabSize: int(raw, ['vocab_size'], 51200),
    maxPositions,
    norm: layerNorm(num(raw, ['layer_norm_eps'], 1e-5)),
    activation: str(raw, ['hidden_act'], 'gelu_new'),
    rope: {
      theta: num(raw, ['rope_theta'], 10000),
      rotaryDim: Math.trunc(num(raw, ['partial_rotary_factor'], 0.5) * headDim),
      style: 'half',
      scaling: parseRopeScaling(raw, maxPositions),
    },
    parallelResidual: true,
    qkvBias: true, attnOutBias: true, mlpBias: true, lmHeadBias: true,
    tieWordEmbeddings: bool(raw, ['tie_word_embeddings'], false),
    attentionScale: 1 / Math.sqrt(headDim),
    qkLayerNorm: bool(raw, ['qk_layernorm'], false),
    ...ids(raw, 1, [2]),
  };
}

function falcon(raw: ModelConfig): DecoderConfig {
  const hiddenSize = int(raw, ['hidden_size', 'n_embed'], 4544);
  const numHeads = int(raw, ['num_attention_heads', 'n_head'], 71);
  const headDim = hiddenSize / numHeads;
  const newArch = bool(raw, ['new_decoder_architecture'], false);
  const multiQuery = bool(raw, ['multi_query'], true);
  const parallel = bool(raw, ['parallel_attn'], true);
  const kv = newArch || !multiQuery ? int(raw, ['num_kv_heads'], numHeads) : 1;
  const alibi = bool(raw, ['alibi'], false);
  const maxPositions = int(raw, ['max_position_embeddings'], 2048);
  const bias = bool(raw, ['bias'], false);
  const lnInParallel = optInt(raw, ['num_ln_in_parallel_attn']) ?? (newArch ? 2 : 1);
  if (lnInParallel !== 1 && lnInParallel !== 2) throw new Error(`config.json: num_ln_in_parallel_attn should be 1 or 2, got ${lnInParallel}`);
  return {
    ...base(raw, 'falcon', 'falcon'),
    numLayers: int(raw, ['num_hidden_layers', 'n_layer'], 32),
    hiddenSize, numHeads, numKvHeads: kv, headDim,
    intermediateSize: int(raw, ['ffn_hidden_size'], 4 * hiddenSize),
    vocabSize: int(raw, ['vocab_size'], 65024),
    maxPositions,
    norm: layerNorm(num(raw, ['layer_norm_epsilon'], 1e-5)),
    activation: str(raw, ['activation'], 'gelu'),
    rope: alibi ? undefined : { theta: num(raw, ['rope_theta'], 10000), rotaryDim: headDim, style: 'half', scaling: parseRopeScaling(raw, maxPositions) },
    alibi,
    parallelResidual: newArch || parallel,
    qkvBias: bias, attnOutBias: bias, mlpBias: bias,
    attentionScale: 1 / Math.sqrt(headDim),
    // HF only reads ln_attn/ln_mlp with the new decoder architecture.
    falcon: { newDecoderArchitecture: newArch, multiQuery, parallelNorms: newArch ? lnInParallel : 1 },
    ...ids(raw, 11, [11]),
  };
}

function gemma(raw: ModelConfig): DecoderConfig {
  const hiddenSize = int(raw, ['hidden_size'], 3072);
  const numHeads = int(raw, ['num_attention_heads'], 16);
  const headDim = int(raw, ['head_dim'], 256);
  const maxPositions = int(raw, ['max_position_embeddings'], 8192);
  const attentionBias = bool(raw, ['attention_bias'], false);
  return {
    ...base(raw, 'gemma', 'gemma'),
    numLayers: int(raw, ['num_hidden_layers'], 28),
    hiddenSize, numHeads, numKvHeads: int(raw, ['num_key_value_heads'], 16), headDim,
    intermediateSize: int(raw, ['intermediate_size'], 24576),
    vocabSize: int(raw, ['vocab_size'], 256000),
    maxPositions,
    norm: rmsNorm(num(raw, ['rms_norm_eps'], 1e-6), true),
    // HF v4.42 GemmaMLP uses `hidden_activation` and ignores `hidden_act`.
    activation: str(raw, ['hidden_activation'], 'gelu_pytorch_tanh'),
    gatedMlp: true,
    rope: { theta: num(raw, ['rope_theta'], 10000), rotaryDim: headDim, style: 'half', scaling: parseRopeScaling(raw, maxPositions) },
    qkvBias: attentionBias, attnOutBias: attentionBias,
    attentionScale: 1 / Math.sqrt(headDim),
    embeddingMultiplier: Math.fround(Math.sqrt(hiddenSize)),
    ...ids(raw, 2, [1], 0),
  };
}

const READERS: Record<ModelType, (raw: ModelConfig) => DecoderConfig> = {
  gpt2, opt, gpt_neox: gptNeox, bloom, gptj, phi, falcon, gemma,
  llama: (raw) => llamaLike(raw, 'llama'),
  mistral: (raw) => llamaLike(raw, 'mistral'),
  qwen2: (raw) => llamaLike(raw, 'qwen2'),
};

/** Normalise a Hugging Face `config.json` record. Throws, naming the type, for unsupported architectures. */
export function normalizeConfig(raw: ModelConfig): DecoderConfig {
  const given = raw.model_type;
  if (typeof given !== 'string') {
    throw new Error(`config.json has no "model_type"; supported model types: ${SUPPORTED_MODEL_TYPES.join(', ')}`);
  }
  const modelType = (MODEL_TYPE_ALIASES[given] ?? given) as ModelType;
  const read = READERS[modelType];
  if (!read || !Object.hasOwn(READERS, modelType)) {
    throw new Error(`config.json: unsupported model_type "${given}"; supported model types: ${SUPPORTED_MODEL_TYPES.join(', ')}`);
  }
  const cfg = read(raw);
  validate(cfg);
  return cfg;
}

/** Upper bounds no real decoder reaches (Llama 3.1 405B: 126 layers, width 16384, vocabulary 128256), so a damaged size is refused before anything is allocated. */
const SIZE_LIMITS: Record<string, number> = {
  numLayers: 10_000, hiddenSize: 2 ** 20, numHeads: 2 ** 16, numKvHeads: 2 ** 16, intermediateSize: 2 ** 22, vocabSize: 2 ** 24,
};

function validate(c: DecoderConfig): void {
  const where = `config.json (${c.modelType})`;
  for (const [k, v] of Object.entries({ numLayers: c.numLayers, hiddenSize: c.hiddenSize, numHeads: c.numHeads, numKvHeads: c.numKvHeads, intermediateSize: c.intermediateSize, vocabSize: c.vocabSize })) {
    if (!(Number.isInteger(v) && v > 0)) throw new Error(`${where}: ${k} must be a positive integer, got ${v}`);
    if (v > SIZE_LIMITS[k]) throw new Error(`${where}: ${k} = ${v} is beyond any real model (at most ${SIZE_LIMITS[k]}); the config is damaged`);
  }
  if (c.maxPositions !== undefined && !(Number.isInteger(c.maxPositions) && c.maxPositions > 0 && c.maxPositions <= 2 ** 24)) {
    throw new Error(`${where}: the number of positions must be an integer in 1…${2 ** 24}, got ${c.maxPositions}`);
  }
  try {
    scalarActivation(c.activation);
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`);
  }
  if (!(c.norm.eps >= 0 && c.norm.eps < 1)) throw new Error(`${where}: the norm epsilon must be in [0, 1), got ${c.norm.eps}`);
  if (c.rope && !(c.rope.theta > 0 && Number.isFinite(c.rope.theta))) throw new Error(`${where}: rope_theta must be positive, got ${c.rope.theta}`);
  if (!Number.isInteger(c.headDim)) throw new Error(`${where}: hidden size ${c.hiddenSize} is not divisible by ${c.numHeads} heads`);
  if (c.numHeads % c.numKvHeads !== 0) throw new Error(`${where}: ${c.numHeads} attention heads are not a multiple of ${c.numKvHeads} key/value heads`);
  if (c.rope && (c.rope.rotaryDim % 2 !== 0 || c.rope.rotaryDim > c.headDim || c.rope.rotaryDim <= 0)) {
    throw new Error(`${where}: rotary dimension ${c.rope.rotaryDim} must be even and within the head size ${c.headDim}`);
  }
}
