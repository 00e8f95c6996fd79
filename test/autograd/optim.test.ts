import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backward } from '../../src/autograd/graph.ts';
import { linear } from '../../src/autograd/ops/linalg.ts';
import { gelu } from '../../src/autograd/ops/activations.ts';
import { mse } from '../../src/autograd/ops/losses.ts';
import { Adam, AdamW, CheckpointableAdamW } from '../../src/autograd/optim/adam.ts';
import { restoreOptimizerState, saveOptimizerState } from '../../src/autograd/optim/state.ts';
import { clipGradNorm } from '../../src/autograd/optim/clip.ts';
import { isNotMatrix } from '../../src/autograd/optim/optimizer.ts';
import { cosineWithWarmup } from '../../src/autograd/optim/schedule.ts';
import { SGD } from '../../src/autograd/optim/sgd.ts';
import { constant, param, type Var } from '../../src/autograd/var.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

const f64 = (values: number[], shape?: number[]) => Tensor.from(values, shape, 'float64');
const close = (actual: ArrayLike<number>, expected: number[], tol = 1e-15) => {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])), `[${i}] ${actual[i]} vs ${expected[i]}`);
  }
};
const withGrad = (p: Var, g: number[]) => {
  p.grad = f64(g, [...p.value.shape]);
  return p;
};

test('AdamW first step matches the hand-computed update', () => {
  // step 1: m = 0.1·g, v = 0.001·g², step size lr/(1 − 0.9) = 0.1, √v/√(1 − 0.999) = |g|, so
  // θ₁ = θ·(1 − lr·λ) − 0.1·0.1·g / (|g| + 1e-8) with lr = 0.01, λ = 0.1:
  //   θ = 1,    g = 0.1:  0.999 − 0.01·0.1/0.10000001   = 0.9890000009999999
  //   θ = −2,   g = −0.3: −1.998 + 0.01·0.3/0.30000001  = −1.9880000003333333
  //   θ = 0.5,  g = 2:    0.4995 − 0.01·2/2.00000001    = 0.48950000005
  const p = withGrad(param(f64([1, -2, 0.5])), [0.1, -0.3, 2]);
  const opt = new AdamW([p], { lr: 0.01, weightDecay: 0.1 });
  opt.step();
  close(p.value.data, [0.9890000009999999, -1.9880000003333333, 0.48950000005]);
  close(opt.stateOf(p)!.m, [0.01, -0.03, 0.2]);
  close(opt.stateOf(p)!.v, [0.00001, 0.00009, 0.004]);
});

test('Adam(W) over several steps follows the PyTorch recurrence; noDecay excludes parameters', () => {
  const rng = new Rng(4);
  const [lr, b1, b2, eps, wd] = [0.05, 0.8, 0.95, 1e-6, 0.2];
  const theta0 = [0.3, -1.2, 2.0, 0.7];
  const grads = Array.from({ length: 5 }, () => theta0.map(() => rng.normal()));
  for (const decoupled of [false, true]) {
    const w = param(f64(theta0, [2, 2]));
    const bias = param(f64(theta0));
    const Opt = decoupled ? AdamW : Adam;
    const opt = new Opt([w, bias], { lr, betas: [b1, b2], eps, weightDecay: wd, noDecay: isNotMatrix });
    const reference = (decay: number) => {
      const t = [...theta0], m = [0, 0, 0, 0], v = [0, 0, 0, 0];
      grads.forEach((g, s) => {
        const step = s + 1;
        for (let i = 0; i < 4; i++) {
          const gi = decoupled ? g[i] : g[i] + decay * t[i];
          if (decoupled) t[i] *= 1 - lr * decay;
          m[i] = b1 * m[i] + (1 - b1) * gi;
          v[i] = b2 * v[i] + (1 - b2) * gi * gi;
          const mHat = m[i] / (1 - b1 ** step), vHat = v[i] / (1 - b2 ** step);
          t[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
        }
      });
      return t;
    };
    for (const g of grads) {
      withGrad(w, g);
      withGrad(bias, g);
      opt.step();
    }
    // m̂/(√v̂ + ε) vs PyTorch's (m/bc1)/(√v/√bc2 + ε): identical algebra, so agreement to rounding
    close(w.value.data, reference(wd), 1e-13);
    close(bias.value.data, reference(0), 1e-13);
  }
});

test('Adam skips parameters without gradients; zeroGrad clears them', () => {
  const a = withGrad(param(f64([1, 2])), [1, 1]);
  const b = param(f64([3, 4]));
  const opt = new AdamW([a, b, a], { lr: 0.1 });
  assert.equal(opt.params.length, 2);
  opt.step();
  assert.deepEqual(Array.from(b.value.data), [3, 4]);
  assert.equal(opt.stateOf(b), undefined);
  opt.zeroGrad();
  assert.equal(a.grad, null);
  assert.throws(() => new AdamW([constant(f64([1]))]), /does not require grad/);
});

test('SGD: plain, momentum, Nesterov, weight decay (hand-computed)', () => {
  const p = withGrad(param(f64([1, -1])), [0.5, 2]);
  new SGD([p], { lr: 0.1, weightDecay: 0.1 }).step();
  close(p.value.data, [1 - 0.1 * 0.6, -1 - 0.1 * 1.9]);

  const q = param(f64([1]));
  const opt = new SGD([q], { lr: 0.1, momentum: 0.9 });
  withGrad(q, [1]);
  opt.step(); // b = 1, θ = 0.9
  withGrad(q, [2]);
  opt.step(); // b = 0.9 + 2 = 2.9, θ = 0.9 − 0.29 = 0.61
  close(q.value.data, [0.61]);

  const r = param(f64([1]));
  const nag = new SGD([r], { lr: 0.1, momentum: 0.9, nesterov: true });
  withGrad(r, [1]);
  nag.step(); // b = 1, d = 1 + 0.9 = 1.9, θ = 0.81
  withGrad(r, [2]);
  nag.step(); // b = 2.9, d = 2 + 2.61 = 4.61, θ = 0.81 − 0.461 = 0.349
  close(r.value.data, [0.349], 1e-14);
});

test('clipGradNorm scales all gradients together and returns the norm before clipping', () => {
  const a = withGrad(param(f64([0, 0])), [3, 0]);
  const b = withGrad(param(f64([0])), [4]);
  assert.equal(clipGradNorm([a, b], 1), 5);
  const c = 1 / (5 + 1e-6);
  close(a.grad!.data, [3 * c, 0]);
  close(b.grad!.data, [4 * c]);
  assert.ok(Math.abs(clipGradNorm([a, b], 10) - 5 * c) < 1e-15);
  close(b.grad!.data, [4 * c]); // below the limit: untouched
});

test('cosine schedule with warm-up', () => {
  const lr = cosineWithWarmup({ baseLr: 1, warmupSteps: 10, totalSteps: 110 });
  close([lr(0), lr(5), lr(10), lr(60), lr(110), lr(500)], [0, 0.5, 1, 0.5, 0, 0], 1e-15);
  const floored = cosineWithWarmup({ baseLr: 1e-3, warmupSteps: 0, totalSteps: 100, minLr: 1e-4 });
  close([floored(0), floored(50), floored(100)], [1e-3, 5.5e-4, 1e-4], 1e-15);
});

test('AdamW trains a small GELU MLP (loss falls a hundredfold)', () => {
  const rng = new Rng(8);
  const x = constant(rng.randn([64, 4]));
  const teacher = rng.randn([2, 4]);
  const y = constant(new Tensor(Float32Array.from({ length: 128 }, (_, i) => {
    const [r, c] = [Math.floor(i / 2), i % 2];
    let s = 0;
    for (let j = 0; j < 4; j++) s += x.value.data[r * 4 + j] * teacher.data[c * 4 + j];
    return Math.tanh(s);
  }), [64, 2]));
  const w1 = param(rng.randn([16, 4], 0.5)), b1 = param(Tensor.zeros([16]));
  const w2 = param(rng.randn([2, 16], 0.25)), b2 = param(Tensor.zeros([2]));
  const opt = new AdamW([w1, b1, w2, b2], { lr: 0.02, weightDecay: 0, noDecay: isNotMatrix });
  let first = 0, last = 0;
  for (let step = 0; step < 300; step++) {
    const loss = mse(linear(gelu(linear(x, w1, b1)), w2, b2), y);
    if (step === 0) first = loss.item();
    last = loss.item();
    opt.zeroGrad();
    backward(loss);
    opt.step();
  }
  assert.ok(last < first / 100, `loss ${first} → ${last}`);
});

test('optimiser state as named tensors (state.ts): AdamW, CheckpointableAdamW and SGD with momentum resume bit for bit', () => {
  const rng = new Rng(9);
  const init = { w: rng.randn([3, 4]), b: rng.randn([4]) };
  const grads = Array.from({ length: 6 }, () => ({ w: rng.randn([3, 4]), b: rng.randn([4]) }));
  type Make = (ps: Var[]) => AdamW | SGD;
  const makers: [string, Make][] = [
    ['AdamW simd', (ps) => new AdamW(ps, { lr: 0.05, weightDecay: 0.1, noDecay: isNotMatrix })],
    ['CheckpointableAdamW', (ps) => new CheckpointableAdamW(ps, { lr: 0.05, weightDecay: 0.1, noDecay: isNotMatrix })],
    ['SGD momentum', (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true })],
    ['SGD plain', (ps) => new SGD(ps, { lr: 0.05 })],
  ];
  for (const [label, make] of makers) {
    const build = () => {
      const named = new Map<string, Var>([['w', param(init.w.clone())], ['b', param(init.b.clone())]]);
      return { named, opt: make([...named.values()]) };
    };
    const run = (r: ReturnType<typeof build>, from: number, to: number) => {
      for (let s = from; s < to; s++) {
        r.named.get('w')!.grad = grads[s].w.clone();
        r.named.get('b')!.grad = grads[s].b.clone();
        r.opt.step();
      }
    };
    const straight = build();
    run(straight, 0, 6);
    const first = build();
    run(first, 0, 3);
    const saved = saveOptimizerState(first.opt, first.named);
    assert.deepEqual(Object.keys(saved.steps).sort(), ['b', 'w'], label);
    const resumed = build();
    for (const [name, p] of resumed.named) p.value.data.set(first.named.get(name)!.value.data);
    restoreOptimizerState(resumed.opt, (n) => resumed.named.get(n)!, saved, 'test');
    run(resumed, 3, 6);
    for (const name of ['w', 'b']) {
      assert.deepEqual(Array.from(resumed.named.get(name)!.value.data), Array.from(straight.named.get(name)!.value.data), `${label} ${name}`);
    }
  }
  const adam = new AdamW([param(init.w.clone())], { lr: 0.1 });
  assert.throws(() => restoreOptimizerState(adam, () => adam.params[0], { tensors: {}, steps: { w: 1 } }, 'ckpt'), /ckpt: optimizer state lacks "w.exp_avg"/);
});
