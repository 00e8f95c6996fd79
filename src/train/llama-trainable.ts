/**
 * A trainable Llama/Mistral/Qwen2-style decoder on the autograd engine:
 *
 *   h₀ = E[ids]
 *   a_i = Attn_i(RMSNorm(h_i)),   m_i = SwiGLU_i(RMSNorm(h_i + a_i)),   h_{i+1} = h_i + a_i + m_i
 *   logits = RMSNorm(h_L) · Wₒᵤₜᵀ        (Wₒᵤₜ = E when the head is tied)
 *
 * with RoPE in Hugging Face's rotate-half pairing and grouped-query causal attention. Parameters
 * carry HF Llama names (`model.layers.{i}.self_attn.q_proj.weight`, …), so `namedTensors()` is a
 * state dict that HF and src/models load as LlamaForCausalLM. The forward returns every residual
 * state as a Var, so regularisers on hidden states differentiate through the whole network.
 */
import { attention, embedding, linear, rmsNorm, rope, add, param, noGrad, type Var } from '../autograd/index.ts';
import type { ModelConfig } from '../io/config.ts';
import { normalizeConfig, type DecoderConfig } from '../models/config.ts';
import { ropeForCall } from '../models/rope-scaling.ts';
import type { WeightSource } from '../models/types.ts';
import { Rng } from '../tensor/random.ts';
import { Tensor } from '../tensor/tensor.ts';
import { swiGlu } from './fused-ops.ts';

export interface TrainForwardResult {
  /** Next-token logits [B, T, V]. */
  logits: Var;
  /** Residual stream, L + 1 states [B, T, D]: the embeddings, then each block's output (before the final norm). */
  states: Var[];
  /** What each block's attention adds to the residual stream [B, T, D]. */
  attnOutputs: Var[];
  /** What each block's MLP adds to the residual stream [B, T, D]. */
  mlpOutputs: Var[];
}

const PREFIX = 'model.';

/** One parameter's name, shape and initialisation. */
interface ParamSpec {
  name: string;
  shape: number[];
  init: 'normal' | 'ones' | 'zeros';
}

export class TrainableLlama {
  readonly config: DecoderConfig;
  /** The config.json record the model was built from (saved with checkpoints). */
  readonly rawConfig: ModelConfig;
  /** Parameters by HF name, in a fixed order (globals, then block by block). */
  readonly params: Map<string, Var>;

  private constructor(rawConfig: ModelConfig, params: Map<string, Var>) {
    this.rawConfig = rawConfig;
    this.config = supportedConfig(rawConfig);
    this.params = params;
  }

  /** A fresh model initialised like HF's LlamaPreTrainedModel: N(0, initializer_range²) matrices, unit norms. */
  static initialize(rawConfig: ModelConfig, rng: Rng): TrainableLlama {
    const cfg = supportedConfig(rawConfig);
    const std = typeof rawConfig.initializer_range === 'number' ? rawConfig.initializer_range : 0.02;
    const params = new Map<string, Var>();
    for (const s of parameterSpecs(cfg)) {
      const t = s.init === 'normal' ? rng.randn(s.shape, std) : Tensor.full(s.shape, s.init === 'ones' ? 1 : 0);
      params.set(s.name, param(t, s.name));
    }
    return new TrainableLlama(rawConfig, params);
  }

  /**
   * A model over the weights of an existing Llama-family checkpoint (HF folder or llama2.c file via
   * openModelSource, or tensors in memory). Tensors may be stored with or without the `model.` prefix.
   */
  static fromSource(source: WeightSource): TrainableLlama {
    const cfg = supportedConfig(source.config);
    const prefix = [PREFIX, ''].find((p) => source.hasTensor(`${p}embed_tokens.weight`));
    if (prefix === undefined) throw new Error('checkpoint has no token embedding (looked for "model.embed_tokens.weight" and "embed_tokens.weight")');
    const params = new Map<string, Var>();
    for (const s of parameterSpecs(cfg)) {
      const stored = s.name.startsWith(PREFIX) ? prefix + s.name.slice(PREFIX.length) : s.name;
      if (!source.hasTensor(stored)) throw new Error(`checkpoint lacks "${stored}", which a ${cfg.modelType} model of this config needs`);
      const t = source.getTensor(stored, 'float32');
      if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
        throw new Error(`checkpoint tensor "${stored}" has shape [${t.shape.join(', ')}], expected [${s.shape.join(', ')}]`);
      }
      params.set(s.name, param(t.clone(), s.name));
    }
    return new TrainableLlama({ ...source.config }, params);
  }

  get numLayers(): number {
    return this.config.numLayers;
  }

  get parameterCount(): number {
    let n = 0;
    for (const p of this.params.values()) n += p.size;
    return n;
  }

  /** The parameter called `name` (HF name); throws when there is none. */
  param(name: string): Var {
    const p = this.params.get(name);
    if (!p) throw new Error(`model has no parameter "${name}"`);
    return p;
  }

  /** Parameters as plain tensors under their HF names (shares memory: copy before mutating). */
  namedTensors(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, v] of this.params) out[name] = v.value;
    return out;
  }

  /**
   * Forward over a [B, T] batch of token ids (row-major, length B·T); positions 0…T−1 per row.
   * Right padding needs no mask: with causal attention a padded tail cannot influence real tokens.
   */
  forward(ids: ArrayLike<number>, batch: number, seqLen: number): TrainForwardResult {
    const cfg = this.config;
    if (ids.length !== batch * seqLen) throw new Error(`forward: ${ids.length} ids for a [${batch}, ${seqLen}] batch`);
    const p = (s: string) => this.param(PREFIX + s);
    const maybe = (s: string) => this.params.get(PREFIX + s);
    const positions: number[] = new Array(batch * seqLen);
    for (let b = 0; b < batch; b++) for (let t = 0; t < seqLen; t++) positions[b * seqLen + t] = t;
    const rot = ropeForCall(cfg.rope!, positions);
    const ropeFor = (numHeads: number) => ({
      numHeads, headDim: cfg.headDim, rotaryDim: cfg.rope!.rotaryDim, invFreq: rot.invFreq, style: cfg.rope!.style, positions: rot.positions, attentionScaling: rot.attentionScaling,
    });
    const eps = cfg.norm.eps;

    let h = embedding(p('embed_tokens.weight'), ids, [batch, seqLen]);
    const states = [h];
    const attnOutputs: Var[] = [];
    const mlpOutputs: Var[] = [];
    for (let i = 0; i < cfg.numLayers; i++) {
      const l = `layers.${i}.`;
      const x = rmsNorm(h, p(`${l}input_layernorm.weight`), eps);
      const q = rope(linear(x, p(`${l}self_attn.q_proj.weight`), maybe(`${l}self_attn.q_proj.bias`)), ropeFor(cfg.numHeads));
      const k = rope(linear(x, p(`${l}self_attn.k_proj.weight`), maybe(`${l}self_attn.k_proj.bias`)), ropeFor(cfg.numKvHeads));
      const v = linear(x, p(`${l}self_attn.v_proj.weight`), maybe(`${l}self_attn.v_proj.bias`));
      const window = cfg.slidingWindow !== undefined && i >= cfg.slidingWindowFromLayer ? cfg.slidingWindow : undefined;
      const a = attention(q, k, v, {
        numHeads: cfg.numHeads, numKvHeads: cfg.numKvHeads, headDim: cfg.headDim, scale: cfg.attentionScale, causal: true, slidingWindow: window,
      });
      const attnOut = linear(a, p(`${l}self_attn.o_proj.weight`), maybe(`${l}self_attn.o_proj.bias`));
      const mid = add(h, attnOut);
      const x2 = rmsNorm(mid, p(`${l}post_attention_layernorm.weight`), eps);
      const gate = linear(x2, p(`${l}mlp.gate_proj.weight`), maybe(`${l}mlp.gate_proj.bias`));
      const up = linear(x2, p(`${l}mlp.up_proj.weight`), maybe(`${l}mlp.up_proj.bias`));
      const mlpOut = linear(swiGlu(gate, up), p(`${l}mlp.down_proj.weight`), maybe(`${l}mlp.down_proj.bias`));
      h = add(mid, mlpOut);
      states.push(h);
      attnOutputs.push(attnOut);
      mlpOutputs.push(mlpOut);
    }
    const normed = rmsNorm(h, p('norm.weight'), eps);
    const head = cfg.tieWordEmbeddings ? p('embed_tokens.weight') : this.param('lm_head.weight');
    const logits = linear(normed, head);
    return { logits, states, attnOutputs, mlpOutputs };
  }

  /** Forward without recording a graph (evaluation, analysis). */
  evaluate(ids: ArrayLike<number>, batch: number, seqLen: number): TrainForwardResult {
    return noGrad(() => this.forward(ids, batch, seqLen));
  }
}

/** Normalised config, or a clear error for what this trainer does not build. */
function supportedConfig(raw: ModelConfig): DecoderConfig {
  const cfg = normalizeConfig(raw);
  if (cfg.family !== 'llama') {
    throw new Error(`training supports Llama-family models (llama, mistral, qwen2); this one is "${cfg.modelType}"`);
  }
  if (cfg.activation !== 'silu') throw new Error(`training supports the SiLU (SwiGLU) MLP; this model uses "${cfg.activation}"`);
  if (cfg.norm.kind !== 'rmsnorm' || cfg.norm.unitOffset) throw new Error('training supports plain RMSNorm only');
  if (!cfg.rope) throw new Error('training needs a rotary-embedding model');
  return cfg;
}

/** Every parameter of a Llama-family config, globals first, then block by block. */
function parameterSpecs(cfg: DecoderConfig): ParamSpec[] {
  const D = cfg.hiddenSize, F = cfg.intermediateSize;
  const qW = cfg.numHeads * cfg.headDim, kvW = cfg.numKvHeads * cfg.headDim;
  const specs: ParamSpec[] = [{ name: `${PREFIX}embed_tokens.weight`, shape: [cfg.vocabSize, D], init: 'normal' }];
  const matrix = (name: string, rows: number, cols: number, bias: boolean) => {
    specs.push({ name: `${name}.weight`, shape: [rows, cols], init: 'normal' });
    if (bias) specs.push({ name: `${name}.bias`, shape: [rows], init: 'zeros' });
  };
  for (let i = 0; i < cfg.numLayers; i++) {
    const l = `${PREFIX}layers.${i}.`;
    specs.push({ name: `${l}input_layernorm.weight`, shape: [D], init: 'ones' });
    matrix(`${l}self_attn.q_proj`, qW, D, cfg.qkvBias);
    matrix(`${l}self_attn.k_proj`, kvW, D, cfg.qkvBias);
    matrix(`${l}self_attn.v_proj`, kvW, D, cfg.qkvBias);
    matrix(`${l}self_attn.o_proj`, D, qW, cfg.attnOutBias);
    specs.push({ name: `${l}post_attention_layernorm.weight`, shape: [D], init: 'ones' });
    matrix(`${l}mlp.gate_proj`, F, D, cfg.mlpBias);
    matrix(`${l}mlp.up_proj`, F, D, cfg.mlpBias);
    matrix(`${l}mlp.down_proj`, D, F, cfg.mlpBias);
  }
  specs.push({ name: `${PREFIX}norm.weight`, shape: [D], init: 'ones' });
  if (!cfg.tieWordEmbeddings) specs.push({ name: 'lm_head.weight', shape: [cfg.vocabSize, D], init: 'normal' });
  return specs;
}
