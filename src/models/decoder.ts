/**
 * The common model object over every supported architecture.
 *
 *   const model = await loadModel('path/to/hf-folder');
 *   const { logits, hiddenStates } = model.forward([[1, 2, 3]], { outputHiddenStates: true });
 *
 * Weights are read from a `WeightSource` in their Hugging Face layout. By default every weight is
 * read once and kept; with `streaming: true` a forward loads one block's tensors at a time and
 * drops them after the block ran, so models larger than RAM can be analysed; `holdWeights` keeps a
 * block read while it runs over many batches (layer-major execution). Weights replaced with
 * `setWeight` (LASER, pruning) are kept in memory in both modes and win over the source. A weight
 * may be a `LowRankWeight` (src/tensor/low-rank.ts: LASER `--factored`, or a checkpoint storing
 * factors): forwards multiply by its two factors, reads of its values materialise L·R. 2-D BF16/F16
 * weights stay 16-bit in memory (`HalfWeight`, decoded per GEMM; `storedDtype: false` to decode on load).
 * A checkpoint exported with linear maps between blocks (`linscope prune`) runs them: each map is
 * part of the block it follows (src/models/linscope-maps.ts), so the model is the one exported.
 */
import { openModelSource } from '../io/model-source.ts';
import { heldBytes } from '../tensor/half-weight.ts';
import { isLowRank } from '../tensor/low-rank.ts';
import { Tensor, type DType } from '../tensor/tensor.ts';
import { normalizeConfig, type DecoderConfig } from './config.ts';
import { checkCheckpointNames } from './checkpoint-names.ts';
import { finishCache, prepareCall, type ForwardInputs } from './context.ts';
import { firstPosition, gatherPositions } from './gather-positions.ts';
import { eagerOps } from './eager-ops.ts';
import type { Architecture, WeightSpec } from './family.ts';
import { intendedConfig, MapRunner, readCheckpointMaps, type CheckpointMap } from './linscope-maps.ts';
import { familyFor } from './registry.ts';
import type { BlockOutput, ForwardContext, KVCache, MatrixTable, WeightGetter, WeightSource } from './types.ts';

export interface LoadOptions {
  /** Compute dtype; weights are converted on load (default float32). */
  dtype?: DType;
  /** Keep only one block's weights in memory at a time. */
  streaming?: boolean;
  /**
   * Keep 2-D BF16/F16 weights in their stored 16-bit dtype and decode them per GEMM into float32
   * (src/tensor/half-weight.ts: the same numbers, half the memory). Default true for the float32
   * compute dtype; false decodes every weight to float32 on load.
   */
  storedDtype?: boolean;
  /**
   * Streaming: keep the weights read first up to this many bytes (a block cache for sequential
   * work such as generation: the blocks that fit stay, the rest are read at every use). Default 0.
   */
  cacheBytes?: number;
}

export interface ForwardOptions extends ForwardInputs {
  /** Return HF's hidden_states tuple: embeddings, outputs of blocks 0..L−2, and the post-final-norm state. */
  outputHiddenStates?: boolean;
  /** Return each block's attention and MLP sublayer outputs separately. */
  outputBlockParts?: boolean;
  /** Compute logits only at the last position of each row ([B, 1, V]); what generation needs. */
  lastTokenLogitsOnly?: boolean;
  /**
   * Compute logits only at these (row, position) pairs: [1, N, V], the n-th pair's at position n
   * (the final norm and LM head run on those rows only; log-likelihood scoring).
   */
  logitsAt?: readonly (readonly [number, number])[];
}

export interface ForwardResult {
  /** [B, T, V]. */
  logits: Tensor;
  hiddenStates?: Tensor[];
  /** Output of the last block before the final norm (with `outputHiddenStates`). */
  preFinalNorm?: Tensor;
  attnOutputs?: Tensor[];
  mlpOutputs?: Tensor[];
  /** Per-layer attention probabilities [B, H, T, Tk] (with `keepAttentionProbs`). */
  attentions?: Tensor[];
  /** The cache after this call (when `cache` was given). */
  cache?: KVCache;
}

export class DecoderModel {
  readonly config: DecoderConfig;
  readonly source: WeightSource;
  readonly dtype: DType;
  readonly streaming: boolean;
  /** Whether 16-bit weights stay in their stored dtype (LoadOptions.storedDtype). */
  readonly storedDtype: boolean;
  private readonly arch: Architecture;
  private readonly specs = new Map<string, WeightSpec>();
  private readonly blockNames: string[][];
  private readonly globalNames: string[];
  private readonly kept = new Map<string, Tensor>();
  private readonly overrides = new Map<string, Tensor>();
  private readonly maps: MapRunner;
  /** Weights read while a hold is open (`holdWeights`): kept until it is released. */
  private held: Map<string, Tensor> | undefined;
  private readonly cacheBytes: number;
  private cachedBytes = 0;

  constructor(source: WeightSource, options: LoadOptions = {}) {
    this.source = source;
    this.config = normalizeConfig(intendedConfig(source.config));
    this.dtype = options.dtype ?? 'float32';
    this.streaming = options.streaming ?? false;
    this.storedDtype = (options.storedDtype ?? true) && this.dtype === 'float32' && source.getStoredTensor !== undefined;
    this.cacheBytes = options.cacheBytes ?? 0;
    const family = familyFor(this.config);
    const prefix = family.prefixes.find((p) => source.hasTensor(p + family.embeddingName));
    if (prefix === undefined) {
      const tried = family.prefixes.map((p) => `"${p}${family.embeddingName}"`).join(' or ');
      throw new Error(`${this.config.modelType} checkpoint has no token embedding (looked for ${tried})`);
    }
    this.arch = family.create(this.config, prefix);
    const globals = this.arch.globalWeights();
    const blocks = Array.from({ length: this.config.numLayers }, (_, i) => this.arch.blockWeights(i));
    for (const s of [...globals, ...blocks.flat()]) this.specs.set(s.name, s);
    this.globalNames = globals.map((s) => s.name);
    this.blockNames = blocks.map((b) => b.map((s) => s.name));
    checkCheckpointNames(source, [...this.specs.keys()], this.config.modelType, this.config.numLayers, this.config.tieWordEmbeddings);
    if (!this.streaming) for (const name of this.specs.keys()) this.kept.set(name, this.load(name));
    this.maps = new MapRunner(readCheckpointMaps(source as WeightSource & { dir?: string }, this.config.hiddenSize, this.config.numLayers));
  }

  /** The checkpoint's linear maps between blocks (empty for ordinary checkpoints). */
  get linearMaps(): readonly CheckpointMap[] {
    return this.maps.maps;
  }

  get numLayers(): number {
    return this.config.numLayers;
  }

  /** Every tensor the model reads, in order: globals first, then block by block. */
  weightNames(): string[] {
    return [...this.specs.keys()];
  }

  /** Names of the tensors of block `layer`. */
  blockWeightNames(layer: number): string[] {
    this.checkLayer(layer);
    return [...this.blockNames[layer]];
  }

  /** Names of the tensors outside the blocks (embeddings, final norm, head). */
  globalWeightNames(): string[] {
    return [...this.globalNames];
  }

  /** Expected shape of a weight. */
  weightShape(name: string): number[] {
    return [...this.spec(name).shape];
  }

  /** A weight (the replacement if `setWeight` set one). In streaming mode this reads it from the source. */
  getWeight(name: string): Tensor {
    this.spec(name);
    return this.overrides.get(name) ?? this.kept.get(name) ?? this.load(name);
  }

  /**
   * Replace a weight (same shape); later forwards use it. Converted to the model dtype. A
   * `LowRankWeight` (src/tensor/low-rank.ts) stays factored — forwards multiply by its factors —
   * and the dense copy kept from the checkpoint is dropped so the memory is really saved
   * (`resetWeight` reads it again).
   */
  setWeight(name: string, tensor: Tensor): void {
    const s = this.spec(name);
    if (tensor.shape.length !== s.shape.length || tensor.shape.some((d, i) => d !== s.shape[i])) {
      throw new Error(`setWeight: "${name}" must have shape [${s.shape.join(', ')}], got [${tensor.shape.join(', ')}]`);
    }
    if (isLowRank(tensor)) {
      this.overrides.set(name, tensor.withDtype(this.dtype) as unknown as Tensor);
      this.kept.delete(name);
      return;
    }
    this.overrides.set(name, tensor.dtype === this.dtype ? tensor : tensor.to(this.dtype));
  }

  /** Undo `setWeight` for one name (or all). */
  resetWeight(name?: string): void {
    const names = name === undefined ? [...this.overrides.keys()] : [name];
    for (const n of names) {
      this.overrides.delete(n);
      if (!this.streaming && !this.kept.has(n)) this.kept.set(n, this.load(n));
    }
  }

  /** Names replaced with `setWeight`. */
  modifiedWeightNames(): string[] {
    return [...this.overrides.keys()];
  }

  /**
   * Keep every weight read from now on until the returned release is called, so a block run over
   * many batches reads each of its tensors from the checkpoint once (layer-major execution,
   * src/models/layer-major.ts). Without streaming every weight is resident already and this holds
   * nothing.
   */
  holdWeights(): () => void {
    if (!this.streaming) return () => {};
    const held = new Map<string, Tensor>();
    this.held = held;
    return () => {
      if (this.held === held) this.held = undefined;
    };
  }

  /** LASER's matrix table of block `layer` (q, k, v, o, in, up, out → tensor, layout, ranges). */
  matrices(layer: number): MatrixTable {
    this.checkLayer(layer);
    return this.arch.matrices(layer);
  }

  /** Prepare a call and embed its tokens: the hidden state fed to block 0 and the context for the blocks. */
  embed(inputIds: readonly (readonly number[])[], options: ForwardInputs = {}): { hidden: Tensor; ctx: ForwardContext } {
    const ctx = prepareCall(this.config, inputIds, options);
    const ids: number[] = [];
    for (const row of inputIds) for (const id of row) ids.push(id);
    return { hidden: this.arch.embed(eagerOps, this.scoped(), ids, ctx), ctx };
  }

  /** Run block `layer` on `hidden` [B, T, D] (appends to the context's cache when it builds one). */
  runBlock(layer: number, hidden: Tensor, ctx: ForwardContext): BlockOutput {
    this.checkLayer(layer);
    // maps listed "after block −1" start block 0; maps after block `layer` end it (linscope-maps.ts)
    const input = layer === 0 ? this.maps.apply(-1, hidden) : hidden;
    const out = this.arch.block(eagerOps, this.scoped(), layer, input, ctx);
    if (this.maps.after(layer).length === 0) return out;
    return { ...out, hidden: this.maps.apply(layer, out.hidden, out.mlpOut) };
  }

  /** The final norm (OPT: and project_out). */
  finalNorm(hidden: Tensor): Tensor {
    return this.arch.finalNorm(eagerOps, this.scoped(), hidden);
  }

  /** Logits [B, T, V] from post-final-norm states. */
  lmHead(hidden: Tensor): Tensor {
    return this.arch.lmHead(eagerOps, this.scoped(), hidden);
  }

  /** The cache a context built (after all blocks ran). */
  cacheOf(ctx: ForwardContext): KVCache | undefined {
    return finishCache(ctx);
  }

  /** Full forward pass. */
  forward(inputIds: readonly (readonly number[])[], options: ForwardOptions = {}): ForwardResult {
    const { hidden: embedded, ctx } = this.embed(inputIds, options);
    const L = this.config.numLayers;
    const hiddenStates: Tensor[] | undefined = options.outputHiddenStates ? [embedded] : undefined;
    const attnOutputs: Tensor[] | undefined = options.outputBlockParts ? [] : undefined;
    const mlpOutputs: Tensor[] | undefined = options.outputBlockParts ? [] : undefined;
    const [B, T] = embedded.shape;
    const at = options.logitsAt ?? (options.lastTokenLogitsOnly ? Array.from({ length: B }, (_, b) => [b, T - 1] as const) : undefined);
    // logits at some positions only, nothing else per position returned: the last block runs its
    // queries, residual stream and MLP from the first of them on (keys and values at every position)
    const from = at && !hiddenStates && !attnOutputs && !ctx.keepAttentionProbs ? firstPosition(at) : 0;
    let h = embedded;
    for (let i = 0; i < L; i++) {
      if (i === L - 1 && from > 0) ctx.queryFrom = from;
      const out = this.runBlock(i, h, ctx);
      delete ctx.queryFrom;
      h = out.hidden;
      if (hiddenStates && i < L - 1) hiddenStates.push(h);
      attnOutputs?.push(out.attnOut);
      mlpOutputs?.push(out.mlpOut);
    }
    const preFinalNorm = h;
    // the final norm over every position only when all of them are returned or read; else on the gathered rows
    const normed = at && !hiddenStates ? undefined : this.finalNorm(h);
    hiddenStates?.push(normed!);
    const headInput = !at ? normed! : normed ? gatherPositions(normed, at) : this.finalNorm(gatherPositions(h, at, from));
    let logits = this.lmHead(headInput);
    if (at && !options.logitsAt) logits = logits.reshape(B, 1, logits.shape[2]);
    const result: ForwardResult = { logits };
    if (hiddenStates) {
      result.hiddenStates = hiddenStates;
      result.preFinalNorm = preFinalNorm;
    }
    if (attnOutputs) result.attnOutputs = attnOutputs;
    if (mlpOutputs) result.mlpOutputs = mlpOutputs;
    if (ctx.keepAttentionProbs) result.attentions = ctx.attentionProbs;
    if (options.cache) result.cache = finishCache(ctx);
    return result;
  }

  private spec(name: string): WeightSpec {
    const s = this.specs.get(name);
    if (!s) throw new Error(`"${name}" is not a weight of this ${this.config.modelType} model (see weightNames())`);
    return s;
  }

  private checkLayer(layer: number): void {
    if (!(Number.isInteger(layer) && layer >= 0 && layer < this.config.numLayers)) {
      throw new Error(`layer ${layer} is out of range: the model has ${this.config.numLayers} blocks (0…${this.config.numLayers - 1})`);
    }
  }

  /** Read a weight from the source and check its shape. */
  private load(name: string): Tensor {
    const t = this.storedDtype ? this.source.getStoredTensor!(name) : this.source.getTensor(name, this.dtype);
    const expected = this.spec(name).shape;
    if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
      throw new Error(`${this.config.modelType} checkpoint: "${name}" has shape [${t.shape.join(', ')}], expected [${expected.join(', ')}] from config.json`);
    }
    return t;
  }

  /**
   * A weight getter for one step (embed, one block, head). In streaming mode it reads each tensor
   * at most once and forgets them all when the step is over.
   */
  private scoped(): WeightGetter {
    if (!this.streaming) return (name) => this.overrides.get(name) ?? this.kept.get(name) ?? this.load(name);
    const local = this.held ?? new Map<string, Tensor>();
    return (name) => {
      const o = this.overrides.get(name);
      if (o) return o;
      let t = local.get(name) ?? this.kept.get(name);
      if (!t) {
        t = this.load(name);
        local.set(name, t);
        // the block cache: weights stay while they fit in its budget
        const bytes = heldBytes(t);
        if (this.cachedBytes + bytes <= this.cacheBytes) {
          this.kept.set(name, t);
          this.cachedBytes += bytes;
        }
      }
      return t;
    };
  }
}

/** Build a model over a weight source (sync). */
export function createModel(source: WeightSource, options: LoadOptions = {}): DecoderModel {
  return new DecoderModel(source, options);
}

/** Open a model folder / file / hub id (or take a ready source) and build the model. */
export async function loadModel(source: WeightSource | string, options: LoadOptions = {}): Promise<DecoderModel> {
  const src = typeof source === 'string' ? await openModelSource(source) : source;
  return new DecoderModel(src, options);
}
