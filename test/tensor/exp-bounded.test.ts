/** expBounded (src/tensor/fast-exp.ts), the exp of the softmax and activation loops, against Math.exp. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expBounded } from '../../src/tensor/fast-exp.ts';

test('expBounded: relative error below 1e-10 on [−88, 88], exact at 0, NaN stays NaN', () => {
  let worst = 0;
  for (let i = 0; i <= 400000; i++) {
    const x = -88 + (176 * i) / 400000;
    worst = Math.max(worst, Math.abs(expBounded(x) / Math.exp(x) - 1));
  }
  assert.ok(worst < 1e-10, `max relative error ${worst}`);
  assert.equal(expBounded(0), 1);
  assert.ok(Number.isNaN(expBounded(NaN)));
});
