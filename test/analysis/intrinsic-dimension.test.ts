import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intrinsicDimension } from '../../src/analysis/intrinsic-dimension.ts';
import { twoNearestNeighbours } from '../../src/analysis/nearest-neighbours.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

/** Points on a random k-dimensional linear subspace of R^d (uniform coordinates), plus an offset. */
function subspacePoints(rng: Rng, n: number, k: number, d: number, offset = 0): Tensor {
  const basis = rng.randn([k, d], 1, 'float64').data;
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let a = 0; a < k; a++) {
    const c = rng.uniform();
    for (let j = 0; j < d; j++) out[i * d + j] += c * basis[a * d + j];
  }
  for (let i = 0; i < n; i++) out[i * d] += offset;
  return new Tensor(out, [n, d]);
}

/** The authors' procedure written out naively: direct distances, full sorts, explicit lists. */
function naiveTwoNN(t: Tensor, factor = 5): number {
  const d = t.dim(-1);
  const n = t.size / d;
  const rows = Array.from({ length: n }, (_, i) => Array.from(t.data.subarray(i * d, i * d + d)));
  const mean = Array.from({ length: d }, (_, j) => rows.reduce((s, r) => s + r[j], 0) / n);
  const c = rows.map((r) => r.map((v, j) => v - mean[j]));
  const avg = c.reduce((s, r) => s + Math.sqrt(r.reduce((a, v) => a + v * v, 0)), 0) / n;
  const e = c.map((r) => r.map((v) => v / avg));
  const eps = 1e-8;
  const mu: number[] = [];
  for (let i = 0; i < n; i++) {
    const dists: number[] = [];
    for (let j = 0; j < n; j++) if (j !== i) dists.push(Math.sqrt(e[i].reduce((a, v, f) => a + (v - e[j][f]) ** 2, 0)));
    dists.sort((a, b) => a - b);
    mu.push(dists[0] < eps ? -1 : dists[1] / dists[0]);
  }
  mu.sort((a, b) => a - b);
  const useless = mu.filter((m) => m <= 1 + eps).length;
  const kept = mu.slice(useless);
  const m = Math.min(Math.floor(kept.length / factor), kept.length - 1);
  let sxy = 0;
  let sxx = 0;
  for (let j = 0; j < m; j++) {
    const x = Math.log(kept[j]);
    const y = -Math.log(1 - (useless + j + 1) / n);
    sxy += x * y;
    sxx += x * x;
  }
  return sxy / sxx;
}

test('two nearest neighbours by blocked GEMM equal brute force, duplicates give exact zeros', () => {
  const rng = new Rng(1);
  const n = 300;
  const d = 9;
  const x = rng.randn([n, d], 1, 'float64').data as Float64Array;
  for (let i = 0; i < n; i++) x[i * d + 2] += 1e4; // a huge common feature
  for (const [a, b] of [[5, 17], [5, 230], [40, 41]]) x.copyWithin(b * d, a * d, a * d + d);
  const { r1, r2 } = twoNearestNeighbours(x, n, d, { blockRows: 64 });
  for (let i = 0; i < n; i++) {
    const dist: number[] = [];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      let s = 0;
      for (let f = 0; f < d; f++) s += (x[i * d + f] - x[j * d + f]) ** 2;
      dist.push(Math.sqrt(s));
    }
    dist.sort((p, q) => p - q);
    assert.ok(Math.abs(r1[i] - dist[0]) <= 1e-12 * (1 + dist[0]), `r1 of ${i}`);
    assert.ok(Math.abs(r2[i] - dist[1]) <= 1e-12 * (1 + dist[1]), `r2 of ${i}`);
  }
  assert.equal(r1[5], 0);
  assert.equal(r2[5], 0);
  assert.equal(r1[40], 0);
});

test('TwoNN: equals a naive run of the authors\' procedure (with duplicates)', () => {
  const rng = new Rng(2);
  const t = subspacePoints(rng, 400, 4, 12, 50);
  for (const [a, b] of [[3, 100], [3, 200], [7, 8]]) t.data.copyWithin(b * 12, a * 12, a * 12 + 12);
  const r = intrinsicDimension(t, { blockRows: 100 });
  assert.equal(r.points, 400);
  assert.ok(r.discarded >= 5, `duplicates discarded: ${r.discarded}`);
  const want = naiveTwoNN(t);
  assert.ok(Math.abs(r.dimension - want) <= 1e-10 * want, `${r.dimension} vs ${want}`);
  const f32 = intrinsicDimension(new Tensor(Float32Array.from(t.data), [4, 100, 12]));
  assert.ok(Math.abs(f32.dimension - naiveTwoNN(new Tensor(Float64Array.from(Float32Array.from(t.data)), [400, 12]))) < 1e-9);
});

test('TwoNN: recovers the dimension of points on a linear subspace', () => {
  const rng = new Rng(3);
  for (const k of [2, 5]) {
    const r = intrinsicDimension(subspacePoints(rng, 2000, k, 24));
    assert.ok(Math.abs(r.dimension - k) < 0.25 * k, `k = ${k}: fit ${r.dimension}`);
    assert.ok(Math.abs(r.maximumLikelihood - k) < 0.25 * k, `k = ${k}: MLE ${r.maximumLikelihood}`);
  }
  const capped = intrinsicDimension(subspacePoints(rng, 500, 3, 10), { maxPoints: 200 });
  assert.equal(capped.points, 200);
  assert.throws(() => intrinsicDimension(Tensor.zeros([2, 4])), /at least 3 points/);
});
