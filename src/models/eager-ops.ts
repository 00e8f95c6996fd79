/**
 * The eager implementation of Ops (ops.ts) on plain tensors: the inference runtime. Every op is the
 * fused kernel the runtime has always used (layers.ts, self-attention.ts, src/tensor), no graph is
 * recorded, and values the caller marks as fresh temporaries are updated in place.
 */
import { embedding } from '../tensor/embedding.ts';
import { addInPlace, scaleInPlace } from '../tensor/elementwise.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { gatedMlp, gatherColumns, norm, plainMlp, project, sum2, sum3 } from './layers.ts';
import { checkPositions, type Ops } from './ops.ts';
import { attendFused, attendWithCache, suffixRows } from './self-attention.ts';

export const eagerOps: Ops<Tensor> = {
  kind: 'eager',
  shape: (x) => x.shape,
  reshape: (x, shape) => x.reshape(...shape),
  project,
  norm,
  columns: gatherColumns,
  plainMlp,
  gatedMlp,
  add: (a, b, c) => (c ? sum3(a, b, c) : sum2(a, b)),
  addTo: (fresh, b) => addInPlace(fresh, b),
  scaleTo: (fresh, s) => scaleInPlace(fresh, s),
  embed: (table, ids, ctx) => embedding(table, ids, [ctx.batch, ctx.length]),
  embedPositions(table, positions, ctx, offset = 0) {
    checkPositions(table.shape[0], positions, offset);
    return embedding(table, offset === 0 ? positions : positions.map((p) => p + offset), [ctx.batch, ctx.length]);
  },
  attention: attendWithCache,
  attentionQkv: attendFused,
  queryRows: (x, ctx) => (ctx.queryFrom ? suffixRows(x, ctx.queryFrom) : x),
};
