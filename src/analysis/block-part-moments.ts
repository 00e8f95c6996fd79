/**
 * The attention and MLP parts of one block's pair statistics (`parts: true`), accumulated chunk by
 * chunk: the attention output against the block input x, the MLP output against its input, which
 * is x itself (parallel residual, 'blockInput') or h = x + attn ('afterAttention', with its own
 * moments `mid`). One definition for the whole-profile accumulator (linearity-profile.ts) and the
 * one-pair accumulator of layer-major execution (linearity-pair.ts).
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { CrossMoments, StreamMoments } from './moments.ts';
import type { RowSelection } from './rows.ts';

/** One block's part moments. */
export interface BlockPartMoments {
  attention: CrossMoments;
  mlp: CrossMoments;
  /** Moments of h = x + attn, the MLP's input; absent when the MLP reads the block input. */
  mid?: StreamMoments;
}

/** Chunk buffers of the parts (from `buffer`, fresh by default); without parts they all alias `spare` (never read). */
export interface PartBuffers {
  attn: Float64Array;
  mid: Float64Array;
  mlp: Float64Array;
}

export function partBuffers(size: number, parts: boolean, spare: Float64Array, buffer: (i: number, size: number) => Float64Array = (_, n) => new Float64Array(n)): PartBuffers {
  if (!parts) return { attn: spare, mid: spare, mlp: spare };
  return { attn: buffer(0, size), mid: buffer(1, size), mlp: buffer(2, size) };
}

/**
 * Adds rows [start, end) of the block's attention and MLP outputs: `x` is the same rows of the block
 * input, already read about `xShift` (the block input's reference point).
 */
export function addBlockParts(
  p: BlockPartMoments,
  x: Float64Array,
  xShift: Float64Array,
  attnOut: Tensor,
  mlpOut: Tensor,
  rows: RowSelection,
  start: number,
  end: number,
  buffers: PartBuffers,
): void {
  const m = end - start;
  const d = attnOut.dim(-1);
  const attn = p.attention.deltaReader.read(attnOut, rows, start, end, buffers.attn);
  p.attention.addShifted(x, attn, m);
  const mlp = p.mlp.deltaReader.read(mlpOut, rows, start, end, buffers.mlp);
  if (!p.mid) {
    p.mlp.addShifted(x, mlp, m);
    return;
  }
  // h = x + attn about s_h = s_x + s_attn, so h̃ = x̃ + ãttn exactly
  if (!p.mid.shift) p.mid.reader.shift = p.attention.deltaShift!.map((v, j) => v + xShift[j]);
  const mid = buffers.mid.subarray(0, m * d);
  for (let k = 0; k < m * d; k++) mid[k] = x[k] + attn[k];
  p.mid.addShifted(mid, m);
  p.mlp.addShifted(mid, mlp, m);
}
