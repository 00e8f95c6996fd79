/** GEMM: the pure-TS backend and OpenBLAS agree with a float64 reference for every transpose combination. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nativeBackend, pureBackend, type Backend } from '../../src/backend/index.ts';
import { maxAbs, randomMatrix, referenceProduct, type Dtype, type Floats } from './invariants.ts';

const native = nativeBackend();
const backends: Backend[] = [pureBackend(), ...(native ? [native] : [])];
const dtypes: Dtype[] = ['float32', 'float64'];
const shapes = [
  [1, 1, 1],
  [7, 5, 3],
  [33, 17, 29],
  [64, 70, 130],
  [1, 300, 77],
  [1, 4099, 130], // one row times more than 2^19 elements: OpenBLAS runs it as gemv
] as const;

interface Layout {
  a: Floats;
  lda: number;
  b: Floats;
  ldb: number;
  c: Floats;
  ldc: number;
  /** Where op(A), op(B), C start inside the parent arrays (the kernel gets subarrays). */
  offA: number;
  offB: number;
  offC: number;
}

/** Operands inside bigger arrays: an offset and a padded leading dimension, like a slice of a larger matrix. */
function strided(m: number, n: number, k: number, transA: boolean, transB: boolean, dtype: Dtype, seed: number, pad: number): Layout {
  const [ar, ac] = transA ? [k, m] : [m, k];
  const [br, bc] = transB ? [n, k] : [k, n];
  const lda = ac + pad;
  const ldb = bc + pad;
  const ldc = n + pad;
  const offA = 3 * pad;
  const offB = 2 * pad;
  const offC = pad;
  return {
    a: randomMatrix(1, offA + ar * lda, dtype, seed),
    lda,
    b: randomMatrix(1, offB + br * ldb, dtype, seed + 1),
    ldb,
    c: randomMatrix(1, offC + m * ldc, dtype, seed + 2),
    ldc,
    offA,
    offB,
    offC,
  };
}

for (const be of backends) {
  for (const dtype of dtypes) {
    test(`${be.name} gemm matches a float64 reference (${dtype}, all transposes, strided subarrays, α and β)`, () => {
      let seed = 1;
      for (const [m, n, k] of shapes) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            for (const pad of [0, 5]) {
              const L = strided(m, n, k, transA, transB, dtype, seed++, pad);
              const before = L.c.slice();
              const alpha = 1.5;
              const beta = pad === 0 ? 0 : -0.5;
              be.gemm({
                transA, transB, m, n, k, alpha,
                a: L.a.subarray(L.offA), lda: L.lda,
                b: L.b.subarray(L.offB), ldb: L.ldb,
                beta, c: L.c.subarray(L.offC), ldc: L.ldc,
              });
              const ab = referenceProduct(L.a.subarray(L.offA), L.lda, transA, L.b.subarray(L.offB), L.ldb, transB, m, n, k);
              const scale = Math.max(1, maxAbs(ab));
              const where = `${dtype} m=${m} n=${n} k=${k} transA=${transA} transB=${transB} pad=${pad}`;
              for (let i = 0; i < m; i++) {
                for (let j = 0; j < n; j++) {
                  const p = L.offC + i * L.ldc + j;
                  const expected = alpha * ab[i * n + j] + (beta === 0 ? 0 : beta * before[p]);
                  assert.ok(Math.abs(L.c[p] - expected) <= 1e-5 * scale, `${where}: C[${i}][${j}] = ${L.c[p]}, expected ${expected}`);
                }
                // the padding between rows of C and everything outside C stays untouched
                for (let j = n; j < L.ldc; j++) assert.equal(L.c[L.offC + i * L.ldc + j], before[L.offC + i * L.ldc + j], `${where}: padding written`);
              }
              for (let p = 0; p < L.offC; p++) assert.equal(L.c[p], before[p], `${where}: wrote before C`);
            }
          }
        }
      }
    });
  }
}

test('pure and native gemm agree to 1e-5 on a transformer-sized product (float32)', { skip: native ? false : 'OpenBLAS not available' }, () => {
  const [m, n, k] = [48, 96, 256];
  const a = randomMatrix(m, k, 'float32', 11);
  const b = randomMatrix(n, k, 'float32', 12);
  const run = (be: Backend) => {
    const c = new Float32Array(m * n);
    be.gemm({ transA: false, transB: true, m, n, k, alpha: 1, a, lda: k, b, ldb: k, beta: 0, c, ldc: n });
    return c;
  };
  const x = run(pureBackend());
  const y = run(native!);
  const scale = maxAbs(y);
  for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - y[i]) <= 1e-5 * scale, `element ${i}: ${x[i]} vs ${y[i]}`);
});
