import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nativeBackend, pureBackend, withBackend } from '../../src/backend/index.ts';
import { matmul, linear } from '../../src/tensor/matmul.ts';
import { clearGradPool, releaseGradBuffer } from '../../src/autograd/grad-pool.ts';
import { add, maxAbsDiff, transpose2d } from '../../src/tensor/elementwise.ts';
import { countNonFinite } from '../../src/tensor/finite.ts';
import { layerNorm, rmsNorm } from '../../src/tensor/norms.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

function naive(a: Tensor, b: Tensor): Tensor {
  const [m, k] = a.shape;
  const n = b.shape[1];
  const out = Tensor.zeros([m, n], 'float64');
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a.get(i, p) * b.get(p, j);
      out.data[i * n + j] = s;
    }
  return out;
}

const backends = [pureBackend(), nativeBackend()].filter((b) => b !== undefined);

for (const be of backends) {
  test(`matmul with every transpose combination (${be.name})`, () => {
    const rng = new Rng(1);
    const a = rng.randn([7, 5]);
    const b = rng.randn([5, 3]);
    const ref = naive(a, b);
    withBackend(be, () => {
      assert.ok(maxAbsDiff(matmul(a, b), ref) < 1e-5);
      assert.ok(maxAbsDiff(matmul(transpose2d(a), b, { transA: true }), ref) < 1e-5);
      assert.ok(maxAbsDiff(matmul(a, transpose2d(b), { transB: true }), ref) < 1e-5);
      assert.ok(maxAbsDiff(matmul(transpose2d(a), transpose2d(b), { transA: true, transB: true }), ref) < 1e-5);
      assert.ok(maxAbsDiff(linear(a, transpose2d(b)), ref) < 1e-5);
    });
  });

  test(`batched and flattened-batch matmul (${be.name})`, () => {
    const rng = new Rng(2);
    const a = rng.randn([2, 4, 6], 1, 'float64');
    const b = rng.randn([2, 6, 3], 1, 'float64');
    const w = rng.randn([6, 3], 1, 'float64');
    withBackend(be, () => {
      const c = matmul(a, b);
      const flat = matmul(a, w);
      assert.deepEqual(c.shape, [2, 4, 3]);
      assert.deepEqual(flat.shape, [2, 4, 3]);
      for (let i = 0; i < 2; i++) {
        assert.ok(maxAbsDiff(c.row(i), naive(a.row(i), b.row(i))) < 1e-12);
        assert.ok(maxAbsDiff(flat.row(i), naive(a.row(i), w)) < 1e-12);
      }
    });
  });
}

// Outputs that a kernel overwrites come from allocateUninitialized, possibly recycled storage with
// stale contents: stale NaNs must never reach a result (gemm with β = 0, the one-row gemv path, the
// norms and the elementwise sums).
for (const be of backends) {
  test(`stale NaN storage under every overwritten output (${be.name}): results equal fresh ones`, () => {
    const rng = new Rng(3);
    const cases: Array<[string, () => Tensor]> = [];
    const a = rng.randn([9, 64]), w = rng.randn([64, 4100]); // 9 × 4100 output; one row × 64·4100 ≥ 2^19 takes gemv
    const row = rng.randn([1, 64]), wt = rng.randn([8200, 64]);
    const x = rng.randn([70, 96]), g = rng.randn([96]), bias = rng.randn([96]);
    cases.push(['gemm', () => matmul(a, w)], ['gemm, transposed B', () => linear(a, transpose2d(w))]);
    cases.push(['one-row product (gemv)', () => matmul(row, w)], ['one-row product, transposed B', () => linear(row, wt)]);
    cases.push(['layerNorm', () => layerNorm(x, g, bias, 1e-5)], ['rmsNorm', () => rmsNorm(x, g, 1e-6)], ['add', () => add(x, x)]);
    withBackend(be, () => {
      for (const [what, run] of cases) {
        clearGradPool();
        const fresh = run();
        for (let k = 0; k < 4; k++) releaseGradBuffer(new Float32Array(fresh.size).fill(NaN));
        const again = run();
        assert.equal(countNonFinite(again.data), 0, `${what}: stale NaNs leaked into the result`);
        assert.deepEqual(Array.from(again.data), Array.from(fresh.data), what);
      }
      clearGradPool();
    });
  });
}
