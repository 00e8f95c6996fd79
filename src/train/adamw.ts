/**
 * AdamW whose whole state (step count, first and second moments) can be saved and restored, so a
 * resumed run continues bit for bit. Per element, as torch.optim.AdamW (no amsgrad):
 *
 *   θ ← θ·(1 − lr·λ)
 *   m ← m + (1 − β₁)(g − m),   v ← β₂·v + (1 − β₂)·g²
 *   θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 *
 * computed in float64 and stored in the parameter's dtype (moments in float32 for float32
 * parameters). src/autograd's AdamW keeps its state private (and partly in a Wasm kernel's
 * memory), hence this small checkpointable variant.
 */
import { Optimizer } from '../autograd/optim/optimizer.ts';
import type { Var } from '../autograd/var.ts';
import { allocate, type TypedArray } from '../tensor/tensor.ts';

export interface AdamWOptions {
  lr: number;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
  /** Parameters that get no weight decay (norm gains, biases). */
  noDecay?: (p: Var) => boolean;
}

/** The saved state of one parameter. */
export interface AdamWParamState {
  step: number;
  m: TypedArray;
  v: TypedArray;
}

export class CheckpointableAdamW extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly noDecay: (p: Var) => boolean;
  private readonly states = new Map<Var, AdamWParamState>();

  constructor(params: Iterable<Var>, opts: AdamWOptions) {
    super(params, opts.lr);
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.01;
    this.noDecay = opts.noDecay ?? (() => false);
    for (const b of [this.beta1, this.beta2]) if (!(b >= 0 && b < 1)) throw new Error(`AdamW: beta ${b} must be in [0, 1)`);
  }

  /** The live state of `p` (undefined before its first step). */
  stateOf(p: Var): AdamWParamState | undefined {
    return this.states.get(p);
  }

  /** Replace the state of `p` (values copied). */
  loadState(p: Var, s: { step: number; m: ArrayLike<number>; v: ArrayLike<number> }): void {
    if (!this.params.includes(p)) throw new Error(`AdamW.loadState: ${p} is not optimised here`);
    if (s.m.length !== p.size || s.v.length !== p.size) throw new Error(`AdamW.loadState: moments of ${s.m.length} elements for ${p}`);
    const m = allocate(p.dtype, p.size), v = allocate(p.dtype, p.size);
    m.set(s.m);
    v.set(s.v);
    this.states.set(p, { step: s.step, m, v });
  }

  step(): void {
    const { beta1, beta2, eps } = this;
    const c1 = 1 - beta1, c2 = 1 - beta2;
    for (const p of this.params) {
      if (p.grad === null) continue;
      let s = this.states.get(p);
      if (!s) {
        s = { step: 0, m: allocate(p.dtype, p.size), v: allocate(p.dtype, p.size) };
        this.states.set(p, s);
      }
      s.step++;
      const decay = 1 - this.lr * (this.noDecay(p) ? 0 : this.weightDecay);
      const stepSize = this.lr / (1 - beta1 ** s.step);
      const bc2Sqrt = Math.sqrt(1 - beta2 ** s.step);
      const theta = p.value.data, g = p.grad.data, m = s.m, v = s.v;
      for (let i = 0; i < theta.length; i++) {
        const gi = g[i];
        const mi = m[i] + c1 * (gi - m[i]);
        const vi = beta2 * v[i] + c2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        theta[i] = theta[i] * decay - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
      }
    }
  }
}
