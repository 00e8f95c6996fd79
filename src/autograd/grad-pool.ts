/**
 * A small recycling pool for gradient buffers. During backward every intermediate gradient lives
 * only until its op's backward step has run; handing those buffers to the next allocation of the
 * same size (later in the same pass, or in the next training step) avoids faulting in fresh
 * memory, which on virtual machines costs about as much as the arithmetic done in it.
 *
 * Buffers are released by the engine (graph.ts, for gradients nobody adopted) and by ops that
 * borrow one for what their backward needs (GELU's kept slope, released when the graph is); they
 * come back with stale contents, so takers must overwrite or zero them. The pool keeps at most
 * `limitBytes` of idle buffers (default 64 MiB; 0 disables it).
 */
import type { DType, TypedArray } from '../tensor/tensor.ts';

const MAX_PER_SIZE = 8;
let limitBytes = 64 * 1024 * 1024;
let pooledBytes = 0;
const free = new Map<string, TypedArray[]>();

const keyOf = (dtype: DType, n: number) => `${dtype}:${n}`;

/** An idle buffer of exactly n elements (stale contents), or undefined. */
export function takeGradBuffer(dtype: DType, n: number): TypedArray | undefined {
  const list = free.get(keyOf(dtype, n));
  const buf = list?.pop();
  if (buf) pooledBytes -= buf.byteLength;
  return buf;
}

/** Give a buffer that nothing references any more back to the pool (dropped when the pool is full). */
export function releaseGradBuffer(buf: TypedArray): void {
  if (buf.byteLength === 0 || pooledBytes + buf.byteLength > limitBytes) return;
  if (buf.byteOffset !== 0 || buf.byteLength !== buf.buffer.byteLength) return; // views of larger buffers stay out
  const key = keyOf(buf instanceof Float64Array ? 'float64' : 'float32', buf.length);
  let list = free.get(key);
  if (!list) free.set(key, (list = []));
  if (list.length >= MAX_PER_SIZE) return;
  list.push(buf);
  pooledBytes += buf.byteLength;
}

/** Cap the idle memory the pool may hold (bytes); shrinking it drops buffers. */
export function setGradPoolLimit(bytes: number): void {
  limitBytes = Math.max(0, bytes);
  if (pooledBytes > limitBytes) clearGradPool();
}

/** Drop every idle buffer. */
export function clearGradPool(): void {
  free.clear();
  pooledBytes = 0;
}

/** Bytes currently held idle by the pool. */
export function gradPoolBytes(): number {
  return pooledBytes;
}
