/**
 * Multi-head attention over [B, T, H·Dh] projections with grouped-query heads (forward:
 * src/tensor/attention, keeping the probabilities P). Per batch b and query head h (kv head h/group):
 *   S = scale·Q Kᵀ (+ masks/bias),  P = softmax(S),  O = P V
 *   dP = dO Vᵀ,   dS = P ⊙ (dP − rowsum(dP ⊙ P)),
 *   dQ = scale·dS K,   dK += scale·dSᵀ Q,   dV += Pᵀ dO
 * All products are strided GEMMs on the [B, T, H·Dh] buffers (no transposes, no head copies); the
 * query heads of one group accumulate into their shared K/V gradient slices. Masked entries have
 * P = 0 and so get no gradient, whatever the mask (causal, padding, sliding window, ALiBi); the dS
 * loop skips the keys outside each row's causal / sliding-window range, where P = 0 by construction.
 */
import { backend } from '../../backend/index.ts';
import { attention as attentionForward, type AttentionOptions } from '../../tensor/attention.ts';
import { allocate, type TypedArray } from '../../tensor/tensor.ts';
import { assertSameDtype } from '../check.ts';
import { gradTarget, record } from '../graph.ts';
import type { Var } from '../var.ts';

export type { AttentionOptions } from '../../tensor/attention.ts';

/** Attention output [B, Tq, H·Dh]; causal by default (see AttentionOptions). */
export function attention(q: Var, k: Var, v: Var, opts: Omit<AttentionOptions, 'keepProbs'>): Var {
  assertSameDtype('attention', q, k, v);
  const { numHeads: H, numKvHeads: Hkv, headDim: Dh, scale } = opts;
  if (!Number.isInteger(H / Hkv)) throw new Error(`attention: ${H} query heads do not split into ${Hkv} kv-head groups`);
  const { out, probs } = attentionForward(q.value, k.value, v.value, { ...opts, keepProbs: true });
  const P = probs!.data;
  const [B, Tq] = q.value.shape;
  const Tk = k.value.shape[1];
  const group = H / Hkv;
  const qWidth = H * Dh, kvWidth = Hkv * Dh;
  // visible keys of query row i, [first(i), last(i)), as in the forward pass: P is 0 outside
  const offset = opts.queryOffset ?? Tk - Tq;
  const causal = opts.causal ?? true;
  const window = opts.slidingWindow;
  const last = (i: number) => (causal ? Math.max(0, Math.min(Tk, offset + i + 1)) : Tk);
  const first = (i: number) => (window !== undefined ? Math.min(Tk, Math.max(0, offset + i - window + 1)) : 0);
  return record('attention', out, [q, k, v], (g) => {
    const be = backend();
    const dO = g.data;
    const qd = q.value.data, kd = k.value.data, vd = v.value.data;
    const dq = q.requiresGrad ? gradTarget(q) : null;
    const dk = k.requiresGrad ? gradTarget(k) : null;
    const dv = v.requiresGrad ? gradTarget(v) : null;
    const dS = allocate(q.value.dtype, Tq * Tk);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const kvh = Math.floor(h / group);
        const qBase = b * Tq * qWidth + h * Dh;
        const kBase = b * Tk * kvWidth + kvh * Dh;
        const p = P.subarray((b * H + h) * Tq * Tk, (b * H + h + 1) * Tq * Tk);
        // the first query head of a group overwrites a fresh K/V gradient slice, the rest add to it
        const kvBeta = (beta: 0 | 1) => (beta === 0 && h % group === 0 ? 0 : 1);
        if (dv) {
          be.gemm({
            transA: true, transB: false, m: Tk, n: Dh, k: Tq, alpha: 1,
            a: p, lda: Tk, b: dO.subarray(qBase), ldb: qWidth,
            beta: kvBeta(dv.beta), c: dv.grad.data.subarray(kBase), ldc: kvWidth,
          });
        }
        if (!dq && !dk) continue;
        // dP = dO Vᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)) in place
        be.gemm({
          transA: false, transB: true, m: Tq, n: Tk, k: Dh, alpha: 1,
          a: dO.subarray(qBase), lda: qWidth, b: vd.subarray(kBase), ldb: kvWidth,
          beta: 0, c: dS, ldc: Tk,
        });
        softmaxBackwardRows(dS, p, Tq, Tk, first, last);
        if (dq) {
          be.gemm({
            transA: false, transB: false, m: Tq, n: Dh, k: Tk, alpha: scale,
            a: dS, lda: Tk, b: kd.subarray(kBase), ldb: kvWidth,
            beta: dq.beta, c: dq.grad.data.subarray(qBase), ldc: qWidth,
          });
        }
        if (dk) {
          be.gemm({
            transA: true, transB: false, m: Tk, n: Dh, k: Tq, alpha: scale,
            a: dS, lda: Tk, b: qd.subarray(qBase), ldb: qWidth,
            beta: kvBeta(dk.beta), c: dk.grad.data.subarray(kBase), ldc: kvWidth,
          });
        }
      }
    }
  });
}

/**
 * dS = P ⊙ (dP − rowsum(dP ⊙ P)) in place over [rows, n] (dS holds dP on entry), visiting only the
 * visible keys [first(i), last(i)) of each row; elsewhere P = 0, so dS is set to 0 without reading.
 */
function softmaxBackwardRows(
  dS: TypedArray, p: TypedArray, rows: number, n: number,
  first: (i: number) => number, last: (i: number) => number,
): void {
  for (let i = 0; i < rows; i++) {
    const row = i * n;
    const a = first(i);
    const e = Math.max(last(i), a);
    let dot = 0;
    for (let j = a; j < e; j++) dot += dS[row + j] * p[row + j];
    for (let j = 0; j < a; j++) dS[row + j] = 0;
    for (let j = a; j < e; j++) dS[row + j] = p[row + j] * (dS[row + j] - dot);
    for (let j = e; j < n; j++) dS[row + j] = 0;
  }
}
