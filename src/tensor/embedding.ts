/** Embedding lookup: rows of a [vocab, d] table gathered by token id. */
import { isHalf } from './half-weight.ts';
import { Tensor, allocate } from './tensor.ts';

export function embedding(table: Tensor, ids: ArrayLike<number>, shape?: readonly number[]): Tensor {
  const [vocab, d] = table.shape;
  const out = new Tensor(allocate(table.dtype, ids.length * d), [...(shape ?? [ids.length]), d]);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!(id >= 0 && id < vocab) || !Number.isInteger(id)) {
      throw new Error(`embedding: token id ${id} at position ${i} is outside the vocabulary (size ${vocab})`);
    }
    const row = out.data.subarray(i * d, (i + 1) * d);
    if (isHalf(table)) table.decodeRange(id * d, (id + 1) * d, row as Float32Array); // a 16-bit table: decode the row only
    else row.set(table.data.subarray(id * d, (id + 1) * d));
  }
  return out;
}
