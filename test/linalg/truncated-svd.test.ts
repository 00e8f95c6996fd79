/**
 * The exact truncated SVD's two routes — the QR (or LQ) of the long side then the SVD of the small
 * triangle, and one gesdd of the whole matrix — give the same components to round-off, on both
 * backends, checked against each other and against an independent one-sided Jacobi SVD
 * (test/laser/reference-svd.ts) and matrices of known spectrum: tall, wide, square, rank-deficient,
 * and the 'bottom' components (where σ may be tiny or zero and U must still be orthonormal).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nativeBackend, pureBackend, withBackend, type Backend } from '../../src/backend/index.ts';
import { exactRoute, reconstruct, truncatedSvd, type TruncatedSvd } from '../../src/linalg/truncated-svd.ts';
import {
  columnOrthogonalityError, matrixWithSpectrum, maxAbs, maxAbsDiff, product, randomMatrix, rowOrthogonalityError, transposed,
} from '../backend/invariants.ts';
import { jacobiSvd, sumOfComponents } from '../laser/reference-svd.ts';

const native = nativeBackend();
const backends: Backend[] = [pureBackend(), ...(native ? [native] : [])];

const random = (m: number, n: number, seed: number) => randomMatrix(m, n, 'float64', seed) as Float64Array;
const lowRank = (m: number, n: number, k: number, seed: number) => product(random(m, k, seed), random(k, n, seed + 1), m, k, n);
const graded = (k: number, decades: number) => Array.from({ length: k }, (_, i) => 10 ** (-(decades * i) / (k - 1)));

interface Case { name: string; m: number; n: number; a: Float64Array }
const cases: Case[] = [
  { name: 'tall 48×16', m: 48, n: 16, a: random(48, 16, 1) },
  { name: 'wide 16×48', m: 16, n: 48, a: random(16, 48, 2) },
  { name: 'square 24×24', m: 24, n: 24, a: random(24, 24, 3) },
  { name: 'aspect 1.5 (36×24)', m: 36, n: 24, a: random(36, 24, 4) },
  { name: 'rank 4 of 40×16', m: 40, n: 16, a: lowRank(40, 16, 4, 5) },
  { name: 'rank 4 of 16×40', m: 16, n: 40, a: lowRank(16, 40, 4, 7) },
  { name: 'graded 1…1e-12, 60×20', m: 60, n: 20, a: matrixWithSpectrum(60, 20, graded(20, 12), 9) },
  { name: 'graded 1…1e-12, 20×60', m: 20, n: 60, a: transposed(matrixWithSpectrum(60, 20, graded(20, 12), 11), 60, 20) },
  { name: 'column 9×1', m: 9, n: 1, a: random(9, 1, 13) },
  { name: 'tall 300×140 (several LAPACK blocks)', m: 300, n: 140, a: random(300, 140, 15) },
  { name: 'row 1×9', m: 1, n: 9, a: random(1, 9, 14) },
  { name: 'zero 12×4', m: 12, n: 4, a: new Float64Array(48) },
];

/** ‖A·vᵢ − σᵢ·uᵢ‖∞ and ‖Aᵀ·uᵢ − σᵢ·vᵢ‖∞ over the kept components. */
function residual(a: Float64Array, f: TruncatedSvd): number {
  const { m, n, r } = f;
  const av = product(a, transposed(f.vt, r, n), m, n, r); // m × r
  const atu = product(transposed(a, m, n), f.u, n, m, r); // n × r
  let worst = 0;
  for (let j = 0; j < r; j++) {
    for (let i = 0; i < m; i++) worst = Math.max(worst, Math.abs(av[i * r + j] - f.s[j] * f.u[i * r + j]));
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(atu[i * r + j] - f.s[j] * f.vt[j * n + i]));
  }
  return worst;
}

for (const be of backends) {
  for (const c of cases) {
    const k = Math.min(c.m, c.n);
    const ranks = [...new Set([1, Math.max(1, k >> 2), k - 1, k].filter((r) => r >= 1))];
    test(`exact truncated SVD, ${c.name} (${be.name}): the LQ (and square) routes equal gesdd and the Jacobi reference`, () => {
      withBackend(be, () => {
        const copy = c.a.slice();
        const ref = jacobiSvd(c.a, c.m, c.n);
        const scale = maxAbs(c.a);
        for (const keep of ['top', 'bottom'] as const) {
          for (const r of ranks) {
            const viaGesdd = truncatedSvd(c.a, c.m, c.n, r, { keep, exactVia: 'gesdd' });
            for (const via of c.m === c.n ? (['lq', 'gesdd-part'] as const) : (['lq'] as const)) {
            const label = `${keep} ${r} via ${via}`;
            const viaQr = truncatedSvd(c.a, c.m, c.n, r, { keep, exactVia: via });
            assert.deepEqual(c.a, copy, `${label}: input modified`);
            assert.deepEqual([viaQr.m, viaQr.n, viaQr.r, viaQr.u.length, viaQr.s.length, viaQr.vt.length], [c.m, c.n, r, c.m * r, r, r * c.n]);
            const first = keep === 'top' ? 0 : k - r;
            const kept = Array.from({ length: r }, (_, i) => first + i);
            // singular values: equal to gesdd's and to the reference's (absolute, in units of σ₁)
            for (let i = 0; i < r; i++) {
              assert.ok(Math.abs(viaQr.s[i] - viaGesdd.s[i]) <= 1e-13 * ref.s[0], `${label}: σ${first + i} ${viaQr.s[i]} vs gesdd ${viaGesdd.s[i]}`);
              assert.ok(Math.abs(viaQr.s[i] - ref.s[first + i]) <= 1e-13 * ref.s[0], `${label}: σ${first + i} ${viaQr.s[i]} vs reference ${ref.s[first + i]}`);
            }
            // the component sum U_r·S_r·V_rᵀ: unique where σ_{first−1} > σ_first and σ_{first+r−1} > σ_{first+r}
            const rec = reconstruct(viaQr);
            const separated = (i: number) => i <= 0 || i >= k || ref.s[i - 1] - ref.s[i] > 1e-6 * ref.s[0];
            if (separated(first) && separated(first + r)) {
              assert.ok(maxAbsDiff(rec, reconstruct(viaGesdd)) <= 1e-12 * scale, `${label}: reconstruction differs from gesdd's`);
              assert.ok(maxAbsDiff(rec, sumOfComponents(ref, c.m, c.n, kept)) <= 1e-12 * scale, `${label}: reconstruction differs from the reference`);
            }
            // orthonormal factors even for tiny or zero σ, and the defining equations
            assert.ok(columnOrthogonalityError(viaQr.u, c.m, r) <= 1e-13, `${label}: UᵀU ≠ I`);
            assert.ok(rowOrthogonalityError(viaQr.vt, r, c.n) <= 1e-13, `${label}: VᵀV ≠ I`);
            assert.ok(residual(c.a, viaQr) <= 1e-13 * scale, `${label}: A·v ≠ σ·u`);
            }
          }
        }
      });
    });
  }
}

test('exact truncated SVD: graded spectrum, the bottom values match the known ones to round-off of σ₁', () => {
  const sigma = graded(20, 12);
  for (const be of backends) {
    withBackend(be, () => {
      for (const [m, n, a] of [[60, 20, matrixWithSpectrum(60, 20, sigma, 21)], [20, 60, transposed(matrixWithSpectrum(60, 20, sigma, 23), 60, 20)]] as const) {
        const f = truncatedSvd(a, m, n, 5, { keep: 'bottom' });
        for (let i = 0; i < 5; i++) assert.ok(Math.abs(f.s[i] - sigma[15 + i]) <= 1e-14, `${be.name} ${m}×${n}: σ${15 + i} ${f.s[i]} vs ${sigma[15 + i]}`);
      }
    });
  }
});

test("exact truncated SVD: the default route is 'lq' from aspect 1.5, 'gesdd-part' when square, else 'gesdd'", () => {
  assert.equal(exactRoute(3072, 768), 'lq');
  assert.equal(exactRoute(768, 3072), 'lq');
  assert.equal(exactRoute(36, 24), 'lq');
  assert.equal(exactRoute(35, 24), 'gesdd');
  assert.equal(exactRoute(24, 35), 'gesdd');
  assert.equal(exactRoute(768, 768), 'gesdd-part');
  assert.throws(() => truncatedSvd(random(5, 4, 1), 5, 4, 2, { exactVia: 'gesdd-part' }), /route 'gesdd-part' needs a square matrix \(got 5×4\)/);
  for (const be of backends) {
    withBackend(be, () => {
      for (const [m, n, seed] of [[48, 16, 31], [16, 48, 32]]) {
        const a = random(m, n, seed);
        assert.deepEqual(truncatedSvd(a, m, n, 5), truncatedSvd(a, m, n, 5, { exactVia: 'lq' }), `${be.name} ${m}×${n}`);
      }
      const sq = random(20, 20, 33);
      assert.deepEqual(truncatedSvd(sq, 20, 20, 5), truncatedSvd(sq, 20, 20, 5, { exactVia: 'gesdd-part' }), `${be.name} square`);
      const near = random(30, 24, 34);
      assert.deepEqual(truncatedSvd(near, 30, 24, 5), truncatedSvd(near, 30, 24, 5, { exactVia: 'gesdd' }), `${be.name} 30×24`);
    });
  }
});

test('exact truncated SVD: the two backends agree on the LQ route', { skip: !native && 'OpenBLAS not available' }, () => {
  for (const [m, n, seed] of [[50, 20, 41], [20, 50, 42]]) {
    const a = random(m, n, seed);
    for (const keep of ['top', 'bottom'] as const) {
      const [p, q] = [pureBackend(), native!].map((be) => withBackend(be, () => truncatedSvd(a, m, n, 6, { keep, exactVia: 'lq' })));
      assert.ok(maxAbsDiff(p.s, q.s) <= 1e-13 * p.s[0], `${m}×${n} ${keep}: values`);
      assert.ok(maxAbsDiff(reconstruct(p), reconstruct(q)) <= 1e-12 * maxAbs(a), `${m}×${n} ${keep}: reconstruction`);
    }
  }
});
