/**
 * The LAPACK routines of both backends, checked by their defining identities and against each other
 * (to 1e-5 relative), in float32 and float64.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nativeBackend, pureBackend, type Backend } from '../../src/backend/index.ts';
import {
  columnOrthogonalityError, isAscending, isDescending, matrixWithSpectrum, maxAbs, maxAbsDiff, product,
  randomMatrix, randomSymmetric, rowOrthogonalityError, svdProduct, tolerance, transposed, type Dtype, type Floats,
} from './invariants.ts';

const native = nativeBackend();
const pure = pureBackend();
const backends: Backend[] = [pure, ...(native ? [native] : [])];
const dtypes: Dtype[] = ['float32', 'float64'];
const arrayType = (dtype: Dtype) => (dtype === 'float64' ? Float64Array : Float32Array);

function as(dtype: Dtype, x: ArrayLike<number>): Floats {
  return arrayType(dtype).from(x);
}

/** Checks a thin SVD of the m × n matrix `a` and returns its singular values. */
function checkSvd(be: Backend, a: Floats, m: number, n: number, dtype: Dtype, label: string): Floats {
  const copy = a.slice();
  const k = Math.min(m, n);
  const { s, u, vt } = be.gesdd(a, m, n, true);
  assert.deepEqual(a, copy, `${label}: input modified`);
  assert.ok(s instanceof arrayType(dtype) && u instanceof arrayType(dtype) && vt instanceof arrayType(dtype), `${label}: dtype`);
  assert.equal(s.length, k);
  assert.equal(u!.length, m * k);
  assert.equal(vt!.length, k * n);
  assert.ok(isDescending(s) && s[k - 1] >= 0, `${label}: values not descending/non-negative`);
  const scale = Math.max(maxAbs(a), 1e-300);
  const tol = tolerance(dtype) * Math.max(m, n);
  const rec = maxAbsDiff(svdProduct(u!, s, vt!, m, k, n), a) / scale;
  assert.ok(rec <= tol, `${label}: reconstruction error ${rec}`);
  assert.ok(columnOrthogonalityError(u!, m, k) <= tol, `${label}: UᵀU ≠ I`);
  assert.ok(rowOrthogonalityError(vt!, k, n) <= tol, `${label}: VᵀV ≠ I`);
  const valuesOnly = be.gesdd(a, m, n, false);
  assert.equal(valuesOnly.u, undefined);
  assert.ok(maxAbsDiff(valuesOnly.s, s) <= tolerance(dtype) * Math.max(s[0], 1e-300), `${label}: values-only differs`);
  return s;
}

const svdCases: { name: string; m: number; n: number; make: (dtype: Dtype) => Floats }[] = [
  { name: 'square 30×30', m: 30, n: 30, make: (d) => randomMatrix(30, 30, d, 1) },
  { name: 'tall 40×25', m: 40, n: 25, make: (d) => randomMatrix(40, 25, d, 2) },
  { name: 'wide 25×40', m: 25, n: 40, make: (d) => randomMatrix(25, 40, d, 3) },
  { name: 'row 1×7', m: 1, n: 7, make: (d) => randomMatrix(1, 7, d, 4) },
  { name: 'column 7×1', m: 7, n: 1, make: (d) => randomMatrix(7, 1, d, 5) },
  { name: 'rank 3 of 20×15', m: 20, n: 15, make: (d) => as(d, product(randomMatrix(20, 3, 'float64', 6), randomMatrix(3, 15, 'float64', 7), 20, 3, 15)) },
  { name: 'repeated values (3 × orthonormal)', m: 18, n: 12, make: (d) => as(d, matrixWithSpectrum(18, 12, new Array(12).fill(3), 8)) },
  { name: 'graded spectrum 1 … 1e-9', m: 24, n: 16, make: (d) => as(d, matrixWithSpectrum(24, 16, Array.from({ length: 16 }, (_, i) => 10 ** (-(9 * i) / 15)), 9)) },
  { name: 'zero matrix', m: 6, n: 4, make: (d) => new (arrayType(d))(24) },
];

for (const dtype of dtypes) {
  for (const c of svdCases) {
    test(`gesdd ${c.name} (${dtype}): both backends satisfy A = U·S·Vᵀ with orthonormal factors and agree`, () => {
      const a = c.make(dtype);
      const values = backends.map((be) => checkSvd(be, a, c.m, c.n, dtype, `${be.name} ${c.name}`));
      if (values.length === 2) {
        const diff = maxAbsDiff(values[0], values[1]);
        assert.ok(diff <= 1e-5 * Math.max(values[1][0], 1e-300), `${c.name}: singular values differ by ${diff}`);
      }
    });
  }
}

/** Matrices whose bidiagonal/tridiagonal forms hit the special cases: zero diagonals, exact ties, extreme scales. */
function structured(): { name: string; n: number; a: Float64Array }[] {
  const n = 6;
  const make = (name: string, fill: (a: Float64Array) => void) => {
    const a = new Float64Array(n * n);
    fill(a);
    return { name, n, a };
  };
  const bidiagonal = (a: Float64Array, diag: number[]) => {
    for (let i = 0; i < n; i++) {
      a[i * n + i] = diag[i];
      if (i < n - 1) a[i * n + i + 1] = 1;
    }
  };
  return [
    make('shift (nilpotent)', (a) => { for (let i = 0; i < n - 1; i++) a[i * n + i + 1] = 1; }),
    make('permutation', (a) => [3, 0, 5, 1, 2, 4].forEach((j, i) => (a[i * n + j] = 1))),
    make('diagonal with zeros', (a) => [0, 2, 0, 5, 0, 1].forEach((v, i) => (a[i * n + i] = v))),
    make('bidiagonal, zero in the middle', (a) => bidiagonal(a, [1, 2, 3, 0, 5, 6])),
    make('bidiagonal, zero at the end', (a) => bidiagonal(a, [1, 2, 3, 4, 5, 0])),
    make('entries near 1e300', (a) => { for (let i = 0; i < n * n; i++) a[i] = Math.sin(i) * 1e300; }),
    make('entries near 1e-300', (a) => { for (let i = 0; i < n * n; i++) a[i] = Math.cos(i) * 1e-300; }),
  ];
}

for (const c of structured()) {
  test(`gesdd and syevd on a structured matrix: ${c.name} (float64)`, () => {
    const values = backends.map((be) => checkSvd(be, c.a, c.n, c.n, 'float64', `${be.name} ${c.name}`));
    const eigen = backends.map((be) => checkEigh(be, c.a, c.n, 'float64', `${be.name} ${c.name}`));
    if (backends.length === 2) {
      assert.ok(maxAbsDiff(values[0], values[1]) <= 1e-12 * values[1][0], `${c.name}: singular values differ`);
      const scale = Math.max(...Array.from(eigen[1], Math.abs));
      assert.ok(maxAbsDiff(eigen[0], eigen[1]) <= 1e-12 * scale, `${c.name}: eigenvalues differ`);
    }
  });
}

test('gesdd on known singular values recovers them (pure, float64)', () => {
  const sigma = [9, 5, 5, 2, 0.5, 1e-3];
  const a = matrixWithSpectrum(15, 6, sigma, 21);
  const { s } = pure.gesdd(a, 15, 6, false);
  assert.ok(maxAbsDiff(s, sigma) <= 1e-12, `got ${Array.from(s)}`);
});

test('pure gesdd of a 256×256 matrix with vectors takes well under a few seconds', () => {
  const a = randomMatrix(256, 256, 'float32', 22);
  const t0 = performance.now();
  const { s, u, vt } = pure.gesdd(a, 256, 256, true);
  const ms = performance.now() - t0;
  assert.ok(ms < 3000, `took ${ms.toFixed(0)} ms`);
  assert.ok(maxAbsDiff(svdProduct(u!, s, vt!, 256, 256, 256), a) <= 1e-4);
});

// ---------------------------------------------------------------------------------------------------

function checkEigh(be: Backend, a: Floats, n: number, dtype: Dtype, label: string): Floats {
  const copy = a.slice();
  const { w, v } = be.syevd(a, n, true);
  assert.deepEqual(a, copy, `${label}: input modified`);
  assert.ok(w instanceof arrayType(dtype) && v instanceof arrayType(dtype), `${label}: dtype`);
  assert.ok(isAscending(w), `${label}: eigenvalues not ascending`);
  // the symmetric matrix read from the upper triangle
  const sym = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) sym[i * n + j] = sym[j * n + i] = a[i * n + j];
  const scale = Math.max(maxAbs(sym), 1e-300);
  const tol = tolerance(dtype) * n;
  const av = product(sym, v!, n, n, n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const r = Math.abs(av[i * n + j] - w[j] * v![i * n + j]) / scale;
      assert.ok(r <= tol, `${label}: A·v ≠ λ·v for eigenpair ${j} (residual ${r})`);
    }
  }
  assert.ok(columnOrthogonalityError(v!, n, n) <= tol, `${label}: VᵀV ≠ I`);
  const valuesOnly = be.syevd(a, n, false);
  assert.equal(valuesOnly.v, undefined);
  assert.ok(maxAbsDiff(valuesOnly.w, w) <= tolerance(dtype) * scale * n, `${label}: values-only differs`);
  return w;
}

const eighCases: { name: string; n: number; make: (dtype: Dtype) => Floats }[] = [
  { name: '1×1', n: 1, make: (d) => as(d, [-2.5]) },
  { name: '2×2', n: 2, make: (d) => as(d, [2, 1, 1, 2]) },
  { name: 'random 17×17', n: 17, make: (d) => randomSymmetric(17, d, 31) },
  { name: 'random 40×40', n: 40, make: (d) => randomSymmetric(40, d, 32) },
  {
    name: 'repeated eigenvalues (3·I + rank one)', n: 12,
    make: (d) => {
      const x = randomMatrix(12, 1, 'float64', 33);
      return as(d, product(x, x, 12, 1, 12).map((v, i) => v + (i % 13 === 0 ? 3 : 0)));
    },
  },
  {
    name: 'only the upper triangle is read', n: 9,
    make: (d) => {
      const a = randomSymmetric(9, d, 34);
      for (let i = 0; i < 9; i++) for (let j = 0; j < i; j++) a[i * 9 + j] = 1e6; // garbage below the diagonal
      return a;
    },
  },
];

for (const dtype of dtypes) {
  for (const c of eighCases) {
    test(`syevd ${c.name} (${dtype}): A·v = λ·v, orthonormal vectors, ascending values, backends agree`, () => {
      const a = c.make(dtype);
      const values = backends.map((be) => checkEigh(be, a, c.n, dtype, `${be.name} ${c.name}`));
      if (values.length === 2) {
        const scale = Math.max(...Array.from(values[1], Math.abs), 1e-300);
        assert.ok(maxAbsDiff(values[0], values[1]) <= 1e-5 * scale, `${c.name}: eigenvalues differ`);
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------------

for (const dtype of dtypes) {
  test(`gels (${dtype}): the residual is orthogonal to range(A) (normal equations) and backends agree`, () => {
    const [m, n, nrhs] = [30, 8, 3];
    const a = randomMatrix(m, n, dtype, 41);
    const b = randomMatrix(m, nrhs, dtype, 42);
    const [ac, bc] = [a.slice(), b.slice()];
    const solutions = backends.map((be) => {
      const x = be.gels(a, m, n, b, nrhs);
      assert.deepEqual(a, ac);
      assert.deepEqual(b, bc);
      assert.ok(x instanceof arrayType(dtype));
      assert.equal(x.length, n * nrhs);
      const residual = product(a, x, m, n, nrhs).map((v, i) => v - b[i]);
      const normal = product(transposed(a, m, n), residual, n, m, nrhs);
      assert.ok(maxAbs(normal) <= tolerance(dtype) * m * maxAbs(b), `${be.name}: Aᵀ(AX − B) = ${maxAbs(normal)}`);
      return x;
    });
    if (solutions.length === 2) assert.ok(maxAbsDiff(solutions[0], solutions[1]) <= 1e-5 * maxAbs(solutions[1]));
  });

  test(`gels (${dtype}): an exactly consistent square system is solved; bad shapes and rank deficiency throw`, () => {
    const n = 6;
    const a = randomMatrix(n, n, dtype, 43);
    const xTrue = randomMatrix(n, 1, 'float64', 44);
    const b = as(dtype, product(a, xTrue, n, n, 1));
    const deficient = randomMatrix(7, 3, dtype, 45);
    for (let i = 0; i < 7; i++) deficient[i * 3 + 1] = 0; // a zero column: R₂₂ is exactly 0
    for (const be of backends) {
      const x = be.gels(a, n, n, b, 1);
      assert.ok(maxAbsDiff(x, xTrue) <= (dtype === 'float64' ? 1e-9 : 1e-3), `${be.name}: ${Array.from(x)} vs ${Array.from(xTrue)}`);
      assert.throws(() => be.gels(randomMatrix(3, 5, dtype, 46), 3, 5, randomMatrix(3, 1, dtype, 47), 1), /at least as many rows as columns/);
      assert.throws(() => be.gels(deficient, 7, 3, randomMatrix(7, 1, dtype, 48), 1), /rank deficient/);
    }
  });

  test(`posv (${dtype}): solves SPD systems, agrees across backends, returns null when not positive definite`, () => {
    const [n, nrhs] = [20, 4];
    const m = randomMatrix(n + 5, n, 'float64', 51);
    const spd = product(transposed(m, n + 5, n), m, n, n + 5, n);
    for (let i = 0; i < n; i++) spd[i * n + i] += 1;
    const a = as(dtype, spd);
    for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) a[i * n + j] = NaN; // only the upper triangle is read
    const b = randomMatrix(n, nrhs, dtype, 52);
    const solutions = backends.map((be) => {
      const x = be.posv(a, n, b, nrhs);
      assert.ok(x, `${be.name}: returned null for an SPD matrix`);
      assert.ok(x instanceof arrayType(dtype));
      const ax = product(spd, x, n, n, nrhs);
      assert.ok(maxAbsDiff(ax, b) <= tolerance(dtype) * 100 * maxAbs(b), `${be.name}: A·X ≠ B`);
      return x;
    });
    if (solutions.length === 2) assert.ok(maxAbsDiff(solutions[0], solutions[1]) <= 1e-5 * maxAbs(solutions[1]));

    const indefinite = randomSymmetric(n, dtype, 53);
    const singular = as(dtype, product(randomMatrix(n, 2, 'float64', 54), transposed(randomMatrix(n, 2, 'float64', 54), n, 2), n, 2, n));
    for (const be of backends) {
      assert.equal(be.posv(indefinite, n, b, nrhs), null, `${be.name}: indefinite`);
      assert.equal(be.posv(as(dtype, [-1]), 1, as(dtype, [1]), 1), null, `${be.name}: negative 1×1`);
      // a rank-2 PSD matrix: exactly singular in exact arithmetic, LAPACK may or may not notice in rounding
      const x = be.posv(singular, n, b, nrhs);
      if (x) assert.ok(x.length === n * nrhs);
    }
  });

  test(`orthonormalize (${dtype}): orthonormal Q spanning the columns, same Q on both backends`, () => {
    const [m, n] = [30, 8];
    const a = randomMatrix(m, n, dtype, 61);
    const copy = a.slice();
    const qs = backends.map((be) => {
      const q = be.orthonormalize(a, m, n);
      assert.deepEqual(a, copy);
      assert.ok(q instanceof arrayType(dtype));
      assert.ok(columnOrthogonalityError(q, m, n) <= tolerance(dtype) * m, `${be.name}: QᵀQ ≠ I`);
      // Q·(Qᵀ·A) = A: A's columns lie in span(Q)
      const proj = product(q, product(transposed(q, m, n), a, n, m, n), m, n, n);
      assert.ok(maxAbsDiff(proj, a) <= tolerance(dtype) * m * maxAbs(a), `${be.name}: A not in span(Q)`);
      return q;
    });
    // both follow LAPACK's reflector convention, so even the signs agree
    if (qs.length === 2) assert.ok(maxAbsDiff(qs[0], qs[1]) <= 1e-5, `Q differs by ${maxAbsDiff(qs[0], qs[1])}`);

    // rank-deficient input (repeated columns) still gives orthonormal columns
    const dup = a.slice();
    for (let i = 0; i < m; i++) dup[i * n + 5] = dup[i * n + 2];
    for (const be of backends) assert.ok(columnOrthogonalityError(be.orthonormalize(dup, m, n), m, n) <= tolerance(dtype) * m, `${be.name}: duplicated columns`);
  });
}
