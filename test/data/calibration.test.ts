import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCalibrationBatches, makeBatches, tokenizeTexts } from '../../src/data/calibration.ts';
import { BOS, charTokenizer } from './stub-tokenizer.ts';

const code = (s: string) => Array.from(s, (c) => c.charCodeAt(0) + 10);

test('tokenizeTexts: no special tokens from the tokenizer, optional BOS, truncation keeps the start', () => {
  const t = tokenizeTexts(['abc', '', 'hello'], charTokenizer);
  assert.deepEqual(t, { ids: [code('abc'), code('hello')], lengths: [3, 5], sources: [0, 2] });

  const bos = tokenizeTexts(['abc', 'hello'], charTokenizer, { prependBos: true, maxLength: 4 });
  assert.deepEqual(bos.ids, [[BOS, ...code('abc')], [BOS, ...code('hel')]]);
  assert.deepEqual(bos.lengths, [4, 4]);

  assert.throws(() => tokenizeTexts(['x'], { ...charTokenizer, bosId: undefined }, { prependBos: true }), /no bosId/);
  assert.throws(() => tokenizeTexts(['x'], charTokenizer, { maxLength: 0 }), /maxLength must be a positive integer/);
});

test('makeBatches: right padding, masks and positions', () => {
  const seqs = [[5, 6, 7], [8], [9, 10], [11, 12, 13, 14]];
  const [b0, b1] = makeBatches(seqs, { batchSize: 2, padId: 0 });
  assert.deepEqual(b0.ids, [[5, 6, 7], [8, 0, 0]]);
  assert.deepEqual(b0.attentionMask, [[1, 1, 1], [1, 0, 0]]);
  assert.deepEqual(b0.positionIds, [[0, 1, 2], [0, 1, 1]]);
  assert.deepEqual(b0.lengths, [3, 1]);
  assert.deepEqual(b0.indices, [0, 1]);
  assert.deepEqual(b1.ids, [[9, 10, 0, 0], [11, 12, 13, 14]]);
  assert.equal(b1.padding, 'right');
});

test('makeBatches: left padding matches the HF convention (positions cumsum(mask) − 1, pads 1)', () => {
  const [b] = makeBatches([[1, 2, 3, 4, 5], [7, 8]], { batchSize: 8, padding: 'left', padId: 99 });
  assert.deepEqual(b.ids, [[1, 2, 3, 4, 5], [99, 99, 99, 7, 8]]);
  assert.deepEqual(b.attentionMask, [[1, 1, 1, 1, 1], [0, 0, 0, 1, 1]]);
  assert.deepEqual(b.positionIds, [[0, 1, 2, 3, 4], [1, 1, 1, 0, 1]]);
});

test('makeBatches: at most B rows per batch, every sequence exactly once; sortByLength groups similar lengths', () => {
  const seqs = Array.from({ length: 11 }, (_, i) => Array.from({ length: 1 + ((i * 7) % 5) }, () => i));
  const batches = makeBatches(seqs, { batchSize: 3, sortByLength: true });
  assert.deepEqual(batches.map((b) => b.ids.length), [3, 3, 3, 2]);
  assert.deepEqual(batches.flatMap((b) => b.indices).sort((a, b) => a - b), seqs.map((_, i) => i));
  for (const b of batches) {
    b.indices.forEach((i, r) => assert.deepEqual(b.ids[r].slice(0, b.lengths[r]), seqs[i]));
    assert.ok(b.lengths.every((l, r) => r === 0 || l <= b.lengths[r - 1]), 'longest first');
  }
  assert.throws(() => makeBatches(seqs, { batchSize: 0 }), /batchSize must be a positive integer/);
});

test('buildCalibrationBatches: texts → ids → batches in one call', () => {
  const set = buildCalibrationBatches(['hi', 'there', 'x'], charTokenizer, { prependBos: true, maxLength: 4, batchSize: 2, padding: 'left' });
  assert.deepEqual(set.lengths, [3, 4, 2]);
  assert.equal(set.batches.length, 2);
  assert.deepEqual(set.batches[0].ids, [[0, BOS, ...code('hi')], [BOS, ...code('the')]]);
  assert.deepEqual(set.batches[1].attentionMask, [[1, 1]]);
});
