/**
 * Stochastic gradient descent as torch.optim.SGD:
 *   d ← g + λ·θ;  with momentum μ: b ← d (first step) or μ·b + (1 − dampening)·d, then
 *   d ← d + μ·b (Nesterov) or d ← b;   θ ← θ − lr·d
 */
import { allocate, type TypedArray } from '../../tensor/tensor.ts';
import type { Var } from '../var.ts';
import { Optimizer, type ParamState } from './optimizer.ts';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  /** Parameters for which this returns true get no weight decay. */
  noDecay?: (p: Var) => boolean;
}

export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private readonly noDecay: (p: Var) => boolean;
  private readonly buffers = new Map<Var, TypedArray>();
  private readonly steps = new Map<Var, number>();

  constructor(params: Iterable<Var>, opts: SgdOptions) {
    super(params, opts.lr);
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    this.nesterov = opts.nesterov ?? false;
    this.noDecay = opts.noDecay ?? (() => false);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new Error('SGD: Nesterov momentum needs momentum > 0 and zero dampening');
    }
  }

  /** With momentum: the momentum buffer; without: no buffer (the state is the step count only). */
  get bufferNames(): readonly string[] {
    return this.momentum === 0 ? [] : ['momentum_buffer'];
  }

  paramState(p: Var): ParamState | undefined {
    const step = this.steps.get(p);
    if (step === undefined) return undefined;
    const buf = this.buffers.get(p);
    return { step, buffers: buf ? { momentum_buffer: buf } : {} };
  }

  loadParamState(p: Var, state: { step: number; buffers: Record<string, ArrayLike<number>> }): void {
    this.checkState(p, state);
    this.steps.set(p, state.step);
    if (this.momentum === 0) return;
    const buf = allocate(p.value.dtype, p.value.size);
    buf.set(state.buffers.momentum_buffer);
    this.buffers.set(p, buf);
  }

  step(): void {
    const { momentum: mu, lr, nesterov } = this;
    for (const p of this.params) {
      if (p.grad === null) continue;
      this.steps.set(p, (this.steps.get(p) ?? 0) + 1);
      const theta = p.value.data, grad = p.grad.data;
      const wd = this.noDecay(p) ? 0 : this.weightDecay;
      if (mu === 0) {
        for (let i = 0; i < theta.length; i++) theta[i] -= lr * (grad[i] + wd * theta[i]);
        continue;
      }
      let buf = this.buffers.get(p);
      const first = buf === undefined;
      if (!buf) {
        buf = allocate(p.value.dtype, theta.length);
        this.buffers.set(p, buf);
      }
      const keep = 1 - this.dampening;
      for (let i = 0; i < theta.length; i++) {
        const d = grad[i] + wd * theta[i];
        const b = first ? d : mu * buf[i] + keep * d;
        buf[i] = b;
        theta[i] -= lr * (nesterov ? d + mu * b : b);
      }
    }
  }
}
