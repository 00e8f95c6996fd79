import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.ts';
import { Rng } from '../../src/tensor/random.ts';
import { LaserEditor } from '../../src/laser/intervention.ts';
import { truncatedSvd, reconstruct } from '../../src/linalg/truncated-svd.ts';
import { jacobiSvd, referenceTruncation, sumOfComponents } from './reference-svd.ts';
import { WeightStore } from './weight-store.ts';

const d = 12;
const ff = 20;

/** GPT-2-like store: fused c_attn [d, 3d] in_out, c_proj [d, d] in_out, mlp c_fc [d, ff] in_out, plus an out_in NeoX-style interleaved qkv. */
function store(seed = 1): WeightStore {
  const rng = new Rng(seed);
  const w = new Map<string, Tensor>();
  w.set('attn.c_attn', rng.randn([d, 3 * d]));
  w.set('attn.c_proj', rng.randn([d, d]));
  w.set('mlp.c_fc', rng.randn([d, ff]));
  w.set('neox.qkv', rng.randn([3 * d, d]));
  w.set('llama.down', rng.randn([d, ff], 1, 'float64'));
  const heads = 3, hd = d / heads;
  const neoxRows = (which: number) => Int32Array.from({ length: d }, (_, i) => Math.floor(i / hd) * 3 * hd + which * hd + (i % hd));
  return new WeightStore(w, 1, () => ({
    q: { tensorName: 'attn.c_attn', layout: 'in_out', cols: [0, d] },
    k: { tensorName: 'attn.c_attn', layout: 'in_out', cols: { start: d, end: 2 * d } },
    v: { tensorName: 'neox.qkv', layout: 'out_in', rows: neoxRows(2) },
    up: { tensorName: 'neox.qkv', layout: 'out_in', outRanges: Array.from({ length: heads }, (_, h) => [3 * hd * h + hd, 3 * hd * h + 2 * hd] as [number, number]) },
    o: { tensorName: 'attn.c_proj', layout: 'in_out' },
    in: { tensorName: 'mlp.c_fc', layout: 'in_out' },
    out: { tensorName: 'llama.down', layout: 'out_in' },
  }));
}

function block(t: Tensor, rows: number[], cols: number[]): Float64Array {
  const out = new Float64Array(rows.length * cols.length);
  rows.forEach((r, i) => cols.forEach((c, j) => (out[i * cols.length + j] = t.data[r * t.shape[1] + c])));
  return out;
}
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('a fused block is replaced by its reference truncation and nothing else changes', () => {
  const s = store();
  const before = s.getWeight('attn.c_attn').clone();
  const res = new LaserEditor(s).apply({ type: 'k', layer: 0, rho: 0.25 });
  assert.equal(res.rank, 3);
  assert.equal(res.tensorName, 'attn.c_attn');
  const after = s.getWeight('attn.c_attn');
  const expected = referenceTruncation(block(before, range(0, d), range(d, 2 * d)), d, d, 3);
  assert.ok(maxAbsDiff(block(after, range(0, d), range(d, 2 * d)), expected) < 1e-5);
  // q and v columns untouched, bit for bit
  assert.deepEqual(block(after, range(0, d), [...range(0, d), ...range(2 * d, 3 * d)]), block(before, range(0, d), [...range(0, d), ...range(2 * d, 3 * d)]));
  assert.ok(Math.abs(res.relativeError - relErr(block(before, range(0, d), range(d, 2 * d)), expected)) < 1e-9);
});

function relErr(a: Float64Array, b: Float64Array): number {
  let n = 0, dd = 0;
  for (let i = 0; i < a.length; i++) { n += (a[i] - b[i]) ** 2; dd += a[i] ** 2; }
  return Math.sqrt(n / dd);
}

test('interleaved rows (GPT-NeoX qkv) and float64 tensors', () => {
  const s = store();
  const rows = Array.from(s.matrices(0).v!.rows as Int32Array);
  const beforeQkv = s.getWeight('neox.qkv').clone();
  new LaserEditor(s).apply({ type: 'v', layer: 0, rho: 0.5 });
  const got = block(s.getWeight('neox.qkv'), rows, range(0, d));
  assert.ok(maxAbsDiff(got, referenceTruncation(block(beforeQkv, rows, range(0, d)), d, d, 6)) < 1e-5);
  const others = range(0, 3 * d).filter((r) => !rows.includes(r));
  assert.deepEqual(block(s.getWeight('neox.qkv'), others, range(0, d)), block(beforeQkv, others, range(0, d)));

  const before = s.getWeight('llama.down').clone();
  new LaserEditor(s).apply({ type: 'out', layer: 0, rho: 0.3 });
  const exp = referenceTruncation(before.data, d, ff, 3);
  assert.ok(maxAbsDiff(s.getWeight('llama.down').data, exp) < 1e-12);
});

test('compose in any order on different matrices, undo restores exactly', () => {
  const a = store(), b = store();
  const original = new Map([...a.weights].map(([k, v]) => [k, v.clone()]));
  const ivs = [
    { type: 'q' as const, layer: 0, rho: 0.5 },
    { type: 'in' as const, layer: 0, rho: 0.2 },
    { type: 'k' as const, layer: 0, rho: 0.1 },
  ];
  const ea = new LaserEditor(a);
  ea.applyAll(ivs);
  new LaserEditor(b).applyAll([...ivs].reverse());
  for (const [name, t] of a.weights) assert.deepEqual(t.data, b.weights.get(name)!.data, name);
  assert.deepEqual(ea.touchedTensors().sort(), ['attn.c_attn', 'mlp.c_fc']);
  assert.equal(ea.applied.length, 3);
  ea.undo();
  for (const [name, t] of a.weights) assert.deepEqual(t.data, original.get(name)!.data, name);
  assert.equal(ea.applied.length, 0);
});

test('same matrix twice: exact truncation to r1 then r2 equals truncation to min(r1, r2)', () => {
  const a = store(), b = store();
  new LaserEditor(a).applyAll([{ type: 'o', layer: 0, rho: 0.5 }, { type: 'o', layer: 0, rho: 0.25 }]);
  new LaserEditor(b).apply({ type: 'o', layer: 0, rho: 0.25 });
  assert.ok(maxAbsDiff(a.getWeight('attn.c_proj').data, b.getWeight('attn.c_proj').data) < 1e-5);
});

test('factored form reproduces the reduced map in the y = W·x orientation and counts parameters', () => {
  const s = store();
  const res = new LaserEditor(s).apply({ type: 'in', layer: 0, rho: 0.25 }, { keepFactors: true });
  const r = res.rank;
  assert.equal(r, 3);
  assert.equal(res.outDim, ff);
  assert.equal(res.inDim, d);
  assert.equal(res.denseParams, d * ff);
  assert.equal(res.factoredParams, r * (d + ff));
  const { left, right } = res.factors!;
  assert.deepEqual(left.shape, [ff, r]);
  assert.deepEqual(right.shape, [r, d]);
  const stored = s.getWeight('mlp.c_fc'); // [in, out]
  for (let o = 0; o < ff; o++) {
    for (let i = 0; i < d; i++) {
      let w = 0;
      for (let k = 0; k < r; k++) w += left.data[o * r + k] * right.data[k * d + i];
      assert.ok(Math.abs(w - stored.data[i * ff + o]) < 1e-5);
    }
  }
});

test("'bottom' keeps the smallest components, 'residual' is W − W_r", () => {
  const s = store();
  const w = block(s.getWeight('attn.c_proj'), range(0, d), range(0, d));
  const ref = jacobiSvd(w, d, d);
  const e = new LaserEditor(s);
  e.apply({ type: 'o', layer: 0, rho: 0.25 }, { keep: 'bottom' });
  assert.ok(maxAbsDiff(s.getWeight('attn.c_proj').data, sumOfComponents(ref, d, d, [9, 10, 11])) < 1e-5);
  e.undo();
  const res = e.apply({ type: 'o', layer: 0, rho: 0.25 }, { keep: 'residual' });
  assert.equal(res.factoredParams, 9 * 2 * d);
  assert.ok(maxAbsDiff(s.getWeight('attn.c_proj').data, sumOfComponents(ref, d, d, range(3, 12))) < 1e-5);
});

test('randomized SVD: seeded, exact on a low-rank matrix, close on a decaying spectrum', () => {
  const rng = new Rng(3);
  const m = 60, n = 40;
  // exact rank 5 matrix
  const a = rng.randn([m, 5], 1, 'float64'), b = rng.randn([5, n], 1, 'float64');
  const lr = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let k = 0; k < 5; k++) lr[i * n + j] += a.data[i * 5 + k] * b.data[k * n + j];
  const f = truncatedSvd(lr, m, n, 5, { method: 'randomized', seed: 7 });
  assert.ok(maxAbsDiff(reconstruct(f), lr) < 1e-9);
  const again = truncatedSvd(lr, m, n, 5, { method: 'randomized', seed: 7 });
  assert.deepEqual(again.s, f.s);
  // decaying spectrum: randomized top-8 singular values match exact ones closely
  const g = rng.randn([m, n], 1, 'float64').data as Float64Array;
  const ex = truncatedSvd(g, m, n, 8);
  const rs = truncatedSvd(g, m, n, 8, { method: 'randomized', seed: 1, oversample: 10, powerIterations: 4 });
  for (let i = 0; i < 8; i++) assert.ok(Math.abs(rs.s[i] - ex.s[i]) / ex.s[i] < 0.02, `σ${i}: ${rs.s[i]} vs ${ex.s[i]}`);
  assert.throws(() => truncatedSvd(g, m, n, 3, { method: 'randomized', keep: 'bottom' }), /only finds the top/);
});

test("src/models' outRanges form selects the same block as explicit rows", () => {
  const s = store();
  const rowsK = Int32Array.from({ length: d }, (_, i) => Math.floor(i / 4) * 12 + 4 + (i % 4));
  const before = s.getWeight('neox.qkv').clone();
  new LaserEditor(s).apply({ type: 'up', layer: 0, rho: 0.25 });
  const expected = referenceTruncation(block(before, [...rowsK], range(0, d)), d, d, 3);
  assert.ok(maxAbsDiff(block(s.getWeight('neox.qkv'), [...rowsK], range(0, d)), expected) < 1e-5);
});

test('clear errors', () => {
  const s = store();
  const e = new LaserEditor(new WeightStore(s.weights, 1, () => ({ q: s.matrices(0).q })));
  assert.throws(() => e.apply({ type: 'up', layer: 0, rho: 0.1 }), /no "up" matrix/);
  assert.throws(() => e.apply({ type: 'q', layer: 1, rho: 0.1 }), /layer 1 out of range/);
});

test('the truncation agrees with an independent Jacobi SVD (float64); the randomized one recovers a low-rank matrix', () => {
  const g = new Rng(11).randn([30, 50], 1, 'float64');
  const ref = jacobiSvd(g.data, 30, 50);
  const r = 7;
  const want = new Float64Array(30 * 50);
  for (let i = 0; i < 30; i++) for (let j = 0; j < 50; j++) {
    let v = 0;
    for (let k = 0; k < r; k++) v += ref.u[i * 30 + k] * ref.s[k] * ref.vt[k * 50 + j];
    want[i * 50 + j] = v;
  }
  const low = reconstruct(truncatedSvd(g.data as Float64Array, 30, 50, r));
  assert.ok(maxAbsDiff(low, want) < 1e-10);
  assert.ok(maxAbsDiff(reconstruct(truncatedSvd(low, 30, 50, r, { method: 'randomized', seed: 3 })), low) < 1e-10);
});
