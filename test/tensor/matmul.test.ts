import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nativeBackend, pureBackend, withBackend } from '../../src/backend/index.ts';
import { matmul, linear } from '../../src/tensor/matmul.ts';
import { clearGradPool, releaseGradBuffer } from '../../src/autograd/grad-pool.ts';
import { add, maxAbsDiff, transpose2d } from '../../src/tensor/elementwise.ts';
import { countNonFinite } from '../../src/tensor/finite.ts';
import { nativeAttentionKernels } from '../../src/tensor/attention.ts';
import { fewRowProduct } from '../../src/tensor/few-row-gemm.ts';
import { withNativeKernels } from '../../src/tensor/native-kernels.ts';
import { OpenBlasBackend } from '../../src/backend/openblas.ts';
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

// 2–32 rows times a large transposed float32 weight (a batched generation step): on OpenBLAS cores
// with the small-matrix sgemm kernel, column slabs over threads in C (src/tensor/few-row-gemm.ts).
test('few-row products with a large transposed weight (column slabs) match a float64 reference at 1 and 2 threads', () => {
  const native = nativeBackend();
  const rng = new Rng(11);
  for (const [m, n, k] of [[2, 4099, 130], [16, 2050, 260], [20, 70, 8000], [32, 4099, 130]] as const) {
    const x = rng.randn([m, k]);
    const w = rng.randn([n, k]);
    const want = naive(x, transpose2d(w));
    let largest = 1;
    for (const v of want.data) largest = Math.max(largest, Math.abs(v));
    const tolerance = 1e-5 * largest;
    for (const be of backends) {
      for (const threads of be === native ? [1, 2] : [1]) {
        const before = be.threads();
        be.setThreads(threads);
        try {
          const got = withBackend(be, () => linear(x, w));
          assert.ok(maxAbsDiff(got, want) <= tolerance, `${be.name} ${threads} thread(s) m=${m} n=${n} k=${k}: max |Δ| ${maxAbsDiff(got, want)}`);
        } finally {
          be.setThreads(before);
        }
      }
    }
  }
  // without the C kernels the same slabs run one after the other: the same numbers
  if (native) {
    const x = rng.randn([5, 130]), w = rng.randn([4099, 130]);
    const withC = withBackend(native, () => linear(x, w));
    assert.deepEqual(withNativeKernels(false, () => withBackend(native, () => linear(x, w))).data, withC.data);
  }
  // where the slabs can run, they do
  if (native instanceof OpenBlasBackend && native.smallMatrixKernel && nativeAttentionKernels(native)) {
    const x = rng.randn([4, 130]), w = rng.randn([4099, 130]), c = new Float32Array(4 * 4099);
    assert.ok(fewRowProduct(native, { transA: false, transB: true, m: 4, n: 4099, k: 130, alpha: 1, a: x.data, lda: 130, b: w.data, ldb: 130, beta: 0, c, ldc: 4099 }));
    assert.ok(maxAbsDiff(new Tensor(c, [4, 4099]), withBackend(native, () => linear(x, w))) === 0);
  }
});
