/**
 * Activation functions, elementwise, returning new tensors. Names follow Hugging Face's ACT2FN keys.
 * Float32 tensors go to the C twins of these loops when they are loaded (native-kernels.ts; same results).
 */
import { expBounded, expFloat32 } from './fast-exp.ts';
import { ACT, allFloat32, kernelThreads, nativeKernels } from './native-kernels.ts';
import { Tensor, allocate, type TypedArray } from './tensor.ts';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Error function (Abramowitz–Stegun 7.1.26 is too coarse; this uses a rational Chebyshev fit, |err| < 1.2e-7). */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

export type Activation = 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'gelu_fast' | 'relu' | 'silu' | 'swish';

/** GELU with the tanh approximation (HF "gelu_new", "gelu_pytorch_tanh"). */
export function geluTanh(v: number): number {
  return 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
}

/** Exact GELU, x·Φ(x) (HF "gelu"). */
export function geluExact(v: number): number {
  return 0.5 * v * (1 + erf(v / Math.SQRT2));
}

export function silu(v: number): number {
  return v / (1 + Math.exp(-v));
}

export function scalarActivation(name: string): (v: number) => number {
  switch (name) {
    case 'gelu':
      return geluExact;
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return geluTanh;
    case 'relu':
      return (v) => (v > 0 ? v : 0);
    case 'silu':
    case 'swish':
      return silu;
    default:
      throw new Error(`unsupported activation function "${name}" (supported: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, silu)`);
  }
}

/**
 * Applies the named activation elementwise. The common ones run as dedicated loops; tanh-GELU uses
 * the identity ½v(1 + tanh z) = v / (1 + e^(−2z)), one exp instead of a (slower) tanh, and the exps
 * are `expBounded` (relative error < 4·10⁻¹¹) with the exponent clamped to ±88: beyond it
 * v / (1 + e^y) is v (y < −88) or below |v|·10⁻³⁸ (y > 88), so the clamp changes nothing at float32
 * precision and by less than |v|·10⁻³⁸ in float64. `out` may be `x` itself (in place).
 */
export function activate(x: Tensor, name: string, out?: Tensor): Tensor {
  if (out && out.size !== x.size) throw new Error(`activate: output holds ${out.size} elements, input ${x.size}`);
  out ??= new Tensor(allocate(x.dtype, x.size), x.shape);
  const s = x.data, d = out.data;
  const native = nativeKernels();
  const code = nativeActivationCode(name);
  if (native && code !== undefined && allFloat32(s, d)) {
    native.activate(s as Float32Array, d as Float32Array, s.length, code, kernelThreads());
    return out;
  }
  switch (name) {
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast': {
      geluTanhLoop(s, d);
      break;
    }
    case 'relu':
      for (let i = 0; i < s.length; i++) d[i] = s[i] > 0 ? s[i] : 0;
      break;
    case 'silu':
    case 'swish':
      siluLoop(s, d);
      break;
    default: {
      const f = scalarActivation(name);
      for (let i = 0; i < s.length; i++) d[i] = f(s[i]);
    }
  }
  return out;
}

/** SwiGLU's product silu(gate) ⊙ up (Llama-family MLPs). */
export function siluMul(gate: Tensor, up: Tensor): Tensor {
  const out = new Tensor(allocate(gate.dtype, gate.size), gate.shape);
  const g = gate.data, u = up.data, d = out.data;
  const n = d.length;
  const native = nativeKernels();
  if (native && allFloat32(g, u, d) && u.length === n) {
    native.siluMul(g as Float32Array, u as Float32Array, d as Float32Array, n, kernelThreads());
    return out;
  }
  for (let i = 0; i < n; i++) {
    const v = g[i];
    d[i] = (v / (1 + expBounded(clampExponent(-v)))) * u[i];
  }
  return out;
}

/** The kernels.c code of a named activation (undefined: not there, the TypeScript loop runs). */
function nativeActivationCode(name: string): number | undefined {
  switch (name) {
    case 'gelu': return ACT.gelu_erf;
    case 'gelu_new': case 'gelu_pytorch_tanh': case 'gelu_fast': return ACT.gelu_tanh;
    case 'relu': return ACT.relu;
    case 'silu': case 'swish': return ACT.silu;
    default: return undefined;
  }
}

/**
 * y ← act(y + b) for every row of y [..., n] and a bias b [n]: a Linear layer's bias add and its
 * activation in one pass over memory (the same numbers as addRowVectorInPlace then activate).
 */
export function addBiasActivateInPlace(y: Tensor, bias: Tensor, name: string): Tensor {
  const n = bias.size;
  if (y.dim(-1) !== n) throw new Error(`addBiasActivate: last axis ${y.dim(-1)} vs bias ${n}`);
  const native = nativeKernels();
  const code = nativeActivationCode(name);
  if (native && code !== undefined && allFloat32(y.data, bias.data)) {
    native.biasActivate(y.data as Float32Array, bias.data as Float32Array, y.size / n, n, code, kernelThreads());
    return y;
  }
  const yd = y.data, b = bias.data;
  for (let off = 0; off < yd.length; off += n) for (let j = 0; j < n; j++) yd[off + j] += b[j];
  return activate(y, name, y);
}

/** y clamped to [−88, 88], the domain of `expBounded` (NaN stays NaN). */
function clampExponent(y: number): number {
  return y > 88 ? 88 : y < -88 ? -88 : y;
}

/** tanh-GELU as v / (1 + e^(v(c1 + c3·v²))): c1 = −2√(2/π), c3 = 0.044715·c1. */
const GELU_C1 = -2 * SQRT_2_OVER_PI;
const GELU_C3 = GELU_C1 * 0.044715;

/**
 * d = ½v(1 + tanh(√(2/π)(v + 0.044715v³))) = v / (1 + e^(−2√(2/π)(v + 0.044715v³))). A float32
 * output takes `geluTanhF32` (what the C kernel computes), a float64 one the float64 formula.
 */
function geluTanhLoop(s: TypedArray, d: TypedArray): void {
  const n = s.length;
  if (d instanceof Float32Array) {
    for (let i = 0; i < n; i++) d[i] = geluTanhF32(s[i]);
    return;
  }
  const c1 = GELU_C1, c3 = GELU_C3;
  for (let i = 0; i < n; i++) {
    const v = s[i];
    d[i] = v / (1 + expBounded(clampExponent(v * (c1 + c3 * v * v))));
  }
}

/**
 * tanh-GELU of a float32 v to float32 precision, as PyTorch computes it in float32 but with the
 * exponent v(c1 + c3·v²) formed in float64: e^z (`expFloat32`), 1 + e^z and the division in float32
 * arithmetic, 1–2 ulps from the float64 formula (whose e^z costs a table gather and a float64
 * division per element in C: 1.7–2× slower there, bench/RESULTS-kernels.md).
 */
function geluTanhF32(v: number): number {
  const vf = Math.fround(v);
  let z = vf * (GELU_C1 + GELU_C3 * vf * vf);
  z = z > 87 ? 87 : z < -87 ? -87 : z;
  return Math.fround(vf / Math.fround(1 + expFloat32(z)));
}

/** d = v · σ(v) = v / (1 + e^(−v)). */
function siluLoop(s: TypedArray, d: TypedArray): void {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const v = s[i];
    d[i] = v / (1 + expBounded(clampExponent(-v)));
  }
}
