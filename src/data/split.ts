/**
 * Validation/test splits of an evaluation set, as in LASER (Sharma et al., 2023): hyper-parameters
 * are chosen on a validation part and results reported on the rest.
 */
import { Rng } from '../tensor/random.ts';

export interface SplitOptions {
  /** 'first': the first ⌊fraction·n⌋ items validate (LASER's default); 'random': a seeded random subset. */
  mode?: 'first' | 'random';
  /** Validation share in [0, 1] (default 0.2). */
  fraction?: number;
  /** Seed for mode 'random' (default 0). */
  seed?: number;
}

export interface Split<T> {
  validation: T[];
  test: T[];
}

/**
 * Split cases into validation (⌊fraction·n⌋ items) and test (the rest). Both parts keep the input
 * order; in 'random' mode the validation members are the first ⌊fraction·n⌋ indices of a
 * Fisher–Yates shuffle by `new Rng(seed)`.
 */
export function splitCases<T>(cases: readonly T[], opts: SplitOptions = {}): Split<T> {
  const fraction = opts.fraction ?? 0.2;
  if (!(fraction >= 0 && fraction <= 1)) throw new Error(`splitCases: fraction must be in [0, 1], got ${fraction}`);
  const n = cases.length;
  const nValidation = Math.floor(fraction * n);
  const mode = opts.mode ?? 'first';
  if (mode === 'first') return { validation: cases.slice(0, nValidation), test: cases.slice(nValidation) };
  if (mode !== 'random') throw new Error(`splitCases: mode must be 'first' or 'random', got '${mode as string}'`);

  const order = new Rng(opts.seed ?? 0).shuffle(Array.from({ length: n }, (_, i) => i));
  const isValidation = new Uint8Array(n);
  for (let k = 0; k < nValidation; k++) isValidation[order[k]] = 1;
  const split: Split<T> = { validation: [], test: [] };
  for (let i = 0; i < n; i++) (isValidation[i] ? split.validation : split.test).push(cases[i]);
  return split;
}
