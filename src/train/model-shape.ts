/**
 * The size of a decoder to pretrain and its Hugging Face `config.json`, for every architecture
 * linscope runs. A model trained here is saved as a normal HF folder of that architecture (its
 * config carries the keys the HF config class reads: model_type, architectures, sizes, norms,
 * activation, positions), so every linscope command and HF transformers load it.
 */
import type { ModelConfig } from '../io/config.ts';
import { normalizeConfig } from '../models/config.ts';
import { familyFor } from '../models/registry.ts';

/** Architectures `pretrain --arch` builds (HF model_type names). */
export const PRETRAIN_ARCHS = ['llama', 'mistral', 'qwen2', 'gemma', 'gpt2', 'opt', 'gpt_neox', 'bloom', 'gptj', 'phi', 'falcon'] as const;
export type PretrainArch = (typeof PRETRAIN_ARCHS)[number];

/** Architectures with grouped-query attention (numKvHeads < numHeads). */
const GQA_ARCHS: readonly PretrainArch[] = ['llama', 'mistral', 'qwen2', 'gemma', 'phi', 'falcon'];

export interface ModelShape {
  /** HF model_type of the architecture (default llama). */
  arch?: PretrainArch;
  vocabSize: number;
  hiddenSize: number;
  /** MLP inner width (SwiGLU gate/up rows, or fc_in outputs). BLOOM's is always 4·hiddenSize. */
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** Key/value heads (grouped-query attention, where the architecture has it); defaults to numHeads. */
  numKvHeads?: number;
  /** Longest sequence the model is meant for (HF max_position_embeddings / n_positions). */
  maxPositions: number;
  ropeTheta?: number;
  /** RMSNorm ε (RMSNorm architectures; LayerNorm ones use 1e-5). */
  rmsNormEps?: number;
  tieWordEmbeddings?: boolean;
  /** Std of the normal init of every matrix (HF initializer_range). */
  initializerRange?: number;
  bosTokenId?: number;
  eosTokenId?: number;
}

/** HF class name of each architecture's causal-LM model. */
const HF_CLASS: Record<PretrainArch, string> = {
  llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM', gemma: 'GemmaForCausalLM',
  gpt2: 'GPT2LMHeadModel', opt: 'OPTForCausalLM', gpt_neox: 'GPTNeoXForCausalLM', bloom: 'BloomForCausalLM',
  gptj: 'GPTJForCausalLM', phi: 'PhiForCausalLM', falcon: 'FalconForCausalLM',
};

/** Fraction of each head that rotates, when the architecture uses partial rotary and the head allows it. */
function rotaryFraction(headDim: number, fraction: number): number {
  const r = Math.trunc(headDim * fraction);
  return r > 0 && r % 2 === 0 ? fraction : 1;
}

/** HF `config.json` for a model of this shape and architecture (float32 weights). */
export function hfConfig(shape: ModelShape): ModelConfig {
  checkShape(shape);
  const arch = shape.arch ?? 'llama';
  const D = shape.hiddenSize, H = shape.numHeads, kv = shape.numKvHeads ?? H, headDim = D / H;
  const tie = shape.tieWordEmbeddings ?? true;
  const common: ModelConfig = {
    architectures: [HF_CLASS[arch]],
    model_type: arch,
    vocab_size: shape.vocabSize,
    initializer_range: shape.initializerRange ?? 0.02,
    tie_word_embeddings: tie,
    torch_dtype: 'float32',
    use_cache: true,
  };
  if (shape.bosTokenId !== undefined) common.bos_token_id = shape.bosTokenId;
  if (shape.eosTokenId !== undefined) common.eos_token_id = shape.eosTokenId;
  const theta = shape.ropeTheta ?? 10000;
  const sizes = { hidden_size: D, num_attention_heads: H, num_hidden_layers: shape.numLayers, max_position_embeddings: shape.maxPositions };
  const gptSizes = { n_embd: D, n_head: H, n_layer: shape.numLayers, n_positions: shape.maxPositions, n_inner: shape.intermediateSize };
  switch (arch) {
    case 'llama':
    case 'mistral':
    case 'qwen2':
    case 'gemma':
      return {
        ...common, ...sizes,
        intermediate_size: shape.intermediateSize,
        num_key_value_heads: kv,
        head_dim: headDim,
        ...(arch === 'gemma' ? { hidden_activation: 'gelu_pytorch_tanh', hidden_act: 'gelu_pytorch_tanh' } : { hidden_act: 'silu' }),
        rms_norm_eps: shape.rmsNormEps ?? 1e-5,
        rope_theta: theta,
        ...(arch === 'llama' ? { rope_scaling: null, attention_bias: false, mlp_bias: false } : {}),
        ...(arch === 'mistral' ? { sliding_window: null } : {}),
        ...(arch === 'qwen2' ? { use_sliding_window: false, sliding_window: shape.maxPositions, max_window_layers: shape.numLayers } : {}),
        attention_dropout: 0,
      };
    case 'gpt2':
      return { ...common, ...gptSizes, n_ctx: shape.maxPositions, activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 };
    case 'gptj':
      return { ...common, ...gptSizes, rotary_dim: headDim, activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 };
    case 'opt':
      return {
        ...common, ...sizes, ffn_dim: shape.intermediateSize, word_embed_proj_dim: D, do_layer_norm_before: true,
        activation_function: 'relu', enable_bias: true, layer_norm_elementwise_affine: true, dropout: 0, attention_dropout: 0,
      };
    case 'gpt_neox':
      return {
        ...common, ...sizes, intermediate_size: shape.intermediateSize, rotary_pct: rotaryFraction(headDim, 0.25), rotary_emb_base: theta,
        hidden_act: 'gelu', layer_norm_eps: 1e-5, use_parallel_residual: true, attention_bias: true,
      };
    case 'bloom':
      return { ...common, hidden_size: D, n_head: H, n_layer: shape.numLayers, layer_norm_epsilon: 1e-5, apply_residual_connection_post_layernorm: false };
    case 'phi':
      return {
        ...common, ...sizes, intermediate_size: shape.intermediateSize, num_key_value_heads: kv, partial_rotary_factor: rotaryFraction(headDim, 0.5),
        rope_theta: theta, hidden_act: 'gelu_new', layer_norm_eps: 1e-5, qk_layernorm: false,
      };
    case 'falcon':
      return {
        ...common, ...sizes, ffn_hidden_size: shape.intermediateSize, num_kv_heads: kv, new_decoder_architecture: true, num_ln_in_parallel_attn: 2,
        multi_query: false, parallel_attn: true, bias: false, alibi: false, rope_theta: theta, layer_norm_epsilon: 1e-5, activation: 'gelu',
      };
  }
}

/**
 * The sizes of a model meant for one architecture carried over to `arch` (what `pretrain --arch`
 * does to a config written for Llama): key/value heads become `numHeads` where `arch` has no
 * grouped-query attention, BLOOM's MLP becomes 4·hiddenSize. Each change is said in `notes`.
 */
export function shapeForArch<S extends Omit<ModelShape, 'vocabSize' | 'maxPositions'>>(s: S, arch: PretrainArch): { shape: S; notes: string[] } {
  const shape = { ...s, arch };
  const notes: string[] = [];
  if (shape.numKvHeads !== undefined && shape.numKvHeads !== shape.numHeads && !GQA_ARCHS.includes(arch)) {
    notes.push(`${arch} has no grouped-query attention: ${shape.numHeads} key/value heads (the config's numKvHeads ${shape.numKvHeads} is for ${s.arch ?? 'llama'})`);
    delete shape.numKvHeads;
  }
  if (arch === 'bloom' && shape.intermediateSize !== 4 * shape.hiddenSize) {
    notes.push(`BLOOM's MLP is always 4·hiddenSize wide: intermediateSize ${4 * shape.hiddenSize} (the config says ${shape.intermediateSize})`);
    shape.intermediateSize = 4 * shape.hiddenSize;
  }
  return { shape, notes };
}

/** Throws a clear error when the sizes do not make a valid decoder of the architecture. */
export function checkShape(s: ModelShape): void {
  const arch = s.arch ?? 'llama';
  if (!PRETRAIN_ARCHS.includes(arch)) throw new Error(`model: arch "${arch}" is not one of ${PRETRAIN_ARCHS.join(', ')}`);
  const positive: (keyof ModelShape)[] = ['vocabSize', 'hiddenSize', 'intermediateSize', 'numLayers', 'numHeads', 'maxPositions'];
  for (const k of positive) {
    const v = s[k];
    if (!(typeof v === 'number' && Number.isInteger(v) && v > 0)) throw new Error(`model: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  const kv = s.numKvHeads ?? s.numHeads;
  if (s.hiddenSize % s.numHeads !== 0) throw new Error(`model: hiddenSize ${s.hiddenSize} is not divisible by numHeads ${s.numHeads}`);
  if (!(Number.isInteger(kv) && kv > 0 && s.numHeads % kv === 0)) {
    throw new Error(`model: numHeads ${s.numHeads} is not a multiple of numKvHeads ${kv}`);
  }
  if (kv !== s.numHeads && !GQA_ARCHS.includes(arch)) {
    throw new Error(`model: ${arch} has no grouped-query attention (numKvHeads must equal numHeads; architectures with it: ${GQA_ARCHS.join(', ')})`);
  }
  if (arch === 'bloom' && s.intermediateSize !== 4 * s.hiddenSize) {
    throw new Error(`model: BLOOM's MLP is always 4·hiddenSize = ${4 * s.hiddenSize} wide; set intermediateSize to that`);
  }
  if (arch !== 'bloom' && (s.hiddenSize / s.numHeads) % 2 !== 0) throw new Error(`model: head size ${s.hiddenSize / s.numHeads} must be even for RoPE`);
}

/** Number of trainable parameters (tied embeddings counted once), from the architecture's tensor list. */
export function parameterCount(s: ModelShape): number {
  const cfg = normalizeConfig(hfConfig(s));
  const family = familyFor(cfg);
  const arch = family.create(cfg, family.prefixes[0]);
  const specs = [...arch.globalWeights(), ...Array.from({ length: cfg.numLayers }, (_, i) => arch.blockWeights(i)).flat()];
  return specs.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
}
