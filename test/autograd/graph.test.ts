import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backward, isGradEnabled, noGrad } from '../../src/autograd/graph.ts';
import { gradPoolBytes, setGradPoolLimit } from '../../src/autograd/grad-pool.ts';
import { gelu } from '../../src/autograd/ops/activations.ts';
import { add, mean, mul, scale, sum } from '../../src/autograd/ops/arith.ts';
import { linear } from '../../src/autograd/ops/linalg.ts';
import { Rng } from '../../src/tensor/random.ts';
import { param, constant } from '../../src/autograd/var.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

const f64 = (values: number[]) => Tensor.from(values, undefined, 'float64');

test('shared subexpressions: d(x·x + x)/dx = 2x + 1', () => {
  const x = param(f64([1, -2, 3]));
  backward(sum(add(mul(x, x), x)));
  assert.deepEqual(Array.from(x.grad!.data), [3, -3, 7]);
});

test('leaf gradients accumulate across backward calls until zeroGrad', () => {
  const x = param(f64([1, 2]));
  backward(sum(scale(x, 3)));
  backward(sum(scale(x, 3)));
  assert.deepEqual(Array.from(x.grad!.data), [6, 6]);
  x.zeroGrad();
  assert.equal(x.grad, null);
});

test('zeroGrad recycles the gradient buffer without leaking old values', () => {
  const x = param(f64([1, 2]));
  backward(sum(scale(x, 3)));
  const buffer = x.grad!.data;
  x.zeroGrad();
  assert.equal(x.grad, null);
  backward(sum(mul(x, x)));
  assert.equal(x.grad!.data, buffer);
  assert.deepEqual(Array.from(x.grad!.data), [2, 4]);
  x.zeroGrad();
  backward(sum(add(x, scale(x, 2))));
  assert.deepEqual(Array.from(x.grad!.data), [3, 3]);
});

test('intermediate gradients and graph nodes are released after backward', () => {
  const x = param(f64([1, 2]));
  const h = scale(x, 2);
  const kept = scale(x, 3);
  kept.retainGrad = true;
  const loss = sum(add(mul(h, h), kept));
  backward(loss);
  assert.equal(h.grad, null);
  assert.equal(h.node, null);
  assert.deepEqual(Array.from(kept.grad!.data), [1, 1]);
  assert.deepEqual(Array.from(x.grad!.data), [8 * 1 + 3, 8 * 2 + 3]);
  assert.throws(() => backward(loss), /already released/);
});

test('retainGraph allows a second backward through the same graph', () => {
  const x = param(f64([2]));
  const loss = sum(mul(x, x));
  backward(loss, undefined, { retainGraph: true });
  backward(loss);
  assert.deepEqual(Array.from(x.grad!.data), [8]);
});

test('noGrad records nothing; constants need no gradient', () => {
  const x = param(f64([1]));
  const y = noGrad(() => {
    assert.equal(isGradEnabled(), false);
    return scale(x, 2);
  });
  assert.equal(isGradEnabled(), true);
  assert.equal(y.requiresGrad, false);
  assert.equal(y.node, null);
  assert.throws(() => backward(y), /does not require grad/);
  const c = constant(f64([5]));
  const z = mul(x, c);
  backward(sum(z));
  assert.equal(c.grad, null);
  assert.deepEqual(Array.from(x.grad!.data), [5]);
});

test('non-scalar outputs need an explicit gradOutput', () => {
  const x = param(f64([1, 2]));
  const y = scale(x, 2);
  assert.throws(() => backward(y), /pass gradOutput/);
  backward(y, f64([1, 10]));
  assert.deepEqual(Array.from(x.grad!.data), [2, 20]);
});

test('a 20 000-op chain backpropagates without overflowing the stack', () => {
  const x = param(f64([1]));
  let h = x;
  for (let i = 0; i < 20000; i++) h = scale(h, 1);
  backward(sum(h));
  assert.deepEqual(Array.from(x.grad!.data), [1]);
});

test('recycled gradient buffers never leak into live gradients', () => {
  const rng = new Rng(3);
  const x = constant(rng.randn([8, 6], 1, 'float64'));
  const w1 = rng.randn([16, 6], 0.5, 'float64'), w2 = rng.randn([6, 16], 0.5, 'float64');
  const gradsAfterTwoSteps = (poolBytes: number) => {
    setGradPoolLimit(poolBytes);
    const p1 = param(w1.clone()), p2 = param(w2.clone());
    const out: number[][] = [];
    for (let step = 0; step < 2; step++) {
      p1.zeroGrad();
      p2.zeroGrad();
      const h = gelu(linear(x, p1));
      backward(add(sum(mul(linear(h, p2), linear(h, p2))), mean(h)));
      out.push(Array.from(p1.grad!.data), Array.from(p2.grad!.data));
      for (const p of [p1, p2]) for (let i = 0; i < p.value.size; i++) p.value.data[i] -= 0.01 * p.grad!.data[i];
    }
    return out;
  };
  const withPool = gradsAfterTwoSteps(1 << 20);
  assert.ok(gradPoolBytes() > 0);
  const withoutPool = gradsAfterTwoSteps(0);
  assert.deepEqual(withPool, withoutPool);
  setGradPoolLimit(64 * 1024 * 1024);
});

test('recycleValues: the same gradients, intermediate values recycled (reading one throws), leaves, constants and the loss kept', () => {
  const rng = new Rng(4);
  const w1 = rng.randn([64, 80]), w2 = rng.randn([80, 64]), xs = rng.randn([128, 80]);
  const run = (recycle: boolean) => {
    const p1 = param(w1.clone(), 'fc1'), p2 = param(w2.clone(), 'fc2');
    const x = constant(xs.clone());
    const grads: Float32Array[] = [];
    let kept: { loss: number; hidden: ReturnType<typeof gelu> } | undefined;
    for (let step = 0; step < 2; step++) { // the second step allocates from the first one's recycled storage
      p1.zeroGrad();
      p2.zeroGrad();
      const hidden = gelu(linear(x, p1));
      const loss = mean(mul(linear(hidden, p2), linear(hidden, p2)));
      backward(loss, undefined, { recycleValues: recycle });
      kept = { loss: loss.item(), hidden };
      grads.push(p1.grad!.data.slice() as Float32Array, p2.grad!.data.slice() as Float32Array);
    }
    assert.deepEqual(Array.from(x.value.data.subarray(0, 5)), Array.from(xs.data.subarray(0, 5)));
    assert.deepEqual(p1.value.data, w1.data);
    return { grads, ...kept! };
  };
  const plain = run(false), recycled = run(true);
  assert.equal(recycled.loss, plain.loss);
  recycled.grads.forEach((g, i) => assert.deepEqual(g, plain.grads[i], `gradient ${i}`));
  assert.throws(() => recycled.hidden.value, /recycled by backward/);
  assert.ok(plain.hidden.value.size > 0);
  assert.throws(() => backward(sum(scale(param(f64([1])), 2)), undefined, { recycleValues: true, retainGraph: true }), /retainGraph/);
});
