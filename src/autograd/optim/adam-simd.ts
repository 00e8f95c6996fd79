/**
 * The Adam(W) update for float32 parameters as a WebAssembly SIMD kernel (four lanes per
 * instruction), with the moment estimates kept in the kernel's own memory. Each step copies the
 * parameter and its gradient into a staging area, updates in place, and copies the parameter back.
 *
 * Arithmetic is float32 throughout, in the order of torch.optim.Adam's single-tensor path:
 *   g ← g + λ·θ (Adam's L2 variant)  or  θ ← θ·(1 − lr·λ) (AdamW)
 *   m ← m + (1 − β₁)·(g − m)                         (lerp)
 *   v ← v·β₂ + ((1 − β₂)·g)·g                        (mul_, addcmul_)
 *   θ ← θ + (−lr/(1 − β₁ᵗ))·(m / (√v / √(1 − β₂ᵗ) + ε))   (addcdiv_)
 */
import { moduleBytes, op, simdOp, valtype, type FunctionSpec } from './wasm-encoding.ts';

/** Kernel parameters, in order. */
const enum Arg {
  Theta, Grad, M, V, Bytes,
  NegStepSize, Bc2Sqrt, Eps, OneMinusBeta1, Beta2, OneMinusBeta2, Decay, L2,
}
/** Locals after the parameters: loop offset, then splatted constants and temporaries. */
const I = 13;
const SPLAT_BASE = 14; // NegStepSize … L2 splatted, in Arg order
const splat = (a: Arg) => SPLAT_BASE + (a - Arg.NegStepSize);
const G = SPLAT_BASE + 8, MM = G + 1, VV = G + 2;

const at = (base: Arg) => [...op.localGet(base), ...op.localGet(I), ...op.i32Add];

function kernel(exportName: string, l2: boolean): FunctionSpec {
  const { f32x4Add: add, f32x4Sub: sub, f32x4Mul: mul, f32x4Div: div } = simdOp;
  const body: number[] = [];
  for (let a = Arg.NegStepSize; a <= Arg.L2; a++) body.push(...op.localGet(a), ...simdOp.f32x4Splat, ...op.localSet(splat(a)));
  body.push(
    ...op.i32Const(0), ...op.localSet(I),
    ...op.block, ...op.loop,
    ...op.localGet(I), ...op.localGet(Arg.Bytes), ...op.i32GeU, ...op.brIf(1),
    // g (plus λ·θ for Adam's L2 penalty)
    ...at(Arg.Grad), ...simdOp.load,
    ...(l2 ? [...op.localGet(splat(Arg.L2)), ...at(Arg.Theta), ...simdOp.load, ...mul, ...add] : []),
    ...op.localSet(G),
    // m ← m + (1 − β₁)(g − m)
    ...at(Arg.M),
    ...at(Arg.M), ...simdOp.load, ...op.localTee(MM),
    ...op.localGet(splat(Arg.OneMinusBeta1)), ...op.localGet(G), ...op.localGet(MM), ...sub, ...mul, ...add,
    ...op.localTee(MM), ...simdOp.store,
    // v ← v·β₂ + ((1 − β₂)·g)·g
    ...at(Arg.V),
    ...at(Arg.V), ...simdOp.load, ...op.localGet(splat(Arg.Beta2)), ...mul,
    ...op.localGet(splat(Arg.OneMinusBeta2)), ...op.localGet(G), ...mul, ...op.localGet(G), ...mul, ...add,
    ...op.localTee(VV), ...simdOp.store,
    // θ ← θ·decay + (−step)·(m / (√v / √bc₂ + ε))
    ...at(Arg.Theta),
    ...at(Arg.Theta), ...simdOp.load,
    ...(l2 ? [] : [...op.localGet(splat(Arg.Decay)), ...mul]),
    ...op.localGet(splat(Arg.NegStepSize)),
    ...op.localGet(MM), ...op.localGet(VV), ...simdOp.f32x4Sqrt, ...op.localGet(splat(Arg.Bc2Sqrt)), ...div,
    ...op.localGet(splat(Arg.Eps)), ...add, ...div, ...mul, ...add,
    ...simdOp.store,
    ...op.localGet(I), ...op.i32Const(16), ...op.i32Add, ...op.localSet(I),
    ...op.br(0),
    ...op.end, ...op.end,
  );
  return {
    exportName,
    params: [...Array(5).fill(valtype.i32), ...Array(8).fill(valtype.f32)],
    locals: [[1, valtype.i32], [8 + 3, valtype.v128]],
    body,
  };
}

const BYTES = moduleBytes([kernel('adamw', false), kernel('adam_l2', true)]);
let compiled: WebAssembly.Module | null | undefined;

/** The compiled kernel module, or null when this runtime has no WebAssembly SIMD. */
function compiledModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = WebAssembly.validate(BYTES) ? new WebAssembly.Module(BYTES) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

export function simdAvailable(): boolean {
  return compiledModule() !== null;
}

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  step: number;
  /** Decoupled weight decay λ (AdamW), or the L2 coefficient when `l2` is set. */
  weightDecay: number;
  l2: boolean;
}

type KernelFn = (theta: number, grad: number, m: number, v: number, bytes: number, ...hyper: number[]) => void;

/** Byte offsets of one parameter's moments, and its element count. */
export interface SimdSlot {
  m: number;
  v: number;
  n: number;
}

const PAGE = 65536;
const pad4 = (n: number) => (n + 3) & ~3;

/** One optimiser's kernel instance: its memory holds the moments of every float32 parameter. */
export class SimdAdamKernel {
  private readonly memory = new WebAssembly.Memory({ initial: 1 });
  private readonly adamw: KernelFn;
  private readonly adamL2: KernelFn;
  private top = 0;
  private stagingTheta = 0;
  private stagingGrad = 0;
  private stagingCapacity = 0;

  constructor() {
    const module = compiledModule();
    if (!module) throw new Error('SimdAdamKernel: WebAssembly SIMD is not available');
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.adamw = instance.exports.adamw as KernelFn;
    this.adamL2 = instance.exports.adam_l2 as KernelFn;
  }

  /** Bump-allocate 16-byte-aligned bytes, growing the memory as needed. */
  private alloc(bytes: number): number {
    const offset = this.top;
    const top = offset + ((bytes + 15) & ~15);
    const needed = Math.ceil(top / PAGE) - this.memory.buffer.byteLength / PAGE;
    if (needed > 0) this.memory.grow(needed); // throws RangeError past the wasm32 limit
    this.top = top;
    return offset;
  }

  /** Zeroed moment slots for a parameter of n elements. */
  createSlot(n: number): SimdSlot {
    const bytes = 4 * pad4(n);
    return { m: this.alloc(bytes), v: this.alloc(bytes), n };
  }

  /** Views of a slot's moments (valid until the memory next grows). */
  moments(slot: SimdSlot): { m: Float32Array; v: Float32Array } {
    const buf = this.memory.buffer;
    return { m: new Float32Array(buf, slot.m, slot.n), v: new Float32Array(buf, slot.v, slot.n) };
  }

  /** One Adam(W) step of `theta` in place. */
  update(theta: Float32Array, grad: Float32Array, slot: SimdSlot, h: AdamHyper): void {
    const n4 = pad4(slot.n);
    if (n4 > this.stagingCapacity) {
      this.stagingTheta = this.alloc(4 * n4);
      this.stagingGrad = this.alloc(4 * n4);
      this.stagingCapacity = n4;
    }
    const heap = new Float32Array(this.memory.buffer);
    const t0 = this.stagingTheta >> 2, g0 = this.stagingGrad >> 2;
    heap.set(theta, t0);
    heap.set(grad, g0);
    heap.fill(0, t0 + slot.n, t0 + n4);
    heap.fill(0, g0 + slot.n, g0 + n4);
    const fn = h.l2 ? this.adamL2 : this.adamw;
    fn(
      this.stagingTheta, this.stagingGrad, slot.m, slot.v, 4 * n4,
      -h.lr / (1 - h.beta1 ** h.step), Math.sqrt(1 - h.beta2 ** h.step), h.eps,
      1 - h.beta1, h.beta2, 1 - h.beta2,
      h.l2 ? 1 : 1 - h.lr * h.weightDecay, h.l2 ? h.weightDecay : 0,
    );
    theta.set(heap.subarray(t0, t0 + slot.n));
  }
}
