/**
 * Which rows of a padded batch's [B, T, d] hidden states are real tokens, and where each came from
 * (sequence index in the probe set, position in that sequence). Pad rows never reach a statistic.
 */
import type { TokenBatch } from '../data/calibration.ts';

export interface BatchRows {
  /** Flattened row indices b·T + t of the real tokens, in sequence order. */
  rows: Int32Array;
  /** Probe-set sequence of each selected row. */
  sequence: Int32Array;
  /** Position of each selected row in its sequence (0 = first token). */
  position: Int32Array;
  /** Pad slots left out. */
  pads: number;
}

/** The real-token rows of a batch, row by row (so the order is the probe set's order). */
export function batchRows(batch: TokenBatch): BatchRows {
  const B = batch.ids.length;
  const T = B > 0 ? batch.ids[0].length : 0;
  const real = batch.lengths.reduce((a, b) => a + b, 0);
  const rows = new Int32Array(real);
  const sequence = new Int32Array(real);
  const position = new Int32Array(real);
  let k = 0;
  for (let b = 0; b < B; b++) {
    const mask = batch.attentionMask[b];
    let pos = 0;
    for (let t = 0; t < T; t++) {
      if (!mask[t]) continue;
      rows[k] = b * T + t;
      sequence[k] = batch.indices[b];
      position[k] = pos++;
      k++;
    }
  }
  return { rows, sequence, position, pads: B * T - real };
}
