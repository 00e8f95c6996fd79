/** Shape ops: reshape (a view), concatenation, slicing and column gathers along the last axis. */
import { concatLast as concatForward, sliceLast as sliceForward } from '../../tensor/elementwise.ts';
import { Tensor, allocate } from '../../tensor/tensor.ts';
import { assertSameDtype, lastDim, shapeText } from '../check.ts';
import { accumulateGrad, gradBuffer, record } from '../graph.ts';
import type { Var } from '../var.ts';

/** Same data, new shape (one axis may be −1). The gradient flows back unchanged. */
export function reshape(x: Var, ...shape: number[]): Var {
  const value = x.value.reshape(...shape);
  if (value.size !== x.value.size) throw new Error(`reshape: cannot view ${shapeText(x)} as [${shape.join(', ')}]`);
  return record('reshape', value, [x], (g, owned) => accumulateGrad(x, g, owned));
}

/** [..., a] ++ [..., b] ++ … → [..., a + b + …]; leading axes must agree. */
export function concatLast(parts: readonly Var[]): Var {
  if (parts.length === 0) throw new Error('concatLast: nothing to concatenate');
  assertSameDtype('concatLast', ...parts);
  const lead = parts[0].value.shape.slice(0, -1);
  for (const p of parts) {
    const pl = p.value.shape.slice(0, -1);
    if (pl.length !== lead.length || pl.some((d, i) => d !== lead[i])) {
      throw new Error(`concatLast: leading axes differ: ${shapeText(parts[0])} vs ${shapeText(p)}`);
    }
  }
  const value = concatForward(parts.map((p) => p.value));
  const widths = parts.map((p) => lastDim('concatLast', p));
  const total = value.dim(-1);
  const rows = value.size / total;
  return record('concatLast', value, parts, (g) => {
    const gd = g.data;
    let start = 0;
    for (let p = 0; p < parts.length; p++) {
      const w = widths[p];
      if (parts[p].requiresGrad) {
        const gp = gradBuffer(parts[p]).data;
        for (let r = 0; r < rows; r++) {
          const src = r * total + start, dst = r * w;
          for (let j = 0; j < w; j++) gp[dst + j] += gd[src + j];
        }
      }
      start += w;
    }
  });
}

/** Columns [start, end) of the last axis: [..., n] → [..., end − start]. */
export function sliceLast(x: Var, start: number, end: number): Var {
  const n = lastDim('sliceLast', x);
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= n)) {
    throw new Error(`sliceLast: [${start}, ${end}) is not a range of the last axis (${n}) of ${shapeText(x)}`);
  }
  const value = sliceForward(x.value, start, end);
  const w = end - start;
  const rows = x.value.size / n;
  return record('sliceLast', value, [x], (g) => {
    const gx = gradBuffer(x).data, gd = g.data;
    for (let r = 0; r < rows; r++) {
      const dst = r * n + start, src = r * w;
      for (let j = 0; j < w; j++) gx[dst + j] += gd[src + j];
    }
  });
}

/**
 * Columns `ranges` of the last axis, concatenated: [..., n] → [..., Σ(end − start)] (how a fused
 * QKV projection is split into q, k, v). Backward adds each output column back to its source.
 */
export function gatherColumns(x: Var, ranges: ReadonlyArray<readonly [number, number]>): Var {
  const n = lastDim('gatherColumns', x);
  for (const [a, b] of ranges) {
    if (!(Number.isInteger(a) && Number.isInteger(b) && 0 <= a && a <= b && b <= n)) {
      throw new Error(`gatherColumns: [${a}, ${b}) is not a range of the last axis (${n}) of ${shapeText(x)}`);
    }
  }
  const width = ranges.reduce((s, [a, b]) => s + (b - a), 0);
  const rows = x.value.size / n;
  const value = new Tensor(allocate(x.value.dtype, rows * width), [...x.value.shape.slice(0, -1), width]);
  const src = x.value.data, dst = value.data;
  for (let r = 0; r < rows; r++) {
    let o = r * width;
    for (const [a, b] of ranges) {
      dst.set(src.subarray(r * n + a, r * n + b), o);
      o += b - a;
    }
  }
  return record('gatherColumns', value, [x], (g) => {
    const gx = gradBuffer(x).data, gd = g.data;
    for (let r = 0; r < rows; r++) {
      let o = r * width;
      for (const [a, b] of ranges) {
        const base = r * n;
        for (let j = a; j < b; j++) gx[base + j] += gd[o++];
      }
    }
  });
}
