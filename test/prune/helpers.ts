/** Shared helpers of the pruning tests: stories260K calibration batches and hidden-state references. */
import { makeBatches, type TokenBatch } from '../../src/data/calibration.ts';
import type { DecoderModel } from '../../src/models/decoder.ts';
import { Rng } from '../../src/tensor/random.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';

/** A few deterministic right-padded batches of random token ids (BOS first), lengths 12…40. */
export function randomBatches(vocab: number, sequences = 6, batchSize = 3, seed = 7): TokenBatch[] {
  const rng = new Rng(seed);
  const seqs = Array.from({ length: sequences }, (_, i) => {
    const n = 12 + ((i * 7) % 29);
    return [1, ...Array.from({ length: n - 1 }, () => 3 + rng.int(vocab - 3))];
  });
  return makeBatches(seqs, { batchSize, padding: 'right' });
}

/**
 * The residual stream of each sequence run alone (no padding): states[b][i] = rows [T_b, d] of the
 * state entering block i (i = L: after the last block).
 */
export function unpaddedStates(model: DecoderModel, batches: readonly TokenBatch[]): Float64Array[][][] {
  const out: Float64Array[][][] = [];
  for (const batch of batches) {
    batch.ids.forEach((row, b) => {
      const ids = row.slice(0, batch.lengths[b]);
      const r = model.forward([ids], { outputHiddenStates: true });
      const hs = r.hiddenStates!;
      const states = [...hs.slice(0, -1), r.preFinalNorm!];
      out.push(states.map((s) => toRows(s)));
    });
  }
  return out;
}

function toRows(t: Tensor): Float64Array[] {
  const d = t.dim(-1);
  const n = t.size / d;
  return Array.from({ length: n }, (_, r) => Float64Array.from(t.data.subarray(r * d, r * d + d)));
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let j = 0; j < a.length; j++) {
    ab += a[j] * b[j];
    aa += a[j] * a[j];
    bb += b[j] * b[j];
  }
  return ab / Math.sqrt(aa * bb);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
