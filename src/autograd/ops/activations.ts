/**
 * Activations and their derivatives:
 *   GELU (exact)  y = x·Φ(x),                       y' = Φ(x) + x·φ(x)
 *   GELU (tanh)   y = ½x(1 + tanh u), u = c(x + 0.044715x³),  y' = ½(1 + t) + ½x(1 − t²)·c(1 + 3·0.044715x²)
 *   SiLU          y = x·σ(x),                       y' = σ(1 + x(1 − σ))
 *   ReLU          y = max(x, 0),                    y' = [x > 0]
 * Exact GELU is float64-exact (erfc-based Φ) for float64 tensors and table-interpolated to float32
 * rounding for float32 tensors (gelu-table.ts; the forward pass also keeps GELU' in float32, so
 * backward is one multiply per element).
 */
import { activate } from '../../tensor/activations.ts';
import { fastExp } from '../../tensor/fast-exp.ts';
import { ACT, allFloat32, kernelThreads, nativeKernels } from '../../tensor/native-kernels.ts';
import { Tensor, allocate } from '../../tensor/tensor.ts';
import { geluDerivative64, geluExact64, geluForwardTable, geluForwardWithSlope } from '../gelu-table.ts';
import { releaseGradBuffer, takeGradBuffer } from '../grad-pool.ts';
import { elementwiseGradTarget, needsGrad, record } from '../graph.ts';
import type { Var } from '../var.ts';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const TANH_CUBIC = 0.044715;

/** d/dx of ½x(1 + tanh(c(x + 0.044715x³))). */
function geluTanhSlope(v: number): number {
  const t = Math.tanh(SQRT_2_OVER_PI * (v + TANH_CUBIC * v * v * v));
  return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * TANH_CUBIC * v * v);
}

/** d/dx of x·σ(x) = σ(x)(1 + x(1 − σ(x))). */
function siluSlope(v: number): number {
  const s = 1 / (1 + fastExp(-v));
  return s * (1 + v * (1 - s));
}

/** gx (+)= g·f'(x) by the C twin of the loops below, when loaded and all arrays are float32; false otherwise. */
function nativeSlope(xs: ArrayLike<number>, gd: ArrayLike<number>, gx: ArrayLike<number>, kind: number, accumulate: boolean): boolean {
  const native = nativeKernels();
  if (!native || !allFloat32(xs, gd, gx)) return false;
  native.activationBackward(xs as Float32Array, gd as Float32Array, gx as Float32Array, gd.length, kind, accumulate ? 1 : 0, kernelThreads());
  return true;
}

export type GeluApproximation = 'none' | 'tanh';

/** GELU; `approximate` as in torch.nn.functional.gelu ('none' = exact x·Φ(x), 'tanh' = HF gelu_new). */
export function gelu(x: Var, approximate: GeluApproximation = 'none'): Var {
  return approximate === 'tanh' ? geluTanh(x) : geluExact(x);
}

function geluExact(x: Var): Var {
  const xs = x.value.data;
  const out = new Tensor(allocate(x.value.dtype, xs.length), x.value.shape);
  const y = out.data;
  if (xs instanceof Float32Array) {
    if (!needsGrad(x)) {
      geluForwardTable(xs, y as Float32Array);
      return record('gelu', out, [x], () => {});
    }
    // one table lookup per element gives GELU and GELU'; backward is then a product. The slope
    // buffer comes from the gradient pool and goes back once the graph is released (`owned`).
    const slope = (takeGradBuffer('float32', xs.length) as Float32Array | undefined) ?? new Float32Array(xs.length);
    geluForwardWithSlope(xs, y as Float32Array, slope);
    return record('gelu', out, [x], (g, owned) => {
      const { data: gx, accumulate } = elementwiseGradTarget(x, g, owned);
      const gd = g.data;
      if (accumulate) for (let i = 0; i < gd.length; i++) gx[i] += gd[i] * slope[i];
      else for (let i = 0; i < gd.length; i++) gx[i] = gd[i] * slope[i];
      if (owned) releaseGradBuffer(slope);
    });
  }
  for (let i = 0; i < xs.length; i++) y[i] = geluExact64(xs[i]);
  return record('gelu', out, [x], (g, owned) => {
    const { data: gx, accumulate } = elementwiseGradTarget(x, g, owned);
    const gd = g.data;
    if (accumulate) for (let i = 0; i < gd.length; i++) gx[i] += gd[i] * geluDerivative64(xs[i]);
    else for (let i = 0; i < gd.length; i++) gx[i] = gd[i] * geluDerivative64(xs[i]);
  });
}

function geluTanh(x: Var): Var {
  const out = activate(x.value, 'gelu_new');
  const xs = x.value.data;
  return record('geluTanh', out, [x], (g, owned) => {
    const { data: gx, accumulate } = elementwiseGradTarget(x, g, owned);
    const gd = g.data;
    if (nativeSlope(xs, gd, gx, ACT.gelu_tanh, accumulate)) return;
    if (accumulate) for (let i = 0; i < gd.length; i++) gx[i] += gd[i] * geluTanhSlope(xs[i]);
    else for (let i = 0; i < gd.length; i++) gx[i] = gd[i] * geluTanhSlope(xs[i]);
  });
}

/** SiLU (swish): x·σ(x). */
export function silu(x: Var): Var {
  const out = activate(x.value, 'silu');
  const xs = x.value.data;
  return record('silu', out, [x], (g, owned) => {
    const { data: gx, accumulate } = elementwiseGradTarget(x, g, owned);
    const gd = g.data;
    if (nativeSlope(xs, gd, gx, ACT.silu, accumulate)) return;
    if (accumulate) for (let i = 0; i < gd.length; i++) gx[i] += gd[i] * siluSlope(xs[i]);
    else for (let i = 0; i < gd.length; i++) gx[i] = gd[i] * siluSlope(xs[i]);
  });
}

/** ReLU: max(x, 0) (gradient 0 at x = 0, as PyTorch). */
export function relu(x: Var): Var {
  const xs = x.value.data;
  const out = new Tensor(allocate(x.value.dtype, xs.length), x.value.shape);
  const y = out.data;
  for (let i = 0; i < xs.length; i++) y[i] = xs[i] > 0 ? xs[i] : 0;
  return record('relu', out, [x], (g, owned) => {
    const { data: gx, accumulate } = elementwiseGradTarget(x, g, owned);
    const gd = g.data;
    if (accumulate) for (let i = 0; i < gd.length; i++) gx[i] += xs[i] > 0 ? gd[i] : 0;
    else for (let i = 0; i < gd.length; i++) gx[i] = xs[i] > 0 ? gd[i] : 0;
  });
}

/**
 * The activation a Hugging Face config names (ACT2FN keys, as src/tensor/activations `activate`):
 * gelu (exact), gelu_new / gelu_pytorch_tanh / gelu_fast (tanh approximation), relu, silu / swish.
 */
export function activation(x: Var, name: string): Var {
  switch (name) {
    case 'gelu':
      return gelu(x, 'none');
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return gelu(x, 'tanh');
    case 'relu':
      return relu(x);
    case 'silu':
    case 'swish':
      return silu(x);
    default:
      throw new Error(`unsupported activation function "${name}" (supported: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, silu)`);
  }
}
