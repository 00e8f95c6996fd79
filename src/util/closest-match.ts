/**
 * "Did you mean …?" for anything a user names: options, commands, subcommands, config keys, choices.
 * Edit distance is the optimal string alignment distance (Levenshtein with adjacent transpositions
 * counted as one edit), so "modle" is one edit from "model".
 */

/** Optimal string alignment distance between `a` and `b`. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The candidate closest to `input`, if it is close enough to be a plausible typo or prefix. */
export function closestMatch(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = editDistance(input.toLowerCase(), c.toLowerCase());
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  const limit = input.length <= 3 ? 1 : input.length <= 6 ? 2 : 3;
  if (best !== undefined && bestDistance <= limit) return best;
  const prefixed = candidates.filter((c) => input.length >= 2 && c.startsWith(input));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** " (did you mean X?)" with `quote` around X, or '' when nothing is close. */
export function didYouMean(input: string, candidates: readonly string[], quote = ''): string {
  const hint = closestMatch(input, candidates);
  return hint === undefined ? '' : ` (did you mean ${quote}${hint}${quote}?)`;
}
