/**
 * Up-front memory budgets: a command adds up what it will hold (by part, on the JavaScript heap or
 * in typed arrays outside it) and refuses before any heavy work when that exceeds what the process
 * may use: the V8 heap limit for heap parts (exceeding it ends in "JavaScript heap out of memory"
 * after minutes of work), the machine's memory (or the cgroup limit) for everything.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';

export interface MemoryPart {
  /** What is held, for the message, e.g. "token sequences and batches (N tokens)". */
  what: string;
  bytes: number;
  /** On the JavaScript heap (JS arrays, strings) rather than in typed arrays. */
  heap: boolean;
}

export interface MemoryLimits {
  /** V8's heap limit of this process. */
  heapBytes: number;
  /** Physical memory, or the cgroup's limit when lower. */
  totalBytes: number;
}

/** Share of a limit a command may plan to use (the rest is for the model, the runtime and slack). */
export const HEAP_SHARE = 0.75;
const TOTAL_SHARE = 0.85;

export function memoryLimits(): MemoryLimits {
  let total = totalmem();
  try {
    const cgroup = readFileSync('/sys/fs/cgroup/memory.max', 'utf8').trim();
    if (/^\d+$/.test(cgroup)) total = Math.min(total, Number(cgroup));
  } catch {
    // no cgroup v2 limit
  }
  return { heapBytes: getHeapStatistics().heap_size_limit, totalBytes: total };
}

/** "1.5 GB", "820 MB" (powers of 1024). */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} bytes` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/**
 * Throws when `parts` do not fit: "needs about X (parts…), more than the Y … may use; <lower>".
 * `lower` says which options reduce the need, e.g. "lower --samples (about 2,000,000 fit)".
 */
export function checkMemoryBudget(parts: readonly MemoryPart[], lower: string, limits: MemoryLimits = memoryLimits()): void {
  const heap = parts.filter((p) => p.heap).reduce((s, p) => s + p.bytes, 0);
  const total = parts.reduce((s, p) => s + p.bytes, 0);
  const listed = parts.filter((p) => p.bytes > 0).map((p) => `${p.what} ${formatBytes(p.bytes)}${p.heap ? ' (JavaScript heap)' : ''}`).join(', ');
  if (total > TOTAL_SHARE * limits.totalBytes) {
    throw new Error(`this run needs about ${formatBytes(total)} of memory (${listed}), more than this machine's ${formatBytes(limits.totalBytes)} allow; ${lower}`);
  }
  if (heap > HEAP_SHARE * limits.heapBytes) {
    throw new Error(
      `this run needs about ${formatBytes(heap)} of JavaScript heap (${listed}), more than the ${formatBytes(limits.heapBytes)} this Node.js process may use; ` +
        `${lower}, or raise the limit with NODE_OPTIONS=--max-old-space-size=<MB> if the machine has the memory`,
    );
  }
}
