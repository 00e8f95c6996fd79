/**
 * A pruned model on the autograd tape, for training after pruning (distillation of all parameters,
 * healing): the kept blocks are the architecture module's blocks run with tape ops
 * (src/train/trainable-model.ts), each replaced span runs its linear map as in pruned-model.ts,
 *
 *   residual map:  h_out = h_in·A + b          mlp map:  h_out = h_in + X·(A − I) + b = (h_in − X) + X·A + b
 *
 * (a dropped span passes h_in on). Parameters are float32 copies of the pruned model's current
 * weights and maps; `toPruned()` returns the trained result as an ordinary PrunedModel.
 */
import { add, embedding, matmul, param, reshape, sub, type Var } from '../autograd/index.ts';
import type { TokenBatch } from '../data/calibration.ts';
import { createModel } from '../models/decoder.ts';
import { memorySource } from '../models/memory-source.ts';
import type { BlockResult } from '../models/ops.ts';
import type { WeightSource } from '../models/types.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { TrainableModel } from '../train/trainable-model.ts';
import { PrunedModel } from './pruned-model.ts';
import { spanLabel, type Replacement } from './types.ts';

/** Which parameters train: every one, or (healing) only the blocks next to each removed span and the maps. */
export type TrainScope = 'all' | 'adjacent';

interface MapParams {
  weight: Var;
  bias?: Var;
}

export interface PrunedTapeForward {
  /** State after each replacement (index-aligned with `replacements`). */
  spanOutputs: Var[];
  /** State after the last block or replacement, before the final norm. */
  final: Var;
  /** Logits [B, T, V] (unless `statesOnly`). */
  logits?: Var;
}

export class TrainablePruned {
  readonly model: TrainableModel;
  readonly replacements: readonly Replacement[];
  private readonly maps: (MapParams | undefined)[];
  private readonly removed = new Set<number>();
  private readonly source: PrunedModel;

  constructor(pruned: PrunedModel) {
    this.source = pruned;
    this.model = TrainableModel.fromDecoder(pruned.base);
    this.replacements = pruned.replacements;
    this.maps = pruned.replacements.map((r) => r.map && {
      weight: param(r.map.weight.to('float32'), `map${spanLabel(r)}.weight`),
      ...(r.map.bias ? { bias: param(r.map.bias.to('float32'), `map${spanLabel(r)}.bias`) } : {}),
    });
    for (const r of pruned.replacements) for (let i = r.start; i < r.start + r.count; i++) this.removed.add(i);
  }

  /** The parameters a scope trains (kept blocks' and globals' by HF name, then the maps). */
  parameters(scope: TrainScope): Var[] {
    const L = this.model.numLayers;
    const blockNames = new Set<string>();
    for (let i = 0; i < L; i++) for (const n of this.model.blockParamNames(i)) blockNames.add(n);
    const layers = new Set<number>();
    if (scope === 'all') {
      for (let i = 0; i < L; i++) if (!this.removed.has(i)) layers.add(i);
    } else {
      for (const r of this.replacements) {
        for (const i of [r.start - 1, r.start + r.count]) if (i >= 0 && i < L && !this.removed.has(i)) layers.add(i);
      }
    }
    const names = scope === 'all' ? [...this.model.params.keys()].filter((n) => !blockNames.has(n)) : [];
    for (const i of [...layers].sort((a, b) => a - b)) names.push(...this.model.blockParamNames(i));
    const maps = this.maps.flatMap((m) => (m ? (m.bias ? [m.weight, m.bias] : [m.weight]) : []));
    return [...names.map((n) => this.model.param(n)), ...maps];
  }

  /** One forward over a calibration batch (its mask and position ids as the eager pruned model uses them). */
  forward(batch: Pick<TokenBatch, 'ids' | 'attentionMask' | 'positionIds'>, statesOnly = false): PrunedTapeForward {
    const B = batch.ids.length, T = batch.ids[0].length;
    const { hidden, ctx } = this.model.embed(batch.ids.flat(), B, T, { attentionMask: batch.attentionMask, positionIds: batch.positionIds });
    const L = this.model.numLayers;
    const reps = this.replacements;
    const spanOutputs: Var[] = [];
    let h = hidden;
    let previous: BlockResult<Var> | undefined;
    for (let i = 0, next = 0; i < L || next < reps.length; ) {
      const r = reps[next];
      if (r && r.start === i) {
        h = this.applyMap(next, h, previous);
        spanOutputs.push(h);
        previous = undefined;
        i += r.count;
        next++;
        continue;
      }
      previous = this.model.runBlock(i, h, ctx);
      h = previous.hidden;
      i++;
    }
    return { spanOutputs, final: h, ...(statesOnly ? {} : { logits: this.model.head(h).logits }) };
  }

  private applyMap(index: number, h: Var, previous: BlockResult<Var> | undefined): Var {
    const r = this.replacements[index];
    const m = this.maps[index];
    if (!r.map || !m) return h;
    let out: Var;
    if (r.map.input === 'residual') {
      out = matmul(h, m.weight);
    } else {
      if (!previous) throw new Error(`pruned forward: span ${spanLabel(r)} reads the MLP output of block ${r.start - 1}, which did not run`);
      out = add(sub(h, previous.mlpOut), matmul(previous.mlpOut, m.weight));
    }
    return m.bias ? add(out, m.bias) : out;
  }

  /** The trained model: a new runtime over the trained weights (the original is untouched) and the trained maps. */
  toPruned(): PrunedModel {
    const base = this.source.base;
    const tensors = new Map<string, Tensor>();
    for (const name of base.weightNames()) tensors.set(name, this.model.param(name).value.clone());
    const src: WeightSource & { dir?: string } = memorySource(base.source.config, tensors);
    // the export copies tokenizer files from the source folder
    src.dir = (base.source as { dir?: string }).dir;
    const runtime = createModel(src, { dtype: base.dtype });
    const replacements = this.replacements.map((r, k) => {
      const m = this.maps[k];
      if (!r.map || !m) return { ...r };
      return { ...r, map: { input: r.map.input, weight: m.weight.value.to('float64'), ...(m.bias ? { bias: m.bias.value.to('float64') } : {}) } };
    });
    return new PrunedModel(runtime, replacements);
  }
}

/** Rows `rows` of a [B, T, d] state as [N, d] on the tape (the real tokens of a batch). */
export function gatherRows(state: Var, rows: Int32Array): Var {
  const d = state.shape[state.shape.length - 1];
  return embedding(reshape(state, -1, d), rows);
}
