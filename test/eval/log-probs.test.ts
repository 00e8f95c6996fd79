/**
 * Log-probabilities over rows of logits (src/eval/log-probs.ts): the native kernel
 * (lk_logit_rows_f32) equals the TypeScript loops (same fastExp, same 8-lane sum order) at 1 and 2
 * threads, and both equal an independent float64 computation with Math.exp summed in index order
 * to 1e-12; argmax (first of ties) and ranks (strictly larger logits) equal plain loops.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logSumExpTypeScript, logitRows } from '../../src/eval/log-probs.ts';
import { nativeKernels, nativeKernelsStatus, withNativeKernels } from '../../src/tensor/native-kernels.ts';
import { Rng } from '../../src/tensor/random.ts';
import { withThreads } from '../helpers/threads.ts';

const skip = nativeKernels() ? false : `native kernels unavailable: ${nativeKernelsStatus()}`;

function reference(row: Float32Array): { lse: number; argmax: number } {
  let max = -Infinity, argmax = 0;
  for (let j = 0; j < row.length; j++) {
    if (row[j] > max) max = row[j];
    if (row[j] > row[argmax]) argmax = j;
  }
  if (max === -Infinity) return { lse: -Infinity, argmax };
  let sum = 0;
  for (let j = 0; j < row.length; j++) sum += Math.exp(row[j] - max);
  return { lse: max + Math.log(sum), argmax };
}

function logits(rows: number, V: number, seed: number): Float32Array {
  const x = new Rng(seed).randn([rows, V], 4).data as Float32Array;
  x[3] = x[7]; // a tie for the argmax's first-index rule when it is the row maximum
  x[V + 5] = 40; // a dominant logit
  x.fill(-Infinity, 2 * V + 1, 2 * V + 20); // masked entries (whole rows when V is small)
  return x;
}

for (const V of [1, 7, 8, 4096, 50257]) {
  test(`logitRows, V = ${V}: TypeScript equals an independent float64 log-sum-exp to 1e-12, argmax and ranks exactly`, () => {
    const rows = 5;
    const x = logits(rows, V, V);
    const at = Int32Array.from([4, 0, 2, 2, 1]);
    const targets = Int32Array.from(at, (_, i) => (i * 977) % V);
    const got = withNativeKernels(false, () => logitRows(x, V, at, at.length, targets));
    at.forEach((r, i) => {
      const row = x.subarray(r * V, (r + 1) * V);
      const want = reference(row);
      assert.ok(got.logSumExp[i] === want.lse || Math.abs(got.logSumExp[i] - want.lse) <= 1e-12 * Math.max(1, Math.abs(want.lse)), `row ${r}: ${got.logSumExp[i]} vs ${want.lse}`);
      assert.equal(got.argmax[i], want.argmax, `row ${r} argmax`);
      assert.equal(got.rank![i], row.filter((v) => v > row[targets[i]]).length, `row ${r} rank`);
    });
  });

  test(`logitRows, V = ${V}: the native kernel equals the TypeScript loops at 1 and 2 threads`, { skip }, () => {
    const rows = 9;
    const x = logits(rows, V, V + 1);
    const targets = Int32Array.from({ length: rows }, (_, i) => (i * 31) % V);
    const oracle = withNativeKernels(false, () => logitRows(x, V, null, rows, targets));
    for (const t of [1, 2]) {
      const got = withThreads(t, () => withNativeKernels(true, () => logitRows(x, V, null, rows, targets)));
      assert.deepEqual(got.argmax, oracle.argmax);
      assert.deepEqual(got.rank, oracle.rank);
      // the same sums in the same order; only log may differ (libm vs V8) in its last bit
      got.logSumExp.forEach((v, i) => assert.ok(v === oracle.logSumExp[i] || Math.abs(v - oracle.logSumExp[i]) <= 4e-16 * Math.max(1, Math.abs(v)), `row ${i} at ${t} threads: ${v} vs ${oracle.logSumExp[i]}`));
    }
  });
}

test('logitRows of one row: native and TypeScript agree; an all −∞ row gives −∞; a row out of range is refused', () => {
  const x = logits(3, 1000, 3);
  const ts = logSumExpTypeScript(x, 1000, 1000);
  assert.ok(Math.abs(logitRows(x, 1000, Int32Array.of(1), 1).logSumExp[0] - ts) <= 4e-16 * Math.abs(ts));
  const masked = new Float32Array(16).fill(-Infinity);
  assert.equal(logitRows(masked, 16, null, 1).logSumExp[0], -Infinity);
  assert.equal(withNativeKernels(false, () => logitRows(masked, 16, null, 1).logSumExp[0]), -Infinity);
  assert.throws(() => logitRows(x, 1000, Int32Array.from([3]), 1), /row 3 is outside the 3 rows/);
  assert.throws(() => logitRows(x, 1000, null, 1, Int32Array.from([1000])), /target 1000 is outside the vocabulary/);
});
