/**
 * Adam and AdamW, step for step as torch.optim (single-tensor path, no amsgrad), per element:
 *   Adam:   g ← g + λ·θ                        (L2 penalty through the gradient)
 *   AdamW:  θ ← θ·(1 − lr·λ)                   (decoupled weight decay)
 *   m ← m + (1 − β₁)(g − m),   v ← β₂·v + (1 − β₂)·g²
 *   θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 * float32 parameters go through a WebAssembly SIMD kernel doing exactly these float32 operations
 * (adam-simd.ts); float64 parameters (and float32 ones when `simd: false` or without Wasm SIMD) are
 * updated by a scalar loop computing in float64 and storing in the parameter's dtype.
 *
 * The state (step count, m = exp_avg, v = exp_avg_sq) can be read and restored per parameter, so a
 * resumed run continues bit for bit; state.ts saves a whole optimiser as named tensors.
 */
import type { TypedArray } from '../../tensor/tensor.ts';
import { allFloat32, kernelThreads, nativeKernels } from '../../tensor/native-kernels.ts';
import { allocate } from '../../tensor/tensor.ts';
import type { Var } from '../var.ts';
import { SimdAdamKernel, simdAvailable, type SimdSlot } from './adam-simd.ts';
import { Optimizer, type ParamState } from './optimizer.ts';

export interface AdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  /** λ: L2 penalty for Adam (default 0), decoupled decay for AdamW (default 0.01). */
  weightDecay?: number;
  /** Parameters for which this returns true get no weight decay (e.g. `isNotMatrix`). */
  noDecay?: (p: Var) => boolean;
  /** Use the WebAssembly SIMD kernel for float32 parameters when the runtime has it (default true). */
  simd?: boolean;
}

/** Per-parameter state: the step count and the moments, in JS arrays or in the SIMD kernel's memory. */
interface MomentState {
  step: number;
  m?: TypedArray;
  v?: TypedArray;
  slot?: SimdSlot;
}

export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  protected readonly decoupled: boolean;
  private readonly noDecay: (p: Var) => boolean;
  private readonly state = new Map<Var, MomentState>();
  private readonly simd: boolean;
  private kernel: SimdAdamKernel | undefined;

  constructor(params: Iterable<Var>, opts: AdamOptions = {}, decoupled = false) {
    super(params, opts.lr ?? 1e-3);
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? (decoupled ? 0.01 : 0);
    this.decoupled = decoupled;
    this.noDecay = opts.noDecay ?? (() => false);
    this.simd = (opts.simd ?? true) && simdAvailable();
    for (const b of [this.beta1, this.beta2]) {
      if (!(b >= 0 && b < 1)) throw new Error(`Adam: beta ${b} must be in [0, 1)`);
    }
  }

  readonly bufferNames = ['exp_avg', 'exp_avg_sq'] as const;

  /**
   * A parameter's step count and moment estimates m, v (undefined before its first step). For
   * parameters on the SIMD kernel, m and v are views of its memory, valid until the next step.
   */
  stateOf(p: Var): { step: number; m: TypedArray; v: TypedArray } | undefined {
    const s = this.state.get(p);
    if (!s) return undefined;
    if (s.slot) return { step: s.step, ...this.kernel!.moments(s.slot) };
    return { step: s.step, m: s.m!, v: s.v! };
  }

  /**
   * Restore a parameter's state (values copied), e.g. from a checkpoint written from `moments`;
   * the next step then continues bit for bit as if never interrupted.
   */
  loadState(p: Var, saved: { step: number; m: ArrayLike<number>; v: ArrayLike<number> }): void {
    this.checkState(p, { step: saved.step, buffers: { exp_avg: saved.m, exp_avg_sq: saved.v } });
    const s = this.state.get(p) ?? this.createState(p);
    this.state.set(p, s);
    s.step = saved.step;
    const { m, v } = s.slot ? this.kernel!.moments(s.slot) : { m: s.m!, v: s.v! };
    m.set(saved.m);
    v.set(saved.v);
  }

  paramState(p: Var): ParamState | undefined {
    const s = this.stateOf(p);
    return s && { step: s.step, buffers: { exp_avg: s.m, exp_avg_sq: s.v } };
  }

  loadParamState(p: Var, state: { step: number; buffers: Record<string, ArrayLike<number>> }): void {
    this.checkState(p, state);
    this.loadState(p, { step: state.step, m: state.buffers.exp_avg, v: state.buffers.exp_avg_sq });
  }

  private createState(p: Var): MomentState {
    const n = p.value.size;
    if (this.simd && p.value.data instanceof Float32Array) {
      this.kernel ??= new SimdAdamKernel();
      try {
        return { step: 0, slot: this.kernel.createSlot(n) };
      } catch (e) {
        // the kernel's memory could not grow (wasm32 caps it at 4 GiB): keep this one in JS arrays
        if (!(e instanceof RangeError)) throw e;
      }
    }
    return { step: 0, m: allocate(p.value.dtype, n), v: allocate(p.value.dtype, n) };
  }

  step(): void {
    for (const p of this.params) {
      if (p.grad === null) continue;
      let s = this.state.get(p);
      if (!s) {
        s = this.createState(p);
        this.state.set(p, s);
      }
      s.step++;
      const wd = this.noDecay(p) ? 0 : this.weightDecay;
      if (s.slot) {
        this.kernel!.update(p.value.data as Float32Array, p.grad.data as Float32Array, s.slot, {
          lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, step: s.step,
          weightDecay: wd, l2: !this.decoupled,
        });
        continue;
      }
      updateAdam(p.value.data, p.grad.data, s.m!, s.v!, {
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

/**
 * The trainers' AdamW (pretrain, finetune): the float64 scalar arithmetic on every parameter, never
 * the float32 SIMD kernel, so runs and their checkpoints keep the numbers they always had.
 */
export class CheckpointableAdamW extends AdamW {
  constructor(params: Iterable<Var>, opts: Omit<AdamOptions, 'simd'> & { lr: number }) {
    super(params, { ...opts, simd: false });
  }
}

export interface AdamStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  step: number;
  l2: number;
  decay: number;
}

/**
 * One Adam(W) update of a flat parameter array in place. Float32 arrays go to the C twin of these
 * loops (native/kernels.c lk_adam_f32: the same float64 expressions, so the same bits) when the
 * native kernels are loaded.
 */
export function updateAdam(theta: TypedArray, grad: TypedArray, m: TypedArray, v: TypedArray, o: AdamStep): void {
  const { beta1, beta2, eps, l2, decay } = o;
  const stepSize = o.lr / (1 - beta1 ** o.step);
  const bc2Sqrt = Math.sqrt(1 - beta2 ** o.step);
  const c1 = 1 - beta1, c2 = 1 - beta2;
  const n = theta.length;
  const plain = l2 === 0 && decay === 1;
  const native = nativeKernels();
  if (native && allFloat32(theta, grad, m, v)) {
    native.adamStep(theta as Float32Array, grad as Float32Array, m as Float32Array, v as Float32Array, n, stepSize, bc2Sqrt, beta2, c1, c2, eps, l2, decay, plain ? 1 : 0, kernelThreads());
    return;
  }
  if (plain) {
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
