/**
 * The C decoders of 16-bit weights and the C finiteness scans (native/kernels.c lk_decode_half_f32,
 * lk_first_nonfinite) against their TypeScript twins: the same float32 bits for every BF16 and F16
 * pattern (F16 NaNs: both give a NaN), column slabs of a HalfWeight, and the same first index of a
 * NaN/±∞ at block edges, and products of few rows with a 16-bit weight (lk_half_gemv,
 * lk_half_product). Skipped when the library cannot be built here; the TypeScript paths are
 * what the other tests then run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBF16, decodeF16, encodeBF16 } from '../../src/io/half.ts';
import { firstNonFinite } from '../../src/tensor/finite.ts';
import { HalfWeight, hasNonFiniteHalf } from '../../src/tensor/half-weight.ts';
import { nativeKernels, nativeKernelsStatus, withNativeKernels } from '../../src/tensor/native-kernels.ts';
import { Rng } from '../../src/tensor/random.ts';
import { linear } from '../../src/tensor/matmul.ts';
import { backend } from '../../src/backend/index.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';

const skip = nativeKernels() ? false : `native kernels unavailable: ${nativeKernelsStatus()}`;
const bitsOf = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Every 16-bit pattern, starting one element into its buffer (an unaligned view). */
function allPatterns(): Uint16Array {
  const backing = new Uint16Array(65536 + 1);
  for (let i = 0; i < 65536; i++) backing[i + 1] = i;
  return backing.subarray(1);
}

test('C decode of all 65536 BF16 and F16 patterns equals the TypeScript decode bit for bit', { skip }, () => {
  const bits = allPatterns();
  for (const [name, decode] of [['BF16', decodeBF16], ['F16', decodeF16]] as const) {
    const c = new Float32Array(bits.length);
    const ts = new Float32Array(bits.length);
    decode(bits, c);
    withNativeKernels(false, () => decode(bits, ts));
    const cb = bitsOf(c);
    const tb = bitsOf(ts);
    let differ = 0;
    for (let i = 0; i < bits.length; i++) if (cb[i] !== tb[i] && !(Number.isNaN(c[i]) && Number.isNaN(ts[i]))) differ++;
    assert.equal(differ, 0, `${name}: ${differ} patterns decode differently`);
  }
});

test('HalfWeight column slabs decode in C as in TypeScript (strided rows, both storages, 1 and 2 threads)', { skip }, () => {
  const rng = new Rng(7);
  const w32 = rng.randn([67, 129]);
  const bits = new Uint16Array(w32.size);
  encodeBF16(w32.data as Float32Array, bits);
  for (const storage of ['BF16', 'F16'] as const) {
    const w = new HalfWeight(bits, storage, [67, 129]);
    for (const [c0, c1] of [[0, 129], [5, 100], [128, 129], [17, 18]]) {
      const c = new Float32Array(67 * (c1 - c0)).fill(NaN);
      const ts = new Float32Array(67 * (c1 - c0)).fill(NaN);
      w.decodeColumns(c0, c1, c);
      withNativeKernels(false, () => w.decodeColumns(c0, c1, ts));
      assert.deepEqual(c, ts, `${storage} columns [${c0}, ${c1})`);
    }
  }
});

test('first NaN/±∞ found in C at the same index as in TypeScript (float32, float64, BF16, F16; block edges)', { skip }, () => {
  const n = 3 * 4096 + 5;
  const places = [-1, 0, 1, 4095, 4096, 4097, 8191, 2 * 4096 + 100, n - 1];
  const specials32 = [NaN, Infinity, -Infinity];
  for (const at of places) {
    for (const v of specials32) {
      for (const make of [(k: number) => new Float32Array(k), (k: number) => new Float64Array(k)]) {
        const a = make(n);
        for (let i = 0; i < n; i++) a[i] = (i % 7) - 3 + i * 1e-3;
        a[2] = -0; a[3] = 1e-40; a[4] = 3.4028234663852886e38; a[5] = -1.4e-45; // finite edge values
        if (at >= 0) { a[at] = v; if (at + 3 < n) a[at + 3] = NaN; }
        assert.equal(firstNonFinite(a), withNativeKernels(false, () => firstNonFinite(a)), `${a.constructor.name} at ${at} value ${v}`);
        assert.equal(firstNonFinite(a), at, `${a.constructor.name} at ${at}`);
      }
    }
  }
  // 16-bit: exponent all ones is NaN/±∞ (BF16 0x7f80, F16 0x7c00); the largest finite values are not
  for (const [storage, inf, maxFinite] of [['BF16', 0x7f80, 0x7f7f], ['F16', 0x7c00, 0x7bff]] as const) {
    for (const at of places) {
      for (const pattern of [inf, inf | 0x8000, inf | 1]) {
        const bits = new Uint16Array(n);
        for (let i = 0; i < n; i++) bits[i] = (i * 2654435761) & 0x3fff;
        bits[6] = maxFinite; bits[7] = maxFinite | 0x8000;
        if (at >= 0) bits[at] = pattern;
        const c = hasNonFiniteHalf(bits, storage);
        assert.equal(c, withNativeKernels(false, () => hasNonFiniteHalf(bits, storage)), `${storage} at ${at}`);
        assert.equal(c, at >= 0, `${storage} at ${at}`);
      }
    }
  }
});

test('products of 1–32 rows with a 16-bit weight: the C kernels (lk_half_gemv, lk_half_product) equal their TypeScript twins bit for bit at 1 and 2 threads, and 2–32 rows equal the float32 copy\'s product', { skip }, () => {
  const rng = new Rng(9);
  const w32 = rng.randn([300, 2050]);
  const bits = new Uint16Array(w32.size);
  encodeBF16(w32.data as Float32Array, bits);
  const be = backend();
  const threads = be.threads();
  for (const storage of ['BF16', 'F16'] as const) {
    const w = new HalfWeight(bits.map((b) => (storage === 'F16' ? b & 0xbfff : b)), storage, [300, 2050]) as unknown as Tensor;
    const dense = w.clone();
    for (const m of [1, 3, 8, 32]) {
      const x = rng.randn([m, 2050]);
      const ts = withNativeKernels(false, () => linear(x, w));
      for (const t of [1, 2]) {
        be.setThreads(t);
        try {
          const got = linear(x, w);
          assert.deepEqual(got.data, ts.data, `${storage} m=${m} at ${t} threads`);
          // the same slab widths and sgemm calls as the float32 copy's few-row product (one row: gemv there)
          if (m > 1) assert.deepEqual(got.data, linear(x, dense).data, `${storage} m=${m} at ${t} threads vs float32`);
        } finally {
          be.setThreads(threads);
        }
      }
    }
  }
});
