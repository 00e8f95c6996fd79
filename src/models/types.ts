/** Shared types of the decoder runtime: weight sources, matrix tables, forward context and cache. */
import type { ModelConfig } from '../io/config.ts';
import type { DType, Tensor } from '../tensor/tensor.ts';

/** What the models need from a checkpoint (an HF folder, a llama2.c file, or tensors in memory). */
export interface WeightSource {
  /** The model's `config.json` record. */
  readonly config: ModelConfig;
  /** Read one tensor, converted to `dtype` (float32 by default). */
  getTensor(name: string, dtype?: DType): Tensor;
  /**
   * Read one tensor in its stored dtype when that is 16-bit (a `HalfWeight`, src/tensor/half-weight.ts,
   * for 2-D BF16/F16 tensors); other tensors as `getTensor(name)` gives them (float32).
   */
  getStoredTensor?(name: string): Tensor;
  hasTensor(name: string): boolean;
  /** All tensor names, when the source can list them. */
  tensorNames?(): string[];
}

/** LASER's matrix types: attention q/k/v/o; MLP input (gate / fc_in / c_fc), up (gated MLPs), output. */
export const MATRIX_TYPES = ['q', 'k', 'v', 'o', 'in', 'up', 'out'] as const;
export type MatrixType = (typeof MATRIX_TYPES)[number];

/**
 * Where one logical weight matrix lives. `layout` says how the stored tensor is oriented:
 * `out_in` = PyTorch Linear [out, in] (y = x·Wᵀ), `in_out` = GPT-2 Conv1D [in, out] (y = x·W).
 * For fused tensors, `outRanges` lists the half-open ranges of the *output* axis (rows for
 * `out_in`, columns for `in_out`) that, concatenated in order, form this matrix.
 */
export interface MatrixRef {
  tensorName: string;
  layout: 'out_in' | 'in_out';
  /** Output-axis ranges within a fused tensor; absent when the matrix is the whole tensor. */
  outRanges?: Array<[number, number]>;
  /** Logical shape [out, in] of the matrix. */
  shape: [number, number];
  /** Bias of this matrix (same output ranges), when it has one. */
  biasName?: string;
}

export type MatrixTable = Partial<Record<MatrixType, MatrixRef>>;

/** Per-layer key/value cache: K and V as [B, capacity ≥ Tk, Hkv·Dh]; `mask` and `positions` cover all Tk keys. */
export interface KVCache {
  /**
   * Per layer [B, capacity, W]: the first `length` rows of each sequence hold its keys (values);
   * rows after them are room for the next steps (self-attention.ts appendRows).
   */
  keys: Tensor[];
  values: Tensor[];
  /** Key padding mask, B rows of Tk entries (1 = real token). */
  mask: number[][];
  /** Number of cached key slots Tk. */
  readonly length: number;
}

/** Everything a block needs besides its weights, prepared once per forward call. */
export interface ForwardContext {
  batch: number;
  /** New tokens in this call. */
  length: number;
  /** Key slots already in the cache before this call. */
  pastLength: number;
  /** Position ids of the new tokens, B·T, row-major. */
  positions: number[];
  /** Key mask rows (cached ++ this call), B × (past + T); 1 = real token. */
  maskRows: number[][];
  /** The same mask flattened, B·(past + T); undefined when every token is real. */
  keyMask?: number[];
  /** ALiBi key positions over all slots ((cumsum(mask) − 1)·mask), for ALiBi models. */
  alibiPositions?: number[];
  /** RoPE: inverse frequencies for this call and the (possibly rescaled) positions to rotate by. */
  ropeInvFreq?: Float32Array;
  ropePositions?: number[];
  /** cos/sin multiplier of the RoPE variant (YaRN, LongRoPE); undefined = 1. */
  ropeAttentionScaling?: number;
  /** Cache read by this call (undefined: none) and the one being built (undefined: not asked for). */
  cacheIn?: KVCache;
  cacheOut?: { keys: Tensor[]; values: Tensor[] };
  keepAttentionProbs: boolean;
  /** Filled per layer when `keepAttentionProbs`: [B, H, T, Tk]. */
  attentionProbs: Tensor[];
  /**
   * Set by the caller around the last block only: its output is wanted at positions ≥ queryFrom of
   * each row, so the queries, the residual stream and the MLP run on those rows alone (keys and
   * values still at every position) and the block returns [B, T − queryFrom, D]. Unset: every row.
   */
  queryFrom?: number;
}

/** Result of one block. */
export interface BlockOutput {
  hidden: Tensor;
  /** The attention sublayer's output (after the output projection, before the residual add). */
  attnOut: Tensor;
  /** The MLP sublayer's output (after the down projection, before the residual add). */
  mlpOut: Tensor;
}

/** Resolves a weight by its full name (cached, streamed, or overridden by `setWeight`). */
export type WeightGetter = (name: string) => Tensor;
