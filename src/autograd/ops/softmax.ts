/**
 * Softmax and log-softmax over the last axis (forward from src/tensor/norms):
 *   y = softmax(x):     dx = y ⊙ (g − Σ_j g_j y_j)
 *   y = logSoftmax(x):  dx = g − softmax(x)·Σ_j g_j,   softmax(x) = exp(y)
 */
import { logSoftmax as logSoftmaxForward, softmax as softmaxForward } from '../../tensor/norms.ts';
import { lastDim } from '../check.ts';
import { gradBuffer, record } from '../graph.ts';
import type { Var } from '../var.ts';

export function softmax(x: Var): Var {
  const n = lastDim('softmax', x);
  const value = softmaxForward(x.value);
  const y = value.data;
  return record('softmax', value, [x], (g) => {
    const gx = gradBuffer(x).data, gd = g.data;
    for (let off = 0; off < y.length; off += n) {
      let dot = 0;
      for (let j = 0; j < n; j++) dot += gd[off + j] * y[off + j];
      for (let j = 0; j < n; j++) gx[off + j] += y[off + j] * (gd[off + j] - dot);
    }
  });
}

export function logSoftmax(x: Var): Var {
  const n = lastDim('logSoftmax', x);
  const value = logSoftmaxForward(x.value);
  const y = value.data;
  return record('logSoftmax', value, [x], (g) => {
    const gx = gradBuffer(x).data, gd = g.data;
    for (let off = 0; off < y.length; off += n) {
      let total = 0;
      for (let j = 0; j < n; j++) total += gd[off + j];
      for (let j = 0; j < n; j++) gx[off + j] += gd[off + j] - Math.exp(y[off + j]) * total;
    }
  });
}
