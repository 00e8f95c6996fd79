/**
 * The training kernels in C (native/kernels.c: SwiGLU, vocabulary cross-entropy, RMSNorm and
 * LayerNorm backward, GELU-tanh and SiLU backward) against their TypeScript twins in src/autograd,
 * the oracle: values and gradients equal to 1e-6 relative at 1 and 2 threads. Skipped when the C
 * library cannot be built here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { add, backward, constant, gelu, layerNorm, mul, param, rmsNorm, silu, sum } from '../../src/autograd/index.ts';
import { crossEntropyMean, swiGlu } from '../../src/autograd/ops/fused.ts';
import type { Var } from '../../src/autograd/var.ts';
import { backend } from '../../src/backend/index.ts';
import { nativeKernels, nativeKernelsStatus, withNativeKernels } from '../../src/tensor/native-kernels.ts';
import { Rng } from '../../src/tensor/random.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';

const skip = nativeKernels() ? false : `native kernels unavailable: ${nativeKernelsStatus()}`;

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (Object.is(a[i], b[i])) continue;
    const d = Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-30);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Runs `step` (building params from `inputs`, returning [value, ...params]) on both paths and compares values and gradients. */
function same(name: string, inputs: Tensor[], step: (vars: Var[]) => Var): void {
  const run = (on: boolean, threads: number): number[][] => {
    const be = backend();
    const before = be.threads();
    be.setThreads(threads);
    try {
      return withNativeKernels(on, () => {
        const vars = inputs.map((t) => param(t.clone()));
        const out = step(vars);
        backward(out.size === 1 ? out : sum(out));
        return [Array.from(out.value.data), ...vars.map((v) => Array.from(v.grad!.data))];
      });
    } finally {
      be.setThreads(before);
    }
  };
  const oracle = run(false, 1);
  for (const t of [1, 2]) {
    const got = run(true, t);
    got.forEach((g, i) => assert.ok(maxRelDiff(g, oracle[i]) <= 1e-6, `${name} at ${t} threads, ${i === 0 ? 'value' : `gradient ${i}`}: ${maxRelDiff(g, oracle[i])}`));
  }
}

test('swiGlu: C equals TypeScript in value and gradients, large |gate| included', { skip }, () => {
  for (const [rows, n] of [[3, 5], [64, 688], [33, 1031]]) {
    const rng = new Rng(rows);
    const g = rng.randn([rows, n], 4), u = rng.randn([rows, n]), w = rng.randn([rows, n]);
    g.data[0] = 120; g.data[1] = -120; g.data[2] = 300; g.data[3] = -300;
    same(`swiGlu ${rows}×${n}`, [g, u], ([a, b]) => mul(swiGlu(a, b), constant(w)));
  }
});

test('crossEntropyMean: C equals TypeScript in loss and gradient, ignored rows and extreme logits included', { skip }, () => {
  for (const [rows, V] of [[4, 11], [64, 4096], [9, 1031]]) {
    const rng = new Rng(V);
    const x = rng.randn([rows, V], 3);
    x.data[5] = 400; x.data[V + 1] = -400;
    const targets = Array.from({ length: rows }, (_, r) => (r === 2 ? -100 : (r * 7919) % V));
    same(`crossEntropyMean ${rows}×${V}`, [x], ([a]) => crossEntropyMean(a, targets));
  }
});

test('rmsNorm backward: C equals TypeScript (weight and input gradients, Gemma offset)', { skip }, () => {
  for (const [rows, n] of [[3, 8], [256, 256], [130, 1031]]) {
    const rng = new Rng(n);
    const x = rng.randn([rows, n], 2), w = rng.randn([n]), m = rng.randn([rows, n]);
    for (const unit of [false, true]) same(`rmsNorm ${rows}×${n}${unit ? ' (1 + w)' : ''}`, [x, w], ([a, b]) => mul(rmsNorm(a, b, 1e-6, unit), constant(m)));
  }
});

test('layerNorm backward: C equals TypeScript (with and without weight and bias)', { skip }, () => {
  for (const [rows, n] of [[3, 8], [128, 768], [130, 1031]]) {
    const rng = new Rng(n + 1);
    const x = rng.randn([rows, n], 2), w = rng.randn([n]), b = rng.randn([n]), m = rng.randn([rows, n]);
    x.data[0] = 1e3;
    same(`layerNorm w b ${rows}×${n}`, [x, w, b], ([a, wv, bv]) => mul(layerNorm(a, wv, bv, 1e-5), constant(m)));
    same(`layerNorm ${rows}×${n}`, [x], ([a]) => mul(layerNorm(a, undefined, undefined, 1e-5), constant(m)));
  }
});

test('GELU-tanh and SiLU backward: C equals TypeScript (accumulated and adopted gradients)', { skip }, () => {
  for (const [rows, n] of [[3, 7], [64, 3072], [33, 1031]]) {
    const rng = new Rng(n + 2);
    const x = rng.randn([rows, n], 4), m = rng.randn([rows, n]);
    x.data[0] = 200; x.data[1] = -200;
    same(`gelu tanh ${rows}×${n}`, [x], ([a]) => mul(gelu(a, 'tanh'), constant(m)));
    same(`silu ${rows}×${n}`, [x], ([a]) => mul(silu(a), constant(m)));
    // x used twice: the second backward accumulates into the first one's gradient
    same(`silu twice ${rows}×${n}`, [x], ([a]) => add(mul(silu(a), constant(m)), mul(gelu(a, 'tanh'), constant(m))));
  }
});
