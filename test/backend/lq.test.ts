/**
 * The packed Householder LQ of both backends (gelqf) and its Q applied from the right (ormlq),
 * checked by their defining identities — [L 0]·Q = A, orthonormal rows of Q — and against each
 * other (both follow LAPACK's reflector convention, so the packed factors agree).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nativeBackend, pureBackend, type Backend } from '../../src/backend/index.ts';
import { maxAbs, maxAbsDiff, randomMatrix, rowOrthogonalityError } from './invariants.ts';

const native = nativeBackend();
const backends: Backend[] = [pureBackend(), ...(native ? [native] : [])];
const random = (m: number, n: number, seed: number) => randomMatrix(m, n, 'float64', seed) as Float64Array;
const shapes: [number, number][] = [[12, 30], [12, 12], [1, 7], [5, 6], [140, 300], [130, 130]]; // the last two: several LAPACK blocks

/** [L 0]·Q and [I 0]·Q (m × n each) from the packed factors. */
function rebuild(be: Backend, lq: Float64Array, tau: Float64Array, m: number, n: number): { a: Float64Array; q: Float64Array } {
  const a = new Float64Array(m * n);
  const q = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) a[i * n + j] = lq[i * n + j];
    q[i * n + i] = 1;
  }
  be.ormlq(lq, tau, m, n, a, m);
  be.ormlq(lq, tau, m, n, q, m);
  return { a, q };
}

for (const be of backends) {
  for (const [m, n] of shapes) {
    test(`gelqf/ormlq ${m}×${n} (${be.name}): [L 0]·Q = A with orthonormal rows of Q`, () => {
      const a = random(m, n, m * 100 + n);
      const copy = a.slice();
      const { lq, tau } = be.gelqf(a, m, n);
      assert.deepEqual(a, copy, 'input modified');
      assert.equal(tau.length, m);
      const back = rebuild(be, lq, tau, m, n);
      assert.ok(maxAbsDiff(back.a, a) <= 1e-14 * n * maxAbs(a), `L·Q ≠ A (${maxAbsDiff(back.a, a)})`);
      assert.ok(rowOrthogonalityError(back.q, m, n) <= 1e-14 * n, 'QQᵀ ≠ I');
      // C·Q for a C of a different row count
      const c = random(3, n, 7);
      const cq = c.slice();
      be.ormlq(lq, tau, m, n, cq, 3);
      let norm0 = 0, norm1 = 0;
      for (let i = 0; i < c.length; i++) (norm0 += c[i] ** 2), (norm1 += cq[i] ** 2);
      assert.ok(Math.abs(norm0 - norm1) <= 1e-13 * norm0, 'C·Q changed the Frobenius norm');
    });
  }
  test(`gelqf (${be.name}): a tall matrix is one clear error; tiny and huge matrices keep their scale`, () => {
    assert.throws(() => be.gelqf(random(5, 3, 1), 5, 3), /gelqf: needs at most as many rows as columns \(got 5 × 3\)/);
    for (const scale of [1e-160, 1e160]) {
      const a = random(4, 9, 6).map((x) => x * scale);
      const { lq, tau } = be.gelqf(a, 4, 9);
      assert.ok(maxAbsDiff(rebuild(be, lq, tau, 4, 9).a, a) <= 1e-14 * maxAbs(a), `×${scale}: L·Q ≠ A`);
    }
  });
}

test('gelqf: both backends give the same packed factors (LAPACK reflector convention)', { skip: !native && 'OpenBLAS not available' }, () => {
  for (const [m, n] of shapes) {
    const a = random(m, n, m * 100 + n);
    const p = pureBackend().gelqf(a, m, n);
    const q = native!.gelqf(a, m, n);
    assert.ok(maxAbsDiff(p.lq, q.lq) <= 1e-12 * maxAbs(a), `${m}×${n}: packed factors differ by ${maxAbsDiff(p.lq, q.lq)}`);
    assert.ok(maxAbsDiff(p.tau, q.tau) <= 1e-12, `${m}×${n}: τ differ`);
  }
});
