/**
 * The tiles of blocked attention (FlashAttention, Dao et al. 2022 / FlashAttention-2, Dao 2023, on
 * the CPU), shared by the forward pass (src/tensor/attention.ts) and the training backward
 * (src/autograd/ops/attention.ts): which keys a block of queries can see, and the score tile
 *   S = scale · Q[i0:i1] K[j0:j1]ᵀ + ALiBi
 * of one (query block, key block) pair as one strided GEMM on the [B, T, H·Dh] buffers.
 *
 * Visibility of key j to query row i (keys and queries of one batch row; the first query is key
 * number `offset`): causal j ≤ offset + i; sliding window offset + i − j < window; key padding
 * keyMask[b·Tk + j] ≠ 0. Key blocks a query block cannot see (above the causal diagonal, wholly
 * outside the window, wholly padding) are never computed.
 */
import type { Backend } from '../backend/index.ts';
import { expBounded, expFloat32Single } from './fast-exp.ts';
import type { Tensor, TypedArray } from './tensor.ts';

export interface AttentionOptions {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  scale: number;
  causal?: boolean;
  /** Index of the first query among the keys (Tk − Tq when keys include a cache). Default Tk − Tq. */
  queryOffset?: number;
  /** 1 for real tokens, 0 for padding, length B·Tk. */
  keyMask?: ArrayLike<number>;
  /** ALiBi: per-head slopes and per-key positions (length B·Tk). */
  alibiSlopes?: ArrayLike<number>;
  alibiPositions?: ArrayLike<number>;
  /** Keys further back than this many positions are hidden (Mistral's sliding window). */
  slidingWindow?: number;
  /** Keep the attention probabilities [B, H, Tq, Tk] (for analysis). */
  keepProbs?: boolean;
  /** Keep each row's log Σ_j e^(S_ij) [B, H, Tq] (−∞ for a row that sees no key), for the backward. */
  keepLse?: boolean;
  /** Tile shape (query rows × keys) of the forward and the backward; defaults DEFAULT_BLOCKS, BACKWARD_BLOCKS. */
  blocks?: { query: number; key: number };
  /**
   * Keys of each sequence when k and v hold more rows than that (a KV cache with room to grow, whose
   * first keyRows rows per sequence are filled): Tk = keyRows, the sequences k.shape[1] rows apart.
   * Default k.shape[1]. The forward only.
   */
  keyRows?: number;
}

/**
 * Query rows × keys per tile, chosen by measurement on GPT-2 small's shape (T = 1024, Dh = 64, 12
 * heads; 32 KiB L1d / 1 MiB L2 per core; bench/RESULTS-attention.md): the forward's best tile spans
 * up to 1024 keys (512 KiB of float32 scores, in L2), the backward, which holds two tiles (P and
 * dS), does best with 64 × 256. A tile with fewer query rows (the last block, a generation step, a
 * continuation scored after a cached prefix) takes proportionally more keys, up to the same area.
 * Tiles end at the causal limit, so only the upper triangle of one query-block-wide square per
 * query block is computed in vain, whatever the key width.
 */
export const DEFAULT_BLOCKS = { query: 128, key: 1024 };
export const BACKWARD_BLOCKS = { query: 64, key: 256 };

/** `expBounded` and `expFloat32Single` bound to local names: an imported binding is read through a getter on every call. */
const exp = expBounded;
const expF32 = expFloat32Single;

export interface AttentionGeometry {
  B: number; Tq: number; Tk: number;
  H: number; Hkv: number; Dh: number; group: number;
  qWidth: number; kvWidth: number;
  /** Elements from one sequence's k/v rows to the next's: Tk·kvWidth, more when k/v have room after Tk rows. */
  kvBatchStride: number;
  offset: number; causal: boolean; window: number | undefined; scale: number;
  queryBlock: number; tileArea: number;
  keyMask: ArrayLike<number> | undefined;
  /** maskedBefore[b·(Tk+1) + j]: padded keys among the first j keys of batch row b. */
  maskedBefore: Int32Array | undefined;
  alibiSlopes: ArrayLike<number> | undefined;
  alibiPositions: ArrayLike<number> | undefined;
}

export function attentionGeometry(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions): AttentionGeometry {
  if (k.shape[0] !== q.shape[0] || v.shape[0] !== q.shape[0] || v.shape[1] !== k.shape[1]) throw new Error(`attention: keys [${k.shape}] and values [${v.shape}] do not match queries [${q.shape}]`);
  const Tk = o.keyRows ?? k.shape[1];
  if (!(Number.isInteger(Tk) && Tk >= 0 && Tk <= k.shape[1])) throw new Error(`attention: keyRows ${Tk} is outside the ${k.shape[1]} rows of the keys`);
  return geometryOf(q.shape[0], q.shape[1], Tk, [q.dim(-1), k.dim(-1), v.dim(-1)], o, k.shape[1]);
}

/**
 * The geometry of B rows of Tq queries over Tk keys whose q, k, v rows hold `widths` values each,
 * each sequence's keys `kvRows` rows apart (default Tk).
 */
export function geometryOf(B: number, Tq: number, Tk: number, widths: readonly [number, number, number], o: AttentionOptions, kvRows = Tk): AttentionGeometry {
  const { numHeads: H, numKvHeads: Hkv, headDim: Dh } = o;
  const qWidth = H * Dh, kvWidth = Hkv * Dh;
  if (widths[0] !== qWidth || widths[1] !== kvWidth || widths[2] !== kvWidth) {
    throw new Error(`attention: projection widths q=${widths[0]} k=${widths[1]} v=${widths[2]} do not fit ${H} heads / ${Hkv} kv heads × ${Dh}`);
  }
  if (!Number.isInteger(H / Hkv)) throw new Error(`attention: ${H} query heads do not split into ${Hkv} kv-head groups`);
  const keyMask = o.keyMask;
  if (keyMask && keyMask.length !== B * Tk) throw new Error(`attention: key mask has ${keyMask.length} entries, expected ${B}·${Tk}`);
  let maskedBefore: Int32Array | undefined;
  if (keyMask) {
    maskedBefore = new Int32Array(B * (Tk + 1));
    for (let b = 0; b < B; b++) {
      const base = b * (Tk + 1);
      for (let j = 0; j < Tk; j++) maskedBefore[base + j + 1] = maskedBefore[base + j] + (keyMask[b * Tk + j] === 0 ? 1 : 0);
    }
  }
  const blocks = o.blocks ?? DEFAULT_BLOCKS;
  return {
    B, Tq, Tk, H, Hkv, Dh, group: H / Hkv, qWidth, kvWidth, kvBatchStride: kvRows * kvWidth,
    offset: o.queryOffset ?? Tk - Tq, causal: o.causal ?? true, window: o.slidingWindow, scale: o.scale,
    queryBlock: Math.max(1, Math.min(blocks.query, Tq)), tileArea: blocks.query * blocks.key,
    keyMask, maskedBefore,
    alibiSlopes: o.alibiSlopes, alibiPositions: o.alibiSlopes ? o.alibiPositions : undefined,
  };
}

/** First visible key of query row i (sliding window), clamped to [0, Tk]. */
export function firstKey(g: AttentionGeometry, i: number): number {
  return g.window !== undefined ? Math.min(g.Tk, Math.max(0, g.offset + i - g.window + 1)) : 0;
}

/** One past the last visible key of query row i (causal limit), clamped to [0, Tk]. */
export function endKey(g: AttentionGeometry, i: number): number {
  return g.causal ? Math.max(0, Math.min(g.Tk, g.offset + i + 1)) : g.Tk;
}

/** Keys per tile for a block of `rows` query rows: the tile area spread over fewer rows. */
export function keyBlock(g: AttentionGeometry, rows: number): number {
  return Math.max(1, Math.floor(g.tileArea / rows));
}

/** True when every key of [j0, j1) in batch row b is padding. */
export function allPadding(g: AttentionGeometry, b: number, j0: number, j1: number): boolean {
  const m = g.maskedBefore;
  if (!m) return false;
  const base = b * (g.Tk + 1);
  return m[base + j1] - m[base + j0] === j1 - j0;
}

/**
 * The score tile of batch row b, query head h, query rows [i0, i0 + rows), keys [j0, j0 + cols), into
 * s (row-major, leading dimension cols): S = scale · Q Kᵀ + slope_h · position_j, −∞ at padded keys.
 * rowStart/rowEnd receive each row's visible columns [rowStart, rowEnd) (tile-relative); entries
 * outside them are not meaningful. Returns true when every entry of the tile is visible.
 */
export function scoreTile(
  g: AttentionGeometry, be: Backend, qd: TypedArray, kd: TypedArray,
  b: number, h: number, i0: number, rows: number, j0: number, cols: number,
  s: TypedArray, rowStart: Int32Array, rowEnd: Int32Array,
): boolean {
  const kvh = Math.floor(h / g.group);
  be.gemm({
    transA: false, transB: true, m: rows, n: cols, k: g.Dh, alpha: g.scale,
    a: qd.subarray(b * g.Tq * g.qWidth + i0 * g.qWidth + h * g.Dh), lda: g.qWidth,
    b: kd.subarray(b * g.kvBatchStride + j0 * g.kvWidth + kvh * g.Dh), ldb: g.kvWidth,
    beta: 0, c: s, ldc: cols,
  });
  const j1 = j0 + cols;
  // the whole tile is visible when its last row's window starts at or before j0 and its first row's
  // causal limit is at or after j1
  let whole = firstKey(g, i0 + rows - 1) <= j0 && endKey(g, i0) >= j1;
  for (let r = 0; r < rows; r++) {
    rowStart[r] = whole ? 0 : Math.min(cols, Math.max(0, firstKey(g, i0 + r) - j0));
    rowEnd[r] = whole ? cols : Math.max(rowStart[r], Math.min(cols, endKey(g, i0 + r) - j0));
  }
  const positions = g.alibiPositions;
  if (positions) {
    const slope = g.alibiSlopes![h];
    const keys = b * g.Tk + j0;
    for (let r = 0; r < rows; r++) {
      const row = r * cols;
      for (let j = rowStart[r]; j < rowEnd[r]; j++) s[row + j] += slope * positions[keys + j];
    }
  }
  const mask = g.keyMask;
  if (mask && g.maskedBefore![b * (g.Tk + 1) + j1] !== g.maskedBefore![b * (g.Tk + 1) + j0]) {
    whole = false;
    const keys = b * g.Tk + j0;
    for (let r = 0; r < rows; r++) {
      const row = r * cols;
      for (let j = rowStart[r]; j < rowEnd[r]; j++) if (mask[keys + j] === 0) s[row + j] = -Infinity;
    }
  }
  return whole;
}

/**
 * The key tiles query rows [i0, i1) see, as [j0, j1) pairs: from the causal limit back to the window
 * start, ending exactly at the limit (so the diagonal lies in as few tiles as possible), skipping
 * tiles that are all padding.
 */
export function keyTiles(g: AttentionGeometry, b: number, i0: number, i1: number): number[] {
  const lo = firstKey(g, i0);
  const hi = Math.max(endKey(g, i1 - 1), lo);
  const step = keyBlock(g, i1 - i0);
  const tiles: number[] = [];
  for (let j1 = hi; j1 > lo; j1 -= step) {
    const j0 = Math.max(lo, j1 - step);
    if (!allPadding(g, b, j0, j1)) tiles.push(j0, j1);
  }
  return tiles;
}

/**
 * One row s[row + a .. row + e) of a score tile (its visible entries): s ← e^(s − m') with the new
 * running max m' = max(m[r], row max), ℓ[r] ← e^(m[r] − m') ℓ[r] + Σ; entries outside [a, e) are
 * set to 0. Returns e^(m[r] − m'), the factor for the row's output so far (1 when the max did not
 * move). Below e^−87.3 a value is a float32 subnormal and is flushed to 0 (it cannot change a sum at
 * float32 precision, and subnormals make the P·V product crawl); this keeps `expBounded` (float64
 * tiles) and `expFloat32Single` (float32 tiles: float32 is all they keep) in range.
 * (−87.3… = ln 2^−126 is written out: an imported constant in a hot loop is read through a getter.)
 */
export function expRowOnline(s: TypedArray, row: number, a: number, e: number, cols: number, m: Float64Array, l: Float64Array, r: number): number {
  if (a > 0) s.fill(0, row, row + a);
  if (e < cols) s.fill(0, row + e, row + cols);
  const mOld = m[r];
  let max = mOld;
  for (let j = row + a; j < row + e; j++) {
    const x = s[j];
    if (x > max) max = x;
  }
  if (max === -Infinity) {
    s.fill(0, row + a, row + e);
    return 1;
  }
  let sum = 0;
  if (s instanceof Float32Array) {
    // float32 throughout (kernels.c attn_exp_row): d = s − max rounded to float32, flushed below the
    // float32 nearest ln 2^−126 (−87.3365478515625)
    for (let j = row + a; j < row + e; j++) {
      const d = Math.fround(s[j] - max);
      const p = d < -87.3365478515625 ? 0 : expF32(d);
      s[j] = p;
      sum += p;
    }
  } else {
    for (let j = row + a; j < row + e; j++) {
      const d = s[j] - max;
      const p = d < -87.33654475055310898657 ? 0 : exp(d);
      s[j] = p;
      sum += p;
    }
  }
  const c = mOld === max ? 1 : mOld === -Infinity ? 0 : Math.exp(mOld - max);
  m[r] = max;
  l[r] = l[r] * c + sum;
  return c;
}

/**
 * One row of a recomputed score tile in the backward, from its log-sum-exp L: p ← e^(s − L) on the
 * visible entries [a, e) (flushed to 0 below e^−87.3 as in the forward), 0 elsewhere and everywhere
 * when L = −∞ (the row sees no key); and when dS is given (holding dP = dO Vᵀ on entry), in the same
 * pass, the softmax gradient dS ← p ⊙ (dP − D) with D = rowsum(dO ⊙ O). (p is e^x in float64 here,
 * while a float32 forward summed float32 e^x into L: the recomputed p differ from the forward's by
 * 1–2 float32 ulps, as a flash-attention backward's recomputation does.)
 */
export function probabilityRow(p: TypedArray, dS: TypedArray | null, row: number, a: number, e: number, cols: number, lse: number, D: number): void {
  if (lse === -Infinity) a = e;
  p.fill(0, row, row + a);
  p.fill(0, row + e, row + cols);
  if (dS) {
    dS.fill(0, row, row + a);
    dS.fill(0, row + e, row + cols);
    for (let j = row + a; j < row + e; j++) {
      const d = p[j] - lse;
      const pj = d < -87.33654475055310898657 ? 0 : exp(d > 0 ? 0 : d);
      p[j] = pj;
      dS[j] = pj * (dS[j] - D);
    }
    return;
  }
  for (let j = row + a; j < row + e; j++) {
    const d = p[j] - lse;
    p[j] = d < -87.33654475055310898657 ? 0 : exp(d > 0 ? 0 : d);
  }
}
