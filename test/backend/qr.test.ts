/**
 * The packed Householder QR/LQ of both backends (geqrf, gelqf) and Q applied to a matrix (ormqr,
 * ormlq), checked by their defining identities — Q·[R; 0] = A, [L 0]·Q = A, orthonormal Q — and
 * against each other (both follow LAPACK's reflector convention, so the packed factors agree).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nativeBackend, pureBackend, type Backend } from '../../src/backend/index.ts';
import { columnOrthogonalityError, maxAbs, maxAbsDiff, randomMatrix, rowOrthogonalityError } from './invariants.ts';

const native = nativeBackend();
const backends: Backend[] = [pureBackend(), ...(native ? [native] : [])];
const random = (m: number, n: number, seed: number) => randomMatrix(m, n, 'float64', seed) as Float64Array;
const shapes: [number, number][] = [[30, 12], [12, 12], [7, 1], [12, 30], [1, 7]];

/** Packed factors of both kinds for the m × n matrix `a`, through `be`. */
function factor(be: Backend, a: Float64Array, m: number, n: number): { packed: Float64Array; tau: Float64Array } {
  if (m >= n) {
    const { qr, tau } = be.geqrf(a, m, n);
    return { packed: qr, tau };
  }
  const { lq, tau } = be.gelqf(a, m, n);
  return { packed: lq, tau };
}

for (const be of backends) {
  for (const [m, n] of shapes) {
    test(`${m >= n ? 'geqrf/ormqr' : 'gelqf/ormlq'} ${m}×${n} (${be.name}): the factors give back A and Q is orthonormal`, () => {
      const a = random(m, n, m * 100 + n);
      const copy = a.slice();
      const k = Math.min(m, n);
      const tol = 1e-14 * Math.max(m, n) * maxAbs(a);
      if (m >= n) {
        const { qr, tau } = be.geqrf(a, m, n);
        assert.deepEqual(a, copy, 'input modified');
        assert.equal(tau.length, k);
        const r = new Float64Array(m * n); // [R; 0]
        for (let i = 0; i < n; i++) for (let j = i; j < n; j++) r[i * n + j] = qr[i * n + j];
        be.ormqr(qr, tau, m, n, r, n);
        assert.ok(maxAbsDiff(r, a) <= tol, `Q·R ≠ A (${maxAbsDiff(r, a)})`);
        const q = new Float64Array(m * n); // Q·[I; 0]
        for (let i = 0; i < n; i++) q[i * n + i] = 1;
        be.ormqr(qr, tau, m, n, q, n);
        assert.ok(columnOrthogonalityError(q, m, n) <= 1e-14 * m, 'QᵀQ ≠ I');
      } else {
        const { lq, tau } = be.gelqf(a, m, n);
        assert.deepEqual(a, copy, 'input modified');
        assert.equal(tau.length, k);
        const l = new Float64Array(m * n); // [L 0]
        for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) l[i * n + j] = lq[i * n + j];
        be.ormlq(lq, tau, m, n, l, m);
        assert.ok(maxAbsDiff(l, a) <= tol, `L·Q ≠ A (${maxAbsDiff(l, a)})`);
        const q = new Float64Array(m * n); // [I 0]·Q
        for (let i = 0; i < m; i++) q[i * n + i] = 1;
        be.ormlq(lq, tau, m, n, q, m);
        assert.ok(rowOrthogonalityError(q, m, n) <= 1e-14 * n, 'QQᵀ ≠ I');
      }
    });
  }
  test(`geqrf/gelqf (${be.name}): the wrong orientation is one clear error`, () => {
    assert.throws(() => be.geqrf(random(3, 5, 1), 3, 5), /geqrf: needs at least as many rows as columns \(got 3 × 5\)/);
    assert.throws(() => be.gelqf(random(5, 3, 1), 5, 3), /gelqf: needs at most as many rows as columns \(got 5 × 3\)/);
  });
}

test('geqrf/gelqf: both backends give the same packed factors (LAPACK reflector convention)', { skip: !native && 'OpenBLAS not available' }, () => {
  for (const [m, n] of shapes) {
    const a = random(m, n, m * 100 + n);
    const p = factor(pureBackend(), a, m, n);
    const q = factor(native!, a, m, n);
    assert.ok(maxAbsDiff(p.packed, q.packed) <= 1e-12 * maxAbs(a), `${m}×${n}: packed factors differ by ${maxAbsDiff(p.packed, q.packed)}`);
    assert.ok(maxAbsDiff(p.tau, q.tau) <= 1e-12, `${m}×${n}: τ differ`);
  }
});

test('geqrf/gelqf: tiny and huge matrices keep their scale (Q·R = A relative to max |a|)', () => {
  for (const be of backends) {
    for (const scale of [1e-160, 1e160]) {
      const a = random(9, 4, 5).map((x) => x * scale);
      const { qr, tau } = be.geqrf(a, 9, 4);
      const r = new Float64Array(36);
      for (let i = 0; i < 4; i++) for (let j = i; j < 4; j++) r[i * 4 + j] = qr[i * 4 + j];
      be.ormqr(qr, tau, 9, 4, r, 4);
      assert.ok(maxAbsDiff(r, a) <= 1e-14 * maxAbs(a), `${be.name} ×${scale}: Q·R ≠ A`);
      const at = random(4, 9, 6).map((x) => x * scale);
      const { lq, tau: t2 } = be.gelqf(at, 4, 9);
      const l = new Float64Array(36);
      for (let i = 0; i < 4; i++) for (let j = 0; j <= i; j++) l[i * 9 + j] = lq[i * 9 + j];
      be.ormlq(lq, t2, 4, 9, l, 4);
      assert.ok(maxAbsDiff(l, at) <= 1e-14 * maxAbs(at), `${be.name} ×${scale}: L·Q ≠ A`);
    }
  }
});
