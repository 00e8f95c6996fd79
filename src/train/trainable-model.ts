/**
 * A trainable decoder of any supported architecture: the architecture module of src/models
 * (llama.ts, gpt2.ts, opt.ts, …) run with the tape ops (src/models/tape-ops.ts) over autograd
 * parameters, so training and inference share one definition of the model:
 *
 *   h₀ = embed(ids),   h_{i+1} = block_i(h_i),   logits = head(finalNorm(h_L))
 *
 * Parameters carry the checkpoint's Hugging Face names (`model.layers.{i}.self_attn.q_proj.weight`,
 * `transformer.h.{i}.attn.c_attn.weight`, …), so `namedTensors()` is a state dict that HF and
 * src/models load as the same architecture. The forward returns every residual state as a Var, so
 * regularisers on hidden states differentiate through the whole network.
 */
import { noGrad, param, type Var } from '../autograd/index.ts';
import type { ModelConfig } from '../io/config.ts';
import { normalizeConfig, type DecoderConfig } from '../models/config.ts';
import type { DecoderModel } from '../models/decoder.ts';
import { memorySource } from '../models/memory-source.ts';
import { prepareCall, type ForwardInputs } from '../models/context.ts';
import type { Architecture, WeightSpec } from '../models/family.ts';
import type { BlockResult } from '../models/ops.ts';
import { familyFor } from '../models/registry.ts';
import { tapeOps } from '../models/tape-ops.ts';
import type { ForwardContext, WeightSource } from '../models/types.ts';
import type { Rng } from '../tensor/random.ts';
import { Tensor, type DType } from '../tensor/tensor.ts';

/** Attention mask and position ids of a training call (src/models/context.ts); no cache. */
export type TrainInputs = Pick<ForwardInputs, 'attentionMask' | 'positionIds'>;

export interface TrainForwardResult {
  /** Next-token logits [B, T, V]. */
  logits: Var;
  /** Residual stream, L + 1 states [B, T, D]: the embeddings, then each block's output (before the final norm). */
  states: Var[];
  /** The state after the final norm (HF's last hidden_states entry). */
  normed: Var;
  /** What each block's attention adds to the residual stream [B, T, D]. */
  attnOutputs: Var[];
  /** What each block's MLP adds to the residual stream [B, T, D]. */
  mlpOutputs: Var[];
}

/** How a fresh parameter starts: N(0, std²) matrices and embeddings, unit norm gains, zero biases. */
function initKind(s: WeightSpec, cfg: DecoderConfig): 'normal' | 'ones' | 'zeros' {
  if (s.shape.length > 1) return 'normal';
  if (s.name.endsWith('.bias')) return 'zeros';
  // 1-D weights are norm gains; Gemma's RMSNorm scales by (1 + w), so its neutral gain is 0
  return cfg.norm.unitOffset ? 'zeros' : 'ones';
}

export class TrainableModel {
  readonly config: DecoderConfig;
  /** The config.json record the model was built from (saved with checkpoints). */
  readonly rawConfig: ModelConfig;
  /** Parameters by HF name, in the architecture's order (globals, then block by block). */
  readonly params: Map<string, Var>;
  private readonly arch: Architecture;
  private readonly weights: (name: string) => Var;

  private constructor(rawConfig: ModelConfig, arch: Architecture, params: Map<string, Var>) {
    this.rawConfig = rawConfig;
    this.config = arch.config;
    this.arch = arch;
    this.params = params;
    this.weights = (name) => this.param(name);
  }

  /** Every tensor of the architecture, globals first, then block by block. */
  private static specs(arch: Architecture): WeightSpec[] {
    return [...arch.globalWeights(), ...Array.from({ length: arch.config.numLayers }, (_, i) => arch.blockWeights(i)).flat()];
  }

  /**
   * A fresh model in the architecture's Hugging Face layout (first of its name prefixes),
   * initialised like HF's PreTrainedModel: N(0, initializer_range²) matrices, unit norm gains, zero biases.
   */
  static initialize(rawConfig: ModelConfig, rng: Rng, dtype: DType = 'float32'): TrainableModel {
    const cfg = normalizeConfig(rawConfig);
    const family = familyFor(cfg);
    const arch = family.create(cfg, family.prefixes[0]);
    const std = typeof rawConfig.initializer_range === 'number' ? rawConfig.initializer_range : 0.02;
    const params = new Map<string, Var>();
    for (const s of TrainableModel.specs(arch)) {
      const kind = initKind(s, cfg);
      const t = kind === 'normal' ? rng.randn(s.shape, std) : Tensor.full(s.shape, kind === 'ones' ? 1 : 0);
      params.set(s.name, param(dtype === 'float32' ? t : t.to(dtype), s.name));
    }
    return new TrainableModel({ ...rawConfig }, arch, params);
  }

  /**
   * A model over the weights of an existing checkpoint of any supported architecture (HF folder or
   * llama2.c file via openModelSource, or tensors in memory), under the names it is stored with.
   */
  static fromSource(source: WeightSource, dtype: DType = 'float32'): TrainableModel {
    const cfg = normalizeConfig(source.config);
    const family = familyFor(cfg);
    const prefix = family.prefixes.find((p) => source.hasTensor(p + family.embeddingName));
    if (prefix === undefined) {
      throw new Error(`${cfg.modelType} checkpoint has no token embedding (looked for ${family.prefixes.map((p) => `"${p}${family.embeddingName}"`).join(' or ')})`);
    }
    const arch = family.create(cfg, prefix);
    const params = new Map<string, Var>();
    for (const s of TrainableModel.specs(arch)) {
      if (!source.hasTensor(s.name)) throw new Error(`checkpoint lacks "${s.name}", which a ${cfg.modelType} model of this config needs`);
      const t = source.getTensor(s.name, dtype);
      if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
        throw new Error(`checkpoint tensor "${s.name}" has shape [${t.shape.join(', ')}], expected [${s.shape.join(', ')}]`);
      }
      // clone: dense float32 (a 16-bit or factored weight becomes its float32 master), and a copy the optimiser may update
      params.set(s.name, param(t.clone(), s.name));
    }
    return new TrainableModel({ ...source.config }, arch, params);
  }

  /** A trainable copy of an inference model's current weights (including `setWeight` replacements). */
  static fromDecoder(model: DecoderModel, dtype: DType = 'float32'): TrainableModel {
    const tensors = new Map(model.weightNames().map((name) => [name, model.getWeight(name)] as const));
    return TrainableModel.fromSource(memorySource(model.source.config, tensors), dtype);
  }

  get numLayers(): number {
    return this.config.numLayers;
  }

  get parameterCount(): number {
    let n = 0;
    for (const p of this.params.values()) n += p.size;
    return n;
  }

  /** Parameters of block `layer` (by HF name). */
  blockParamNames(layer: number): string[] {
    return this.arch.blockWeights(layer).map((s) => s.name);
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
   * Forward over a [B, T] batch of token ids (row-major, length B·T). Without `inputs`, positions are
   * 0…T−1 per row and every token is real: right padding needs no mask, since with causal attention
   * a padded tail cannot influence real tokens. `inputs` takes the inference runtime's attention
   * mask and position ids (src/models/context.ts).
   */
  forward(ids: ArrayLike<number>, batch: number, seqLen: number, inputs: TrainInputs = {}): TrainForwardResult {
    const { hidden, ctx } = this.embed(ids, batch, seqLen, inputs);
    let h = hidden;
    const states = [h];
    const attnOutputs: Var[] = [];
    const mlpOutputs: Var[] = [];
    for (let i = 0; i < this.config.numLayers; i++) {
      const out = this.runBlock(i, h, ctx);
      h = out.hidden;
      states.push(h);
      attnOutputs.push(out.attnOut);
      mlpOutputs.push(out.mlpOut);
    }
    return { ...this.head(h), states, attnOutputs, mlpOutputs };
  }

  /** The embedding step of `forward`: the state fed to block 0 and the context the blocks share. */
  embed(ids: ArrayLike<number>, batch: number, seqLen: number, inputs: TrainInputs = {}): { hidden: Var; ctx: ForwardContext } {
    if (ids.length !== batch * seqLen) throw new Error(`forward: ${ids.length} ids for a [${batch}, ${seqLen}] batch`);
    const flat = Array.from(ids);
    const rows = Array.from({ length: batch }, (_, b) => flat.slice(b * seqLen, (b + 1) * seqLen));
    const ctx = prepareCall(this.config, rows, inputs);
    return { hidden: this.arch.embed(tapeOps, this.weights, flat, ctx), ctx };
  }

  /** Block `layer` on the tape. */
  runBlock(layer: number, hidden: Var, ctx: ForwardContext): BlockResult<Var> {
    return this.arch.block(tapeOps, this.weights, layer, hidden, ctx);
  }

  /** Final norm and LM head. */
  head(hidden: Var): { normed: Var; logits: Var } {
    const normed = this.arch.finalNorm(tapeOps, this.weights, hidden);
    return { normed, logits: this.arch.lmHead(tapeOps, this.weights, normed) };
  }

  /** Forward without recording a graph (evaluation, analysis). */
  evaluate(ids: ArrayLike<number>, batch: number, seqLen: number, inputs: TrainInputs = {}): TrainForwardResult {
    return noGrad(() => this.forward(ids, batch, seqLen, inputs));
  }
}
