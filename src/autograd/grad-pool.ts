/**
 * A recycling pool for autograd's buffers. During backward every intermediate gradient lives only
 * until its op's backward step has run, and with `backward(…, { recycleValues: true })` (the
 * training step) every intermediate value too; handing those buffers to the next allocation of the
 * same size (later in the same pass, or in the next training step: tensor.ts's `allocate` looks
 * here first) avoids faulting in fresh memory, which on virtual machines costs about as much as the
 * arithmetic done in it, and the garbage collections that dropping it would cause (together 16 % of
 * the CPU time of a 5M-parameter training step, bench/RESULTS-peers.md).
 *
 * Buffers are released by the engine (graph.ts, for gradients nobody adopted and recycled values)
 * and by ops that borrow one for what their backward needs (GELU's kept slope, released when the
 * graph is); they come back with stale contents, so takers must overwrite or zero them (`allocate`
 * zeroes). The pool keeps at most `limitBytes` of idle buffers (default 512 MiB, about one training
 * step's activations of a model of a few million parameters at 2048 tokens; 0 disables it;
 * clearGradPool() frees them).
 */
import { setRecycledStorage, type DType, type TypedArray } from '../tensor/tensor.ts';

const MAX_PER_SIZE = 64;
let limitBytes = 512 * 1024 * 1024;
let pooledBytes = 0;
const free = new Map<string, TypedArray[]>();
/** Storages now idle in the pool: a second release of one (a bug) is ignored instead of handing it out twice. */
const idle = new WeakSet<ArrayBufferLike>();

const keyOf = (dtype: DType, n: number) => `${dtype}:${n}`;

/** An idle buffer of exactly n elements (stale contents), or undefined. */
export function takeGradBuffer(dtype: DType, n: number): TypedArray | undefined {
  const list = free.get(keyOf(dtype, n));
  const buf = list?.pop();
  if (buf) {
    pooledBytes -= buf.byteLength;
    idle.delete(buf.buffer);
  }
  return buf;
}

setRecycledStorage(takeGradBuffer); // tensor.ts's allocate() takes idle buffers from here too

/** Give a buffer that nothing references any more back to the pool (dropped when the pool is full). */
export function releaseGradBuffer(buf: TypedArray): void {
  if (buf.byteLength === 0 || pooledBytes + buf.byteLength > limitBytes) return;
  if (buf.byteOffset !== 0 || buf.byteLength !== buf.buffer.byteLength) return; // views of larger buffers stay out
  if (idle.has(buf.buffer)) return;
  const key = keyOf(buf instanceof Float64Array ? 'float64' : 'float32', buf.length);
  let list = free.get(key);
  if (!list) free.set(key, (list = []));
  if (list.length >= MAX_PER_SIZE) return;
  list.push(buf);
  idle.add(buf.buffer);
  pooledBytes += buf.byteLength;
}

/** Cap the idle memory the pool may hold (bytes); shrinking it drops buffers. */
export function setGradPoolLimit(bytes: number): void {
  limitBytes = Math.max(0, bytes);
  if (pooledBytes > limitBytes) clearGradPool();
}

/** Drop every idle buffer. */
export function clearGradPool(): void {
  for (const list of free.values()) for (const b of list) idle.delete(b.buffer);
  free.clear();
  pooledBytes = 0;
}

/** Bytes currently held idle by the pool. */
export function gradPoolBytes(): number {
  return pooledBytes;
}
