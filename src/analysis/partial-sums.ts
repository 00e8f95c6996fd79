/**
 * The summation order of the statistics' long sums (over a row, a chunk of rows or a d × d matrix):
 * four partial sums, element j of a row (i of a flat array) going to partial sum j mod 4, rows in
 * order, total (s0 + s1) + (s2 + s3). The C kernels (native/kernels.c, "linearity statistics") add in
 * the same order, so both give the same bits; four independent sums also run ~3× faster than one
 * dependency chain, and their round-off is no larger than a single running sum's.
 */

/** Four zeroed partial sums. */
export function partialSums(): Float64Array {
  return new Float64Array(4);
}

/** (s0 + s1) + (s2 + s3), then zeroes the partial sums for reuse. */
export function total(s: Float64Array): number {
  const t = s[0] + s[1] + (s[2] + s[3]);
  s.fill(0);
  return t;
}

/** Σ a_i² in the four-partial-sum order. */
export function sumSquares(a: ArrayLike<number>): number {
  const s = partialSums();
  for (let i = 0; i < a.length; i++) s[i & 3] += a[i] * a[i];
  return total(s);
}
