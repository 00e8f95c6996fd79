/**
 * Which OpenBLAS build linscope loads (src/backend/native-library.ts): the system's by default,
 * Debian's OpenMP build with LINSCOPE_OPENBLAS_BUILD=openmp (an error when it is not installed
 * whole), a clear error for a bad setting; and both builds give the same bits (the same kernels, the
 * same split of the work), checked in child processes at 2 threads.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { backend } from '../../src/backend/index.ts';
import { candidatesFor, installedOpenmpBuild, openmpBuildDir } from '../../src/backend/native-library.ts';
import { OpenBlasBackend } from '../../src/backend/openblas.ts';

test('openmpBuildDir: system by default; openmp needs a complete folder; bad settings are named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-ompbuild-'));
  try {
    const openmp = { LINSCOPE_OPENBLAS_BUILD: 'openmp' };
    for (const f of ['libopenblas.so.0', 'libblas.so.3']) writeFileSync(join(dir, f), '');
    assert.throws(() => openmpBuildDir(openmp, [dir]), /LINSCOPE_OPENBLAS_BUILD=openmp: no complete OpenMP build .*apt-get install libopenblas0-openmp/, 'liblapack.so.3 missing');
    writeFileSync(join(dir, 'liblapack.so.3'), '');
    assert.equal(openmpBuildDir(openmp, ['/nonexistent', dir]), dir);
    assert.equal(openmpBuildDir({}, [dir]), undefined, 'the default is the system\'s build');
    assert.equal(openmpBuildDir({ LINSCOPE_OPENBLAS_BUILD: 'system' }, [dir]), undefined);
    assert.throws(() => openmpBuildDir({ LINSCOPE_OPENBLAS_BUILD: 'omp' }, [dir]), /LINSCOPE_OPENBLAS_BUILD=omp: expected system or openmp/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('candidatesFor: the system default only; openmp: its libopenblas first, its BLAS and LAPACK before LAPACKE', () => {
  const system = candidatesFor({});
  assert.equal(system.preload, undefined);
  assert.equal(system.openblas[0], 'libopenblas.so.0');
  const dir = mkdtempSync(join(tmpdir(), 'linscope-ompbuild-'));
  try {
    for (const f of ['libopenblas.so.0', 'libblas.so.3', 'liblapack.so.3']) writeFileSync(join(dir, f), '');
    const found = openmpBuildDir({ LINSCOPE_OPENBLAS_BUILD: 'openmp' }, [dir]);
    assert.equal(found, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const installed = installedOpenmpBuild();
  if (installed) {
    const openmp = candidatesFor({ LINSCOPE_OPENBLAS_BUILD: 'openmp' });
    assert.equal(openmp.openblas[0], join(installed, 'libopenblas.so.0'));
    assert.deepEqual(openmp.preload, [join(installed, 'libblas.so.3'), join(installed, 'liblapack.so.3')]);
  }
});

test('the backend reports the build it loaded', () => {
  const be = backend();
  assert.ok(be instanceof OpenBlasBackend, 'the suite runs on OpenBLAS (scripts/setup.sh installs it)');
  if (process.env.LINSCOPE_OPENBLAS_BUILD === 'openmp') assert.equal(be.threading, 'openmp');
  else assert.ok(be.threading === 'pthread' || be.threading === 'openmp', be.threading);
});

/** A child at 2 threads: sgemm, dgemm and an SVD of fixed inputs, printed as SHA-256 of their bytes, and the build. */
const CHILD = `
import { createHash } from 'node:crypto';
import { backend } from './src/backend/index.ts';
const be = backend();
be.setThreads(2);
const fill = (a, seed) => { let s = seed; for (let i = 0; i < a.length; i++) { s = (s * 1103515245 + 12345) % 2147483648; a[i] = s / 2147483648 - 0.5; } return a; };
const m = 300, k = 257, n = 190;
const a = fill(new Float32Array(m * k), 1), b = fill(new Float32Array(k * n), 2), c = new Float32Array(m * n);
be.gemm({ transA: false, transB: false, m, n, k, alpha: 1, a, lda: k, b, ldb: n, beta: 0, c, ldc: n });
const ad = fill(new Float64Array(m * k), 3), bd = fill(new Float64Array(k * n), 4), cd = new Float64Array(m * n);
be.gemm({ transA: false, transB: false, m, n, k, alpha: 1, a: ad, lda: k, b: bd, ldb: n, beta: 0, c: cd, ldc: n });
const svd = be.gesdd(fill(new Float64Array(120 * 80), 5), 120, 80, true);
const hex = (x) => createHash('sha256').update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength)).digest('hex');
console.log(JSON.stringify({ threading: be.threading, sgemm: hex(c), dgemm: hex(cd), s: hex(svd.s) + hex(svd.u) }));
`;

function runChild(build: string): { threading: string; sgemm: string; dgemm: string; s: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    cwd: join(import.meta.dirname, '..', '..'),
    env: { ...process.env, LINSCOPE_OPENBLAS_BUILD: build, LINSCOPE_THREADS: '2' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('the OpenMP build gives the bits of the system\'s build at 2 threads (sgemm, dgemm, SVD)', () => {
  const system = runChild('system');
  assert.equal(system.threading, 'pthread', 'Debian\'s default build (scripts/setup.sh keeps it the default)');
  const openmp = runChild('openmp');
  assert.equal(openmp.threading, 'openmp', 'scripts/setup.sh installs libopenblas0-openmp');
  assert.equal(openmp.sgemm, system.sgemm);
  assert.equal(openmp.dgemm, system.dgemm);
  assert.equal(openmp.s, system.s);
});
