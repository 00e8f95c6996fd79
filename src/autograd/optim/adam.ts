/**
 * Adam and AdamW, step for step as torch.optim (single-tensor path, no amsgrad), per element:
 *   Adam:   g ← g + λ·θ                        (L2 penalty through the gradient)
 *   AdamW:  θ ← θ·(1 − lr·λ)                   (decoupled weight decay)
 *   m ← m + (1 − β₁)(g − m),   v ← β₂·v + (1 − β₂)·g²
 *   θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 * The arithmetic runs in float64 and is stored in the parameter's dtype.
 */
import type { TypedArray } from '../../tensor/tensor.ts';
import { allocate } from '../../tensor/tensor.ts';
import type { Var } from '../var.ts';
import { Optimizer } from './optimizer.ts';

export interface AdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  /** λ: L2 penalty for Adam (default 0), decoupled decay for AdamW (default 0.01). */
  weightDecay?: number;
  /** Parameters for which this returns true get no weight decay (e.g. `isNotMatrix`). */
  noDecay?: (p: Var) => boolean;
}

interface MomentState {
  step: number;
  m: TypedArray;
  v: TypedArray;
}

export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  protected readonly decoupled: boolean;
  private readonly noDecay: (p: Var) => boolean;
  private readonly state = new Map<Var, MomentState>();

  constructor(params: Iterable<Var>, opts: AdamOptions = {}, decoupled = false) {
    super(params, opts.lr ?? 1e-3);
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? (decoupled ? 0.01 : 0);
    this.decoupled = decoupled;
    this.noDecay = opts.noDecay ?? (() => false);
    for (const b of [this.beta1, this.beta2]) {
      if (!(b >= 0 && b < 1)) throw new Error(`Adam: beta ${b} must be in [0, 1)`);
    }
  }

  /** The moment estimates of a parameter (undefined before its first step). */
  moments(p: Var): Readonly<MomentState> | undefined {
    return this.state.get(p);
  }

  step(): void {
    for (const p of this.params) {
      if (p.grad === null) continue;
      let s = this.state.get(p);
      if (!s) {
        s = { step: 0, m: allocate(p.value.dtype, p.value.size), v: allocate(p.value.dtype, p.value.size) };
        this.state.set(p, s);
      }
      s.step++;
      const wd = this.noDecay(p) ? 0 : this.weightDecay;
      updateAdam(p.value.data, p.grad.data, s.m, s.v, {
        lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, step: s.step,
        l2: this.decoupled ? 0 : wd,
        decay: this.decoupled ? 1 - this.lr * wd : 1,
      });
    }
  }
}

/** AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, default λ = 0.01 as in PyTorch. */
export class AdamW extends Adam {
  constructor(params: Iterable<Var>, opts: AdamOptions = {}) {
    super(params, opts, true);
  }
}

interface AdamStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  step: number;
  l2: number;
  decay: number;
}

/** One Adam(W) update of a flat parameter array in place. */
function updateAdam(theta: TypedArray, grad: TypedArray, m: TypedArray, v: TypedArray, o: AdamStep): void {
  const { beta1, beta2, eps, l2, decay } = o;
  const stepSize = o.lr / (1 - beta1 ** o.step);
  const bc2Sqrt = Math.sqrt(1 - beta2 ** o.step);
  const c1 = 1 - beta1, c2 = 1 - beta2;
  const n = theta.length;
  if (l2 === 0 && decay === 1) {
    for (let i = 0; i < n; i++) {
      const g = grad[i];
      const mi = m[i] + c1 * (g - m[i]);
      const vi = beta2 * v[i] + c2 * g * g;
      m[i] = mi;
      v[i] = vi;
      theta[i] -= (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const t = theta[i] * decay;
    const g = grad[i] + l2 * theta[i];
    const mi = m[i] + c1 * (g - m[i]);
    const vi = beta2 * v[i] + c2 * g * g;
    m[i] = mi;
    v[i] = vi;
    theta[i] = t - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
  }
}
