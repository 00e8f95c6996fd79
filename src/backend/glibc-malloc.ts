/**
 * Keeps freed tensor memory inside the glibc heap so the next tensor of the same size reuses it.
 *
 * By default glibc serves large requests (≥ 128 KiB, raised dynamically up to 32 MiB) with a fresh
 * mmap and gives the heap top back to the kernel once more than twice that is free. Every new
 * Float32Array of a training step (activations, logits of 4096 × 4096 = 64 MiB) then starts as
 * untouched pages, and the kernel takes one page fault plus a page zeroing per 4 KiB on first
 * write: on the 5M-parameter pretraining step (bench/pretrain.ts, 1 thread) 100–180 ms of system
 * time per step, 7–28 ms with both thresholds set (what MALLOC_MMAP_THRESHOLD_ /
 * MALLOC_TRIM_THRESHOLD_ do, applied here from inside the process through mallopt). Neither alone
 * is enough: the mmap threshold moves large blocks into the heap, the trim threshold stops the heap
 * shrinking back (64 MiB arrays churned 40 times: 679k minor faults by default, 679k with the trim
 * threshold only, 285k with the mmap threshold only, 53k with both). glibc 2.36 accepts thresholds
 * above its 32 MiB dynamic cap when they are set explicitly.
 *
 * Only for glibc (identified by gnu_get_libc_version); elsewhere, or when the user already set
 * either variable, nothing changes.
 */
import koffi from 'koffi';

const M_TRIM_THRESHOLD = -1;
const M_MMAP_THRESHOLD = -3;
/** Blocks up to 1 GiB come from the heap (larger ones, e.g. whole checkpoints, are still mmapped). */
export const MMAP_THRESHOLD_BYTES = 1024 * 1024 * 1024;
/** Up to 2 GiB − 1 of free memory at the heap top is kept for reuse (mallopt takes an int). */
export const TRIM_THRESHOLD_BYTES = 2 ** 31 - 1;

let applied: boolean | undefined;

/**
 * Applies both thresholds once per process; returns whether they are in effect (false when the
 * C library is not glibc, koffi cannot reach it, or the environment already chose its own values).
 */
export function keepFreedMemoryInHeap(env: NodeJS.ProcessEnv = process.env): boolean {
  if (applied !== undefined) return applied;
  applied = false;
  if (process.platform !== 'linux') return applied;
  if (env.MALLOC_MMAP_THRESHOLD_ !== undefined || env.MALLOC_TRIM_THRESHOLD_ !== undefined) return applied;
  try {
    const libc = koffi.load('libc.so.6');
    libc.func('const char *gnu_get_libc_version()'); // throws on a libc that is not glibc
    const mallopt = libc.func('int mallopt(int param, int value)') as (param: number, value: number) => number;
    applied = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) === 1 && mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) === 1;
  } catch {
    applied = false;
  }
  return applied;
}
