/**
 * The missing-library path: when OpenBLAS/LAPACKE cannot be opened, 'auto' falls back to the pure
 * backend with a message saying how to install the library, and 'openblas' fails with it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBackend, type NativeLoader } from '../../src/backend/index.ts';
import { applyCoretypePolicy, INSTALL_HINT, openNative } from '../../src/backend/native-library.ts';

/** A loader whose candidates do not exist, failing the way a machine without the packages fails. */
function missingLoader(): NativeLoader {
  let error: string | undefined;
  return {
    load() {
      try {
        return openNative({ openblas: ['/nonexistent/libopenblas.so.0'], lapacke: ['/nonexistent/liblapacke.so.3'] });
      } catch (e) {
        error = (e as Error).message;
        return null;
      }
    },
    error: () => error,
  };
}

/** Runs `fn` capturing what it writes to stderr. */
function captureStderr<R>(fn: () => R): { result: R; stderr: string } {
  const original = process.stderr.write;
  let stderr = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    return { result: fn(), stderr };
  } finally {
    process.stderr.write = original;
  }
}

test('openNative names every path it tried', () => {
  assert.throws(
    () => openNative({ openblas: ['/nonexistent/a.so', '/nonexistent/b.so'], lapacke: [] }),
    (e: Error) => e.message.includes('/nonexistent/a.so') && e.message.includes('/nonexistent/b.so'),
  );
});

test("'auto' without the native library uses the pure backend and says once how to install OpenBLAS", () => {
  const quiet = process.env.LINSCOPE_QUIET_BACKEND;
  delete process.env.LINSCOPE_QUIET_BACKEND;
  try {
    const first = captureStderr(() => createBackend('auto', missingLoader()));
    assert.equal(first.result.name, 'pure-ts');
    assert.match(first.stderr, /OpenBLAS backend is unavailable/);
    assert.match(first.stderr, /apt-get install -y libopenblas0-pthread libopenblas0-openmp liblapacke/);
    assert.match(first.stderr, /scripts\/setup\.sh/);
    // the backend works: a 2×2 product
    const c = new Float64Array(4);
    first.result.gemm({ transA: false, transB: false, m: 2, n: 2, k: 2, alpha: 1, a: Float64Array.of(1, 2, 3, 4), lda: 2, b: Float64Array.of(1, 0, 0, 1), ldb: 2, beta: 0, c, ldc: 2 });
    assert.deepEqual(Array.from(c), [1, 2, 3, 4]);
    const second = captureStderr(() => createBackend('auto', missingLoader()));
    assert.equal(second.result.name, 'pure-ts');
    assert.equal(second.stderr, '', 'the message is printed once per process');
  } finally {
    if (quiet !== undefined) process.env.LINSCOPE_QUIET_BACKEND = quiet;
  }
});

test("'openblas' without the native library throws the install hint and the loader's reasons", () => {
  assert.throws(
    () => createBackend('openblas', missingLoader()),
    (e: Error) => e.message.startsWith(INSTALL_HINT) && e.message.includes('/nonexistent/libopenblas.so.0'),
  );
});

test("'pure' never touches the loader", () => {
  const loader: NativeLoader = { load: () => assert.fail('loader called'), error: () => undefined };
  assert.equal(createBackend('pure', loader).name, 'pure-ts');
});

test('OPENBLAS_CORETYPE is removed before loading unless LINSCOPE_OPENBLAS_CORETYPE asks for one', () => {
  const env: NodeJS.ProcessEnv = { OPENBLAS_CORETYPE: 'Haswell' };
  applyCoretypePolicy(env);
  assert.equal(env.OPENBLAS_CORETYPE, undefined);
  const wanted: NodeJS.ProcessEnv = { OPENBLAS_CORETYPE: 'Haswell', LINSCOPE_OPENBLAS_CORETYPE: 'SkylakeX' };
  applyCoretypePolicy(wanted);
  assert.equal(wanted.OPENBLAS_CORETYPE, 'SkylakeX');
});
