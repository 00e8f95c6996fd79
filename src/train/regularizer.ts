/**
 * Hidden-state regularisers for pretraining (Razzhigaev et al., 2024, "Your Transformer is Secretly
 * Linear", regularised pretraining). Over the residual stream h₀ (embeddings), h₁, …, h_L (block
 * outputs before the final norm) of a batch of N = B·T tokens:
 *
 *   cosine:  R = Σ_{i=0}^{L−1} (1/N) Σ_t (1 − cos(h_i[t], h_{i+1}[t]))
 *   mse:     R = Σ_{i=0}^{L−1} (1/(N·d)) Σ_t ‖h_i[t] − h_{i+1}[t]‖²
 *
 * and the training loss is L_CE + λ·R (the paper's setting: cosine, λ = 0.5). Each consecutive pair
 * of layers contributes its token-mean; the pairs are summed, not averaged, so λ acts per layer.
 */
import { add, cosineDistanceMean, mse, scale, type Var } from '../autograd/index.ts';

export type RegularizerKind = 'none' | 'cosine' | 'mse';

export const REGULARIZER_KINDS: readonly RegularizerKind[] = ['none', 'cosine', 'mse'];

export interface RegularizerOptions {
  kind: RegularizerKind;
  /** λ, the weight of R in the loss. */
  lambda: number;
}

/** R (unweighted) over consecutive states, or null for 'none'. `states` are [B, T, d] or [N, d] Vars. */
export function consecutiveStatePenalty(states: readonly Var[], kind: RegularizerKind): Var | null {
  if (kind === 'none') return null;
  if (states.length < 2) throw new Error(`regulariser: needs at least 2 states, got ${states.length}`);
  let total: Var | null = null;
  for (let i = 0; i + 1 < states.length; i++) {
    const term = kind === 'cosine' ? cosineDistanceMean(states[i], states[i + 1]) : mse(states[i], states[i + 1]);
    total = total ? add(total, term) : term;
  }
  return total;
}

/** λ·R, or null when the regulariser is off (kind 'none' or λ = 0). */
export function weightedPenalty(states: readonly Var[], opts: RegularizerOptions): { penalty: Var; raw: Var } | null {
  if (opts.kind === 'none' || opts.lambda === 0) return null;
  const raw = consecutiveStatePenalty(states, opts.kind)!;
  return { penalty: scale(raw, opts.lambda), raw };
}
