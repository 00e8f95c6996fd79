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
 */
import { backend } from '../backend/index.ts';
import { fastExp } from './fast-exp.ts';
import { Tensor, allocate } from './tensor.ts';

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
            const a = Math.max(first(i), lo) - lo;
            const e = Math.max(Math.min(last(i), hi) - lo, a);
            for (let j = 0; j < a; j++) scores[row + j] = 0;
            for (let j = e; j < width; j++) scores[row + j] = 0;
            // masks and bias inside the visible range, then softmax over it (all hidden → zeros)
            let max = -Infinity;
            if (keyMask || alibiPositions) {
              for (let j = a; j < e; j++) {
                const key = lo + j;
                if (keyMask && keyMask[keyRow + key] === 0) {
                  scores[row + j] = -Infinity;
                  continue;
                }
                let s = scores[row + j];
                if (alibiPositions) s = scores[row + j] += slope * alibiPositions[keyRow + key];
                if (s > max) max = s;
              }
            } else {
              for (let j = a; j < e; j++) if (scores[row + j] > max) max = scores[row + j];
            }
            if (max === -Infinity) {
              for (let j = a; j < e; j++) scores[row + j] = 0;
            } else {
              let sum = 0;
              for (let j = a; j < e; j++) {
                // below e^−87.3 a probability is a float32 subnormal: flush it to 0 (it cannot change
                // any sum at float32 precision, and subnormals make the P·V product crawl)
                const d = scores[row + j] - max;
                const p = d < SUBNORMAL_EXPONENT ? 0 : fastExp(d);
                scores[row + j] = p;
                sum += p;
              }
              const inv = 1 / sum;
              for (let j = a; j < e; j++) scores[row + j] *= inv;
            }
            if (probs) probs.data.set(scores.subarray(row, row + width), ((b * H + h) * Tq + i) * Tk + lo);
          }
          if (width > 0) {
            // O_block = P V[lo:hi]
            be.gemm({
              transA: false, transB: false, m: rows, n: Dh, k: width, alpha: 1,
              a: scores, lda: width,
              b: v.data.subarray(kBase + lo * kvWidth), ldb: kvWidth,
              beta: 0, c: out.data.subarray(qBase), ldc: qWidth,
            });
          }
        }
      }
    }
  });
  return { out, probs };
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
