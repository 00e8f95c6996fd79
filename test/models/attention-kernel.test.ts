/**
 * The blocked online-softmax attention kernel (src/tensor/attention.ts, which computes only the score
 * tiles a block of queries can see) against a plain triple loop, on sequences longer than one row
 * block, with every mask combination the models use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attention, type AttentionOptions } from '../../src/tensor/attention.ts';
import { maxAbsDiff } from '../../src/tensor/elementwise.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

function naiveAttention(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions): { out: Tensor; probs: Tensor } {
  const [B, Tq] = q.shape;
  const Tk = k.shape[1];
  const { numHeads: H, numKvHeads: Hkv, headDim: Dh } = o;
  const offset = o.queryOffset ?? Tk - Tq;
  const out = Tensor.zeros([B, Tq, H * Dh], 'float64');
  const probs = Tensor.zeros([B, H, Tq, Tk], 'float64');
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const kvh = Math.floor(h / (H / Hkv));
    for (let i = 0; i < Tq; i++) {
      const qi = offset + i;
      const s = new Float64Array(Tk).fill(-Infinity);
      for (let j = 0; j < Tk; j++) {
        if ((o.causal ?? true) && j > qi) continue;
        if (o.keyMask && o.keyMask[b * Tk + j] === 0) continue;
        if (o.slidingWindow !== undefined && qi - j >= o.slidingWindow) continue;
        let dot = 0;
        for (let d = 0; d < Dh; d++) dot += q.data[(b * Tq + i) * H * Dh + h * Dh + d] * k.data[(b * Tk + j) * Hkv * Dh + kvh * Dh + d];
        s[j] = o.scale * dot + (o.alibiSlopes ? o.alibiSlopes[h] * o.alibiPositions![b * Tk + j] : 0);
      }
      const max = Math.max(...s);
      if (max === -Infinity) continue;
      let sum = 0;
      for (let j = 0; j < Tk; j++) sum += Math.exp(s[j] - max);
      for (let j = 0; j < Tk; j++) {
        const p = Math.exp(s[j] - max) / sum;
        probs.data[((b * H + h) * Tq + i) * Tk + j] = p;
        for (let d = 0; d < Dh; d++) out.data[(b * Tq + i) * H * Dh + h * Dh + d] += p * v.data[(b * Tk + j) * Hkv * Dh + kvh * Dh + d];
      }
    }
  }
  return { out, probs };
}

function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-300);
}

const CASES: Array<{ name: string; Tq: number; Tk: number; opts: Partial<AttentionOptions> }> = [
  { name: 'causal, 300 tokens', Tq: 300, Tk: 300, opts: {} },
  { name: 'cache: 40 new queries after 260 keys', Tq: 40, Tk: 300, opts: {} },
  { name: 'one query (generation step)', Tq: 1, Tk: 300, opts: {} },
  { name: 'sliding window 50', Tq: 300, Tk: 300, opts: { slidingWindow: 50 } },
  { name: 'window 7 with a cache', Tq: 140, Tk: 200, opts: { slidingWindow: 7 } },
  { name: 'not causal', Tq: 150, Tk: 150, opts: { causal: false } },
];

/** Left padding of the second batch row (131 pad tokens) and ALiBi, as the batched eval path builds them. */
function paddedAlibi(B: number, Tk: number): Partial<AttentionOptions> {
  return {
    keyMask: Array.from({ length: B * Tk }, (_, i) => (i >= Tk && i % Tk < 131 ? 0 : 1)),
    alibiSlopes: [0.5, 0.25, 0.125, 0.0625],
    alibiPositions: Array.from({ length: B * Tk }, (_, i) => Math.max(0, (i % Tk) - (i >= Tk ? 131 : 0))),
  };
}

/** Every case, without and with left padding + ALiBi: random float32 q, k, v of B rows (H heads, Hkv kv heads of Dh). */
function forEachCase(seed: number, B: number, H: number, Hkv: number, Dh: number,
  check: (c: (typeof CASES)[number], name: string, q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions) => void): void {
  const rng = new Rng(seed);
  for (const c of CASES) {
    for (const padded of [false, true]) {
      const q = rng.randn([B, c.Tq, H * Dh]);
      const k = rng.randn([B, c.Tk, Hkv * Dh]);
      const v = rng.randn([B, c.Tk, Hkv * Dh]);
      const opts: AttentionOptions = { numHeads: H, numKvHeads: Hkv, headDim: Dh, scale: 1 / Math.sqrt(Dh), ...(padded ? paddedAlibi(B, c.Tk) : {}), ...c.opts };
      check(c, `${c.name}${padded ? ', padded + ALiBi' : ''}`, q, k, v, opts);
    }
  }
}

test('blocked attention equals the plain definition across blocks, caches, masks, windows, ALiBi and GQA', () => {
  forEachCase(5, 2, 4, 2, 8, (_c, name, q, k, v, opts) => {
    const want = naiveAttention(q, k, v, opts);
    for (const blocks of [undefined, { query: 16, key: 24 }, { query: 7, key: 5 }]) {
      const withProbs = attention(q, k, v, { ...opts, blocks, keepProbs: true });
      assert.ok(maxAbsDiff(withProbs.probs!, want.probs) < 1e-5, `${name}: probs`);
      assert.ok(maxAbsDiff(withProbs.out, want.out) < 1e-5, `${name}: output`);
      assert.deepEqual(attention(q, k, v, { ...opts, blocks }).out.data, withProbs.out.data, `${name}: output without probabilities`);
    }
  });
});

test('blocked attention in float64 equals the plain definition to 1e-10 relative (the fast exp is good to 4e-11), and its log-sum-exp too', () => {
  const rng = new Rng(6);
  const [B, H, Hkv, Dh] = [2, 4, 1, 8];
  for (const c of CASES) {
    const q = rng.randn([B, c.Tq, H * Dh], 1, 'float64');
    const k = rng.randn([B, c.Tk, Hkv * Dh], 1, 'float64');
    const v = rng.randn([B, c.Tk, Hkv * Dh], 1, 'float64');
    const opts: AttentionOptions = { numHeads: H, numKvHeads: Hkv, headDim: Dh, scale: 0.3, ...paddedAlibi(B, c.Tk), ...c.opts };
    const want = naiveAttention(q, k, v, opts);
    const got = attention(q, k, v, { ...opts, blocks: { query: 16, key: 24 }, keepLse: true });
    assert.ok(relDiff(got.out.data, want.out.data) < 1e-10, `${c.name}: output`);
    // lse_i = S_ij − ln p_ij at the row's largest probability
    for (let row = 0; row < B * H * c.Tq; row++) {
      const p = want.probs.data.subarray(row * c.Tk, (row + 1) * c.Tk);
      let j = 0;
      for (let x = 1; x < c.Tk; x++) if (p[x] > p[j]) j = x;
      if (p[j] === 0) {
        assert.equal(got.lse![row], -Infinity, `${c.name}: lse of a row that sees nothing`);
        continue;
      }
      const [b, h, i] = [Math.floor(row / (H * c.Tq)), Math.floor(row / c.Tq) % H, row % c.Tq];
      let dot = 0;
      for (let d = 0; d < Dh; d++) dot += q.data[(b * c.Tq + i) * H * Dh + h * Dh + d] * k.data[(b * c.Tk + j) * Hkv * Dh + d];
      const sij = opts.scale * dot + opts.alibiSlopes![h] * opts.alibiPositions![b * c.Tk + j];
      assert.ok(Math.abs(got.lse![row] - (sij - Math.log(p[j]))) < 1e-10, `${c.name}: lse`);
    }
  }
});

/** k [B, Tk, W] in a [B, Tk + extra, W] buffer whose extra rows are NaN: a KV cache with room to grow. */
function withRoom(k: Tensor, extra: number): Tensor {
  const [B, Tk, W] = k.shape;
  const out = Tensor.full([B, Tk + extra, W], Number.NaN, k.dtype);
  for (let b = 0; b < B; b++) out.data.set(k.data.subarray(b * Tk * W, (b + 1) * Tk * W), b * (Tk + extra) * W);
  return out;
}

test('keys and values with room after their keyRows rows (a growing KV cache) give the same bits, native kernel and TypeScript loop', () => {
  forEachCase(7, 3, 4, 2, 8, (c, name, q, k, v, opts) => {
    const roomy = { ...opts, keyRows: c.Tk };
    // without kept probabilities the C kernel runs (when built); with them, the TypeScript loop
    assert.deepEqual(attention(q, withRoom(k, 37), withRoom(v, 37), roomy).out.data, attention(q, k, v, opts).out.data, `${name}: native`);
    const ts = attention(q, withRoom(k, 5), withRoom(v, 5), { ...roomy, keepProbs: true });
    const plain = attention(q, k, v, { ...opts, keepProbs: true });
    assert.deepEqual(ts.out.data, plain.out.data, `${name}: TypeScript`);
    assert.deepEqual(ts.probs!.data, plain.probs!.data, `${name}: probabilities`);
  });
  const rng = new Rng(8);
  assert.throws(() => attention(rng.randn([1, 2, 8]), rng.randn([1, 3, 8]), rng.randn([1, 3, 8]), { numHeads: 1, numKvHeads: 1, headDim: 8, scale: 1, keyRows: 4 }), /keyRows 4/);
});
