/**
 * Elementwise arithmetic on same-shaped tensors (plus scalar forms). Tight loops, no allocation inside.
 * Float32 sums go to the C twin (native-kernels.ts; same results) when it is loaded.
 */
import { allFloat32, kernelThreads, nativeKernels } from './native-kernels.ts';
import { Tensor, allocate, allocateUninitialized } from './tensor.ts';

function sameShape(a: Tensor, b: Tensor, op: string): void {
  if (a.size !== b.size) throw new Error(`${op}: shapes differ: [${a.shape.join(', ')}] vs [${b.shape.join(', ')}]`);
}

/** An output of a's shape and dtype that the caller overwrites entirely. */
function like(a: Tensor): Tensor {
  return new Tensor(allocateUninitialized(a.dtype, a.size), a.shape);
}

export function add(a: Tensor, b: Tensor): Tensor {
  sameShape(a, b, 'add');
  const out = like(a);
  const o = out.data, x = a.data, y = b.data;
  const native = nativeKernels();
  if (native && allFloat32(o, x, y)) native.axpy(x as Float32Array, y as Float32Array, o as Float32Array, 1, o.length, kernelThreads());
  else for (let i = 0; i < o.length; i++) o[i] = x[i] + y[i];
  return out;
}

export function sub(a: Tensor, b: Tensor): Tensor {
  sameShape(a, b, 'sub');
  const out = like(a);
  const o = out.data, x = a.data, y = b.data;
  for (let i = 0; i < o.length; i++) o[i] = x[i] - y[i];
  return out;
}

export function mul(a: Tensor, b: Tensor): Tensor {
  sameShape(a, b, 'mul');
  const out = like(a);
  const o = out.data, x = a.data, y = b.data;
  for (let i = 0; i < o.length; i++) o[i] = x[i] * y[i];
  return out;
}

export function scale(a: Tensor, s: number): Tensor {
  const out = like(a);
  const o = out.data, x = a.data;
  for (let i = 0; i < o.length; i++) o[i] = x[i] * s;
  return out;
}

/** a ← a + s·b (axpy). */
export function addInPlace(a: Tensor, b: Tensor, s = 1): Tensor {
  sameShape(a, b, 'addInPlace');
  const x = a.data, y = b.data;
  const native = nativeKernels();
  if (native && allFloat32(x, y)) native.axpy(x as Float32Array, y as Float32Array, x as Float32Array, s, x.length, kernelThreads());
  else if (s === 1) for (let i = 0; i < x.length; i++) x[i] += y[i];
  else for (let i = 0; i < x.length; i++) x[i] += s * y[i];
  return a;
}

export function scaleInPlace(a: Tensor, s: number): Tensor {
  const x = a.data;
  for (let i = 0; i < x.length; i++) x[i] *= s;
  return a;
}

/** Largest |a − b| over all elements (for comparisons in tests and checks). */
export function maxAbsDiff(a: Tensor | ArrayLike<number>, b: Tensor | ArrayLike<number>): number {
  const x = a instanceof Tensor ? a.data : a;
  const y = b instanceof Tensor ? b.data : b;
  if (x.length !== y.length) throw new Error(`maxAbsDiff: lengths differ: ${x.length} vs ${y.length}`);
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i] - y[i]);
    if (d > m || Number.isNaN(d)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Concatenate along the last axis: [..., a] ++ [..., b] → [..., a + b]. */
export function concatLast(parts: Tensor[]): Tensor {
  const rows = parts[0].size / parts[0].dim(-1);
  const widths = parts.map((p) => p.dim(-1));
  const total = widths.reduce((s, w) => s + w, 0);
  const out = new Tensor(allocate(parts[0].dtype, rows * total), [...parts[0].shape.slice(0, -1), total]);
  for (let r = 0; r < rows; r++) {
    let off = r * total;
    for (let p = 0; p < parts.length; p++) {
      out.data.set(parts[p].data.subarray(r * widths[p], (r + 1) * widths[p]), off);
      off += widths[p];
    }
  }
  return out;
}

/** Columns [start, end) of the last axis, copied: [..., n] → [..., end − start]. */
export function sliceLast(x: Tensor, start: number, end: number): Tensor {
  const n = x.dim(-1);
  const w = end - start;
  const rows = x.size / n;
  const out = new Tensor(allocate(x.dtype, rows * w), [...x.shape.slice(0, -1), w]);
  for (let r = 0; r < rows; r++) out.data.set(x.data.subarray(r * n + start, r * n + end), r * w);
  return out;
}

/** Swap axes 1 and 2 of a 4-D tensor: [a, b, c, d] → [a, c, b, d]. */
export function transpose12(x: Tensor): Tensor {
  const [A, B, C, D] = x.shape;
  const out = new Tensor(allocate(x.dtype, x.size), [A, C, B, D]);
  const src = x.data, dst = out.data;
  for (let a = 0; a < A; a++)
    for (let b = 0; b < B; b++)
      for (let c = 0; c < C; c++) {
        const s = ((a * B + b) * C + c) * D;
        dst.set(src.subarray(s, s + D), ((a * C + c) * B + b) * D);
      }
  return out;
}

/** Transpose of a 2-D tensor. */
export function transpose2d(x: Tensor): Tensor {
  const [r, c] = x.shape;
  const out = new Tensor(allocate(x.dtype, x.size), [c, r]);
  const s = x.data, d = out.data;
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) d[j * r + i] = s[i * c + j];
  return out;
}
