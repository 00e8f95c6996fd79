/**
 * Layer-major runs merge consecutive batches of one padded width (src/models/layer-major.ts
 * mergeEqualWidth): which batches merge, where each sits in the merged one, and that every batch
 * still gets its own rows, in order, equal to its own forward.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openModelSource } from '../../src/io/model-source.ts';
import { createModel } from '../../src/models/decoder.ts';
import { forwardLayerMajor, mergedTokenLimit, mergeEqualWidth } from '../../src/models/layer-major.ts';
import { fixturesDir, skipUnless } from '../helpers/paths.ts';
import { assertClose } from './consistency.ts';

const batch = (rows: number, width: number, mask = false) => ({
  ids: Array.from({ length: rows }, (_, r) => Array.from({ length: width }, (_, t) => 1 + ((r + t) % 7))),
  ...(mask ? { attentionMask: Array.from({ length: rows }, () => new Array<number>(width).fill(1)) } : {}),
});

test('mergeEqualWidth: consecutive batches of one width and the same inputs, up to the token limit, none split', () => {
  const batches = [batch(2, 4), batch(3, 4), batch(1, 5), batch(2, 5), batch(2, 5, true), batch(4, 5, true), batch(9, 5, true)];
  const groups = mergeEqualWidth(batches, 30);
  assert.deepEqual(groups.map((g) => g.members), [
    [{ index: 0, offset: 0, rows: 2 }, { index: 1, offset: 2, rows: 3 }],
    [{ index: 2, offset: 0, rows: 1 }, { index: 3, offset: 1, rows: 2 }],
    [{ index: 4, offset: 0, rows: 2 }, { index: 5, offset: 2, rows: 4 }],
    [{ index: 6, offset: 0, rows: 9 }], // 45 tokens > 30: alone, not split
  ]);
  assert.deepEqual(groups[0].batch.ids, [...batches[0].ids, ...batches[1].ids]);
  assert.deepEqual(groups[2].batch.attentionMask, [...batches[4].attentionMask!, ...batches[5].attentionMask!]);
  assert.equal(groups[3].batch, batches[6], 'a batch alone is passed as it is');
  assert.equal(mergeEqualWidth(batches, 0).length, batches.length, 'limit 0: nothing merges');
  const ragged = { ids: [[1, 2, 3], [1, 2]] };
  assert.equal(mergeEqualWidth([ragged, ragged], 100).length, 2, 'ragged batches never merge');
});

test('mergedTokenLimit: 2048 tokens, fewer when a block temporary would pass 32 MiB', () => {
  assert.equal(mergedTokenLimit({ config: { numLayers: 1, hiddenSize: 768, intermediateSize: 3072 } } as never), 2048);
  assert.equal(mergedTokenLimit({ config: { numLayers: 1, hiddenSize: 8192, intermediateSize: 28672 } } as never), 292);
});

const dir = join(fixturesDir, 'llama');
test('forwardLayerMajor with merged batches: each batch its own rows, in order, equal to its forward', { skip: skipUnless(dir) }, async () => {
  const model = createModel(await openModelSource(dir));
  const batches = [batch(2, 6), batch(3, 6), batch(1, 4), batch(2, 4)];
  const seen: number[] = [];
  forwardLayerMajor(model, batches, (i, hidden) => {
    seen.push(i);
    assert.deepEqual(hidden.shape.slice(0, 2), [batches[i].ids.length, batches[i].ids[0].length]);
    assertClose(model.lmHead(model.finalNorm(hidden)), model.forward(batches[i].ids).logits, 1e-5, `batch ${i}`);
  });
  assert.deepEqual(seen, [0, 1, 2, 3]);
});
