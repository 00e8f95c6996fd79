/**
 * How a kept fraction ρ becomes a kept rank.
 *
 * The paper keeps "a ρ fraction of the maximum rank": r = ⌊ρ·min(m, n)⌋. The authors' code
 * (`do_low_rank` in their matrix_utils.py) computes `int(min(m, n) * k)` with k = (10 − rate)·0.1 in
 * floating point, which is the same floor for every grid value except ρ = 0.01 with min(m, n) a
 * multiple of 100 (there (10 − 9.9)·0.1·100 = 0.99999…, one less). `rounding: 'authors'` reproduces
 * that arithmetic exactly; the default is the exact decimal floor. We also never keep rank 0 (the
 * authors' code would call the randomized SVD with q = 0): r ≥ 1.
 */

export type RankRounding = 'exact' | 'authors';

/**
 * Kept rank r = max(1, ⌊ρ·min(m, n)⌋) for an m × n matrix.
 * @param rho kept fraction in (0, 1]
 */
export function keptRank(rho: number, m: number, n: number, rounding: RankRounding = 'exact'): number {
  if (!(rho > 0 && rho <= 1)) throw new Error(`LASER: kept fraction ρ must be in (0, 1], got ${rho}`);
  if (!(Number.isInteger(m) && Number.isInteger(n) && m > 0 && n > 0)) throw new Error(`LASER: bad matrix shape ${m}×${n}`);
  const full = Math.min(m, n);
  let r: number;
  if (rounding === 'authors') {
    const rate = 10 - rho * 10; // the authors' command-line "rate"
    r = Math.trunc(full * ((10 - rate) * 0.1));
  } else {
    // ρ arrives as a decimal; the tiny slack makes e.g. 0.29·100 (= 28.999…96 in binary) floor to 29.
    r = Math.floor(rho * full + 1e-7);
  }
  return Math.max(1, Math.min(full, r));
}
