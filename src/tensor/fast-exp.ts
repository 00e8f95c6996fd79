/**
 * e^x two to three times as fast as Math.exp, for the exp-bound kernels (softmax, cross-entropy,
 * SiLU, SwiGLU, GELU-tanh). Both functions here use the same reduction:
 *
 * x·64·log₂e = k + f with k = round(x·64·log₂e), |f| ≤ ½, so e^x = 2^(k/64) · e^(f·ln2/64) where
 * |f·ln2/64| ≤ 0.0055: a cubic Taylor polynomial gives relative error < 4·10⁻¹¹ there (float32
 * results round the same as Math.exp's except in rare ties, by one ulp). k is found by truncating
 * t + bias + ½ to an int32 (bias large enough that the sum is positive, so truncation is ⌊t + ½⌋),
 * cheaper than Math.floor. They differ in how 2^(k/64) is looked up:
 *
 * - `fastExp`, any argument: 2^(k>>6) · 2^((k&63)/64) from two small tables; arguments outside
 *   [−708, 709] (overflow, subnormals, NaN) go to Math.exp.
 * - `expBounded`, arguments already known to lie in [−88, 88] (the float32 range), no range check:
 *   one table holds 2^(k/64) for |k| ≤ 8200 (|x·64·log₂e| ≤ 8125 on the domain), so one load and
 *   no branch, which inlines well in the softmax and activation loops that clamp or flush their
 *   arguments anyway. (Callers clamp with literal bounds: an imported constant in a hot loop
 *   measured 5× slower.)
 */
const POW2_BIAS = 1074;
const POW2 = new Float64Array(POW2_BIAS + 1025);
for (let k = -POW2_BIAS; k <= 1024; k++) POW2[k + POW2_BIAS] = Math.pow(2, k);

/** 2^(j/64), j = 0…63. */
const POW2_FRACTION = new Float64Array(64);
for (let j = 0; j < 64; j++) POW2_FRACTION[j] = Math.pow(2, j / 64);

/** 2^(k/64), k = −BOUNDED_OFFSET…BOUNDED_OFFSET (expBounded). */
const BOUNDED_OFFSET = 8200;
const POW2_64THS = new Float64Array(2 * BOUNDED_OFFSET + 1);
for (let k = -BOUNDED_OFFSET; k <= BOUNDED_OFFSET; k++) POW2_64THS[k + BOUNDED_OFFSET] = Math.pow(2, k / 64);

const LOG2E_64 = 64 * Math.LOG2E;
const LN2_64 = Math.LN2 / 64;
const ROUND_BIAS = 1 << 20;
const C3 = 1 / 6;

export function fastExp(x: number): number {
  if (!(x > -708 && x < 709)) return Math.exp(x);
  const t = x * LOG2E_64;
  const k = ((t + (ROUND_BIAS + 0.5)) | 0) - ROUND_BIAS;
  const r = (t - k) * LN2_64;
  return (1 + r * (1 + r * (0.5 + r * C3))) * POW2_FRACTION[k & 63] * POW2[(k >> 6) + POW2_BIAS];
}

/** e^x for −88 ≤ x ≤ 88 (anything else, NaN included, is outside its contract). */
export function expBounded(x: number): number {
  const t = x * LOG2E_64;
  const i = (t + (BOUNDED_OFFSET + 0.5)) | 0; // round(t) + BOUNDED_OFFSET
  const r = (t - (i - BOUNDED_OFFSET)) * LN2_64;
  return (1 + r * (1 + r * (0.5 + r * C3))) * POW2_64THS[i];
}

const f32 = Math.fround;
const E2 = f32(1 / 2), E3 = f32(1 / 6), E4 = f32(1 / 24), E5 = f32(1 / 120), E6 = f32(1 / 720), E7 = f32(1 / 5040);
const ROUND_MAGIC_F64 = 6755399441055744; // 1.5·2^52: adding and subtracting it rounds a double to an integer
const ROUND_MAGIC_F32 = 12582912; // 1.5·2^23, the same for a float
const LOG2E_F32 = f32(Math.LOG2E);
const LN2_HI_F32 = 0.693359375; // ln 2 = LN2_HI + LN2_LO, the first with 9 significant bits so n·LN2_HI is exact
const LN2_LO_F32 = -0.00021219444170128554; // the float32 nearest ln 2 − LN2_HI, written exactly

/**
 * e^r · 2^n in float32 arithmetic (every step rounded by Math.fround, as C's float does) for
 * |r| ≤ ln2/2 and an integer −126 ≤ n ≤ 126: the Taylor polynomial of e^r to r⁷ (truncation
 * < 10⁻⁸), times 2^n exactly. Float32 kernels use it where float32 is all the result keeps (tanh-GELU,
 * the attention softmax): its C twin (kernels.c exp_poly_f32) needs no table, so it vectorises 16
 * floats wide. 1–2 float32 ulps.
 */
function expFloat32Poly(r: number, n: number): number {
  let p = f32(E6 + f32(r * E7));
  p = f32(E5 + f32(r * p));
  p = f32(E4 + f32(r * p));
  p = f32(E3 + f32(r * p));
  p = f32(E2 + f32(r * p));
  p = f32(1 + f32(r * p));
  p = f32(1 + f32(r * p));
  return f32(p * POW2[n + POW2_BIAS]);
}

/**
 * e^z for −87.34 ≤ z ≤ 87 (callers clamp or flush) rounded to float32, the argument reduced in
 * float64 (n = round(z·log₂e), r = z − n·ln2), so a z that is not a float32 (tanh-GELU's exponent)
 * loses nothing before the float32 polynomial.
 */
export function expFloat32(z: number): number {
  const n = z * Math.LOG2E + ROUND_MAGIC_F64 - ROUND_MAGIC_F64;
  return expFloat32Poly(f32(z - n * Math.LN2), n);
}

/**
 * e^x for a float32 −87.34 ≤ x ≤ 87, reduced in float32 too (ln 2 in two parts, Cody–Waite): for
 * arguments that are float32 values already (attention's s − max), where the reduction's rounding
 * is below the result's.
 */
export function expFloat32Single(x: number): number {
  const n = f32(f32(x * LOG2E_F32) + ROUND_MAGIC_F32) - ROUND_MAGIC_F32;
  return expFloat32Poly(f32(f32(x - f32(n * LN2_HI_F32)) - f32(n * LN2_LO_F32)), n);
}

/** The tables and constants of expBounded and fastExp, for their C twins (native/kernels.c copies them). */
export function expTables(): { pow2_64ths: Float64Array; pow2: Float64Array; pow2Fraction: Float64Array; log2e64: number; ln2over64: number } {
  return { pow2_64ths: POW2_64THS, pow2: POW2, pow2Fraction: POW2_FRACTION, log2e64: LOG2E_64, ln2over64: LN2_64 };
}
