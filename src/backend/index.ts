/**
 * Backend selection. `LINSCOPE_BACKEND` = `openblas` | `pure` | `auto` (default): auto uses OpenBLAS
 * when it loads and otherwise falls back to pure TypeScript with a one-time message saying how to
 * install the fast library. `LINSCOPE_THREADS` sets the BLAS thread count.
 */
import type { Backend } from './backend.ts';
import { INSTALL_HINT, loadNative, nativeLoadError, type NativeFunctions } from './native-library.ts';
import { OpenBlasBackend } from './openblas.ts';
import { PureBackend } from './pure.ts';

export type { Backend, GemmArgs, SvdResult, EighResult } from './backend.ts';

let active: Backend | undefined;
let warned = false;

/** How `createBackend` gets the native library: the cached system loader unless a test injects another. */
export interface NativeLoader {
  load(): NativeFunctions | null;
  /** Why `load` returned null. */
  error(): string | undefined;
}

const systemLoader: NativeLoader = { load: loadNative, error: nativeLoadError };

/**
 * A backend of the given kind ('openblas' | 'pure' | 'auto'). 'auto' falls back to pure TypeScript
 * with a one-time message on stderr saying how to install OpenBLAS; 'openblas' throws that message.
 */
export function createBackend(kind: string, loader: NativeLoader = systemLoader): Backend {
  if (kind === 'pure' || kind === 'pure-ts') return new PureBackend();
  const native = loader.load();
  if (native) return new OpenBlasBackend(native);
  if (kind === 'openblas') {
    throw new Error(`${INSTALL_HINT}\n  Loading failed with:\n${loader.error()}`);
  }
  if (!warned && !process.env.LINSCOPE_QUIET_BACKEND) {
    warned = true;
    process.stderr.write(`${INSTALL_HINT}\n`);
  }
  return new PureBackend();
}

/** The process-wide backend (created on first use). */
export function backend(): Backend {
  if (!active) {
    active = createBackend(process.env.LINSCOPE_BACKEND ?? 'auto');
    const threads = Number(process.env.LINSCOPE_THREADS);
    if (threads > 0) active.setThreads(threads);
  }
  return active;
}

/** Switch the process-wide backend ('openblas' | 'pure' | 'auto'); returns the new one. */
export function useBackend(kind: 'openblas' | 'pure' | 'auto'): Backend {
  active = createBackend(kind);
  return active;
}

/** Run `fn` with a given backend active, restoring the previous one afterwards (for tests). */
export function withBackend<R>(b: Backend, fn: () => R): R {
  const previous = active;
  active = b;
  try {
    return fn();
  } finally {
    active = previous;
  }
}

export function pureBackend(): Backend {
  return new PureBackend();
}

/** The native backend, or undefined when the library is missing. */
export function nativeBackend(): Backend | undefined {
  const native = loadNative();
  return native ? new OpenBlasBackend(native) : undefined;
}
