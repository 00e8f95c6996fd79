/**
 * Logit lens (nostalgebraist 2020): decode every layer's hidden state with the model's own final
 * norm and unembedding, and ask how good a next-token predictor each layer already is.
 *
 * For each layer ℓ and each token row t with a target (the true next token):
 *   log p_ℓ(· | t) = log_softmax(unembed(finalNorm(h_ℓ,t)))
 *   cross-entropy  = −log p_ℓ(target_t),  top-1 accuracy = [argmax p_ℓ = target_t],
 *   KL to final    = KL(p_L ‖ p_ℓ) = Σ_v p_L(v) (log p_L(v) − log p_ℓ(v)),
 * where p_L is the distribution of the reference state (the last state passed; pass the last block's
 * output *before* the final norm so that finalNorm(h_L) is exactly what the model decodes). All
 * three are averaged over the rows with a target (targets < 0 are ignored: padding, last position).
 * The LLM-Microscope `logit_lens` applies lm_head to the raw hidden states (pass the identity as
 * `finalNorm` for that) and reports −log p of the top prediction; here the loss is against the true
 * next token. Logits are processed `chunkRows` rows at a time, in float64.
 */
import { Tensor, allocate, dtypeOf } from '../tensor/tensor.ts';
import { featureDim, rowCount, type RowSelection } from './rows.ts';

export interface LogitLensOptions {
  /** The model's final norm on rows [m, d] (identity for the raw lens). */
  finalNorm: (h: Tensor) => Tensor;
  /** The unembedding: rows [m, d] → logits [m, V]. */
  unembed: (h: Tensor) => Tensor;
  /** Rows decoded at once (bounds the m × V logits; default 64). */
  chunkRows?: number;
}

export interface LayerLens {
  layer: number;
  /** Rows with a target. */
  tokens: number;
  crossEntropy: number;
  top1Accuracy: number;
  /** KL(p_final ‖ p_layer) in nats. */
  klToFinal: number;
}

/** Per-row values of one `add` call, for the rows that have a target (in row order). */
export interface LensBatch {
  /** Flattened row index of each scored row. */
  rows: Int32Array;
  /** [layer][row] cross-entropy. */
  crossEntropy: Float64Array[];
  /** [layer][row] top-1 token. */
  top1: Int32Array[];
}

/** Targets for [B, T] token ids: target[b, t] = ids[b, t + 1], −1 at the last position or padding. */
export function nextTokenTargets(ids: ArrayLike<number>, seqLen: number, attentionMask?: ArrayLike<number>): Int32Array {
  const out = new Int32Array(ids.length).fill(-1);
  for (let i = 0; i < ids.length; i++) {
    const t = i % seqLen;
    if (t === seqLen - 1) continue;
    if (attentionMask && (!attentionMask[i] || !attentionMask[i + 1])) continue;
    out[i] = ids[i + 1];
  }
  return out;
}

/** log_softmax of one row of logits into `out` (float64); returns the argmax. */
function logSoftmaxRow(logits: ArrayLike<number>, offset: number, v: number, out: Float64Array): number {
  let max = -Infinity;
  let arg = 0;
  for (let j = 0; j < v; j++) {
    const z = logits[offset + j];
    if (z > max) {
      max = z;
      arg = j;
    }
  }
  let sum = 0;
  for (let j = 0; j < v; j++) sum += Math.exp(logits[offset + j] - max);
  const lse = max + Math.log(sum);
  for (let j = 0; j < v; j++) out[j] = logits[offset + j] - lse;
  return arg;
}

export class LogitLensAccumulator {
  private readonly ce: Float64Array;
  private readonly correct: Float64Array;
  private readonly kl: Float64Array;
  private count = 0;

  constructor(readonly layers: number, private readonly options: LogitLensOptions) {
    this.ce = new Float64Array(layers);
    this.correct = new Float64Array(layers);
    this.kl = new Float64Array(layers);
  }

  /**
   * Adds one forward: `states[ℓ]` ([N, d] or [B, T, d]) for every layer (the last one is the
   * reference), `targets` one per flattened row (< 0 = none), optionally a row selection.
   */
  add(states: readonly Tensor[], targets: ArrayLike<number>, rows?: RowSelection): LensBatch {
    if (states.length !== this.layers) throw new Error(`LogitLens.add: expected ${this.layers} states, got ${states.length}`);
    const d = featureDim(states[0]);
    const n = rowCount(states[0]);
    for (const s of states) {
      if (featureDim(s) !== d || rowCount(s) !== n) throw new Error(`LogitLens.add: states differ in shape (${states[0]} vs ${s})`);
    }
    if (targets.length !== n) throw new Error(`LogitLens.add: ${targets.length} targets for ${n} rows`);
    const picked: number[] = [];
    const all = rows ?? { length: n };
    for (let i = 0; i < all.length; i++) {
      const r = rows ? rows[i] : i;
      if (targets[r] >= 0) picked.push(r);
    }
    const scored = Int32Array.from(picked);
    const batch: LensBatch = {
      rows: scored,
      crossEntropy: Array.from({ length: this.layers }, () => new Float64Array(scored.length)),
      top1: Array.from({ length: this.layers }, () => new Int32Array(scored.length)),
    };
    const chunk = this.options.chunkRows ?? 64;
    const last = this.layers - 1;
    for (let start = 0; start < scored.length; start += chunk) {
      const idx = scored.subarray(start, Math.min(scored.length, start + chunk));
      const m = idx.length;
      const ref = this.decode(states[last], idx, d);
      const v = ref.dim(-1);
      const refLog = new Float64Array(m * v);
      for (let r = 0; r < m; r++) {
        const arg = logSoftmaxRow(ref.data, r * v, v, refLog.subarray(r * v, (r + 1) * v));
        this.score(last, r, start, arg, refLog.subarray(r * v, (r + 1) * v), idx, targets, batch, 0);
      }
      const lp = new Float64Array(v);
      for (let layer = 0; layer < last; layer++) {
        const logits = this.decode(states[layer], idx, d);
        if (logits.dim(-1) !== v) throw new Error(`LogitLens: unembed returned ${logits} for layer ${layer}, expected ${v} logits`);
        for (let r = 0; r < m; r++) {
          const arg = logSoftmaxRow(logits.data, r * v, v, lp);
          let kl = 0;
          const q = refLog.subarray(r * v, (r + 1) * v);
          for (let j = 0; j < v; j++) {
            const p = Math.exp(q[j]);
            if (p > 0) kl += p * (q[j] - lp[j]);
          }
          this.score(layer, r, start, arg, lp, idx, targets, batch, kl);
        }
      }
    }
    this.count += scored.length;
    return batch;
  }

  private score(layer: number, r: number, start: number, arg: number, logp: Float64Array, idx: Int32Array, targets: ArrayLike<number>, batch: LensBatch, kl: number): void {
    const target = targets[idx[r]];
    const ce = -logp[target];
    this.ce[layer] += ce;
    this.kl[layer] += kl;
    if (arg === target) this.correct[layer] += 1;
    batch.crossEntropy[layer][start + r] = ce;
    batch.top1[layer][start + r] = arg;
  }

  /** Logits [m, V] of the selected rows of one state. */
  private decode(state: Tensor, idx: Int32Array, d: number): Tensor {
    const dtype = dtypeOf(state.data);
    const rowsData = allocate(dtype, idx.length * d);
    for (let r = 0; r < idx.length; r++) rowsData.set(state.data.subarray(idx[r] * d, (idx[r] + 1) * d), r * d);
    const logits = this.options.unembed(this.options.finalNorm(new Tensor(rowsData, [idx.length, d])));
    if (rowCount(logits) !== idx.length) throw new Error(`LogitLens: unembed returned ${logits} for ${idx.length} rows`);
    return logits;
  }

  /** Averages per layer over all rows added so far. */
  result(): LayerLens[] {
    const n = this.count;
    return Array.from({ length: this.layers }, (_, layer) => ({
      layer,
      tokens: n,
      crossEntropy: n ? this.ce[layer] / n : Number.NaN,
      top1Accuracy: n ? this.correct[layer] / n : Number.NaN,
      klToFinal: n ? this.kl[layer] / n : Number.NaN,
    }));
  }
}
