/**
 * The row-blocked attention kernel (src/tensor/attention.ts, which computes scores only against the
 * keys a block of queries can see) against a plain triple loop, on sequences longer than one row
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

test('blocked attention equals the plain definition across blocks, caches, masks, windows, ALiBi and GQA', () => {
  const rng = new Rng(5);
  const [B, H, Hkv, Dh] = [2, 4, 2, 8];
  const cases: Array<{ name: string; Tq: number; Tk: number; opts: Partial<AttentionOptions> }> = [
    { name: 'causal, 300 tokens', Tq: 300, Tk: 300, opts: {} },
    { name: 'cache: 40 new queries after 260 keys', Tq: 40, Tk: 300, opts: {} },
    { name: 'one query (generation step)', Tq: 1, Tk: 300, opts: {} },
    { name: 'sliding window 50', Tq: 300, Tk: 300, opts: { slidingWindow: 50 } },
    { name: 'window 7 with a cache', Tq: 140, Tk: 200, opts: { slidingWindow: 7 } },
    { name: 'not causal', Tq: 150, Tk: 150, opts: { causal: false } },
  ];
  for (const c of cases) {
    for (const padded of [false, true]) {
      const q = rng.randn([B, c.Tq, H * Dh]);
      const k = rng.randn([B, c.Tk, Hkv * Dh]);
      const v = rng.randn([B, c.Tk, Hkv * Dh]);
      const keyMask = padded ? Array.from({ length: B * c.Tk }, (_, i) => (i >= c.Tk && i % c.Tk < 131 ? 0 : 1)) : undefined;
      const alibi = padded ? { alibiSlopes: [0.5, 0.25, 0.125, 0.0625], alibiPositions: Array.from({ length: B * c.Tk }, (_, i) => i % c.Tk) } : {};
      const opts: AttentionOptions = { numHeads: H, numKvHeads: Hkv, headDim: Dh, scale: 1 / Math.sqrt(Dh), keyMask, ...alibi, ...c.opts, keepProbs: true };
      const got = attention(q, k, v, opts);
      const want = naiveAttention(q, k, v, opts);
      assert.ok(maxAbsDiff(got.probs!, want.probs) < 1e-5, `${c.name}${padded ? ', padded + ALiBi' : ''}: probs`);
      assert.ok(maxAbsDiff(got.out, want.out) < 1e-4, `${c.name}${padded ? ', padded + ALiBi' : ''}: output`);
    }
  }
});
