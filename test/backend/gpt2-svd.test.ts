/**
 * SVD of real pretrained weights: GPT-2 small's layer-1 query and layer-12 output projections
 * (768 × 768, raw big-endian float32 from shared/data, see SOURCES.md). Both backends must
 * reconstruct the matrix and agree on the whole spectrum.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { nativeBackend, pureBackend } from '../../src/backend/index.ts';
import { sharedData, skipUnless } from '../helpers/paths.ts';
import type { Backend } from '../../src/backend/index.ts';
import { isDescending, maxAbs, maxAbsDiff } from './invariants.ts';

const dir = join(sharedData, 'models', 'gpt2-small-attention-partial');
const native = nativeBackend();
const N = 768;

/** A raw big-endian float32 matrix file as a Float32Array. */
function readBigEndianFloat32(path: string): Float32Array {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, false);
  return out;
}

/** op(A)·op(B) for N × N float64 matrices on the native backend. */
function nativeProduct(a: Float64Array, transA: boolean, b: Float64Array, transB: boolean): Float64Array {
  const c = new Float64Array(N * N);
  (native as Backend).gemm({ transA, transB, m: N, n: N, k: N, alpha: 1, a, lda: N, b, ldb: N, beta: 0, c, ldc: N });
  return c;
}

/** max |X − I| for an N × N matrix. */
function identityError(x: Float64Array): number {
  let m = 0;
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) m = Math.max(m, Math.abs(x[i * N + j] - (i === j ? 1 : 0)));
  return m;
}

test('GPT-2 attention weights load as 768×768 big-endian float32 with plausible values', { skip: skipUnless(dir) }, () => {
  const w = readBigEndianFloat32(join(dir, 'decoder1', 'att.query.w.dat'));
  assert.equal(w.length, N * N);
  assert.ok(w.every(Number.isFinite));
  const rms = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
  assert.ok(rms > 0.01 && rms < 1, `rms ${rms}`);
});

test('GPT-2 layer-1 query weight: pure and OpenBLAS SVDs reconstruct it and agree on every singular value',
  { skip: skipUnless(dir) || (native ? false : 'OpenBLAS not available') }, () => {
    const w = readBigEndianFloat32(join(dir, 'decoder1', 'att.query.w.dat'));
    const scale = maxAbs(w);
    const results = [pureBackend(), native!].map((be) => {
      const { s, u, vt } = be.gesdd(Float64Array.from(w), N, N, true);
      assert.ok(isDescending(s) && s[N - 1] >= 0, `${be.name}: order`);
      // the 768³ checks run on OpenBLAS's float64 GEMM (itself checked in gemm.test.ts)
      const us = Float64Array.from(u!, (x, i) => x * s[i % N]);
      const rec = maxAbsDiff(nativeProduct(us, false, vt!, false), w) / scale;
      assert.ok(rec < 1e-10, `${be.name}: reconstruction error ${rec}`);
      assert.ok(identityError(nativeProduct(u!, true, u!, false)) < 1e-10, `${be.name}: UᵀU ≠ I`);
      assert.ok(identityError(nativeProduct(vt!, false, vt!, true)) < 1e-10, `${be.name}: VᵀV ≠ I`);
      return s;
    });
    const diff = maxAbsDiff(results[0], results[1]) / results[1][0];
    assert.ok(diff < 1e-10, `singular values differ by ${diff} (relative to σ₁ = ${results[1][0]})`);
  });

test('GPT-2 layer-12 output projection: float32 singular values agree across backends to 1e-5',
  { skip: skipUnless(dir) || (native ? false : 'OpenBLAS not available') }, () => {
    const w = readBigEndianFloat32(join(dir, 'decoder12', 'att.proj.w.dat'));
    const pureS = pureBackend().gesdd(w, N, N, false).s;
    const nativeS = native!.gesdd(w, N, N, false).s;
    const exact = native!.gesdd(Float64Array.from(w), N, N, false).s;
    assert.ok(pureS instanceof Float32Array && nativeS instanceof Float32Array);
    assert.ok(maxAbsDiff(pureS, nativeS) / exact[0] < 1e-5, `pure vs native: ${maxAbsDiff(pureS, nativeS)}`);
    assert.ok(maxAbsDiff(nativeS, exact) / exact[0] < 1e-5, `float32 vs float64: ${maxAbsDiff(nativeS, exact)}`);
    // a trained weight has a decaying, far from flat spectrum
    assert.ok(exact[0] > 3 * exact[383], `σ₁ = ${exact[0]}, σ₃₈₄ = ${exact[383]}`);
  });
