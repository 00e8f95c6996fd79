/**
 * gesddPart (the square SVD with only some singular vectors) against the same backend's full gesdd:
 * all values, and the kept columns of U and rows of Vᵀ, equal to round-off.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nativeBackend, pureBackend, type Backend } from '../../src/backend/index.ts';
import { matrixWithSpectrum, maxAbsDiff, randomMatrix } from './invariants.ts';

const native = nativeBackend();
const backends: Backend[] = [pureBackend(), ...(native ? [native] : [])];
const n = 40;
const matrices: [string, Float64Array][] = [
  ['random', randomMatrix(n, n, 'float64', 1) as Float64Array],
  ['lower triangular', (randomMatrix(n, n, 'float64', 2) as Float64Array).map((x, i) => (i % n <= Math.floor(i / n) ? x : 0))],
  ['graded 1…1e-12', matrixWithSpectrum(n, n, Array.from({ length: n }, (_, i) => 10 ** (-12 * i / (n - 1))), 3)],
];

for (const be of backends) {
  for (const [name, a] of matrices) {
    test(`gesddPart ${name} ${n}×${n} (${be.name}): the kept vectors and all values of gesdd`, () => {
      const copy = a.slice();
      const full = be.gesdd(a, n, n, true);
      for (const [first, count] of [[0, 1], [0, 7], [10, 20], [33, 7], [0, n]]) {
        const p = be.gesddPart(a, n, first, count);
        assert.deepEqual(a, copy, 'input modified');
        assert.equal(p.u.length, n * count);
        assert.equal(p.vt.length, count * n);
        assert.ok(maxAbsDiff(p.s, full.s) <= 1e-15 * full.s[0], `${first}+${count}: values`);
        let du = 0;
        for (let i = 0; i < n; i++) for (let j = 0; j < count; j++) du = Math.max(du, Math.abs(p.u[i * count + j] - full.u![i * n + first + j]));
        assert.ok(du <= 1e-12, `${first}+${count}: U columns differ by ${du}`);
        assert.ok(maxAbsDiff(p.vt, full.vt!.subarray(first * n, (first + count) * n)) <= 1e-12, `${first}+${count}: Vᵀ rows`);
      }
    });
  }
}

test('gesddPart: components outside the matrix are one clear error', () => {
  for (const be of backends) assert.throws(() => be.gesddPart(new Float64Array(16), 4, 2, 3), /gesddPart: components 2…4 outside 0…3/);
});
