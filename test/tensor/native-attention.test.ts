/**
 * The C blocked attention forward (native/kernels.c lk_attention_fwd_f32) against the TypeScript loop
 * of src/tensor/attention.ts, its oracle: outputs and log-sum-exps equal to 1e-6 relative at 1 and 2
 * threads, across caches, generation steps, sliding windows, key padding, ALiBi, GQA, tile shapes and
 * rows that see no key. Skipped when the native kernels or OpenBLAS are unavailable (the TypeScript
 * loop then runs, and test/models/attention-kernel.test.ts checks it against the definition).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backend } from '../../src/backend/index.ts';
import { gatherColumns } from '../../src/models/layers.ts';
import { attention, attentionFromFused, type AttentionOptions } from '../../src/tensor/attention.ts';
import { nativeKernels, nativeKernelsStatus, withNativeKernels } from '../../src/tensor/native-kernels.ts';
import { Rng } from '../../src/tensor/random.ts';

const skip = !nativeKernels() ? `native kernels unavailable: ${nativeKernelsStatus()}` : backend().name !== 'openblas' ? 'no OpenBLAS backend' : false;

/** max |a − b| / max |b| over the finite entries; non-finite entries must be equal. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(b[i])) {
      assert.ok(Object.is(a[i], b[i]), `entry ${i}: ${a[i]} vs ${b[i]}`);
      continue;
    }
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-30);
}

const CASES: Array<{ name: string; B: number; Tq: number; Tk: number; H: number; Hkv: number; Dh: number; opts: Partial<AttentionOptions> }> = [
  { name: 'causal, 300 tokens, 2 rows', B: 2, Tq: 300, Tk: 300, H: 4, Hkv: 4, Dh: 16, opts: {} },
  { name: 'GPT-2 head shape, 1 × 520 tokens', B: 1, Tq: 520, Tk: 520, H: 3, Hkv: 3, Dh: 64, opts: {} },
  { name: 'GQA, cache: 40 queries after 260 keys', B: 2, Tq: 40, Tk: 300, H: 4, Hkv: 2, Dh: 8, opts: {} },
  { name: 'one query (generation step)', B: 2, Tq: 1, Tk: 300, H: 4, Hkv: 1, Dh: 8, opts: {} },
  { name: 'sliding window 50', B: 2, Tq: 300, Tk: 300, H: 2, Hkv: 2, Dh: 8, opts: { slidingWindow: 50 } },
  { name: 'window 7 with a cache, small tiles', B: 1, Tq: 140, Tk: 200, H: 2, Hkv: 1, Dh: 8, opts: { slidingWindow: 7, blocks: { query: 7, key: 5 } } },
  { name: 'not causal', B: 2, Tq: 150, Tk: 150, H: 2, Hkv: 2, Dh: 8, opts: { causal: false } },
  { name: 'tiles 16 × 24', B: 2, Tq: 300, Tk: 300, H: 2, Hkv: 2, Dh: 8, opts: { blocks: { query: 16, key: 24 } } },
];

/** Left padding of the second row (131 tokens), a fully padded third row, and ALiBi. */
function paddedAlibi(B: number, Tk: number, H: number): Partial<AttentionOptions> {
  return {
    keyMask: Array.from({ length: B * Tk }, (_, i) => (i >= 2 * Tk ? 0 : i >= Tk && i % Tk < 131 ? 0 : 1)),
    alibiSlopes: Array.from({ length: H }, (_, h) => 2 ** -(h + 1)),
    alibiPositions: Array.from({ length: B * Tk }, (_, i) => Math.max(0, (i % Tk) - (i >= Tk ? 131 : 0))),
  };
}

test('native blocked attention equals the TypeScript loop (outputs and log-sum-exps, 1 and 2 threads)', { skip }, () => {
  const rng = new Rng(11);
  const be = backend();
  const threads = be.threads();
  try {
    for (const c of CASES) {
      for (const padded of [false, true]) {
        const B = padded ? 3 : c.B;
        const q = rng.randn([B, c.Tq, c.H * c.Dh], 2);
        const k = rng.randn([B, c.Tk, c.Hkv * c.Dh], 2);
        const v = rng.randn([B, c.Tk, c.Hkv * c.Dh]);
        const opts: AttentionOptions = { numHeads: c.H, numKvHeads: c.Hkv, headDim: c.Dh, scale: 1 / Math.sqrt(c.Dh), keepLse: true, ...(padded ? paddedAlibi(B, c.Tk, c.H) : {}), ...c.opts };
        const want = withNativeKernels(false, () => attention(q, k, v, opts));
        for (const t of [1, 2]) {
          be.setThreads(t);
          const got = withNativeKernels(true, () => attention(q, k, v, opts));
          const name = `${c.name}${padded ? ', padded + ALiBi' : ''}, ${t} threads`;
          assert.ok(relDiff(got.out.data, want.out.data) <= 1e-6, `${name}: output differs by ${relDiff(got.out.data, want.out.data)}`);
          assert.ok(relDiff(got.lse!, want.lse!) <= 1e-6, `${name}: log-sum-exp differs`);
          if (padded) assert.ok(got.out.data.subarray(2 * c.Tq * c.H * c.Dh).every((x) => x === 0), `${name}: a row that sees no key is zero`);
        }
      }
    }
  } finally {
    be.setThreads(threads);
  }
});

test('kept probabilities run the TypeScript loop and give the same output as the native path', { skip }, () => {
  const rng = new Rng(12);
  const q = rng.randn([1, 200, 32]), k = rng.randn([1, 200, 32]), v = rng.randn([1, 200, 32]);
  const opts: AttentionOptions = { numHeads: 4, numKvHeads: 4, headDim: 8, scale: 0.3 };
  const withProbs = attention(q, k, v, { ...opts, keepProbs: true });
  assert.ok(withProbs.probs);
  assert.ok(relDiff(attention(q, k, v, opts).out.data, withProbs.out.data) <= 1e-6);
});

test('attention on the q, k, v columns of a fused projection (read in place) equals attention on their copies', { skip }, () => {
  const rng = new Rng(13);
  const [B, T, H, Hkv, Dh] = [2, 260, 4, 2, 8];
  const W = (H + 2 * Hkv) * Dh + 5; // [q | k | v | 5 other columns]
  const y = rng.randn([B, T, W]);
  const [q0, k0, v0] = [0, H * Dh, (H + Hkv) * Dh];
  const cols = (a: number, w: number) => gatherColumns(y, [[a, a + w]]);
  for (const extra of [{}, paddedAlibi(B, T, H), { slidingWindow: 30 }]) {
    const opts: AttentionOptions = { numHeads: H, numKvHeads: Hkv, headDim: Dh, scale: 0.35, ...extra };
    const want = attention(cols(q0, H * Dh), cols(k0, Hkv * Dh), cols(v0, Hkv * Dh), opts).out;
    const got = attentionFromFused(y, q0, k0, v0, opts);
    assert.ok(got, 'the native kernel ran');
    assert.deepEqual(got.shape, want.shape);
    assert.ok(relDiff(got.data, want.data) <= 1e-6);
  }
  assert.throws(() => attentionFromFused(y, W - 4, k0, v0, { numHeads: H, numKvHeads: Hkv, headDim: Dh, scale: 1 }), /do not fit a fused width/);
});
