/**
 * Scaled dot-product attention over [B, T, H·Dh] projections, head by head with strided GEMMs
 * (no transposes): S = scale · Q_h K_hᵀ + bias, P = softmax(S), O_h = P V_h.
 *
 * Masks: causal (key j visible to query i iff j ≤ queryOffset + i), key padding (keyMask), optional
 * ALiBi bias slope_h · keyPosition_j, and an optional sliding window. Grouped-query attention maps
 * query head h to key/value head ⌊h / (H / H_kv)⌋.
 */
import { backend } from '../backend/index.ts';
import { softmaxRowsInPlace } from './norms.ts';
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
  const out = new Tensor(allocate(q.dtype, B * Tq * qWidth), [B, Tq, qWidth]);
  const probs = o.keepProbs ? new Tensor(allocate(q.dtype, B * H * Tq * Tk), [B, H, Tq, Tk]) : undefined;
  const scores = allocate(q.dtype, Tq * Tk);
  const be = backend();
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      const qBase = b * Tq * qWidth + h * Dh;
      const kBase = b * Tk * kvWidth + kvh * Dh;
      be.gemm({
        transA: false, transB: true, m: Tq, n: Tk, k: Dh, alpha: o.scale,
        a: q.data.subarray(qBase), lda: qWidth,
        b: k.data.subarray(kBase), ldb: kvWidth,
        beta: 0, c: scores, ldc: Tk,
      });
      const slope = o.alibiSlopes ? o.alibiSlopes[h] : 0;
      for (let i = 0; i < Tq; i++) {
        const row = i * Tk;
        const qi = offset + i;
        for (let j = 0; j < Tk; j++) {
          let hidden = causal && j > qi;
          if (!hidden && o.keyMask && o.keyMask[b * Tk + j] === 0) hidden = true;
          if (!hidden && o.slidingWindow !== undefined && qi - j >= o.slidingWindow) hidden = true;
          if (hidden) scores[row + j] = -Infinity;
          else if (o.alibiPositions) scores[row + j] += slope * o.alibiPositions[b * Tk + j];
        }
      }
      softmaxRowsInPlace(scores, scores, Tk);
      if (probs) probs.data.set(scores, (b * H + h) * Tq * Tk);
      be.gemm({
        transA: false, transB: false, m: Tq, n: Dh, k: Tk, alpha: 1,
        a: scores, lda: Tk,
        b: v.data.subarray(kBase), ldb: kvWidth,
        beta: 0, c: out.data.subarray(qBase), ldc: qWidth,
      });
    }
  }
  return { out, probs };
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
