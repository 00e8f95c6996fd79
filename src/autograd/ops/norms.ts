/**
 * Normalisations over the last axis (forward from src/tensor/norms; row statistics recomputed in
 * float64 for backward). With x̂ = (x − μ)·r, r = 1/√(var + ε), gy = g ⊙ w:
 *   LayerNorm  dx = r·(gy − mean(gy) − x̂·mean(gy ⊙ x̂)),   dw = Σ_rows g ⊙ x̂,   db = Σ_rows g
 * With r = 1/√(mean(x²) + ε), gy = g ⊙ (w + offset):
 *   RMSNorm    dx = r·(gy − x·r²·mean(gy ⊙ x)),            dw = Σ_rows g ⊙ x·r
 */
import { allFloat32, kernelThreads, nativeKernels } from '../../tensor/native-kernels.ts';
import { layerNorm as layerNormForward, rmsNorm as rmsNormForward } from '../../tensor/norms.ts';
import type { TypedArray } from '../../tensor/tensor.ts';
import { assertRowVector, lastDim } from '../check.ts';
import { gradBuffer, record } from '../graph.ts';
import { accumulateColumnSums } from '../kernels.ts';
import type { Var } from '../var.ts';

/** LayerNorm over the last axis: (x − mean)/√(var + eps)·w + b (biased variance, as PyTorch). */
export function layerNorm(x: Var, weight: Var | undefined, bias: Var | undefined, eps: number): Var {
  const n = lastDim('layerNorm', x);
  if (weight) assertRowVector('layerNorm', x, weight);
  if (bias) assertRowVector('layerNorm', x, bias);
  const value = layerNormForward(x.value, weight?.value, bias?.value, eps);
  return record('layerNorm', value, [x, weight, bias], (g) => {
    const xs = x.value.data, gd = g.data;
    const w = weight?.value.data;
    const gx = x.requiresGrad ? gradBuffer(x).data : null;
    const dw = weight?.requiresGrad ? new Float64Array(n) : null;
    const native = nativeKernels();
    if (native && allFloat32(xs, gd, w, gx)) {
      const threads = kernelThreads();
      native.layerNormBackward(xs as Float32Array, gd as Float32Array, (w ?? null) as Float32Array | null, eps, xs.length / n, n, gx as Float32Array | null, dw, new Float64Array(3 * n * threads), threads);
    } else layerNormBackwardLoop(xs, gd, w, eps, n, gx, dw);
    if (dw && weight) {
      const gw = gradBuffer(weight).data;
      for (let j = 0; j < n; j++) gw[j] += dw[j];
    }
    if (bias?.requiresGrad) accumulateColumnSums(gradBuffer(bias).data, gd, n, 1);
  });
}

/** The LayerNorm backward loop (the reference of its C twin): gx += r·(gy − mean(gy) − x̂·mean(gy ⊙ x̂)), dw += Σ_rows g ⊙ x̂. */
function layerNormBackwardLoop(
  xs: TypedArray, gd: TypedArray, w: TypedArray | undefined, eps: number, n: number, gx: TypedArray | null, dw: Float64Array | null,
): void {
  const xhat = new Float64Array(n);
  const gy = new Float64Array(n);
  for (let off = 0; off < xs.length; off += n) {
    let mu = 0;
    for (let j = 0; j < n; j++) mu += xs[off + j];
    mu /= n;
    let v = 0;
    for (let j = 0; j < n; j++) {
      const c = xs[off + j] - mu;
      v += c * c;
    }
    const r = 1 / Math.sqrt(v / n + eps);
    let meanGy = 0, meanGyXhat = 0;
    for (let j = 0; j < n; j++) {
      const xh = (xs[off + j] - mu) * r;
      const gj = w ? gd[off + j] * w[j] : gd[off + j];
      xhat[j] = xh;
      gy[j] = gj;
      meanGy += gj;
      meanGyXhat += gj * xh;
      if (dw) dw[j] += gd[off + j] * xh;
    }
    meanGy /= n;
    meanGyXhat /= n;
    if (gx) for (let j = 0; j < n; j++) gx[off + j] += r * (gy[j] - meanGy - xhat[j] * meanGyXhat);
  }
}

/** RMSNorm over the last axis: x/√(mean(x²) + eps)·g with g = w, or 1 + w when `unitOffset` (Gemma). */
export function rmsNorm(x: Var, weight: Var, eps: number, unitOffset = false): Var {
  const n = lastDim('rmsNorm', x);
  assertRowVector('rmsNorm', x, weight);
  const value = rmsNormForward(x.value, weight.value, eps, unitOffset);
  const offset = unitOffset ? 1 : 0;
  return record('rmsNorm', value, [x, weight], (g) => {
    const gx = x.requiresGrad ? gradBuffer(x).data : null;
    const dw = weight.requiresGrad ? new Float64Array(n) : null;
    rmsNormBackward(x.value.data, g.data, weight.value.data, offset, eps, n, gx, dw);
    if (dw) {
      const gw = gradBuffer(weight).data;
      for (let j = 0; j < n; j++) gw[j] += dw[j];
    }
  });
}

/**
 * RMSNorm backward over rows of n: gx += r·(g ⊙ w' − x·r²·mean(g ⊙ w' ⊙ x)) and dw += Σ_rows g ⊙ x·r,
 * with w' = w + offset. Both row sums come from one pass; gx and dw share the second.
 */
function rmsNormBackward(
  xs: TypedArray, gd: TypedArray, w: TypedArray, offset: number, eps: number, n: number,
  gx: TypedArray | null, dw: Float64Array | null,
): void {
  const native = nativeKernels();
  if (native && allFloat32(xs, gd, w, gx)) {
    const threads = kernelThreads();
    native.rmsNormBackward(xs as Float32Array, gd as Float32Array, w as Float32Array, offset, eps, xs.length / n, n, gx as Float32Array | null, dw, new Float64Array(n * (threads + 1)), threads);
    return;
  }
  const wEff = new Float64Array(n);
  for (let j = 0; j < n; j++) wEff[j] = w[j] + offset;
  for (let off = 0; off < xs.length; off += n) {
    let ss = 0, gyx = 0;
    for (let j = 0; j < n; j++) {
      const xv = xs[off + j];
      ss += xv * xv;
      gyx += gd[off + j] * wEff[j] * xv;
    }
    const r = 1 / Math.sqrt(ss / n + eps);
    const c = r * r * (gyx / n);
    if (gx && dw) {
      for (let j = 0; j < n; j++) {
        const xv = xs[off + j], gv = gd[off + j];
        dw[j] += gv * xv * r;
        gx[off + j] += r * (gv * wEff[j] - xv * c);
      }
    } else if (gx) {
      for (let j = 0; j < n; j++) gx[off + j] += r * (gd[off + j] * wEff[j] - xs[off + j] * c);
    } else if (dw) {
      for (let j = 0; j < n; j++) dw[j] += gd[off + j] * xs[off + j] * r;
    }
  }
}
