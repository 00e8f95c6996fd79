/**
 * The C kernels (native/kernels.c) against their TypeScript twins, the oracle: every kernel on
 * random float32 inputs (odd sizes, inputs large enough to split over two threads, NaN and ±∞),
 * equal to 1e-6 relative. When the library cannot be built here (no compiler) these comparisons
 * are skipped and the fallback test below still runs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { backend } from '../../src/backend/index.ts';
import { activate, addBiasActivateInPlace, geluTanh, siluMul } from '../../src/tensor/activations.ts';
import { add, addInPlace } from '../../src/tensor/elementwise.ts';
import { addRowVectorInPlace } from '../../src/tensor/matmul.ts';
import { nativeKernels, nativeKernelsStatus, withNativeKernels } from '../../src/tensor/native-kernels.ts';
import { layerNorm, rmsNorm, softmax } from '../../src/tensor/norms.ts';
import { Rng } from '../../src/tensor/random.ts';
import { applyRope, ropeInverseFrequencies } from '../../src/tensor/rope.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { fixturesDir, repoRoot, skipUnless } from '../helpers/paths.ts';

const skip = nativeKernels() ? false : `native kernels unavailable: ${nativeKernelsStatus()}`;

/** Largest |a − b| / max(|b|, 1e-30) over elements; equal non-finite values (NaN, ±∞) count as equal. */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (Object.is(a[i], b[i]) || (Number.isNaN(a[i]) && Number.isNaN(b[i]))) continue;
    const d = Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-30);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Runs `fn` with the C kernels and with the TypeScript ones (at 1 and 2 threads) and compares. */
function same(name: string, fn: () => ArrayLike<number>): void {
  const oracle = Array.from(withNativeKernels(false, fn));
  const be = backend();
  const threads = be.threads();
  for (const t of [1, 2]) {
    be.setThreads(t);
    try {
      const got = withNativeKernels(true, fn);
      const rel = maxRelDiff(got, oracle);
      assert.ok(rel <= 1e-6, `${name} at ${t} threads: max relative difference ${rel}`);
    } finally {
      be.setThreads(threads);
    }
  }
}

function input(rows: number, n: number, seed: number, scale = 3, specials = false): Tensor {
  const x = new Rng(seed).randn([rows, n]);
  for (let i = 0; i < x.size; i++) x.data[i] *= scale;
  if (specials) {
    x.data[1] = NaN; x.data[n + 2] = Infinity; x.data[2 * n + 3] = -Infinity; x.data[3 * n] = 200; x.data[3 * n + 1] = -200;
  }
  return x;
}

// sizes: tiny, odd, and big enough (≥ 32768 elements) to be split over threads
const SHAPES: Array<[number, number]> = [[3, 7], [5, 33], [64, 768], [37, 1031]];

test('layerNorm and rmsNorm: C equals TypeScript (with and without weight/bias, Gemma offset)', { skip }, () => {
  for (const [rows, n] of SHAPES) {
    const x = input(rows, n, rows + n);
    x.data[0] = 1e4; // a row far from zero tests the shifted statistics
    const w = input(1, n, 2).reshape(n), b = input(1, n, 3).reshape(n);
    same(`layerNorm w b ${rows}×${n}`, () => layerNorm(x, w, b, 1e-5).data);
    same(`layerNorm w ${rows}×${n}`, () => layerNorm(x, w, undefined, 1e-5).data);
    same(`layerNorm b ${rows}×${n}`, () => layerNorm(x, undefined, b, 1e-5).data);
    same(`layerNorm ${rows}×${n}`, () => layerNorm(x, undefined, undefined, 1e-6).data);
    same(`rmsNorm ${rows}×${n}`, () => rmsNorm(x, w, 1e-6).data);
    same(`rmsNorm (1 + w) ${rows}×${n}`, () => rmsNorm(x, w, 1e-6, true).data);
  }
});

test('activations, SwiGLU and fused bias + activation: C equals TypeScript, NaN and ±∞ included', { skip }, () => {
  for (const [rows, n] of SHAPES) {
    if (rows < 4) continue;
    const x = input(rows, n, 7 * n, 4, true);
    const u = input(rows, n, 11 * n);
    const b = input(1, n, 13).reshape(n);
    for (const name of ['gelu_new', 'gelu_pytorch_tanh', 'gelu', 'silu', 'relu']) {
      same(`${name} ${rows}×${n}`, () => activate(x, name).data);
      same(`bias + ${name} ${rows}×${n}`, () => addBiasActivateInPlace(x.clone(), b, name).data);
    }
    same(`siluMul ${rows}×${n}`, () => siluMul(x, u).data);
    same(`bias add ${rows}×${n}`, () => { const y = x.clone(); addRowVectorInPlace(y, b); return y.data; });
    same(`add ${rows}×${n}`, () => add(x, u).data);
    same(`addInPlace ${rows}×${n}`, () => addInPlace(x.clone(), u).data);
    same(`axpy ${rows}×${n}`, () => addInPlace(x.clone(), u, -0.37).data);
  }
});

test('tanh-GELU in float32 arithmetic: C equals TypeScript bit for bit (NaN, ±∞, ±200, subnormals included), within 2e-7 of the float64 formula', { skip }, () => {
  const x = input(64, 3072, 17, 4, true);
  x.data[5] = 1e-40;
  x.data[6] = -30;
  const c = withNativeKernels(true, () => activate(x, 'gelu_new').data);
  const ts = withNativeKernels(false, () => activate(x, 'gelu_new').data);
  for (let i = 0; i < c.length; i++) assert.ok(Object.is(c[i], ts[i]), `element ${i}: C ${c[i]} vs TypeScript ${ts[i]}`);
  let worst = 0;
  for (let i = 0; i < c.length; i++) {
    const exact = geluTanh(x.data[i]);
    if (Number.isFinite(exact) && Math.abs(exact) > 1e-3) worst = Math.max(worst, Math.abs(c[i] - exact) / Math.abs(exact));
  }
  assert.ok(worst < 2e-7, `max relative difference from the float64 formula ${worst}`);
});

test('bias + activation equals the bias add followed by the activation', () => {
  const x = input(9, 130, 5), b = input(1, 130, 6).reshape(130);
  for (const on of [false, true]) {
    withNativeKernels(on, () => {
      const fused = addBiasActivateInPlace(x.clone(), b, 'gelu_new');
      const y = x.clone();
      addRowVectorInPlace(y, b);
      assert.deepEqual(Array.from(fused.data), Array.from(activate(y, 'gelu_new').data));
    });
  }
});

test('softmax rows: C equals TypeScript, all −∞ rows give zeros', { skip }, () => {
  for (const [rows, n] of SHAPES) {
    const x = input(rows, n, n + 1, 5);
    for (let j = 0; j < n; j++) x.data[n + j] = -Infinity; // row 1 fully masked
    x.data[2] = -Infinity;
    same(`softmax ${rows}×${n}`, () => softmax(x).data);
  }
});

test('RoPE (rotate-half and GPT-J interleaved, partial rotary, scaling): C equals TypeScript', { skip }, () => {
  for (const [tokens, heads, headDim, rotaryDim] of [[5, 2, 8, 8], [70, 12, 64, 64], [33, 4, 80, 32], [130, 3, 64, 16]]) {
    const x = input(tokens, heads * headDim, tokens * heads, 1);
    const positions = Array.from({ length: tokens }, (_, t) => t + 3);
    for (const style of ['half', 'interleaved'] as const) {
      for (const attentionScaling of [1, 1.17]) {
        same(`rope ${style} ${tokens}×${heads}×${headDim}/${rotaryDim} ×${attentionScaling}`, () => {
          const y = x.clone();
          applyRope(y, { numHeads: heads, headDim, rotaryDim, invFreq: ropeInverseFrequencies(rotaryDim, 10000), style, positions, attentionScaling });
          return y.data;
        });
      }
    }
  }
});

test('float64 tensors keep the TypeScript kernels', () => {
  const x = input(4, 16, 1).to('float64');
  const w = Tensor.full([16], 1.5, 'float64');
  assert.deepEqual(layerNorm(x, w, undefined, 1e-5).data, withNativeKernels(false, () => layerNorm(x, w, undefined, 1e-5)).data);
});

/** Runs a snippet in a child process with the given environment; returns its stdout. */
function child(code: string, env: NodeJS.ProcessEnv): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: repoRoot, env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

const SNIPPET = `
import { nativeKernelsStatus } from './src/tensor/native-kernels.ts';
import { layerNorm } from './src/tensor/norms.ts';
import { Tensor } from './src/tensor/tensor.ts';
const y = layerNorm(Tensor.from([1, 2, 3, 4], [1, 4]), undefined, undefined, 0);
console.log(JSON.stringify({ status: nativeKernelsStatus(), y: Array.from(y.data) }));`;

test('without a compiler or a matching build, the TypeScript kernels run and the status says why; a stale build is never loaded', () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-kernels-'));
  try {
    // an old build with another hash in the folder, and no gcc on PATH
    writeFileSync(join(dir, 'linscope-kernels-0000000000000000.so'), 'not a library');
    const out = JSON.parse(child(SNIPPET, { LINSCOPE_NATIVE_KERNELS_DIR: dir, PATH: dir }));
    assert.match(out.status, /^TypeScript \(native kernels unavailable: no C compiler/);
    const expected = [1, 2, 3, 4].map((v) => (v - 2.5) / Math.sqrt(1.25));
    assert.ok(maxRelDiff(out.y, expected) < 1e-6);
    const off = JSON.parse(child(SNIPPET, { LINSCOPE_NATIVE_KERNELS: '0' }));
    assert.equal(off.status, 'TypeScript (LINSCOPE_NATIVE_KERNELS=0)');
    assert.deepEqual(off.y, out.y);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('linscope info says which kernels run', { skip: skipUnless(join(fixturesDir, 'gpt2')) }, () => {
  const info = (env: NodeJS.ProcessEnv) => {
    const r = spawnSync(process.execPath, ['bin/linscope.mjs', 'info', '--model', join(fixturesDir, 'gpt2')], { cwd: repoRoot, env: { ...process.env, ...env }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  assert.match(info({ LINSCOPE_NATIVE_KERNELS: '0' }), /compute +GEMM \S+ \(\d+ threads(; \w+ kernels, (openmp|pthread|sequential) build)?\), other kernels TypeScript \(LINSCOPE_NATIVE_KERNELS=0\)/);
  assert.match(info({ LINSCOPE_OPENBLAS_BUILD: 'openmp' }), /compute +GEMM openblas \(\d+ threads; \w+ kernels, openmp build\)/);
  if (!skip) assert.match(info({}), /other kernels native C \(build\/linscope-kernels-[0-9a-f]{16}\.so/);
  // products of 2–32 rows: how they run is stated (column slabs, or one call and why)
  assert.match(info({ LINSCOPE_NATIVE_KERNELS: '0' }), /products of 2–32 rows: (one GEMM call|column slabs .*on one thread)/);
});
