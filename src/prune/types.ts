/**
 * Shapes of depth pruning: a span of consecutive blocks, what replaces it (nothing, or a linear
 * map), and the scores that rank spans.
 *
 * A linear map replacing blocks [start, start + count) reads a matrix X and writes the residual
 * stream after the span:
 *
 *     h_out ≈ base + X·A + b,    base = h_in − X
 *
 * - input 'residual' (the linearity paper): X = h_in, the state entering the span, so base = 0 and
 *   h_out ≈ h_in·A + b.
 * - input 'mlp' (ReplaceMe's form): X = m, the MLP output of block start − 1 (which must be kept),
 *   and base = h_in − m is that block's residual stream before its MLP. The map then only changes
 *   what block start − 1's MLP writes, so it folds exactly into that MLP's output projection
 *   (see export.ts).
 *
 * A is d × d acting on row vectors (x·A, the paper's convention), b a d-vector (optional).
 */
import type { Tensor } from '../tensor/tensor.ts';

export type MapInput = 'residual' | 'mlp';

/** A fitted (or distilled) affine map of the residual stream, in float64. */
export interface LinearMap {
  input: MapInput;
  /** A: [d, d] float64, applied as x·A. */
  weight: Tensor;
  /** b: [d] float64, or undefined for a map without bias. */
  bias?: Tensor;
}

/** A span of `count` consecutive original blocks starting at `start` (count 0: a position before block `start`). */
export interface Span {
  start: number;
  count: number;
}

/**
 * What the pruned model runs instead of a span: nothing (the span is dropped) or a linear map.
 * With count 0 the map is inserted before block `start` without removing anything (what a
 * reloaded export holds: its blocks are already gone).
 */
export interface Replacement extends Span {
  map?: LinearMap;
}

export type Criterion = 'linearity' | 'bi' | 'angular';
export const CRITERIA: readonly Criterion[] = ['linearity', 'bi', 'angular'];

/** Every score of one span, measured between its input and output hidden states. */
export interface SpanScores extends Span {
  /** Tokens measured (real tokens only). */
  tokens: number;
  /** The paper's linearity score of h_in → h_out (Procrustes, with residual). */
  linearity: number;
  /** The same with the target h_out − h_in ("without residual"). */
  linearityWithoutResidual: number;
  /** ShortGPT block influence 1 − mean cos(h_in, h_out) over tokens. */
  bi: number;
  /** Gromov et al.'s angular distance arccos(cos(h_in, h_out))/π, averaged over the measured tokens. */
  angular: number;
}

/** A ranked candidate: its scores and its place (0 = removed first). */
export interface RankedSpan extends SpanScores {
  rank: number;
  /** The value sorted on (higher = removed first): linearity, −BI or −angular. */
  key: number;
}

export function spanLabel(s: Span): string {
  if (s.count === 0) return `(map before ${s.start})`;
  return s.count === 1 ? `${s.start}` : `${s.start}-${s.start + s.count - 1}`;
}
