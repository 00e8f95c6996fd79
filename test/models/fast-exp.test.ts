/** fastExp (src/tensor/fast-exp.ts), used by the models' softmax and activations, against Math.exp. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fastExp } from '../../src/tensor/fast-exp.ts';
import { Rng } from '../../src/tensor/random.ts';

test('fastExp: relative error below 3e-10 over the whole double range, exact edge cases', () => {
  const rng = new Rng(9);
  let worst = 0;
  for (let i = 0; i < 200000; i++) {
    const x = (rng.uniform() - 0.5) * 1500;
    const want = Math.exp(x);
    if (want === 0 || !Number.isFinite(want)) assert.equal(fastExp(x), want);
    else worst = Math.max(worst, Math.abs(fastExp(x) - want) / want);
  }
  assert.ok(worst < 3e-10, `max relative error ${worst}`);
  assert.equal(fastExp(0), 1);
  assert.equal(fastExp(-Infinity), 0);
  assert.equal(fastExp(Infinity), Infinity);
  assert.ok(Number.isNaN(fastExp(NaN)));
  assert.equal(fastExp(800), Infinity);
  assert.equal(fastExp(-800), 0);
});
