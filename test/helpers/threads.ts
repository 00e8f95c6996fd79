/** Runs `fn` with the backend (BLAS and C kernels) on `threads` threads, then restores the count. */
import { backend } from '../../src/backend/index.ts';

export function withThreads<R>(threads: number, fn: () => R): R {
  const be = backend();
  const before = be.threads();
  be.setThreads(threads);
  try {
    return fn();
  } finally {
    be.setThreads(before);
  }
}
