/** randomizedSvd, lowRankApprox and lowRankFactors against the exact SVD (Eckart–Young). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withBackend } from '../../src/backend/index.ts';
import { lowRankApprox, lowRankFactors, randomizedSvd, svd } from '../../src/linalg/index.ts';
import { matmul } from '../../src/tensor/matmul.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { columnOrthogonalityError, matrixWithSpectrum, maxAbsDiff, randomMatrix, rowOrthogonalityError } from '../backend/invariants.ts';
import { testBackends } from './backends.ts';

/** 150 × 100 with σᵢ = 0.8^i: a decaying spectrum like a trained weight's. */
const sigma = Array.from({ length: 100 }, (_, i) => 0.8 ** i);
const decaying = new Tensor(matrixWithSpectrum(150, 100, sigma, 3), [150, 100]);

function frobenius(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

function difference(a: Tensor, b: Tensor): Float64Array {
  return Float64Array.from(a.data, (v, i) => v - b.data[i]);
}

for (const be of testBackends) {
  test(`${be.name} randomizedSvd on a decaying spectrum matches the exact top singular triplets`, () => {
    withBackend(be, () => {
      const r = 10;
      const { U, S, Vt } = randomizedSvd(decaying, r, { seed: 7 });
      assert.deepEqual([U.shape, S.shape, Vt.shape], [[150, r], [r], [r, 100]]);
      assert.ok(maxAbsDiff(S.data, sigma.slice(0, r)) <= 1e-8, `S = ${Array.from(S.data)}`);
      assert.ok(columnOrthogonalityError(U.data, 150, r) <= 1e-10);
      assert.ok(rowOrthogonalityError(Vt.data, r, 100) <= 1e-10);
      // the same subspace as the exact SVD: |⟨u_i, u_i*⟩| = 1
      const exact = svd(decaying);
      for (let i = 0; i < r; i++) {
        let dot = 0;
        for (let j = 0; j < 150; j++) dot += U.data[j * r + i] * exact.U.data[j * 100 + i];
        assert.ok(Math.abs(Math.abs(dot) - 1) <= 1e-6, `component ${i}: |⟨u, u*⟩| = ${Math.abs(dot)}`);
      }
      // seeded: the same seed gives the same result, bit for bit
      const again = randomizedSvd(decaying, r, { seed: 7 });
      assert.deepEqual(Array.from(again.S.data), Array.from(S.data));
    });
  });

  test(`${be.name} randomizedSvd without power iterations or oversampling is still close (float32 input)`, () => {
    withBackend(be, () => {
      const a32 = decaying.to('float32');
      const { S } = randomizedSvd(a32, 5, { oversample: 0, powerIters: 0, seed: 1 });
      assert.equal(S.dtype, 'float32');
      // σ(QᵀA) interlace σ(A), so the crude estimates are lower bounds; the leading one is close
      for (let i = 0; i < 5; i++) assert.ok(S.data[i] <= sigma[i] * (1 + 1e-5), `σ${i}: ${S.data[i]} vs ${sigma[i]}`);
      assert.ok(S.data[0] >= 0.9 * sigma[0], `σ0: ${S.data[0]}`);
      const good = randomizedSvd(a32, 5, { seed: 1 });
      assert.ok(maxAbsDiff(good.S.data, sigma.slice(0, 5)) <= 1e-5);
      assert.equal(randomizedSvd(a32, 5, { float64: true, seed: 1 }).S.dtype, 'float64');
    });
  });

  test(`${be.name} lowRankApprox: Eckart–Young error, exact and randomized, factors multiply back`, () => {
    withBackend(be, () => {
      const r = 8;
      const optimal = Math.sqrt(sigma.slice(r).reduce((s, x) => s + x * x, 0));
      const exact = lowRankApprox(decaying, r);
      assert.deepEqual(exact.shape, decaying.shape);
      assert.ok(Math.abs(frobenius(difference(decaying, exact)) - optimal) <= 1e-10, 'exact error = √Σ_{i>r} σᵢ²');
      const randomized = lowRankApprox(decaying, r, { method: 'randomized', seed: 3 });
      assert.ok(frobenius(difference(decaying, randomized)) <= optimal * (1 + 1e-6));
      const { left, right } = lowRankFactors(decaying, r);
      assert.deepEqual([left.shape, right.shape], [[150, r], [r, 100]]);
      assert.ok(maxAbsDiff(matmul(left, right).data, exact.data) <= 1e-12);
      // full rank reproduces W; rank 0 is zero; out of range is an error
      const w = new Tensor(randomMatrix(9, 6, 'float32', 4), [9, 6]);
      assert.ok(maxAbsDiff(lowRankApprox(w, 6).data, w.data) <= 1e-5);
      assert.equal(lowRankApprox(w, 6).dtype, 'float32');
      assert.ok(lowRankApprox(w, 0).data.every((x) => x === 0));
      assert.throws(() => lowRankApprox(w, 7), /rank must be an integer between 0 and min\(m, n\) = 6, got 7/);
      assert.throws(() => lowRankApprox(w, 2, { method: 'fast' as 'exact' }), /method must be 'exact' or 'randomized'/);
    });
  });
}
