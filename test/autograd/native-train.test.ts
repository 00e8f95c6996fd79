/**
 * The training-step kernels in C that keep a run's numbers exactly (native/kernels.c: the trainers'
 * float64 AdamW step, the gradient-norm clipping, the blocked attention backward, the embedding's
 * scatter-add, RoPE from a cos/sin table) against their
 * TypeScript loops, the oracle: bit for bit, at 1 and 2 threads. Skipped when the C library cannot
 * be built here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attention, backward, clipGradNorm, constant, embedding, mul, rope, sum, isNotMatrix, param, type AttentionOptions, type Var } from '../../src/autograd/index.ts';
import { CheckpointableAdamW } from '../../src/autograd/optim/adam.ts';
import { nativeKernels, nativeKernelsStatus, withNativeKernels } from '../../src/tensor/native-kernels.ts';
import { Rng } from '../../src/tensor/random.ts';
import { applyRope, ropeInverseFrequencies } from '../../src/tensor/rope.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { withThreads } from '../helpers/threads.ts';

const skip = nativeKernels() ? false : `native kernels unavailable: ${nativeKernelsStatus()}`;


/** Parameters of a few shapes (a matrix above the kernels' parallel threshold, a vector) with gradients set. */
function setup(seed: number): Var[] {
  const rng = new Rng(seed);
  const shapes = [[300, 257], [257], [7, 3]];
  return shapes.map((s, i) => {
    const p = param(rng.randn(s, 0.5), `p${i}`);
    p.grad = rng.randn(s, 2);
    return p;
  });
}

/** Five AdamW steps (weight-decayed and plain parameters, clipping before each) on one path: the parameters and moments after. */
function run(native: boolean, threads: number): Float32Array[] {
  return withThreads(threads, () => withNativeKernels(native, () => {
    const params = setup(3);
    const grads = params.map((p) => p.grad!.data.slice());
    const opt = new CheckpointableAdamW(params, { lr: 2e-3, betas: [0.9, 0.95], weightDecay: 0.1, noDecay: isNotMatrix });
    const norms: number[] = [];
    for (let s = 0; s < 5; s++) {
      params.forEach((p, i) => {
        const g = grads[i];
        for (let j = 0; j < g.length; j++) p.grad!.data[j] = g[j] * (1 + 0.3 * s) + 0.01 * p.value.data[j];
      });
      norms.push(clipGradNorm(params, s % 2 ? 1e9 : 1)); // clipping on even steps only
      opt.step();
    }
    const out = params.flatMap((p) => {
      const st = opt.stateOf(p)!;
      return [p.value.data, st.m, st.v, p.grad!.data] as Float32Array[];
    });
    return [...out, Float32Array.from(norms)];
  }));
}

test('AdamW step and gradient clipping: C equals TypeScript bit for bit at 1 and 2 threads', { skip }, () => {
  const oracle = run(false, 1);
  for (const t of [1, 2]) {
    const got = run(true, t);
    got.forEach((a, i) => assert.deepEqual(a, oracle[i], `array ${i} at ${t} threads`));
  }
});

test('clipGradNorm: the norm in float64 equals the TypeScript sum to the last bit', { skip }, () => {
  const rng = new Rng(5);
  const make = () => [param(Tensor.zeros([1000])), param(Tensor.zeros([333]))];
  const data = [rng.randn([1000], 3).data, rng.randn([333], 1e-3).data];
  const norm = (native: boolean) => withNativeKernels(native, () => {
    const ps = make();
    ps.forEach((p, i) => (p.grad = new Tensor(data[i].slice(), p.value.shape)));
    return clipGradNorm(ps, Infinity);
  });
  assert.equal(norm(true), norm(false));
});

test('attention backward: C equals TypeScript bit for bit (causal, GQA, cache prefix, window, padding, ALiBi, non-causal)', { skip }, () => {
  const [B, H, Hkv, Dh] = [3, 4, 2, 16];
  const blocks = { query: 8, key: 16 };
  for (const [Tq, Tk] of [[37, 37], [70, 70], [20, 33]]) {
    const rng = new Rng(Tq * 100 + Tk);
    const q = param(rng.randn([B, Tq, H * Dh])), k = param(rng.randn([B, Tk, Hkv * Dh])), v = param(rng.randn([B, Tk, Hkv * Dh]));
    const keyMask = Array.from({ length: B * Tk }, (_, i) => (i >= Tk && i % Tk < 5 ? 0 : 1));
    const alibiPositions = Array.from({ length: B * Tk }, (_, i) => i % Tk);
    const base: AttentionOptions = { numHeads: H, numKvHeads: Hkv, headDim: Dh, scale: 1 / Math.sqrt(Dh), blocks };
    const variants: [string, AttentionOptions][] = [
      ['causal', base],
      ['window 9', { ...base, slidingWindow: 9 }],
      ['padding + ALiBi', { ...base, keyMask, alibiSlopes: [0.5, 0.25, 0.125, 0.0625], alibiPositions }],
      ['non-causal + padding', { ...base, causal: false, keyMask }],
    ];
    for (const [name, opts] of variants) {
      const y = attention(q, k, v, opts);
      const gy = rng.randn(y.shape as number[]);
      const grads = (native: boolean, threads: number) => withThreads(threads, () => withNativeKernels(native, () => {
        for (const p of [q, k, v]) p.grad = null;
        y.node!.backward(gy, false);
        return [q, k, v].map((p) => p.grad!.data.slice());
      }));
      const oracle = grads(false, 1);
      for (const t of [1, 2]) {
        grads(true, t).forEach((g, i) => assert.deepEqual(g, oracle[i], `${name} ${Tq}×${Tk}: gradient ${'qkv'[i]} at ${t} threads`));
      }
    }
  }
});

test('embedding backward: C equals TypeScript bit for bit (repeated ids accumulate in order)', { skip }, () => {
  const rng = new Rng(9);
  const table = rng.randn([50, 300]);
  const ids = Array.from({ length: 700 }, (_, i) => (i * 37) % 50);
  const w = rng.randn([700, 300], 3);
  const grad = (native: boolean, threads: number) => withThreads(threads, () => withNativeKernels(native, () => {
    const t = param(table.clone());
    backward(sum(mul(embedding(t, ids), constant(w))));
    return t.grad!.data.slice();
  }));
  const oracle = grad(false, 1);
  for (const t of [1, 2]) assert.deepEqual(grad(true, t), oracle, `at ${t} threads`);
});

test('RoPE from the cos/sin table: forward and backward equal applyRope at ±positions (a table of the negated positions) bit for bit, TypeScript to 1e-6', { skip }, () => {
  const [B, T, H, Dh] = [3, 40, 4, 16];
  const rng = new Rng(12);
  const positions = Float64Array.from({ length: B * T }, (_, i) => (i % T) + (i >= 2 * T ? 7 : 0));
  for (const style of ['half', 'interleaved'] as const) {
    for (const rotaryDim of [16, 8]) {
      const opts = { numHeads: H, headDim: Dh, rotaryDim, invFreq: ropeInverseFrequencies(rotaryDim, 10000), style, positions, attentionScaling: rotaryDim === 8 ? 1.3 : undefined };
      const x = rng.randn([B, T, H * Dh]), gy = rng.randn([B, T, H * Dh]);
      const run = (native: boolean, threads: number) => withThreads(threads, () => withNativeKernels(native, () => {
        const v = param(x.clone());
        const y = rope(v, opts);
        backward(sum(mul(y, constant(gy))));
        return [y.value.data.slice(), v.grad!.data.slice()];
      }));
      // applyRope on fresh positions arrays: forward at the positions, backward at the negated ones
      // (its own table, whose sines are computed at −p rather than negated)
      const fwd = x.clone(), bwd = gy.clone();
      withNativeKernels(true, () => {
        applyRope(fwd, { ...opts, positions: positions.slice() });
        applyRope(bwd, { ...opts, positions: positions.map((p) => -p) });
      });
      for (const t of [1, 2]) {
        const [y, gx] = run(true, t);
        assert.deepEqual(y, fwd.data, `${style} ${rotaryDim}: forward at ${t} threads`);
        assert.deepEqual(gx, bwd.data, `${style} ${rotaryDim}: backward at ${t} threads`);
      }
      const [yTs, gTs] = run(false, 1);
      const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]) / Math.max(Math.abs(b[i]), 1e-3)));
      assert.ok(rel(fwd.data, yTs) <= 1e-6 && rel(bwd.data, gTs) <= 1e-6, `${style} ${rotaryDim}: TypeScript`);
    }
  }
});
