/**
 * How many tokens a linearity score needs to mean something. With the mean removed (the score
 * centres X and Y, see linearity-statistics.ts), N token vectors span at most N − 1 dimensions, so
 * for N ≤ d + 1 some linear map takes X exactly to any target: every score is 1 (up to rounding)
 * whatever the layers do. Beyond that, unrelated states still score about d / (N − 1) by chance
 * (the expected R² of d random regressors), so N should be several times d.
 */

/** Fewest tokens for which the score of a d-dimensional pair is not identically 1. */
export function minLinearityTokens(hiddenSize: number): number {
  return hiddenSize + 2;
}

/** A warning when `tokens` cannot give a meaningful score at hidden size d, else undefined. */
export function linearityTokenWarning(tokens: number, hiddenSize: number): string | undefined {
  if (tokens >= minLinearityTokens(hiddenSize)) return undefined;
  return `only ${tokens} tokens for hidden size ${hiddenSize}: with N ≤ d + 1 tokens a linear map fits any pair exactly, ` +
    `so every linearity score is ≈ 1 and says nothing about the model; use at least ${minLinearityTokens(hiddenSize)} tokens ` +
    `(several times ${hiddenSize} for a stable score)`;
}
