/** The exps of the softmax and activation loops (src/tensor/fast-exp.ts) against Math.exp. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expBounded, expFloat32, expFloat32Single } from '../../src/tensor/fast-exp.ts';

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

/** Distance in float32 units in the last place between a float32 value and the exact e^x. */
function ulps32(got: number, exact: number): number {
  const ulp = 2 ** (Math.floor(Math.log2(Math.abs(exact))) - 23);
  return Math.abs(got - exact) / ulp;
}

test('expFloat32 (float64 reduction) and expFloat32Single (float32 argument): float32 results within 2 ulps of e^x, exact at 0, NaN stays NaN', () => {
  let worst = 0, worstSingle = 0;
  for (let i = 0; i <= 200000; i++) {
    const x = -87.3 + (174.3 * i) / 200000;
    const e = expFloat32(x);
    assert.equal(e, Math.fround(e), 'a float32 value');
    worst = Math.max(worst, ulps32(e, Math.exp(x)));
    const xf = Math.fround(x);
    worstSingle = Math.max(worstSingle, ulps32(expFloat32Single(xf), Math.exp(xf)));
  }
  assert.ok(worst <= 2, `expFloat32: ${worst} ulps`);
  assert.ok(worstSingle <= 2, `expFloat32Single: ${worstSingle} ulps`);
  assert.equal(expFloat32(0), 1);
  assert.equal(expFloat32Single(0), 1);
  assert.ok(Number.isNaN(expFloat32(NaN)) && Number.isNaN(expFloat32Single(NaN)));
});
