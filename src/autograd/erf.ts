/**
 * The error function to float64 accuracy (a few ulps), for exact GELU in float64 where
 * src/tensor/activations' erf (|error| < 1.2e-7, plenty for float32) would dominate gradient checks.
 *
 * |x| < 2.5: erf(x) = (2/√π)·e^{−x²}·Σ_{n≥0} x·(2x²)ⁿ / (1·3·5·…·(2n+1))   (all terms positive: no cancellation)
 * |x| ≥ 2.5: erfc(x) = (e^{−x²}/√π) · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))   (Lentz's method)
 */
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const ONE_OVER_SQRT_PI = 1 / Math.sqrt(Math.PI);
const TINY = 1e-300;

function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** erfc(x) for x ≥ 2.5 by the continued fraction x + a₁/(x + a₂/(x + …)), a_k = k/2. */
function erfcContinuedFraction(x: number): number {
  // modified Lentz: f = b0 + a1/(b1 + a2/(b2 + …)) with b_k = x, a_k = k/2
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = x + a / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (ONE_OVER_SQRT_PI * Math.exp(-x * x)) / f;
}

/** erf(x), accurate to a few ulps over the whole real line. */
export function erf64(x: number): number {
  const z = Math.abs(x);
  if (z < 2.5) return x < 0 ? -erfSeries(z) : erfSeries(z);
  if (z > 6) return x < 0 ? -1 : 1;
  const r = 1 - erfcContinuedFraction(z);
  return x < 0 ? -r : r;
}

/** erfc(x) = 1 − erf(x) without cancellation for large positive x. */
export function erfc64(x: number): number {
  if (x >= 2.5) return x > 27 ? 0 : erfcContinuedFraction(x);
  return 1 - erf64(x);
}
