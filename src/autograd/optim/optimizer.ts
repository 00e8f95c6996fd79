/** What every optimiser shares: a de-duplicated parameter list, a learning rate, zeroGrad. */
import type { Var } from '../var.ts';

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
}

/** A weight-decay exclusion predicate: vectors and scalars (biases, norm gains) are not decayed. */
export function isNotMatrix(p: Var): boolean {
  return p.value.ndim < 2;
}
