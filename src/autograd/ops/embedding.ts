/**
 * Embedding lookup (gather of table rows by id); backward scatter-adds the output rows into the
 * table's gradient, in row order (float32: the C twin, native/kernels.c lk_embedding_bwd_f32, same sums).
 */
import { embedding as embeddingForward } from '../../tensor/embedding.ts';
import { allFloat32, kernelThreads, nativeKernels } from '../../tensor/native-kernels.ts';
import { shapeText } from '../check.ts';
import { gradBuffer, record } from '../graph.ts';
import type { Var } from '../var.ts';

/** Rows of `table` [vocab, d] for each id; the result is [...shape, d] (shape defaults to [ids.length]). */
export function embedding(table: Var, ids: ArrayLike<number>, shape?: readonly number[]): Var {
  if (table.value.ndim !== 2) throw new Error(`embedding: table must be [vocab, d], got ${shapeText(table)}`);
  const d = table.value.shape[1];
  const value = embeddingForward(table.value, ids, shape);
  const saved = Int32Array.from(ids); // validated by the forward; the caller may reuse its array
  return record('embedding', value, [table], (g) => {
    const gt = gradBuffer(table).data, gd = g.data;
    const native = nativeKernels();
    if (native && allFloat32(gt, gd)) {
      native.embeddingBackward(gt as Float32Array, gd as Float32Array, saved, saved.length, d, kernelThreads());
      return;
    }
    for (let i = 0; i < saved.length; i++) {
      const dst = saved[i] * d, src = i * d;
      for (let j = 0; j < d; j++) gt[dst + j] += gd[src + j];
    }
  });
}
