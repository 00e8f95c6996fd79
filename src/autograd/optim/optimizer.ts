/**
 * What every optimiser shares: a de-duplicated parameter list, a learning rate, zeroGrad, and its
 * per-parameter state as named buffers (torch's state_dict names: exp_avg, exp_avg_sq,
 * momentum_buffer) plus a step count, so that a run saved and restored continues bit for bit
 * (see state.ts for saving a whole optimiser as named tensors).
 */
import type { TypedArray } from '../../tensor/tensor.ts';
import type { Var } from '../var.ts';

/** One parameter's optimiser state: its step count and named buffers (each of the parameter's size). */
export interface ParamState {
  step: number;
  buffers: Record<string, TypedArray>;
}

export abstract class Optimizer {
  readonly params: readonly Var[];
  /** Current learning rate (set it from a schedule before each step). */
  lr: number;

  constructor(params: Iterable<Var>, lr: number) {
    const unique = [...new Set(params)]; // tied weights appear once
    for (const p of unique) {
      if (!p.requiresGrad) throw new Error(`optimiser: parameter ${p} does not require grad`);
      if (!p.isLeaf) throw new Error(`optimiser: ${p} is not a leaf (it was produced by an op)`);
    }
    if (!(lr >= 0)) throw new Error(`optimiser: learning rate ${lr} must be ≥ 0`);
    this.params = unique;
    this.lr = lr;
  }

  /** Forget every parameter's gradient (`Var.zeroGrad`: reads null, buffer recycled by the next backward). */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** Update the parameters from their gradients (parameters without a gradient are skipped). */
  abstract step(): void;

  /** The names of the buffers {@link paramState} returns, e.g. ['exp_avg', 'exp_avg_sq']. */
  abstract readonly bufferNames: readonly string[];

  /** `p`'s state (live views; undefined before its first step or when the optimiser keeps none). */
  abstract paramState(p: Var): ParamState | undefined;

  /** Replace `p`'s state (values copied), e.g. from a checkpoint written from {@link paramState}. */
  abstract loadParamState(p: Var, state: { step: number; buffers: Record<string, ArrayLike<number>> }): void;

  /** Checks that `p` is optimised here and that `buffers` holds each named buffer at p's size. */
  protected checkState(p: Var, state: { step: number; buffers: Record<string, ArrayLike<number>> }): void {
    const who = this.constructor.name;
    if (!this.params.includes(p)) throw new Error(`${who}.loadState: ${p} is not optimised here`);
    if (!(Number.isInteger(state.step) && state.step >= 0)) throw new Error(`${who}.loadState: step ${state.step} is not a count`);
    for (const name of this.bufferNames) {
      const b = state.buffers[name];
      if (!b) throw new Error(`${who}.loadState: no "${name}" buffer for ${p}`);
      if (b.length !== p.value.size) throw new Error(`${who}.loadState: "${name}" of ${b.length} elements for ${p}`);
    }
  }
}

/** A weight-decay exclusion predicate: vectors and scalars (biases, norm gains) are not decayed. */
export function isNotMatrix(p: Var): boolean {
  return p.value.ndim < 2;
}
