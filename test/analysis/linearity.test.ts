import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LinearityAccumulator } from '../../src/analysis/linearity-accumulator.ts';
import { linearityDirect } from '../../src/analysis/linearity-direct.ts';
import { DEFAULT_RIDGE, ridgeFit, solvePairLinearity } from '../../src/analysis/linearity-solve.ts';
import { targetStatistics } from '../../src/analysis/linearity-statistics.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { correlatedPair, pairCases } from './fixtures.ts';
import { fromFlat, naiveLinearity } from './naive-linearity.ts';

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (|Δ| = ${Math.abs(actual - expected)})`);

function accumulate(x: Tensor, y: Tensor, batches: number, chunkRows?: number): LinearityAccumulator {
  const d = x.dim(-1);
  const n = x.dim(0);
  const acc = new LinearityAccumulator(d, chunkRows);
  // uneven batch boundaries
  const cuts = [0];
  for (let b = 1; b < batches; b++) cuts.push(Math.floor((n * b * b) / (batches * batches)));
  cuts.push(n);
  for (let b = 0; b < batches; b++) if (cuts[b + 1] > cuts[b]) acc.add(x.slice0(cuts[b], cuts[b + 1]), y.slice0(cuts[b], cuts[b + 1]));
  return acc;
}

for (const c of pairCases()) {
  test(`linearity (${c.name}): streaming and direct scores equal a naive float64 computation`, () => {
    const [n, d] = c.x.shape;
    const xs = fromFlat(c.x.data, n, d);
    const ys = fromFlat(c.y.data, n, d);
    const acc = accumulate(c.x, c.y, 1);
    const r = acc.result();
    assert.equal(r.tokens, n);
    for (const variant of ['withResidual', 'withoutResidual'] as const) {
      const naive = naiveLinearity(xs, ys, variant === 'withoutResidual');
      close(r[variant].exact, naive.score, 1e-9, `${variant} exact`);
      assert.ok(naive.score > -1e-12 && naive.score < 1 + 1e-12);
      const direct = linearityDirect(c.x, c.y, { variant });
      close(direct.score, naive.score, 1e-9, `${variant} direct svd`);
      if (n > d && !c.name.includes('rank-deficient')) {
        close(linearityDirect(c.x, c.y, { variant, solver: 'qr' }).score, naive.score, 1e-9, `${variant} direct qr`);
      }
      // the ridge score is a slightly worse fit, never a better one
      assert.ok(r[variant].robust! <= r[variant].exact + 1e-12, `${variant} robust ≤ exact`);
      close(r[variant].robust!, naive.score, 1e-5, `${variant} robust`);
    }
  });
}

test('linearity: the score does not depend on how rows are split into batches or chunks', () => {
  for (const c of pairCases(7)) {
    const one = accumulate(c.x, c.y, 1).result();
    const seven = accumulate(c.x, c.y, 7).result();
    const chunked = accumulate(c.x, c.y, 3, 4).result();
    for (const variant of ['withResidual', 'withoutResidual'] as const) {
      close(seven[variant].exact, one[variant].exact, 1e-11, `${c.name} ${variant} 7 batches`);
      close(chunked[variant].exact, one[variant].exact, 1e-11, `${c.name} ${variant} chunks of 4`);
      close(seven[variant].robust!, one[variant].robust!, 1e-9, `${c.name} ${variant} robust`);
    }
  }
});

test('linearity: float32 [B, T, d] input, row selections and addDelta agree with the [N, d] float64 path', () => {
  const rng = new Rng(3);
  const { x, y } = correlatedPair(rng, 60, 8, { noise: 0.3, nonlinear: true });
  const x32 = new Tensor(Float32Array.from(x.data), [3, 20, 8]);
  const y32 = new Tensor(Float32Array.from(y.data), [3, 20, 8]);
  const ref = accumulate(x32.reshape(60, 8).to('float64'), y32.reshape(60, 8).to('float64'), 1).result();
  const acc = new LinearityAccumulator(8);
  acc.add(x32, y32);
  const r = acc.result();
  close(r.withResidual.exact, ref.withResidual.exact, 1e-12, 'float32 input');

  const rows = [0, 5, 7, 19, 20, 33, 41, 42, 43, 50, 58, 59, 2, 3, 4, 11, 12, 13];
  const sel = new LinearityAccumulator(8);
  sel.add(x32, y32, rows);
  const picked = (t: Tensor) => new Tensor(Float64Array.from(rows.flatMap((i) => Array.from(t.data.subarray(i * 8, i * 8 + 8)))), [rows.length, 8]);
  const selRef = linearityDirect(picked(x32.reshape(60, 8)), picked(y32.reshape(60, 8)));
  close(sel.result().withResidual.exact, selRef.score, 1e-9, 'row selection');

  const delta = new Tensor(y.data.map((v, i) => v - x.data[i]), [60, 8]);
  const byDelta = new LinearityAccumulator(8);
  byDelta.addDelta(x.slice0(0, 25), delta.slice0(0, 25));
  byDelta.add(x.slice0(25, 60), y.slice0(25, 60));
  const full = accumulate(x, y, 1).result();
  for (const variant of ['withResidual', 'withoutResidual'] as const) {
    close(byDelta.result()[variant].exact, full[variant].exact, 1e-11, `addDelta then add ${variant}`);
  }
});

test('linearity: per-token residuals of the fitted map sum to 1 − score and match the naive ones', () => {
  const rng = new Rng(11);
  const { x, y } = correlatedPair(rng, 90, 10, { noise: 0.4, nonlinear: true, offset: 50 });
  const xs = fromFlat(x.data, 90, 10);
  const ys = fromFlat(y.data, 90, 10);
  const acc = accumulate(x, y, 4);
  for (const variant of ['withResidual', 'withoutResidual'] as const) {
    const naive = naiveLinearity(xs, ys, variant === 'withoutResidual');
    const fit = acc.fit({ variant });
    close(fit.score, naive.score, 1e-9, `${variant} fit score`);
    const { residual, targetEnergy } = fit.perToken(x.reshape(3, 30, 10), y.reshape(3, 30, 10), undefined, 16);
    assert.equal(residual.length, 90);
    close(residual.reduce((a, b) => a + b, 0), 1 - fit.score, 1e-10, `${variant} Σ residual`);
    close(targetEnergy.reduce((a, b) => a + b, 0), 1, 1e-10, `${variant} Σ energy`);
    for (let t = 0; t < 90; t++) close(residual[t], naive.perToken[t], 1e-10, `${variant} token ${t}`);
    const robust = acc.fit({ variant, solver: 'robust' });
    const rr = robust.perToken(x, y).residual.reduce((a, b) => a + b, 0);
    close(rr, 1 - robust.score, 1e-9, `${variant} robust Σ residual`);
    // perTokenDelta gives the same numbers from D = Y − X
    const delta = new Tensor(y.data.map((v, i) => v - x.data[i]), [90, 10]);
    const viaDelta = fit.perTokenDelta(x, delta).residual;
    for (let t = 0; t < 90; t += 7) close(viaDelta[t], residual[t], 1e-12, `${variant} perTokenDelta ${t}`);
  }
});

test('linearity: identical and exactly linear layers score 1, constant layers give NaN', () => {
  const rng = new Rng(5);
  const x = rng.randn([50, 6], 1, 'float64');
  const lin = new Tensor(new Float64Array(300), [50, 6]);
  for (let r = 0; r < 50; r++) for (let j = 0; j < 6; j++) lin.data[r * 6 + j] = 2 * x.data[r * 6 + j] - x.data[r * 6 + ((j + 1) % 6)] + 3;
  const acc = new LinearityAccumulator(6);
  acc.add(x, lin);
  close(acc.result().withResidual.exact, 1, 1e-12, 'exactly linear');
  close(acc.result().withoutResidual.exact, 1, 1e-12, 'exactly linear without residual');
  const constant = new LinearityAccumulator(6);
  constant.add(Tensor.full([10, 6], 2, 'float64'), x.slice0(0, 10));
  assert.ok(Number.isNaN(constant.result().withResidual.exact));
});

test('linearity: shape errors are clear', () => {
  const acc = new LinearityAccumulator(4);
  assert.throws(() => acc.add(Tensor.zeros([3, 5]), Tensor.zeros([3, 5])), /expected 4 features per token/);
  assert.throws(() => acc.add(Tensor.zeros([3, 4]), Tensor.zeros([2, 4])), /expected 3 token rows/);
  assert.throws(() => acc.result(), /no tokens/);
});

test('linearity: ridge scores from the eigendecomposition equal the Cholesky ridge solve (ridgeFit)', () => {
  for (const seed of [1, 2]) {
    for (const c of pairCases(seed)) {
      const s = accumulate(c.x, c.y, 2).statistics();
      const r = solvePairLinearity(s);
      for (const variant of ['withResidual', 'withoutResidual'] as const) {
        const { cxt, tt } = targetStatistics(s, variant);
        const byCholesky = ridgeFit(s.cxx, cxt, s.xx, tt, s.dim, DEFAULT_RIDGE).score;
        close(r[variant].robust!, byCholesky, 1e-9, `${c.name} ${variant} robust`);
      }
    }
  }
});
