/**
 * Scaled dot-product attention over [B, T, H·Dh] projections, head by head with strided GEMMs
 * (no transposes): S = scale · Q_h K_hᵀ + bias, P = softmax(S), O_h = P V_h.
 *
 * Masks: causal (key j visible to query i iff j ≤ queryOffset + i), key padding (keyMask), optional
 * ALiBi bias slope_h · keyPosition_j, and an optional sliding window. Grouped-query attention maps
 * query head h to key/value head ⌊h / (H / H_kv)⌋.
 *
 * Queries run in blocks of ROW_BLOCK rows; a block's scores are computed only against the key range
 * some row of it can see (causal limit, sliding window), which skips about half the work of a long
 * causal sequence. Hidden entries get probability 0, and a row that sees no key gets all zeros.
 * Softmax visits only each row's visible keys; unless the probabilities are kept, its division by
 * the row sum is applied to the row's Dh outputs after P·V rather than to its probabilities.
 */
import { backend } from '../backend/index.ts';
import { expBounded } from './fast-exp.ts';
import { Tensor, allocate, type TypedArray } from './tensor.ts';

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
}

export interface AttentionResult {
  out: Tensor;
  probs?: Tensor;
}

/** Query rows per block: scores are computed only against the keys some row of the block can see. */
const ROW_BLOCK = 128;

/** ln of float32's smallest normal number (2^−126): exp of anything below is subnormal. */
const SUBNORMAL_EXPONENT = -87.33654475055310898657;

export function attention(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions): AttentionResult {
  const [B, Tq] = q.shape;
  const Tk = k.shape[1];
  const { numHeads: H, numKvHeads: Hkv, headDim: Dh } = o;
  const qWidth = H * Dh;
  const kvWidth = Hkv * Dh;
  if (q.dim(-1) !== qWidth || k.dim(-1) !== kvWidth || v.dim(-1) !== kvWidth) {
    throw new Error(`attention: projection widths q=${q.dim(-1)} k=${k.dim(-1)} v=${v.dim(-1)} do not fit ${H} heads / ${Hkv} kv heads × ${Dh}`);
  }
  const group = H / Hkv;
  const offset = o.queryOffset ?? Tk - Tq;
  const causal = o.causal ?? true;
  const window = o.slidingWindow;
  const keyMask = o.keyMask;
  const alibiPositions = o.alibiPositions;
  const out = new Tensor(allocate(q.dtype, B * Tq * qWidth), [B, Tq, qWidth]);
  const probs = o.keepProbs ? new Tensor(allocate(q.dtype, B * H * Tq * Tk), [B, H, Tq, Tk]) : undefined;
  const rowBlock = Math.min(ROW_BLOCK, Tq);
  const scores = allocate(q.dtype, rowBlock * Tk);
  /** 1 / Σ e^(s − max) of each row of the block, when the probabilities are not kept. */
  const rowScale = new Float64Array(rowBlock);
  const be = backend();
  // These products are thin (one side is Dh wide): OpenBLAS's threads cost more than they gain here
  // (measured 3.5× the CPU time with 2 threads), so run them on one.
  onOneThread(be, () => {
    // Visible keys of query row i: [first(i), last(i)) by the causal limit and the sliding window.
    const last = (i: number) => (causal ? Math.min(Tk, offset + i + 1) : Tk);
    const first = (i: number) => (window !== undefined ? Math.max(0, offset + i - window + 1) : 0);
    for (let b = 0; b < B; b++) {
      const keyRow = b * Tk;
      for (let h = 0; h < H; h++) {
        const kvh = Math.floor(h / group);
        const slope = o.alibiSlopes ? o.alibiSlopes[h] : 0;
        const kBase = b * Tk * kvWidth + kvh * Dh;
        for (let i0 = 0; i0 < Tq; i0 += rowBlock) {
          const i1 = Math.min(Tq, i0 + rowBlock);
          const rows = i1 - i0;
          const lo = Math.min(first(i0), Tk);
          const hi = Math.max(last(i1 - 1), lo);
          const width = hi - lo;
          const qBase = b * Tq * qWidth + (h + i0 * H) * Dh;
          if (width > 0) {
            // S = scale · Q_block K[lo:hi]ᵀ
            be.gemm({
              transA: false, transB: true, m: rows, n: width, k: Dh, alpha: o.scale,
              a: q.data.subarray(qBase), lda: qWidth,
              b: k.data.subarray(kBase + lo * kvWidth), ldb: kvWidth,
              beta: 0, c: scores, ldc: width,
            });
          }
          for (let r = 0; r < rows; r++) {
            const i = i0 + r;
            const row = r * width;
            const a = row + Math.max(first(i), lo) - lo;
            const e = Math.max(row + Math.min(last(i), hi) - lo, a);
            // hidden keys outside the row's visible range [a, e): probability 0, never visited again
            scores.fill(0, row, a);
            scores.fill(0, e, row + width);
            if (alibiPositions) {
              const keys = keyRow + lo - row;
              for (let j = a; j < e; j++) scores[j] += slope * alibiPositions[keys + j];
            }
            if (keyMask) {
              const keys = keyRow + lo - row;
              for (let j = a; j < e; j++) if (keyMask[keys + j] === 0) scores[j] = -Infinity;
            }
            const inv = expShiftedRow(scores, a, e);
            if (probs) {
              for (let j = a; j < e; j++) scores[j] *= inv;
              probs.data.set(scores.subarray(row, row + width), ((b * H + h) * Tq + i) * Tk + lo);
            } else {
              rowScale[r] = inv;
            }
          }
          if (width > 0) {
            // O_block = P V[lo:hi]
            be.gemm({
              transA: false, transB: false, m: rows, n: Dh, k: width, alpha: 1,
              a: scores, lda: width,
              b: v.data.subarray(kBase + lo * kvWidth), ldb: kvWidth,
              beta: 0, c: out.data.subarray(qBase), ldc: qWidth,
            });
            // softmax's 1/Σ applied to the Dh outputs of a row instead of its `width` probabilities
            if (!probs) {
              const od = out.data;
              for (let r = 0; r < rows; r++) {
                const inv = rowScale[r];
                const start = qBase + r * qWidth;
                for (let d = start; d < start + Dh; d++) od[d] *= inv;
              }
            }
          }
        }
      }
    }
  });
  return { out, probs };
}

/**
 * Softmax numerators of one row's visible scores s[a..e): s ← e^(s − max), returning 1 / Σ (0 when
 * every entry is −∞, i.e. the row sees no key, which leaves all zeros). Below e^−87.3 a probability is
 * a float32 subnormal: it is flushed to 0 (it cannot change any sum at float32 precision, and
 * subnormals make the P·V product crawl); this also keeps the argument of `expBounded` in range.
 */
function expShiftedRow(s: TypedArray, a: number, e: number): number {
  let max = -Infinity;
  for (let j = a; j < e; j++) {
    const x = s[j];
    if (x > max) max = x;
  }
  if (max === -Infinity) {
    s.fill(0, a, e);
    return 0;
  }
  let sum = 0;
  for (let j = a; j < e; j++) {
    const d = s[j] - max;
    const p = d < SUBNORMAL_EXPONENT ? 0 : expBounded(d);
    s[j] = p;
    sum += p;
  }
  return 1 / sum;
}

/** Run `fn` with the BLAS on one thread, restoring the previous count. */
function onOneThread(be: ReturnType<typeof backend>, fn: () => void): void {
  const threads = be.threads();
  if (threads > 1) be.setThreads(1);
  try {
    fn();
  } finally {
    if (threads > 1) be.setThreads(threads);
  }
}

/** ALiBi slopes for `n` heads (Press et al.; BLOOM's construction for non-powers of two). */
export function alibiSlopes(n: number): Float64Array {
  const closest = 2 ** Math.floor(Math.log2(n));
  const base = 2 ** -(2 ** -(Math.log2(closest) - 3));
  const slopes = new Float64Array(n);
  for (let i = 0; i < closest; i++) slopes[i] = base ** (i + 1);
  if (closest < n) {
    const extraBase = 2 ** -(2 ** -(Math.log2(2 * closest) - 3));
    for (let i = 0; i < n - closest; i++) slopes[closest + i] = extraBase ** (2 * i + 1);
  }
  return slopes;
}
