/**
 * The operations an architecture module is written against. One module per architecture calls
 * these; two implementations run them:
 *   - eager (eager-ops.ts): plain tensors, the inference runtime's fused kernels, in-place where a
 *     value is a fresh temporary, KV cache and attention probabilities, no graph;
 *   - tape (tape-ops.ts): autograd Vars (src/autograd), every op recorded for backward (training).
 * As nanoGPT's one model serves `torch.no_grad()` inference and training, a module's forward is
 * generic over the value type T (Tensor or Var), so inference and training cannot drift apart.
 */
import type { NormConfig, DecoderConfig } from './config.ts';
import type { ForwardContext } from './types.ts';

/** Stored orientation of a projection weight: PyTorch Linear [out, in] or GPT-2 Conv1D [in, out]. */
export type Layout = 'out_in' | 'in_out';

/** How a block's attention runs once q, k, v are projected. */
export interface AttentionSpec {
  layer: number;
  scale: number;
  /** Per-head ALiBi slopes (already including any scale the architecture applies to them). */
  alibiSlopes?: ArrayLike<number>;
  slidingWindow?: number;
}

export interface Ops<T> {
  readonly kind: 'eager' | 'tape';
  /** Shape of a value. */
  shape(x: T): readonly number[];
  /** Same data viewed with another shape (one axis may be −1). */
  reshape(x: T, shape: readonly number[]): T;
  /** y = x·Wᵀ + b (`out_in`, PyTorch Linear) or y = x·W + b (`in_out`, GPT-2 Conv1D). */
  project(x: T, weight: T, bias?: T, layout?: Layout): T;
  /** The configured norm over the last axis (LayerNorm with optional bias, or RMSNorm). */
  norm(cfg: NormConfig, x: T, weight: T, bias?: T): T;
  /** Output columns `ranges` of y [..., n], concatenated: how fused QKV outputs are split. */
  columns(y: T, ranges: ReadonlyArray<readonly [number, number]>): T;
  /** fc_out(act(fc_in(x))). */
  plainMlp(x: T, activation: string, fcIn: T, bIn: T | undefined, fcOut: T, bOut: T | undefined, layout?: Layout): T;
  /** down(act(gate(x)) ⊙ up(x)): SwiGLU (Llama) or GeGLU (Gemma). */
  gatedMlp(x: T, activation: string, gate: T, up: T, down: T, biases?: { gate?: T; up?: T; down?: T }): T;
  /** a + b (+ c), a new value. */
  add(a: T, b: T, c?: T): T;
  /** fresh + b, where `fresh` is a temporary the caller owns (the eager path adds in place). */
  addTo(fresh: T, b: T): T;
  /** s · fresh (the eager path scales in place). */
  scaleTo(fresh: T, s: number): T;
  /** Token embedding rows for the call's flat ids, [B, T, D]. */
  embed(table: T, ids: readonly number[], ctx: ForwardContext): T;
  /** Rows `positions + offset` of a learned position table, [B, T, D]; a clear error past its end. */
  embedPositions(table: T, positions: readonly number[], ctx: ForwardContext, offset?: number): T;
  /**
   * Self-attention on projected q, k, v [B, T, H·Dh]: RoPE (when the config has it), causal mask,
   * key padding, ALiBi, sliding window, grouped-query heads; the eager path also reads/extends the
   * KV cache and keeps probabilities when the context asks. Returns [B, T, H·Dh].
   */
  attention(cfg: DecoderConfig, q: T, k: T, v: T, ctx: ForwardContext, spec: AttentionSpec): T;
  /**
   * `attention` on the q, k, v column ranges of one fused projection y (= attention(columns(y, q),
   * columns(y, k), columns(y, v))); the eager path reads them in place when it can. Optional: callers
   * fall back to columns + attention.
   */
  attentionQkv?(cfg: DecoderConfig, y: T, ranges: QkvRanges, ctx: ForwardContext, spec: AttentionSpec): T;
  /**
   * The rows of x [B, T, D] at positions ≥ ctx.queryFrom (x itself when it is unset): what a block
   * adds to its residual stream or feeds its MLP when only those positions' output is wanted
   * (`attention` then returns those rows only).
   */
  queryRows(x: T, ctx: ForwardContext): T;
}

/** Output-column ranges of q, k and v in a fused QKV projection (layers.ts fusedQkvRanges). */
export interface QkvRanges {
  q: ReadonlyArray<readonly [number, number]>;
  k: ReadonlyArray<readonly [number, number]>;
  v: ReadonlyArray<readonly [number, number]>;
}

/** Result of one block, for either value type. */
export interface BlockResult<T> {
  hidden: T;
  /** The attention sublayer's output (after the output projection, before the residual add). */
  attnOut: T;
  /** The MLP sublayer's output (after the down projection, before the residual add). */
  mlpOut: T;
}

/** Checks a learned-position lookup against the table's rows (same message for both paths). */
export function checkPositions(rows: number, positions: readonly number[], offset: number): void {
  const limit = rows - offset;
  for (const p of positions) {
    if (p >= limit) throw new Error(`forward: position ${p} is beyond the model's ${limit} learned positions (sequence too long)`);
  }
}
