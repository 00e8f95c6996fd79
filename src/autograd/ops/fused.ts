/**
 * Two training-step kernels fused so that backward needs no transcendental functions (profiling
 * the ~5M-parameter step showed the SwiGLU product and the vocabulary cross-entropy as the largest
 * non-GEMM costs, both dominated by Math.exp run once forward and again backward):
 *
 *   swiGlu(g, u) = silu(g) ⊙ u, keeping σ(g):   ∂/∂g = ḡ·u·σ(1 + g(1 − σ)),   ∂/∂u = ḡ·g·σ
 *   crossEntropy over logits [N, V], keeping p = softmax(x):   ∂loss/∂x_ij = w·(p_ij − [j = t_i]),
 *   computed in p's own buffer, which then becomes the logits' gradient (no second pass, no copy)
 *
 * Values equal silu(g)·u and src/autograd's crossEntropy (same formulas and operation order); the
 * gradients differ only by float32 rounding of the kept σ and p. Exponentials are fastExp
 * (src/tensor/fast-exp.ts, relative error < 4·10⁻¹¹, far below float32 rounding), as in the
 * model's forward kernels; the cross-entropy of float64 logits uses Math.exp.
 */
import { releaseGradBuffer, takeGradBuffer } from '../grad-pool.ts';
import { accumulateGrad, gradBuffer, record } from '../graph.ts';
import type { Var } from '../var.ts';
import { fastExp } from '../../tensor/fast-exp.ts';
import { allFloat32, kernelThreads, nativeKernels } from '../../tensor/native-kernels.ts';
import { Tensor, allocate } from '../../tensor/tensor.ts';

/** silu(gate) ⊙ up, same shape as its inputs. */
export function swiGlu(gate: Var, up: Var): Var {
  if (gate.size !== up.size) throw new Error(`swiGlu: gate has ${gate.size} elements, up ${up.size}`);
  const g = gate.value.data, u = up.value.data;
  // both written in full: idle pooled storage needs no zeroing
  const out = new Tensor(takeGradBuffer(gate.dtype, g.length) ?? allocate(gate.dtype, g.length), gate.shape);
  const sig = takeGradBuffer(gate.dtype, g.length) ?? allocate(gate.dtype, g.length);
  const d = out.data;
  const native = nativeKernels();
  const useNative = native !== null && allFloat32(g, u);
  if (useNative) native.swiGluForward(g as Float32Array, u as Float32Array, d as Float32Array, sig as Float32Array, d.length, kernelThreads());
  else for (let i = 0; i < d.length; i++) {
    const v = g[i];
    const e = 1 + fastExp(-v);
    sig[i] = 1 / e;
    d[i] = (v / e) * u[i];
  }
  return record('swiGlu', out, [gate, up], (grad, owned) => {
    const gd = grad.data;
    const gg = gate.requiresGrad ? gradBuffer(gate).data : null;
    const gu = up.requiresGrad ? gradBuffer(up).data : null;
    if (useNative && allFloat32(gd, gg, gu)) {
      native.swiGluBackward(g as Float32Array, u as Float32Array, sig as Float32Array, gd as Float32Array, gg as Float32Array | null, gu as Float32Array | null, gd.length, kernelThreads());
    } else {
      for (let i = 0; i < gd.length; i++) {
        const v = g[i], s = sig[i];
        if (gg) gg[i] += gd[i] * u[i] * s * (1 + v * (1 - s));
        if (gu) gu[i] += gd[i] * v * s;
      }
    }
    if (owned) releaseGradBuffer(sig); // the graph is released after this step: σ goes back to the pool
  });
}

/** Mean cross-entropy of logits [..., V] against `targets` (rows whose target is `ignoreIndex` skipped). */
export function crossEntropyMean(logits: Var, targets: ArrayLike<number>, ignoreIndex = -100): Var {
  const V = logits.shape[logits.shape.length - 1];
  const rows = logits.size / V;
  if (targets.length !== rows) throw new Error(`crossEntropyMean: ${targets.length} targets for ${rows} rows`);
  const x = logits.value.data;
  // p becomes the logits' gradient: take a buffer the pool holds (the last step's, typically), whose
  // stale contents are overwritten on every scored row and zeroed on ignored rows by the backward
  const probs = takeGradBuffer(logits.dtype, x.length) ?? allocate(logits.dtype, x.length);
  const fast = x instanceof Float32Array; // float64 logits keep Math.exp's last bits
  const saved = Int32Array.from(targets);
  let total = 0, count = 0;
  const native = fast ? nativeKernels() : null;
  if (native) {
    for (let r = 0; r < rows; r++) {
      const t = saved[r];
      if (t !== ignoreIndex && !(t >= 0 && t < V)) throw new Error(`crossEntropyMean: target ${t} at row ${r} is not in [0, ${V})`);
    }
    const losses = new Float64Array(rows);
    const threads = kernelThreads();
    native.crossEntropyForward(x as Float32Array, probs as Float32Array, saved, rows, V, ignoreIndex, losses, new Float64Array(V * threads), threads);
    for (let r = 0; r < rows; r++) {
      if (saved[r] === ignoreIndex) continue;
      total += losses[r];
      count++;
    }
  } else for (let r = 0; r < rows; r++) {
    const t = saved[r];
    if (t === ignoreIndex) continue;
    if (!(t >= 0 && t < V)) throw new Error(`crossEntropyMean: target ${t} at row ${r} is not in [0, ${V})`);
    const off = r * V;
    let max = -Infinity;
    for (let j = 0; j < V; j++) if (x[off + j] > max) max = x[off + j];
    let s = 0;
    for (let j = 0; j < V; j++) {
      const e = fast ? fastExp(x[off + j] - max) : Math.exp(x[off + j] - max);
      probs[off + j] = e;
      s += e;
    }
    const inv = 1 / s;
    for (let j = 0; j < V; j++) probs[off + j] *= inv;
    total += max + Math.log(s) - x[off + t];
    count++;
  }
  const value = Tensor.full([], total / count, logits.dtype);
  return record('crossEntropyMean', value, [logits], (g) => {
    // the kept probabilities become the gradient in place: w·(p − onehot), 0 on ignored rows
    const w = g.data[0] / count;
    if (native) native.crossEntropyBackward(probs as Float32Array, saved, rows, V, ignoreIndex, w, kernelThreads());
    else for (let r = 0; r < rows; r++) {
      const off = r * V;
      const t = saved[r];
      if (t === ignoreIndex) {
        probs.fill(0, off, off + V);
        continue;
      }
      for (let j = 0; j < V; j++) probs[off + j] *= w;
      probs[off + t] -= w;
    }
    accumulateGrad(logits, new Tensor(probs, logits.shape), true);
  });
}
