/**
 * The vocabulary of LASER (Sharma et al., 2023): an intervention (τ, ℓ, ρ) replaces the weight
 * matrix of type τ in layer ℓ by its best rank-r approximation, r = max(1, ⌊ρ·min(m, n)⌋).
 *
 * Matrix types, named as in the paper (and mapped per architecture by src/models):
 *   q, k, v  attention query/key/value projections      o    attention output projection
 *   in       first MLP matrix (GPT-J fc_in, Llama gate_proj, GPT-2 c_fc)
 *   up       Llama-style up_proj (only gated MLPs have it)
 *   out      last MLP matrix (fc_out, down_proj, c_proj)
 */
import type { MatrixType } from '../models/matrices.ts';

export { MATRIX_TYPES, isMatrixType, type MatrixType } from '../models/matrices.ts';

/** The paper's grid of kept fractions ρ (the authors' "rates" 1, 2, 4, 6, 8, 9, 9.5, 9.9, 9.95 → ρ = 1 − rate/10). */
export const PAPER_RHOS = [0.9, 0.8, 0.6, 0.4, 0.2, 0.1, 0.05, 0.01, 0.005] as const;

/** One LASER intervention: reduce matrix `type` of layer `layer` (0-indexed) to the kept fraction `rho`. */
export interface Intervention {
  type: MatrixType;
  layer: number;
  /** Kept fraction ρ ∈ (0, 1]; the kept rank is {@link keptRank}. */
  rho: number;
}

/** Compact text form "type:layer:rho", e.g. "out:5:0.01". */
export function formatIntervention(iv: Intervention): string {
  return `${iv.type}:${iv.layer}:${iv.rho}`;
}

/** Stable key of a composition, e.g. "out:5:0.01,in:3:0.1" (order kept: order can matter). */
export function formatInterventions(ivs: readonly Intervention[]): string {
  return ivs.map(formatIntervention).join(',');
}
