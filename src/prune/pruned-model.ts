/**
 * A pruned model: the original runtime with some spans of blocks replaced. Kept blocks run through
 * `DecoderModel.runBlock`; a replaced span runs its linear map (or nothing, when dropped). The
 * weights are the original model's, untouched.
 *
 *   const pruned = new PrunedModel(model, [{ start: 2, count: 1, map }]);
 *   const { logits } = pruned.forward(ids);
 *
 * `forward` can report every kept block's input and output and every replacement's input, which is
 * what ranking, fitting and distillation stream over.
 */
import type { DecoderModel } from '../models/decoder.ts';
import type { ForwardInputs } from '../models/context.ts';
import type { BlockOutput, ForwardContext } from '../models/types.ts';
import { suffixRows } from '../models/self-attention.ts';
import { addInPlace } from '../tensor/elementwise.ts';
import { addRowVectorInPlace, matmul } from '../tensor/matmul.ts';
import { Tensor, type DType } from '../tensor/tensor.ts';
import { spanLabel, type LinearMap, type Replacement } from './types.ts';

/** A kept block as it ran: its original index, the state it read and what it returned. */
export interface BlockVisit {
  layer: number;
  input: Tensor;
  output: BlockOutput;
}

/** A replaced span as it ran: the state entering it, the map's X, and the state it produced. */
export interface ReplacementVisit {
  replacement: Replacement;
  input: Tensor;
  /** The map's input matrix (h_in, or the previous block's MLP output); undefined for a drop. */
  x?: Tensor;
  output: Tensor;
}

export interface PrunedForwardOptions {
  /** 1 = real token, 0 = padding (B × T). */
  attentionMask?: number[][];
  positionIds?: number[][];
  onBlock?: (visit: BlockVisit) => void;
  onReplacement?: (visit: ReplacementVisit) => void;
  /** Skip the final norm and head (for passes that only collect states). */
  statesOnly?: boolean;
}

export interface PrunedForwardResult {
  /** [B, T, V] (an empty tensor with `statesOnly`). */
  logits: Tensor;
  /** The residual stream after the last block or replacement, before the final norm. */
  preFinalNorm: Tensor;
}

/** One step of a pruned forward: a kept block (its original index) or a replacement. */
export type PrunedStep = { layer: number; replacement?: undefined } | { replacement: Replacement; layer?: undefined };

export class PrunedModel {
  readonly base: DecoderModel;
  /** Replacements sorted by start. */
  readonly replacements: readonly Replacement[];
  private readonly removed = new Set<number>();
  private readonly runtimeMaps = new WeakMap<LinearMap, { weight: Tensor; weightMinusI: Tensor; bias?: Tensor }>();
  private readonly lastBlockOutput = new WeakMap<ForwardContext, BlockOutput>();
  private readonly stepList: PrunedStep[];

  constructor(base: DecoderModel, replacements: readonly Replacement[] = []) {
    this.base = base;
    this.replacements = [...replacements].sort((a, b) => a.start - b.start);
    validateReplacements(base.numLayers, base.config.hiddenSize, this.replacements);
    for (const r of this.replacements) for (let i = r.start; i < r.start + r.count; i++) this.removed.add(i);
    this.stepList = this.steps();
  }

  /** Blocks of the original model. */
  get originalLayers(): number {
    return this.base.numLayers;
  }

  /** Blocks that still run. */
  get numLayers(): number {
    return this.base.numLayers - this.removed.size;
  }

  isKept(layer: number): boolean {
    return layer >= 0 && layer < this.base.numLayers && !this.removed.has(layer);
  }

  /** Original indices of the blocks that still run, in order. */
  keptBlocks(): number[] {
    return Array.from({ length: this.base.numLayers }, (_, i) => i).filter((i) => !this.removed.has(i));
  }

  /** This model with more replacements (the new ones must not overlap the existing ones). */
  with(extra: readonly Replacement[]): PrunedModel {
    return new PrunedModel(this.base, [...this.replacements, ...extra]);
  }

  /** What runs, in order: kept blocks and replacements (as `forward` walks them). */
  steps(): PrunedStep[] {
    const out: PrunedStep[] = [];
    const L = this.base.numLayers;
    const reps = this.replacements;
    for (let i = 0, next = 0; i < L || next < reps.length; ) {
      const r = reps[next];
      if (r && r.start === i) {
        out.push({ replacement: r });
        i += r.count;
        next++;
        continue;
      }
      out.push({ layer: i });
      i++;
    }
    return out;
  }

  /**
   * The stages of this model for layer-major passes (src/models/layer-major.ts: perplexity and fact
   * evaluation): "block" s is step s of `steps()`. A replacement's step returns only its hidden
   * state (attnOut and mlpOut are empty); an 'mlp' map reads the block before it, remembered per call.
   */
  get config(): DecoderModel['config'] {
    return { ...this.base.config, numLayers: this.stepList.length };
  }

  embed(inputIds: readonly (readonly number[])[], options: ForwardInputs = {}): { hidden: Tensor; ctx: ForwardContext } {
    return this.base.embed(inputIds, options);
  }

  runBlock(step: number, hidden: Tensor, ctx: ForwardContext): BlockOutput {
    const s = this.stepList[step];
    if (s.layer !== undefined) {
      const out = this.base.runBlock(s.layer, hidden, ctx);
      if (this.stepList[step + 1]?.replacement?.map?.input === 'mlp') this.lastBlockOutput.set(ctx, out);
      return out;
    }
    const previous = this.lastBlockOutput.get(ctx);
    this.lastBlockOutput.delete(ctx);
    const empty = Tensor.zeros([0], hidden.dtype);
    const { output } = this.applyReplacement(s.replacement, hidden, step > 0 && this.stepList[step - 1].layer !== undefined ? previous : undefined);
    // a replacement acts on each token alone: as the last step, it returns the rows the caller reads
    // (ForwardContext.queryFrom), as a block would
    return { hidden: ctx.queryFrom ? suffixRows(output, ctx.queryFrom) : output, attnOut: empty, mlpOut: empty };
  }

  finalNorm(hidden: Tensor): Tensor {
    return this.base.finalNorm(hidden);
  }

  lmHead(hidden: Tensor): Tensor {
    return this.base.lmHead(hidden);
  }

  holdWeights(): () => void {
    return this.base.holdWeights();
  }

  weightNames(): string[] {
    return this.base.weightNames();
  }

  weightShape(name: string): number[] {
    return this.base.weightShape(name);
  }

  blockWeightNames(step: number): string[] {
    const s = this.stepList[step];
    return s.layer === undefined ? [] : this.base.blockWeightNames(s.layer);
  }

  get streaming(): boolean {
    return this.base.streaming;
  }

  get dtype(): DType {
    return this.base.dtype;
  }

  forward(inputIds: readonly (readonly number[])[], options: PrunedForwardOptions = {}): PrunedForwardResult {
    const { hidden, ctx } = this.base.embed(inputIds, { attentionMask: options.attentionMask, positionIds: options.positionIds });
    const L = this.base.numLayers;
    const reps = this.replacements;
    let h = hidden;
    let previous: BlockOutput | undefined;
    for (let i = 0, next = 0; i < L || next < reps.length; ) {
      const r = reps[next];
      if (r && r.start === i) {
        const { x, output } = this.applyReplacement(r, h, previous);
        options.onReplacement?.({ replacement: r, input: h, x, output });
        h = output;
        previous = undefined;
        i += r.count;
        next++;
        continue;
      }
      const out = this.base.runBlock(i, h, ctx);
      options.onBlock?.({ layer: i, input: h, output: out });
      h = out.hidden;
      previous = out;
      i++;
    }
    if (options.statesOnly) return { logits: Tensor.zeros([0], h.dtype), preFinalNorm: h };
    return { logits: this.base.lmHead(this.base.finalNorm(h)), preFinalNorm: h };
  }

  /** h_out = base + X·A + b (see types.ts); the input itself for a dropped span. */
  applyReplacement(r: Replacement, h: Tensor, previous: BlockOutput | undefined): { x?: Tensor; output: Tensor } {
    if (!r.map) return { output: h };
    const m = this.runtimeMap(r.map, h.dtype);
    if (r.map.input === 'residual') {
      const output = matmul(h, m.weight);
      if (m.bias) addRowVectorInPlace(output, m.bias);
      return { x: h, output };
    }
    if (!previous) throw new Error(`pruned forward: span ${spanLabel(r)} reads the MLP output of block ${r.start - 1}, which did not run`);
    const x = previous.mlpOut;
    // h + X·(A − I) + b  =  (h − X) + X·A + b
    const output = matmul(x, m.weightMinusI);
    addInPlace(output, h);
    if (m.bias) addRowVectorInPlace(output, m.bias);
    return { x, output };
  }

  private runtimeMap(map: LinearMap, dtype: DType): { weight: Tensor; weightMinusI: Tensor; bias?: Tensor } {
    let m = this.runtimeMaps.get(map);
    if (!m || m.weight.dtype !== dtype) {
      const d = map.weight.shape[0];
      const minusI = map.weight.to('float64');
      for (let i = 0; i < d; i++) minusI.data[i * d + i] -= 1;
      m = { weight: map.weight.to(dtype), weightMinusI: minusI.to(dtype), bias: map.bias?.to(dtype) };
      this.runtimeMaps.set(map, m);
    }
    return m;
  }
}

/** Throws a clear error for spans out of range, overlapping, or maps that cannot run. */
function validateReplacements(layers: number, dim: number, replacements: readonly Replacement[]): void {
  const sorted = [...replacements].sort((a, b) => a.start - b.start);
  const removed = new Set<number>();
  for (const r of sorted) {
    if (!(Number.isInteger(r.start) && Number.isInteger(r.count) && r.count >= 0 && r.start >= 0 && r.start + r.count <= layers)) {
      throw new Error(`replacement ${spanLabel(r)} (start ${r.start}, count ${r.count}) is outside the model's ${layers} blocks`);
    }
    if (r.count === 0 && !r.map) throw new Error(`an insertion before block ${r.start} (count 0) needs a map`);
    if (r.count === 0 && removed.has(r.start - 1) && removed.has(r.start)) {
      throw new Error(`an insertion before block ${r.start} falls inside a removed span`);
    }
    for (let i = r.start; i < r.start + r.count; i++) {
      if (removed.has(i)) throw new Error(`replacements overlap at block ${i}`);
      removed.add(i);
    }
    if (r.map) {
      const { weight, bias } = r.map;
      if (weight.shape.length !== 2 || weight.shape[0] !== dim || weight.shape[1] !== dim) {
        throw new Error(`replacement ${spanLabel(r)}: map weight must be [${dim}, ${dim}], got [${weight.shape.join(', ')}]`);
      }
      if (bias && (bias.shape.length !== 1 || bias.shape[0] !== dim)) {
        throw new Error(`replacement ${spanLabel(r)}: map bias must be [${dim}], got [${bias.shape.join(', ')}]`);
      }
    }
  }
  sorted.forEach((r, k) => {
    const runsRightAfterBlock = k === 0 || sorted[k - 1].start + sorted[k - 1].count < r.start;
    if (r.map?.input === 'mlp' && (r.start === 0 || removed.has(r.start - 1) || !runsRightAfterBlock)) {
      throw new Error(`replacement ${spanLabel(r)}: an 'mlp' map reads the MLP output of block ${r.start - 1}, which must be kept and run right before it`);
    }
  });
}
