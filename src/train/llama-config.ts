/**
 * The size of a trainable Llama-style decoder and its Hugging Face `config.json`.
 *
 * A model trained here is saved as a normal HF Llama folder, so its config carries exactly the
 * keys `LlamaConfig` reads (model_type "llama", architectures ["LlamaForCausalLM"]).
 */
import type { ModelConfig } from '../io/config.ts';

export interface LlamaShape {
  vocabSize: number;
  hiddenSize: number;
  /** SwiGLU inner width (gate/up rows). */
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** Key/value heads (grouped-query attention); defaults to numHeads. */
  numKvHeads?: number;
  /** Longest sequence the model is meant for (HF max_position_embeddings). */
  maxPositions: number;
  ropeTheta?: number;
  rmsNormEps?: number;
  tieWordEmbeddings?: boolean;
  /** Std of the normal init of every matrix (HF initializer_range). */
  initializerRange?: number;
  bosTokenId?: number;
  eosTokenId?: number;
}

/** HF `config.json` for a Llama model of this shape (float32 weights). */
export function hfLlamaConfig(shape: LlamaShape): ModelConfig {
  checkShape(shape);
  const config: ModelConfig = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: shape.vocabSize,
    hidden_size: shape.hiddenSize,
    intermediate_size: shape.intermediateSize,
    num_hidden_layers: shape.numLayers,
    num_attention_heads: shape.numHeads,
    num_key_value_heads: shape.numKvHeads ?? shape.numHeads,
    head_dim: shape.hiddenSize / shape.numHeads,
    hidden_act: 'silu',
    max_position_embeddings: shape.maxPositions,
    initializer_range: shape.initializerRange ?? 0.02,
    rms_norm_eps: shape.rmsNormEps ?? 1e-5,
    rope_theta: shape.ropeTheta ?? 10000,
    rope_scaling: null,
    attention_bias: false,
    attention_dropout: 0,
    mlp_bias: false,
    tie_word_embeddings: shape.tieWordEmbeddings ?? true,
    torch_dtype: 'float32',
    use_cache: true,
  };
  if (shape.bosTokenId !== undefined) config.bos_token_id = shape.bosTokenId;
  if (shape.eosTokenId !== undefined) config.eos_token_id = shape.eosTokenId;
  return config;
}

/** Throws a clear error when the sizes do not make a valid decoder. */
export function checkShape(s: LlamaShape): void {
  const positive: (keyof LlamaShape)[] = ['vocabSize', 'hiddenSize', 'intermediateSize', 'numLayers', 'numHeads', 'maxPositions'];
  for (const k of positive) {
    const v = s[k];
    if (!(typeof v === 'number' && Number.isInteger(v) && v > 0)) throw new Error(`model: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  const kv = s.numKvHeads ?? s.numHeads;
  if (s.hiddenSize % s.numHeads !== 0) throw new Error(`model: hiddenSize ${s.hiddenSize} is not divisible by numHeads ${s.numHeads}`);
  if (!(Number.isInteger(kv) && kv > 0 && s.numHeads % kv === 0)) {
    throw new Error(`model: numHeads ${s.numHeads} is not a multiple of numKvHeads ${kv}`);
  }
  if ((s.hiddenSize / s.numHeads) % 2 !== 0) throw new Error(`model: head size ${s.hiddenSize / s.numHeads} must be even for RoPE`);
}

/** Number of trainable parameters (tied embeddings counted once). */
export function parameterCount(s: LlamaShape): number {
  const d = s.hiddenSize, f = s.intermediateSize;
  const headDim = d / s.numHeads;
  const kvWidth = (s.numKvHeads ?? s.numHeads) * headDim;
  const perLayer = d * d * 2 + 2 * d * kvWidth + 3 * d * f + 2 * d;
  const head = (s.tieWordEmbeddings ?? true) ? 0 : s.vocabSize * d;
  return s.vocabSize * d + s.numLayers * perLayer + d + head;
}
