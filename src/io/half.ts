/**
 * IEEE 754 half precision (F16) and bfloat16 (BF16) <-> number conversions.
 *
 * Encoding rounds to nearest, ties to even, straight from the JS number (a double), so a float64
 * source is rounded once, never twice. Overflow gives ±Infinity, NaN stays NaN. Bulk decoding into
 * float32 runs in C when the native kernels are there (native/kernels.c lk_decode_half_f32, the same
 * bits: test/tensor/native-half-finite.test.ts checks all 65,536 F16 and BF16 values); these loops are its
 * reference and fallback.
 */
import { NATIVE_CALL_MIN, nativeKernels } from '../tensor/native-kernels.ts';

const TWO_POW_M24 = 2 ** -24; // smallest F16 subnormal
const TWO_POW_M14 = 2 ** -14; // smallest F16 normal

/** Round to the nearest integer, ties to even (the rounding IEEE uses by default). */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Bits of the F16 nearest to `x` (round to nearest even). */
export function f16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  // 65520 is halfway between the largest F16 (65504, odd mantissa) and 2^16: ties round up to Inf.
  if (a >= 65520) return sign | 0x7c00;
  if (a < TWO_POW_M14) {
    // Subnormal: a multiple of 2^-24. A result of 1024 is the smallest normal, whose bits are 0x0400.
    return sign | roundHalfEven(a / TWO_POW_M24);
  }
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e -= 1; // log2 may round up just below a power of two
  else if (2 ** (e + 1) <= a) e += 1;
  let mantissa = roundHalfEven((a / 2 ** e - 1) * 1024);
  if (mantissa === 1024) {
    mantissa = 0;
    e += 1;
  }
  return sign | ((e + 15) << 10) | mantissa;
}

let f16Table: Float32Array | undefined;

/** All 65536 F16 values, decoded once (256 KiB) so that bulk decoding is a table lookup. */
function f16DecodeTable(): Float32Array {
  if (f16Table) return f16Table;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    let v: number;
    if (e === 0) v = m * TWO_POW_M24;
    else if (e === 31) v = m ? NaN : Infinity;
    else v = (1 + m / 1024) * 2 ** (e - 15);
    table[h] = sign * v;
  }
  f16Table = table;
  return table;
}

/** The number whose F16 bits are `h`. */
export function f16ToNumber(h: number): number {
  return f16DecodeTable()[h & 0xffff];
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** Bits of the BF16 nearest to `x`. */
export function bf16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7fc0;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  // Rounding a double to float32 first and then to BF16 could round twice. Avoid that: take the
  // float32 truncated towards zero, then round its low 16 bits with the exact remainder in hand.
  scratchF32[0] = a;
  let bits = scratchU32[0];
  if (scratchF32[0] > a) bits -= 1; // float32 rounding went up: step back to truncation
  const truncated = bits >>> 16;
  const low = bits & 0xffff;
  scratchU32[0] = truncated << 16;
  const down = scratchF32[0];
  // One step up; past the largest finite BF16 (0x7f7f) the next step is 2^128, where rounding to
  // Infinity starts.
  scratchU32[0] = (truncated + 1) << 16;
  const up = truncated + 1 === 0x7f80 ? 2 ** 128 : scratchF32[0];
  let rounded: number;
  if (low === 0 && down === a) rounded = truncated;
  else {
    const dDown = a - down;
    const dUp = up - a;
    if (dDown < dUp) rounded = truncated;
    else if (dDown > dUp) rounded = truncated + 1;
    else rounded = truncated % 2 === 0 ? truncated : truncated + 1;
  }
  return sign | rounded;
}

/** The number whose BF16 bits are `h`. */
export function bf16ToNumber(h: number): number {
  scratchU32[0] = (h & 0xffff) << 16;
  return scratchF32[0];
}

/** Decode a run of F16 bits into `out` (any float array of the same length). */
export function decodeF16(bits: Uint16Array, out: Float32Array | Float64Array): void {
  if (decodeNative(bits, out, 1)) return;
  const table = f16DecodeTable();
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]];
}

/** Decodes `bits` into float32 `out` in C (`f16` 1: F16, 0: BF16); false when that cannot run. */
function decodeNative(bits: Uint16Array, out: Float32Array | Float64Array, f16: number): boolean {
  if (!(out instanceof Float32Array) || bits.length < NATIVE_CALL_MIN) return false;
  const k = nativeKernels();
  if (!k) return false;
  if (out.length < bits.length) throw new Error(`decoding ${bits.length} 16-bit values into ${out.length} places`);
  k.decodeHalf(bits, 1, bits.length, bits.length, f16, out);
  return true;
}

/** Decode a run of BF16 bits into `out`. */
export function decodeBF16(bits: Uint16Array, out: Float32Array | Float64Array): void {
  if (decodeNative(bits, out, 0)) return;
  if (out instanceof Float32Array) {
    // float32 bits = bf16 bits << 16; two bf16 values are read as one little-endian uint32
    // (about twice as fast as one at a time; Int32Array stores avoid a uint32 conversion).
    const i32 = new Int32Array(out.buffer, out.byteOffset, out.length);
    const n = bits.length;
    if (bits.byteOffset % 4 === 0) {
      const pairs = new Int32Array(bits.buffer, bits.byteOffset, n >> 1);
      for (let j = 0; j < pairs.length; j++) {
        const p = pairs[j];
        i32[2 * j] = p << 16;
        i32[2 * j + 1] = p & 0xffff0000;
      }
      if (n & 1) i32[n - 1] = bits[n - 1] << 16;
      return;
    }
    for (let i = 0; i < n; i++) i32[i] = bits[i] << 16;
    return;
  }
  for (let i = 0; i < bits.length; i++) out[i] = bf16ToNumber(bits[i]);
}

/** Bits of the F16 nearest to the float32 whose bits are `x` (round to nearest even). */
export function f16BitsFromF32Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15; // F16 biased exponent
  if (e >= 0x1f) return sign | 0x7c00; // overflow
  if (e <= 0) {
    // F16 subnormal: value / 2^-24 = (1.mant) * 2^(exp-126) = (mant | 2^23) >> (14 - e)
    if (e < -10) return sign; // below half the smallest subnormal
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rem = mant & ((1 << shift) - 1);
    let r = mant >>> shift;
    if (rem > half || (rem === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) r++; // a carry may bump the exponent, up to Inf: correct
  return sign | r;
}

/** Encode numbers to F16 bits (a float32 source takes an exact bit-level fast path). */
export function encodeF16(values: ArrayLike<number>, out: Uint16Array): void {
  if (values instanceof Float32Array) {
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let i = 0; i < bits.length; i++) out[i] = f16BitsFromF32Bits(bits[i]);
    return;
  }
  for (let i = 0; i < values.length; i++) out[i] = f16Bits(values[i]);
}

/** Encode numbers to BF16 bits (a float32 source takes an exact bit-level fast path). */
export function encodeBF16(values: ArrayLike<number>, out: Uint16Array): void {
  if (values instanceof Float32Array) {
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let i = 0; i < bits.length; i++) {
      const b = bits[i];
      if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) out[i] = ((b >>> 16) & 0x8000) | 0x7fc0; // NaN
      else out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
    }
    return;
  }
  for (let i = 0; i < values.length; i++) out[i] = bf16Bits(values[i]);
}
