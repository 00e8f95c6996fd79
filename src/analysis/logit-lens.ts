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
 * next token. Logits are processed `chunkRows` rows at a time; log-sum-exps, argmaxes and the sums
 * are float64 (src/eval/log-probs.ts logitRows, native when available).
 */
import { Tensor, allocate, dtypeOf } from '../tensor/tensor.ts';
import { featureDim, rowCount, type RowSelection } from './rows.ts';
import { logitRows } from '../eval/log-probs.ts';
import { fastExp } from '../tensor/fast-exp.ts';

export interface LogitLensOptions {
  /** The model's final norm on rows [m, d] (identity for the raw lens). */
  finalNorm: (h: Tensor) => Tensor;
  /** The unembedding: rows [m, d] → logits [m, V]. */
  unembed: (h: Tensor) => Tensor;
  /** Rows decoded at once (bounds the m × V logits and reference probabilities; default lensChunkRows). */
  chunkRows?: number;
  /** The vocabulary size, for the default chunk. */
  vocabSize?: number;
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

/**
 * Rows decoded at once by default: as many as keep a chunk's float32 logits and float64 reference
 * probabilities (12 bytes per logit) within 128 MiB, between 64 and 256 (the unembedding GEMM runs at
 * ~70 % of the sgemm peak with 64 rows, ~95 % with 256: GPT-2's vocabulary gets 222 rows).
 */
export function lensChunkRows(vocabSize = 50257): number {
  return Math.max(64, Math.min(256, Math.floor((128 * 2 ** 20) / (12 * vocabSize))));
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
    const chunk = this.options.chunkRows ?? lensChunkRows(this.options.vocabSize);
    const last = this.layers - 1;
    for (let start = 0; start < scored.length; start += chunk) {
      const idx = scored.subarray(start, Math.min(scored.length, start + chunk));
      const m = idx.length;
      // the reference distribution p_L once per chunk, with Σ p_L·log p_L and Σ p_L per row; then
      // KL(p_L ‖ p_ℓ) = Σ p_L·(log p_L − x_ℓ + lse_ℓ) = Σ p_L·log p_L − Σ p_L·x_ℓ + lse_ℓ·Σ p_L
      const ref = this.decode(states[last], idx, d);
      const v = ref.dim(-1);
      const refRows = logitRows(ref.data, v, null, m);
      const refP = new Float64Array(m * v);
      const plogp = new Float64Array(m);
      const mass = new Float64Array(m);
      for (let r = 0; r < m; r++) {
        const lse = refRows.logSumExp[r];
        let a = 0, s = 0;
        for (let j = 0, o = r * v; j < v; j++, o++) {
          const logp = ref.data[o] - lse;
          const p = fastExp(logp);
          refP[o] = p;
          if (p > 0) {
            a += p * logp;
            s += p;
          }
        }
        plogp[r] = a;
        mass[r] = s;
        this.score(last, r, start, refRows.argmax[r], ref.data[r * v + targets[idx[r]]] - lse, idx, targets, batch, 0);
      }
      for (let layer = 0; layer < last; layer++) {
        const logits = this.decode(states[layer], idx, d);
        if (logits.dim(-1) !== v) throw new Error(`LogitLens: unembed returned ${logits} for layer ${layer}, expected ${v} logits`);
        const rows = logitRows(logits.data, v, null, m);
        const x = logits.data;
        for (let r = 0; r < m; r++) {
          const lse = rows.logSumExp[r];
          let px = 0;
          for (let j = 0, o = r * v; j < v; j++, o++) if (refP[o] > 0) px += refP[o] * x[o];
          this.score(layer, r, start, rows.argmax[r], x[r * v + targets[idx[r]]] - lse, idx, targets, batch, plogp[r] - px + lse * mass[r]);
        }
      }
    }
    this.count += scored.length;
    return batch;
  }

  /** Records row r's top-1 token `arg`, its target's log-probability and the KL to the final layer. */
  private score(layer: number, r: number, start: number, arg: number, targetLogProb: number, idx: Int32Array, targets: ArrayLike<number>, batch: LensBatch, kl: number): void {
    const target = targets[idx[r]];
    const ce = -targetLogProb;
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
