/**
 * The float64 statistics kernels of native/kernels.c against their TypeScript twins (the oracle:
 * `withNativeKernels(false)`): row copies, streamed moments, cross moments, centred products and the
 * Cholesky scores must come out bit for bit the same, at 1 and 2 threads; and buffers handed from
 * pair to pair (PairScratch) must not change a score.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { choleskyFactors, choleskyScores } from '../../src/analysis/linearity-cholesky.ts';
import { LinearityPairAccumulator, PairScratch, type PairBatch } from '../../src/analysis/linearity-pair.ts';
import { centredProduct, CrossMoments, StreamMoments } from '../../src/analysis/moments.ts';
import { sumSquares } from '../../src/analysis/partial-sums.ts';
import { copyShiftedRows } from '../../src/analysis/rows.ts';
import { nativeKernels, nativeKernelsStatus, withNativeKernels } from '../../src/tensor/native-kernels.ts';
import { nativeStatistics } from '../../src/tensor/native-statistics.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { withThreads } from '../helpers/threads.ts';

const skip = nativeKernels() ? false : `native kernels unavailable: ${nativeKernelsStatus()}`;


/**
 * Runs `fn` with the TypeScript loops and with the C kernels, at 1 and at 2 threads (the BLAS calls
 * in between may round differently per thread count, so each pair of runs shares one count).
 */
function bothPaths<R>(fn: () => R): R[][] {
  return [1, 2].map((threads) => withThreads(threads, () => [withNativeKernels(false, fn), withNativeKernels(true, fn)]));
}

/** Asserts the C runs equal the TypeScript runs at each thread count. */
function sameBothPaths(runs: unknown[][], what: string): void {
  runs.forEach(([ts, c], i) => sameBits(c, ts, `${what}, ${i + 1} thread${i ? 's' : ''}`));
}

function sameBits(a: unknown, b: unknown, what: string): void {
  assert.deepEqual(a, b, `${what}: the C kernels differ from the TypeScript loops`);
}

/** Hidden-state-like rows: float32, a few large common features, one zero row. */
function states(rng: Rng, n: number, d: number, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  const t = rng.randn([n, d], 1, dtype);
  for (let r = 0; r < n; r++) {
    t.data[r * d] += 300;
    t.data[r * d + 3] -= 40;
  }
  t.data.fill(0, 5 * d, 6 * d);
  return t;
}

test('copyShiftedRows: C equals TypeScript for float32 and float64 sources, with and without a selection and a shift', { skip }, () => {
  const rng = new Rng(3);
  const d = 37;
  for (const dtype of ['float32', 'float64'] as const) {
    const t = states(rng, 50, d, dtype);
    const shift = rng.randn([d], 10, 'float64').data as Float64Array;
    const rows = Int32Array.from([49, 3, 3, 0, 17, 20, 21, 8]);
    for (const sel of [undefined, rows]) {
      for (const s of [null, shift]) {
        const runs = bothPaths(() => Array.from(copyShiftedRows(t.data, d, sel, 2, 7, s, new Float64Array(5 * d + 3))));
        sameBothPaths(runs, `${dtype} rows ${sel ? 'selected' : 'all'} shift ${s ? 'yes' : 'no'}`);
      }
    }
    // a selection outside the tensor: the C kernel refuses, the TypeScript loop answers as before
    sameBothPaths(bothPaths(() => Array.from(copyShiftedRows(t.data, d, Int32Array.from([1, 50]), 0, 2, null, new Float64Array(2 * d)))), 'out-of-range selection');
  }
});

test('StreamMoments and CrossMoments: C equals TypeScript (sums, squares, unit sum, Gram, centred products)', { skip }, () => {
  const rng = new Rng(5);
  const n = 90;
  const d = 39; // not a multiple of 4: the partial sums' tail runs too
  const x = states(rng, n, d);
  const y = states(rng, n, d);
  const delta = states(rng, n, d, 'float64');
  const rows = Int32Array.from({ length: 70 }, (_, i) => (i * 7) % n);
  const run = () => {
    const xs = new StreamMoments(d);
    const ys = new StreamMoments(d, { unitSum: false });
    const pair = new CrossMoments(d);
    const parts = new CrossMoments(d);
    const bx = new Float64Array(16 * d);
    const by = new Float64Array(16 * d);
    const bd = new Float64Array(16 * d);
    const bp = new Float64Array(16 * d);
    for (let start = 0; start < rows.length; start += 16) {
      const end = Math.min(rows.length, start + 16);
      const m = end - start;
      const cx = xs.readChunk(x, rows, start, end, bx);
      const cy = ys.readChunk(y, rows, start, end, by);
      xs.addShifted(cx, m);
      if (!pair.deltaShift) pair.deltaReader.shift = ys.shift!.map((v, j) => v - xs.shift![j]);
      pair.addDifference(cx, cy, m, bd);
      parts.addShifted(cx, parts.deltaReader.read(delta, rows, start, end, bp), m);
      ys.addShifted(cy, m);
    }
    return {
      x: [xs.count, xs.sumSquares, Array.from(xs.sum), Array.from(xs.unitSum!), xs.unitCount, Array.from(xs.shift!), Array.from(xs.centredGram())],
      y: [ys.sumSquares, Array.from(ys.sum), Array.from(ys.centredGram())],
      pair: [pair.sumSquaresDelta, pair.sumSquaresTarget, Array.from(pair.sumDelta), Array.from(centredProduct(pair.cross, xs.sum, pair.sumDelta, n, d))],
      parts: [parts.sumSquaresDelta, parts.sumSquaresTarget, Array.from(parts.sumDelta), Array.from(parts.deltaShift!)],
    };
  };
  const runs = bothPaths(run);
  assert.equal(runs[0][0].x[4], rows.length - 1, 'the zero row stays out of the unit sum');
  sameBothPaths(runs, 'moments');
});

test('a whole pair with parts (chunked, selected rows) and its Cholesky scores: C equals TypeScript bit for bit', { skip }, () => {
  const rng = new Rng(11);
  const d = 26;
  const batches: PairBatch[] = [];
  for (let b = 0; b < 3; b++) {
    const n = 60;
    const x = states(rng, n, d);
    const attnOut = rng.randn([n, d], 0.3);
    const mlpOut = rng.randn([n, d], 0.5);
    const y = new Tensor(new Float32Array(n * d), [n, d]);
    for (let i = 0; i < n * d; i++) y.data[i] = x.data[i] + attnOut.data[i] + mlpOut.data[i] + 0.2 * Math.tanh(x.data[i]);
    batches.push({ x, y, attnOut, mlpOut, rows: Int32Array.from({ length: 50 }, (_, i) => i + (i >= 20 ? 10 : 0)) });
  }
  const run = () => {
    const pair = new LinearityPairAccumulator({ dim: d, block: 0, parts: true, chunkRows: 32 });
    for (const b of batches) pair.add(b);
    const s = pair.statistics('layer');
    const f = choleskyFactors(s, 1e-12, 1e-3);
    assert.ok(f, 'the test pair is well conditioned');
    return {
      stats: ['layer', 'attention', 'mlp'].map((p) => JSON.stringify(pair.statistics(p as 'layer'), (_, v) => (v instanceof Float64Array ? Array.from(v) : v))),
      scores: choleskyScores(f, s),
      lowerBound: f.lowerBound,
      result: pair.result({ ridge: 1e-3 }).block,
    };
  };
  sameBothPaths(bothPaths(run), 'pair');
});

test('sum-of-squares and max-row-sum kernels: the four-partial-sum order of partial-sums.ts; NaN wins as in Math.max', { skip }, () => {
  const k = nativeStatistics()!;
  const a = new Float64Array([1, -2, 3, 4, Number.NaN, 1, -7, 0, 0]);
  assert.ok(Number.isNaN(k.maxRowSum(a, 3)));
  assert.equal(k.maxRowSum(new Float64Array([1, -2, 3, 4, 5, -1, -7, 0, 0]), 3), 10);
  const rng = new Rng(2);
  for (const n of [0, 1, 3, 4, 7, 1001]) {
    const v = rng.randn([n], 1, 'float64').data as Float64Array;
    for (let i = 0; i < n; i += 5) v[i] *= 1e8;
    assert.equal(k.sumSquares(v, n), sumSquares(v), `n = ${n}`);
  }
  // an order-sensitive case: partial sums [1 + 1, 1e16 + 0, 1, 0], not one running sum (which gives 1e16)
  const tricky = new Float64Array([1, 1e8, 1, 0, 1, 0]);
  const expected = 1 + 1 + (1e16 + 0) + (1 + 0);
  assert.notEqual(expected, 1e16);
  assert.equal(sumSquares(tricky), expected);
  assert.equal(k.sumSquares(tricky, tricky.length), expected);
});

test('pairs handing on a PairScratch (chunk buffers, recycled d × d matrices) score exactly as pairs with their own buffers', () => {
  const rng = new Rng(21);
  const d = 16;
  const n = 80;
  const hidden = [states(rng, n, d), states(rng, n, d), states(rng, n, d), states(rng, n, d)];
  const run = (share: boolean) => {
    const out: unknown[] = [];
    let x: StreamMoments | undefined;
    let scratch: PairScratch | undefined;
    for (let l = 0; l < 3; l++) {
      const pair = new LinearityPairAccumulator({ dim: d, block: l, chunkRows: 32, x, scratch: share ? scratch : undefined });
      scratch = pair.scratch;
      pair.add({ x: hidden[l], y: hidden[l + 1] });
      out.push(pair.result({ ridge: 1e-3 }).block, pair.result({ ridge: 1e-3 }).block);
      x = pair.release();
    }
    return out;
  };
  assert.deepEqual(run(true), run(false));
});
