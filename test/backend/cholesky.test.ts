/**
 * The Cholesky family of both backends (potrf, trsm, potri) and syrkUpper, float64, checked by their
 * defining identities with plain loops and against each other.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nativeBackend, pureBackend, type Backend } from '../../src/backend/index.ts';
import { Rng } from '../../src/tensor/random.ts';

const native = nativeBackend();
const backends: Backend[] = [pureBackend(), ...(native ? [native] : [])];

function random(rng: Rng, n: number): Float64Array {
  return Float64Array.from({ length: n }, () => rng.normal());
}

/** A·Bᵀ with plain loops (a: n × k, b: m × k). */
function timesTransposed(a: Float64Array, n: number, b: Float64Array, m: number, k: number): Float64Array {
  const c = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += a[i * k + p] * b[j * k + p];
    c[i * m + j] = s;
  }
  return c;
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

for (const be of backends) {
  test(`${be.name}: potrf, trsm, potri and syrkUpper satisfy their identities`, () => {
    const rng = new Rng(3);
    const n = 37;
    const x = random(rng, n * 50);
    const g = new Float64Array(n * n);
    be.syrkUpper(x, n, 50, false, g);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) {
      assert.equal(g[i * n + j], 0, 'syrkUpper leaves the lower part');
      g[i * n + j] = g[j * n + i];
    }
    assert.ok(maxAbsDiff(g, timesTransposed(x, n, x, n, 50)) < 1e-11, 'syrk = X·Xᵀ');
    // C += XᵀX (transposed), accumulating onto what C holds
    const xt = new Float64Array(50 * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < 50; j++) xt[j * n + i] = x[i * 50 + j];
    const c = new Float64Array(n * n).fill(1);
    be.syrkUpper(xt, 50, n, true, c);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) assert.ok(Math.abs(c[i * n + j] - 1 - g[i * n + j]) < 1e-11, 'C += XᵀX');
    const copy = g.slice();
    const l = be.potrf(g, n)!;
    assert.deepEqual(g, copy, 'potrf leaves its input');
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) assert.equal(l[i * n + j], 0, 'L is lower triangular');
    assert.ok(maxAbsDiff(timesTransposed(l, n, l, n, n), g) < 1e-10, 'L·Lᵀ = A');
    const b = random(rng, n * 5);
    for (const transpose of [false, true]) {
      const sol = b.slice();
      be.trsm(l, n, sol, 5, transpose);
      // L·X (or Lᵀ·X) back to B
      const back = new Float64Array(n * 5);
      for (let i = 0; i < n; i++) for (let c = 0; c < 5; c++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += (transpose ? l[k * n + i] : l[i * n + k]) * sol[k * 5 + c];
        back[i * 5 + c] = s;
      }
      assert.ok(maxAbsDiff(back, b) < 1e-10, `trsm transpose=${transpose}`);
    }
    const inv = be.potri(l, n);
    const eye = timesTransposed(inv, n, g, n, n); // inv symmetric: inv·Aᵀ = inv·A
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) assert.ok(Math.abs(eye[i * n + j] - (i === j ? 1 : 0)) < 1e-9, 'potri·A = I');
    const indefinite = g.slice();
    indefinite[5 * n + 5] = -1;
    assert.equal(be.potrf(indefinite, n), null, 'not positive definite → null');
  });
}

test('potrf/trsm/potri/syrkUpper: OpenBLAS equals the pure backend', { skip: native ? false : 'OpenBLAS is not installed' }, () => {
  const rng = new Rng(5);
  const n = 29;
  const x = random(rng, n * 40);
  const pure = pureBackend();
  const g = new Float64Array(n * n);
  const gn = new Float64Array(n * n);
  pure.syrkUpper(x, n, 40, false, g);
  native!.syrkUpper(x, n, 40, false, gn);
  assert.ok(maxAbsDiff(gn, g) < 1e-11);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) g[i * n + j] = g[j * n + i];
  const l = pure.potrf(g, n)!;
  assert.ok(maxAbsDiff(native!.potrf(g, n)!, l) < 1e-12);
  assert.ok(maxAbsDiff(native!.potri(l, n), pure.potri(l, n)) < 1e-10);
});
