/**
 * Normalisations over the last axis, accumulated in float64 for stable statistics. Float32 tensors
 * go to the C twins of these loops when they are loaded (native-kernels.ts; same results).
 */
import { allFloat32, kernelThreads, nativeKernels } from './native-kernels.ts';
import { Tensor, allocate, allocateUninitialized, type TypedArray } from './tensor.ts';

const moments = new Float64Array(2);

/**
 * [Σδ, Σδ²] of δ = s[j] − shift over j in [from, end) into `out`, in float64, element j going to
 * partial sum (j − from) mod 4 and the totals taken as (p0 + p1) + (p2 + p3) (the order of
 * src/analysis/partial-sums.ts): four independent chains, which the C twin (kernels.c row_moments)
 * runs as one vector, 3–4× faster than a single running sum, with no larger round-off.
 */
function rowMoments(s: TypedArray, from: number, end: number, shift: number, out: Float64Array): void {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, q0 = 0, q1 = 0, q2 = 0, q3 = 0;
  let j = from;
  for (; j + 4 <= end; j += 4) {
    const c0 = s[j] - shift, c1 = s[j + 1] - shift, c2 = s[j + 2] - shift, c3 = s[j + 3] - shift;
    s0 += c0; s1 += c1; s2 += c2; s3 += c3;
    q0 += c0 * c0; q1 += c1 * c1; q2 += c2 * c2; q3 += c3 * c3;
  }
  if (j < end) { const c = s[j] - shift; s0 += c; q0 += c * c; }
  if (j + 1 < end) { const c = s[j + 1] - shift; s1 += c; q1 += c * c; }
  if (j + 2 < end) { const c = s[j + 2] - shift; s2 += c; q2 += c * c; }
  out[0] = s0 + s1 + (s2 + s3);
  out[1] = q0 + q1 + (q2 + q3);
}

/**
 * LayerNorm: (x − mean) / sqrt(var + eps) · w + b, biased variance as in PyTorch.
 *
 * One pass gathers both statistics, shifted by the row's first element K to avoid cancellation:
 * with δ = x − K, mean = K + Σδ/n and var = Σδ²/n − (Σδ/n)² (float64; clamped at 0).
 */
export function layerNorm(x: Tensor, weight: Tensor | undefined, bias: Tensor | undefined, eps: number): Tensor {
  const n = x.dim(-1);
  const out = new Tensor(allocateUninitialized(x.dtype, x.size), x.shape); // every row is written
  const s = x.data, d = out.data;
  const w = weight?.data, b = bias?.data;
  const native = nativeKernels();
  if (native && allFloat32(s, w, b)) {
    native.layerNorm(s as Float32Array, d as Float32Array, (w ?? null) as Float32Array | null, (b ?? null) as Float32Array | null, s.length / n, n, eps, kernelThreads());
    return out;
  }
  for (let off = 0; off < s.length; off += n) {
    const end = off + n;
    const shift = s[off];
    rowMoments(s, off, end, shift, moments);
    const sum = moments[0], squares = moments[1];
    const m = sum / n;
    const mean = shift + m;
    const variance = Math.max(squares / n - m * m, 0);
    const inv = 1 / Math.sqrt(variance + eps);
    if (w && b) for (let j = 0; j < n; j++) d[off + j] = (s[off + j] - mean) * inv * w[j] + b[j];
    else if (w) for (let j = 0; j < n; j++) d[off + j] = (s[off + j] - mean) * inv * w[j];
    else if (b) for (let j = 0; j < n; j++) d[off + j] = (s[off + j] - mean) * inv + b[j];
    else for (let j = off; j < end; j++) d[j] = (s[j] - mean) * inv;
  }
  return out;
}

/**
 * RMSNorm: x / sqrt(mean(x²) + eps) · g, where g = w (Llama) or 1 + w (Gemma, `unitOffset`).
 */
export function rmsNorm(x: Tensor, weight: Tensor, eps: number, unitOffset = false): Tensor {
  const n = x.dim(-1);
  const out = new Tensor(allocateUninitialized(x.dtype, x.size), x.shape); // every row is written
  const s = x.data, d = out.data, w = weight.data;
  const off1 = unitOffset ? 1 : 0;
  const native = nativeKernels();
  if (native && allFloat32(s, w)) {
    native.rmsNorm(s as Float32Array, d as Float32Array, w as Float32Array, s.length / n, n, eps, off1, kernelThreads());
    return out;
  }
  for (let off = 0; off < s.length; off += n) {
    rowMoments(s, off, off + n, 0, moments);
    const ss = moments[1];
    const inv = 1 / Math.sqrt(ss / n + eps);
    if (x.dtype === 'float32') {
      // HF Llama: hidden_states * rsqrt(...) in float32, then weight * (that) — round like it.
      const inv32 = Math.fround(inv);
      // Gemma: (1 + w) is itself a float32 tensor in HF, so round the gain too.
      for (let j = 0; j < n; j++) d[off + j] = Math.fround(w[j] + off1) * Math.fround(s[off + j] * inv32);
    } else {
      for (let j = 0; j < n; j++) d[off + j] = (w[j] + off1) * s[off + j] * inv;
    }
  }
  return out;
}

/** Softmax over the last axis (max-subtracted; rows that are all −∞ give zeros). */
export function softmax(x: Tensor): Tensor {
  const out = new Tensor(allocate(x.dtype, x.size), x.shape);
  softmaxRowsInPlace(out.data, x.data, x.dim(-1));
  return out;
}

/** dst[row] = softmax(src[row]) for rows of length n; dst may equal src. */
export function softmaxRowsInPlace(dst: Float32Array | Float64Array, src: Float32Array | Float64Array, n: number): void {
  const native = nativeKernels();
  if (native && allFloat32(dst, src) && dst.length === src.length) {
    native.softmaxRows(src as Float32Array, dst as Float32Array, src.length / n, n, kernelThreads());
    return;
  }
  for (let off = 0; off < src.length; off += n) {
    let max = -Infinity;
    for (let j = 0; j < n; j++) if (src[off + j] > max) max = src[off + j];
    if (max === -Infinity) {
      for (let j = 0; j < n; j++) dst[off + j] = 0;
      continue;
    }
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const e = Math.exp(src[off + j] - max);
      dst[off + j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = 0; j < n; j++) dst[off + j] *= inv;
  }
}

/** log-softmax over the last axis. */
export function logSoftmax(x: Tensor): Tensor {
  const n = x.dim(-1);
  const out = new Tensor(allocate(x.dtype, x.size), x.shape);
  const s = x.data, d = out.data;
  for (let off = 0; off < s.length; off += n) {
    let max = -Infinity;
    for (let j = 0; j < n; j++) if (s[off + j] > max) max = s[off + j];
    let sum = 0;
    for (let j = 0; j < n; j++) sum += Math.exp(s[off + j] - max);
    const lse = max + Math.log(sum);
    for (let j = 0; j < n; j++) d[off + j] = s[off + j] - lse;
  }
  return out;
}
