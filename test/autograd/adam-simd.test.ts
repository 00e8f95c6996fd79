import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Adam, AdamW } from '../../src/autograd/optim/adam.ts';
import { simdAvailable } from '../../src/autograd/optim/adam-simd.ts';
import { isNotMatrix } from '../../src/autograd/optim/optimizer.ts';
import { param, type Var } from '../../src/autograd/var.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

const f = Math.fround;
const skip = simdAvailable() ? false : 'this runtime has no WebAssembly SIMD';

/** torch.optim.Adam(W)'s single-tensor step in float32, one rounding per tensor op. */
function referenceStep(theta: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, step: number, o: { lr: number; b1: number; b2: number; eps: number; wd: number; decoupled: boolean }): void {
  const negStep = f(-o.lr / (1 - o.b1 ** step)), bc2 = f(Math.sqrt(1 - o.b2 ** step));
  const c1 = f(1 - o.b1), b2 = f(o.b2), c2 = f(1 - o.b2), eps = f(o.eps), wd = f(o.wd), decay = f(1 - o.lr * o.wd);
  for (let i = 0; i < theta.length; i++) {
    const g = o.decoupled ? grad[i] : f(grad[i] + f(wd * theta[i]));
    m[i] = f(m[i] + f(c1 * f(g - m[i])));
    v[i] = f(f(v[i] * b2) + f(f(c2 * g) * g));
    const denom = f(f(f(Math.sqrt(v[i])) / bc2) + eps);
    const t = o.decoupled ? f(theta[i] * decay) : theta[i];
    theta[i] = f(t + f(negStep * f(m[i] / denom)));
  }
}

function run(decoupled: boolean, simd: boolean, steps: number) {
  const rng = new Rng(17);
  const w = param(rng.randn([3, 5]));
  const b = param(rng.randn([7]));
  const grads = Array.from({ length: steps }, () => [rng.randn([3, 5]), rng.randn([7])]);
  const hyper = { lr: 0.01, betas: [0.9, 0.99] as const, eps: 1e-8, weightDecay: 0.1, noDecay: isNotMatrix, simd };
  const opt = decoupled ? new AdamW([w, b], hyper) : new Adam([w, b], hyper);
  for (const [gw, gb] of grads) {
    w.grad = gw.clone();
    b.grad = gb.clone();
    opt.step();
  }
  return { w, b, grads, opt };
}

for (const decoupled of [true, false]) {
  test(`${decoupled ? 'AdamW' : 'Adam'} SIMD kernel equals PyTorch's float32 arithmetic bit for bit`, { skip }, () => {
    const { w, b, grads, opt } = run(decoupled, true, 4);
    const rng = new Rng(17);
    const refs = [rng.randn([3, 5]).data as Float32Array, rng.randn([7]).data as Float32Array];
    const moments = refs.map((r) => [new Float32Array(r.length), new Float32Array(r.length)]);
    grads.forEach(([gw, gb], s) => {
      [gw, gb].forEach((g, k) => {
        referenceStep(refs[k], g.data as Float32Array, moments[k][0], moments[k][1], s + 1, {
          lr: 0.01, b1: 0.9, b2: 0.99, eps: 1e-8, wd: k === 0 ? 0.1 : 0, decoupled,
        });
      });
    });
    assert.deepEqual(Array.from(w.value.data), Array.from(refs[0]));
    assert.deepEqual(Array.from(b.value.data), Array.from(refs[1]));
    const mw = opt.stateOf(w)!;
    assert.equal(mw.step, 4);
    assert.deepEqual(Array.from(mw.m), Array.from(moments[0][0]));
    assert.deepEqual(Array.from(mw.v), Array.from(moments[0][1]));
  });
}

test('SIMD and scalar (float64 arithmetic) Adam paths agree to float32 precision', { skip }, () => {
  const close = (a: Var, b: Var) => {
    for (let i = 0; i < a.value.size; i++) {
      assert.ok(Math.abs(a.value.data[i] - b.value.data[i]) <= 1e-6 * Math.max(1, Math.abs(b.value.data[i])));
    }
  };
  for (const decoupled of [true, false]) {
    const fast = run(decoupled, true, 6), slow = run(decoupled, false, 6);
    close(fast.w, slow.w);
    close(fast.b, slow.b);
  }
});

test('SIMD kernel handles many parameters of assorted sizes (memory growth)', { skip }, () => {
  const rng = new Rng(2);
  const params = [1, 3, 4, 5, 17, 70_000, 2, 100_003].map((n) => param(rng.randn([n])));
  const opt = new AdamW(params, { lr: 0.1, weightDecay: 0 });
  for (const p of params) p.grad = Tensor.full(p.value.shape, 1);
  const before = params.map((p) => p.value.clone());
  opt.step();
  // first step with g = 1 everywhere: θ ← θ − lr·1/(1 + ε) ≈ θ − 0.1
  params.forEach((p, k) => {
    for (let i = 0; i < p.value.size; i++) assert.ok(Math.abs(before[k].data[i] - 0.1 - p.value.data[i]) < 1e-6);
  });
});

for (const simd of [true, false]) {
  test(`Adam state saved with stateOf() and restored with loadState() resumes bit for bit (simd: ${simd})`, () => {
    const rng = new Rng(5);
    const init = rng.randn([4, 3]);
    const grads = Array.from({ length: 6 }, () => rng.randn([4, 3]));
    const runSteps = (p: Var, opt: AdamW, from: number, to: number) => {
      for (let s = from; s < to; s++) {
        p.grad = grads[s].clone();
        opt.step();
      }
    };
    const straight = param(init.clone());
    runSteps(straight, new AdamW([straight], { lr: 0.05, simd }), 0, 6);

    const first = param(init.clone());
    const opt1 = new AdamW([first], { lr: 0.05, simd });
    runSteps(first, opt1, 0, 3);
    const saved = opt1.stateOf(first)!;
    const checkpoint = { step: saved.step, m: Array.from(saved.m), v: Array.from(saved.v) };
    const resumed = param(first.value.clone());
    const opt2 = new AdamW([resumed], { lr: 0.05, simd });
    opt2.loadState(resumed, checkpoint);
    runSteps(resumed, opt2, 3, 6);
    assert.deepEqual(Array.from(resumed.value.data), Array.from(straight.value.data));
    assert.throws(() => opt2.loadState(straight, checkpoint), /not optimised here/);
  });
}
