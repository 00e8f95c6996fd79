/** svd, eigh, lstsq, solveSpd and pinv on Tensors, on both backends and in both dtypes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withBackend } from '../../src/backend/index.ts';
import { eigh, lstsq, pinv, solveSpd, svd, truncateSvd } from '../../src/linalg/index.ts';
import { matmul } from '../../src/tensor/matmul.ts';
import { Tensor, type DType } from '../../src/tensor/tensor.ts';
import {
  columnOrthogonalityError, isAscending, isDescending, matrixWithSpectrum, maxAbs, maxAbsDiff, product, randomMatrix,
  randomSymmetric, rowOrthogonalityError, svdProduct, tolerance, transposed,
} from '../backend/invariants.ts';
import { testBackends } from './backends.ts';

const dtypes: DType[] = ['float32', 'float64'];
const matrix = (m: number, n: number, dtype: DType, seed: number) => new Tensor(randomMatrix(m, n, dtype, seed), [m, n]);

for (const be of testBackends) {
  for (const dtype of dtypes) {
    const tol = tolerance(dtype);

    test(`${be.name} svd (${dtype}): thin shapes, A = U·S·Vᵀ, values-only, float64 option`, () => {
      withBackend(be, () => {
        for (const [m, n] of [[12, 7], [7, 12]]) {
          const a = matrix(m, n, dtype, m * 10 + n);
          const k = Math.min(m, n);
          const { U, S, Vt } = svd(a);
          assert.deepEqual([U.shape, S.shape, Vt.shape], [[m, k], [k], [k, n]]);
          assert.equal(U.dtype, dtype);
          assert.ok(isDescending(S.data));
          assert.ok(maxAbsDiff(svdProduct(U.data, S.data, Vt.data, m, k, n), a.data) <= tol * 10 * maxAbs(a.data));
          assert.ok(columnOrthogonalityError(U.data, m, k) <= tol * 10);
          assert.ok(rowOrthogonalityError(Vt.data, k, n) <= tol * 10);
          const values = svd(a, { vectors: false });
          assert.equal(values.U, undefined);
          assert.ok(maxAbsDiff(values.S.data, S.data) <= tol * S.data[0]);
          const wide = svd(a, { float64: true });
          assert.equal(wide.S.dtype, 'float64');
          assert.ok(maxAbsDiff(wide.S.data, S.data) <= 1e-5 * S.data[0]);
          const top = truncateSvd({ U, S, Vt }, 3);
          assert.deepEqual([top.U.shape, top.S.shape, top.Vt.shape], [[m, 3], [3], [3, n]]);
          assert.deepEqual(Array.from(top.U.data.subarray(0, 3)), Array.from(U.data.subarray(0, 3)));
        }
        assert.throws(() => svd(Tensor.zeros([2, 3, 4], dtype)), /svd: A must be a 2-D matrix/);
      });
    });

    test(`${be.name} eigh (${dtype}): ascending values, A·V = V·diag(λ)`, () => {
      withBackend(be, () => {
        const n = 15;
        const a = new Tensor(randomSymmetric(n, dtype, 5), [n, n]);
        const { values, vectors } = eigh(a);
        assert.ok(isAscending(values.data));
        const av = product(a.data, vectors!.data, n, n, n);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
          assert.ok(Math.abs(av[i * n + j] - values.data[j] * vectors!.data[i * n + j]) <= tol * 50, `(${i}, ${j})`);
        }
        assert.equal(eigh(a, { vectors: false }).vectors, undefined);
        assert.throws(() => eigh(matrix(3, 4, dtype, 1)), /eigh: A must be square/);
      });
    });

    test(`${be.name} lstsq (${dtype}): normal equations hold; vector and matrix right-hand sides`, () => {
      withBackend(be, () => {
        const [m, n] = [25, 6];
        const a = matrix(m, n, dtype, 7);
        const b = matrix(m, 2, dtype, 8);
        const x = lstsq(a, b);
        assert.deepEqual(x.shape, [n, 2]);
        const r = product(a.data, x.data, m, n, 2).map((v, i) => v - b.data[i]);
        assert.ok(maxAbs(product(transposed(a.data, m, n), r, n, m, 2)) <= tol * 100);
        const xv = lstsq(a, new Tensor(b.data.filter((_, i) => i % 2 === 0), [m]));
        assert.deepEqual(xv.shape, [n]);
        assert.ok(maxAbsDiff(xv.data, x.data.filter((_, i) => i % 2 === 0)) <= tol * 10);
        assert.throws(() => lstsq(matrix(3, 5, dtype, 9), matrix(3, 1, dtype, 10)), /underdetermined.*pinv/);
        assert.throws(() => lstsq(a, matrix(m + 1, 1, dtype, 11)), /B has 26 rows but A has 25/);
      });
    });

    test(`${be.name} solveSpd (${dtype}): A·X = B for SPD A, null otherwise`, () => {
      withBackend(be, () => {
        const n = 10;
        const g = randomMatrix(n, n, 'float64', 12);
        const spd = product(transposed(g, n, n), g, n, n, n).map((v, i) => v + (i % (n + 1) === 0 ? 1 : 0));
        const a = new Tensor(dtype === 'float64' ? spd : Float32Array.from(spd), [n, n]);
        const b = matrix(n, 3, dtype, 13);
        const x = solveSpd(a, b)!;
        assert.deepEqual(x.shape, [n, 3]);
        assert.ok(maxAbsDiff(product(spd, x.data, n, n, 3), b.data) <= tol * 1000);
        assert.equal(solveSpd(new Tensor(randomSymmetric(n, dtype, 14), [n, n]), b), null);
        const xv = solveSpd(a, new Tensor(b.data.filter((_, i) => i % 3 === 0), [n]))!;
        assert.deepEqual(xv.shape, [n]);
      });
    });

    test(`${be.name} pinv (${dtype}): Moore–Penrose conditions, also for a rank-deficient matrix`, () => {
      withBackend(be, () => {
        const cases = [
          matrix(9, 5, dtype, 15),
          matrix(5, 9, dtype, 16),
          new Tensor(dtype === 'float64' ? matrixWithSpectrum(8, 6, [3, 2, 1], 17) : Float32Array.from(matrixWithSpectrum(8, 6, [3, 2, 1], 17)), [8, 6]),
        ];
        for (const a of cases) {
          const [m, n] = a.shape;
          const p = pinv(a);
          assert.deepEqual(p.shape, [n, m]);
          const apa = matmul(matmul(a, p), a);
          const pap = matmul(matmul(p, a), p);
          const ap = matmul(a, p);
          const pa = matmul(p, a);
          const slack = tol * 100 * Math.max(1, maxAbs(p.data));
          assert.ok(maxAbsDiff(apa.data, a.data) <= slack, `A·A⁺·A = A for ${a}`);
          assert.ok(maxAbsDiff(pap.data, p.data) <= slack, `A⁺·A·A⁺ = A⁺ for ${a}`);
          assert.ok(maxAbsDiff(ap.data, transposed(ap.data, m, m)) <= slack, `A·A⁺ symmetric for ${a}`);
          assert.ok(maxAbsDiff(pa.data, transposed(pa.data, n, n)) <= slack, `A⁺·A symmetric for ${a}`);
        }
        // rcond drops small singular values: with rcond above σ₃/σ₁ the result has rank 2
        const a = new Tensor(Float64Array.from(matrixWithSpectrum(6, 4, [4, 2, 0.1, 0.05], 18)), [6, 4]).to(dtype);
        const p = pinv(a, { rcond: 0.1 });
        const s = svd(p, { vectors: false }).S.data;
        assert.ok(Math.abs(s[0] - 0.5) <= 1e-4 && Math.abs(s[1] - 0.25) <= 1e-4 && s[2] <= 1e-4, `σ(A⁺) = ${Array.from(s)}`);
      });
    });
  }
}
