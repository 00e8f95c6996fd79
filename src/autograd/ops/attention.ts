/**
 * Multi-head attention over [B, T, H·Dh] projections with grouped-query heads. The forward is the
 * inference kernel (src/tensor/attention.ts, blocked with an online softmax), keeping each row's
 * log-sum-exp L instead of the T² probabilities; the backward recomputes them tile by tile
 * (FlashAttention-2, Dao 2023, Algorithm 2), over the same tiles the forward visited
 * (src/tensor/attention-tiles.ts: none above the causal diagonal, outside a window, or all padding):
 *   D = rowsum(dO ⊙ O)
 *   S = scale·Q Kᵀ (+ masks/bias),  P = e^(S − L),
 *   dV += Pᵀ dO,   dP = dO Vᵀ,   dS = P ⊙ (dP − D),
 *   dQ += scale·dS K,   dK += scale·dSᵀ Q.
 * All products are strided GEMMs on the [B, T, H·Dh] buffers (no transposes, no head copies); the
 * query heads of one group accumulate into their shared K/V gradient slices. Masked entries have
 * P = 0 and so get no gradient, whatever the mask (causal, padding, sliding window, ALiBi).
 *
 * With the native kernels and OpenBLAS, float32 gradients come from the C twin of this loop
 * (native/kernels.c lk_attention_bwd_f32: the same steps in the same order per (batch row, kv head),
 * those items spread over the BLAS's thread count), equal to the loop below bit for bit.
 */
import { backend, type Backend } from '../../backend/index.ts';
import { attention as attentionForward, onOneThread, runNativeAttention } from '../../tensor/attention.ts';
import { BACKWARD_BLOCKS, attentionGeometry, keyTiles, probabilityRow, scoreTile, type AttentionGeometry, type AttentionOptions } from '../../tensor/attention-tiles.ts';
import { allocate, type TypedArray } from '../../tensor/tensor.ts';
import { assertSameDtype } from '../check.ts';
import { gradTarget, record } from '../graph.ts';
import type { Var } from '../var.ts';

export type { AttentionOptions } from '../../tensor/attention-tiles.ts';

/** Attention output [B, Tq, H·Dh]; causal by default (see AttentionOptions). */
export function attention(q: Var, k: Var, v: Var, opts: Omit<AttentionOptions, 'keepProbs' | 'keepLse' | 'keyRows'>): Var {
  assertSameDtype('attention', q, k, v);
  // the backward's own tiles (it holds two per step: P and dS); the forward keeps the inference tiles,
  // so that training and inference forwards are the same computation
  const g = attentionGeometry(q.value, k.value, v.value, { ...opts, blocks: opts.blocks ?? BACKWARD_BLOCKS });
  const { out, lse } = attentionForward(q.value, k.value, v.value, { ...opts, keepLse: true });
  const L = lse!;
  return record('attention', out, [q, k, v], (grad) => {
    const { B, Tq, H, Dh, qWidth, kvWidth, queryBlock, Tk } = g;
    const be = backend();
    const dO = grad.data, O = out.data;
    const qd = q.value.data, kd = k.value.data, vd = v.value.data;
    const targets = [q, k, v].map((x) => {
      if (!x.requiresGrad) return null;
      const t = gradTarget(x);
      if (t.beta === 0) t.grad.data.fill(0);
      return t.grad.data;
    });
    const [dq, dk, dv] = targets;
    if (nativeBackward(be, g, qd, kd, vd, O, dO, L, dq, dk, dv)) return;
    const dtype = q.value.dtype;
    const p = allocate(dtype, g.tileArea), dS = allocate(dtype, g.tileArea);
    const rowStart = new Int32Array(queryBlock), rowEnd = new Int32Array(queryBlock);
    const D = new Float64Array(queryBlock);
    onOneThread(be, () => {
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < H; h++) {
          const kvBase = b * g.kvBatchStride + Math.floor(h / g.group) * Dh;
          for (let i0 = 0; i0 < Tq; i0 += queryBlock) {
            const rows = Math.min(queryBlock, Tq - i0);
            const qBase = b * Tq * qWidth + i0 * qWidth + h * Dh;
            const lBase = (b * H + h) * Tq + i0;
            for (let r = 0; r < rows; r++) {
              let dot = 0;
              for (let x = qBase + r * qWidth, e = x + Dh; x < e; x++) dot += dO[x] * O[x];
              D[r] = dot;
            }
            const tiles = keyTiles(g, b, i0, i0 + rows);
            for (let t = 0; t < tiles.length; t += 2) {
              const j0 = tiles[t], cols = tiles[t + 1] - j0;
              const kvTile = kvBase + j0 * kvWidth;
              scoreTile(g, be, qd, kd, b, h, i0, rows, j0, cols, p, rowStart, rowEnd);
              const needDS = dq !== null || dk !== null;
              if (needDS) {
                // dP = dO Vᵀ
                be.gemm({
                  transA: false, transB: true, m: rows, n: cols, k: Dh, alpha: 1,
                  a: dO.subarray(qBase), lda: qWidth, b: vd.subarray(kvTile), ldb: kvWidth,
                  beta: 0, c: dS, ldc: cols,
                });
              }
              // P = e^(S − L) (0 outside each row's visible keys) and dS = P ⊙ (dP − D), in one pass
              for (let r = 0; r < rows; r++) probabilityRow(p, needDS ? dS : null, r * cols, rowStart[r], rowEnd[r], cols, L[lBase + r], D[r]);
              if (dv) {
                be.gemm({
                  transA: true, transB: false, m: cols, n: Dh, k: rows, alpha: 1,
                  a: p, lda: cols, b: dO.subarray(qBase), ldb: qWidth,
                  beta: 1, c: dv.subarray(kvTile), ldc: kvWidth,
                });
              }
              if (dq) {
                be.gemm({
                  transA: false, transB: false, m: rows, n: Dh, k: cols, alpha: g.scale,
                  a: dS, lda: cols, b: kd.subarray(kvTile), ldb: kvWidth,
                  beta: 1, c: dq.subarray(qBase), ldc: qWidth,
                });
              }
              if (dk) {
                be.gemm({
                  transA: true, transB: false, m: cols, n: Dh, k: rows, alpha: g.scale,
                  a: dS, lda: cols, b: qd.subarray(qBase), ldb: qWidth,
                  beta: 1, c: dk.subarray(kvTile), ldc: kvWidth,
                });
              }
            }
          }
        }
      }
    });
  });
}

/**
 * The backward loop in C (native/kernels.c lk_attention_bwd_f32): false when the native attention
 * kernels cannot run here (src/tensor/attention.ts runNativeAttention) or the data is not
 * float32, and the TypeScript loop runs.
 */
function nativeBackward(
  be: Backend, g: AttentionGeometry, qd: TypedArray, kd: TypedArray, vd: TypedArray, O: TypedArray, dO: TypedArray, L: Float64Array,
  dq: TypedArray | null, dk: TypedArray | null, dv: TypedArray | null,
): boolean {
  return runNativeAttention(be, g, [qd, kd, vd, O, dO, dq, dk, dv], (nk, a) => nk.attentionBackward(
    qd as Float32Array, kd as Float32Array, vd as Float32Array, O as Float32Array, dO as Float32Array, L,
    dq as Float32Array | null, dk as Float32Array | null, dv as Float32Array | null,
    g.B, g.Tq, g.Tk, g.H, g.Hkv, g.Dh, g.offset, g.causal ? 1 : 0, g.window ?? 0, g.scale,
    a.keyMask, g.maskedBefore ?? null, a.slopes, a.positions, g.queryBlock, g.tileArea, a.threads,
  ));
}
