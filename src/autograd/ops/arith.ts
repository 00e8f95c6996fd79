/**
 * Elementwise arithmetic and reductions: add/sub/mul (same shape, or the second operand a row vector
 * broadcast over the last axis, like a bias), scale, sum, mean.
 */
import { add as addTensors } from '../../tensor/elementwise.ts';
import { Tensor, allocate } from '../../tensor/tensor.ts';
import { assertRowVector, assertSameShape } from '../check.ts';
import { accumulateGrad, elementwiseGradTarget, gradBuffer, record } from '../graph.ts';
import { accumulateColumnDots, accumulateColumnSums } from '../kernels.ts';
import type { Var } from '../var.ts';

function like(x: Tensor): Tensor {
  return new Tensor(allocate(x.dtype, x.size), x.shape);
}

/** True when b broadcasts over a's rows; checks shapes either way. */
function isRowBroadcast(op: string, a: Var, b: Var): boolean {
  if (a.value.size === b.value.size && a.value.ndim === b.value.ndim) {
    assertSameShape(op, a, b);
    return false;
  }
  assertRowVector(op, a, b);
  return true;
}

/** a + b; b may be a row vector broadcast over the last axis (bias). */
export function add(a: Var, b: Var): Var {
  const broadcast = isRowBroadcast('add', a, b);
  const n = b.value.size;
  let out: Tensor;
  if (broadcast) {
    out = like(a.value);
    const o = out.data, x = a.value.data, y = b.value.data;
    for (let off = 0; off < o.length; off += n) for (let j = 0; j < n; j++) o[off + j] = x[off + j] + y[j];
  } else {
    out = addTensors(a.value, b.value); // the C twin for float32 (same sums)
  }
  return record('add', out, [a, b], (g, owned) => {
    if (b.requiresGrad) {
      if (broadcast) accumulateColumnSums(gradBuffer(b).data, g.data, n, 1);
      else accumulateGrad(b, g, owned && !a.requiresGrad);
    }
    if (a.requiresGrad) accumulateGrad(a, g, owned);
  });
}

/** a − b; b may be a row vector broadcast over the last axis. */
export function sub(a: Var, b: Var): Var {
  const broadcast = isRowBroadcast('sub', a, b);
  const n = b.value.size;
  const out = like(a.value);
  const o = out.data, x = a.value.data, y = b.value.data;
  if (broadcast) {
    for (let off = 0; off < o.length; off += n) for (let j = 0; j < n; j++) o[off + j] = x[off + j] - y[j];
  } else {
    for (let i = 0; i < o.length; i++) o[i] = x[i] - y[i];
  }
  return record('sub', out, [a, b], (g, owned) => {
    if (b.requiresGrad) {
      const gb = gradBuffer(b).data, gd = g.data;
      if (broadcast) accumulateColumnSums(gb, gd, n, -1);
      else for (let i = 0; i < gb.length; i++) gb[i] -= gd[i];
    }
    if (a.requiresGrad) accumulateGrad(a, g, owned);
  });
}

/** a ⊙ b; b may be a row vector broadcast over the last axis (a gain). */
export function mul(a: Var, b: Var): Var {
  const broadcast = isRowBroadcast('mul', a, b);
  const n = b.value.size;
  const out = like(a.value);
  const o = out.data, x = a.value.data, y = b.value.data;
  if (broadcast) {
    for (let off = 0; off < o.length; off += n) for (let j = 0; j < n; j++) o[off + j] = x[off + j] * y[j];
  } else {
    for (let i = 0; i < o.length; i++) o[i] = x[i] * y[i];
  }
  return record('mul', out, [a, b], (g) => {
    const gd = g.data;
    if (a.requiresGrad) {
      const ga = gradBuffer(a).data;
      if (broadcast) {
        for (let off = 0; off < gd.length; off += n) for (let j = 0; j < n; j++) ga[off + j] += gd[off + j] * y[j];
      } else {
        for (let i = 0; i < gd.length; i++) ga[i] += gd[i] * y[i];
      }
    }
    if (b.requiresGrad) {
      const gb = gradBuffer(b).data;
      if (broadcast) {
        accumulateColumnDots(gb, gd, x, n);
      } else {
        for (let i = 0; i < gd.length; i++) gb[i] += gd[i] * x[i];
      }
    }
  });
}

/** s · a for a number s. */
export function scale(a: Var, s: number): Var {
  const out = like(a.value);
  const o = out.data, x = a.value.data;
  for (let i = 0; i < o.length; i++) o[i] = x[i] * s;
  return record('scale', out, [a], (g, owned) => {
    const { data: ga, accumulate } = elementwiseGradTarget(a, g, owned);
    const gd = g.data;
    if (accumulate) for (let i = 0; i < gd.length; i++) ga[i] += s * gd[i];
    else for (let i = 0; i < gd.length; i++) ga[i] = s * gd[i];
  });
}

/** Σ of all elements, as a scalar (shape []), accumulated in float64. */
export function sum(a: Var): Var {
  return reduceAll('sum', a, 1);
}

/** Mean of all elements, as a scalar (shape []). */
export function mean(a: Var): Var {
  return reduceAll('mean', a, 1 / a.value.size);
}

function reduceAll(op: string, a: Var, factor: number): Var {
  const x = a.value.data;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  const out = Tensor.full([], s * factor, a.value.dtype);
  return record(op, out, [a], (g) => {
    const ga = gradBuffer(a).data;
    const d = g.data[0] * factor;
    for (let i = 0; i < ga.length; i++) ga[i] += d;
  });
}
