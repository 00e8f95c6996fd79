/** The pieces of the linearity run: probe data readers, batch rows, collectors, token context, tables. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeBatches } from '../../src/data/calibration.ts';
import { batchRows } from '../../src/linearity/batch-rows.ts';
import { FirstRows, WorstTokenKeeper } from '../../src/linearity/collectors.ts';
import { holdsTokenIds, loadProbeSource, probeSequences, randomTokenIds, readTokenIds } from '../../src/linearity/data.ts';
import { checkOptions, DEFAULT_ANALYSIS, DEFAULT_SAMPLING } from '../../src/linearity/options.ts';
import { defaultLabel, uniqueLabels } from '../../src/linearity/run.ts';
import { tokenInContext } from '../../src/linearity/token-context.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { charTokenizer } from '../data/stub-tokenizer.ts';
import { tempDir } from './helpers.ts';

test('token ids: JSON arrays, JSONL arrays and {ids}/{input_ids} records; detection; clear errors', async () => {
  const dir = tempDir();
  const json = join(dir, 'ids.json');
  writeFileSync(json, JSON.stringify([[1, 2, 3], [4, 5]]));
  const jsonl = join(dir, 'ids.jsonl');
  writeFileSync(jsonl, '{"ids": [7, 8]}\n\n{"input_ids": [9]}\n[10, 11, 12]\n');
  const texts = join(dir, 'texts.jsonl');
  writeFileSync(texts, '{"text": "hello"}\n');
  const textArray = join(dir, 'texts.json');
  writeFileSync(textArray, '["hello", "world"]');
  assert.deepEqual(readTokenIds(json), [[1, 2, 3], [4, 5]]);
  assert.deepEqual(readTokenIds(jsonl), [[7, 8], [9], [10, 11, 12]]);
  assert.equal(await holdsTokenIds(json), true);
  assert.equal(await holdsTokenIds(jsonl), true);
  assert.equal(await holdsTokenIds(texts), false);
  assert.equal(await holdsTokenIds(textArray), false);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '[[1, 2.5]]');
  assert.throws(() => readTokenIds(bad), /2\.5 is not a non-negative integer/);
  writeFileSync(bad, '[{"text": "x"}]');
  assert.throws(() => readTokenIds(bad), /expected an array of token ids/);
});

test('random token ids are seeded, in range, and truncated to the context', async () => {
  const a = randomTokenIds(3, 10, 50, 0);
  assert.deepEqual(a, randomTokenIds(3, 10, 50, 0));
  assert.notDeepEqual(a, randomTokenIds(3, 10, 50, 1));
  assert.ok(a.flat().every((id) => Number.isInteger(id) && id >= 0 && id < 50));
  const spec = { kind: 'random' as const, length: 40 };
  const sampling = { ...DEFAULT_SAMPLING, samples: 4 };
  const probe = probeSequences(await loadProbeSource(spec, sampling), spec, sampling, { vocabSize: 30, maxTokens: 16 });
  assert.equal(probe.sequences.length, 4);
  assert.ok(probe.sequences.every((s) => s.length === 16));
});

test('text slices are tokenized with BOS (unless --no-bos) and truncated; ids outside the vocabulary are refused', async () => {
  const dir = tempDir();
  const corpus = join(dir, 'corpus.txt');
  writeFileSync(corpus, 'Once upon a time there was a tiny model.\n\nIt was secretly linear, and everyone was surprised by that.\n');
  const spec = { kind: 'text' as const, path: corpus };
  const sampling = { ...DEFAULT_SAMPLING, samples: 5, chars: 20 };
  const source = await loadProbeSource(spec, sampling);
  assert.equal(source.texts!.length, 5);
  assert.match(source.info.description, /5 random slices of 20 characters \(seed 0\) of corpus\.txt/);
  const withBos = probeSequences(source, spec, sampling, { vocabSize: 200, tokenizer: charTokenizer, maxTokens: 12 });
  assert.ok(withBos.sequences.every((s) => s[0] === 1 && s.length === 12));
  const noBos = probeSequences(source, spec, { ...sampling, bos: false }, { vocabSize: 200, tokenizer: charTokenizer, maxTokens: 100 });
  assert.ok(noBos.sequences.every((s, i) => s.length === 20 && s[0] === source.texts![i].charCodeAt(0) + 10));
  assert.throws(() => probeSequences(source, spec, sampling, { vocabSize: 200, maxTokens: 12 }), /no tokenizer.*--random-tokens/s);
  const ids = join(dir, 'ids.json');
  writeFileSync(ids, '[[1, 2, 300]]');
  const idSpec = { kind: 'ids' as const, path: ids };
  assert.throws(() => probeSequences(readIds(idSpec.path), idSpec, sampling, { vocabSize: 200, maxTokens: 10 }), /token id 300 is outside/);
  await assert.rejects(loadProbeSource({ kind: 'text', path: join(dir, 'missing.txt') }, sampling), /does not exist/);
});

function readIds(path: string) {
  return { ids: readTokenIds(path), info: { kind: 'ids' as const, description: '', identity: null } };
}

test('batch rows: real tokens only, in sequence order, for right and left padding', () => {
  const sequences = [[5, 6, 7], [8], [9, 10]];
  for (const padding of ['right', 'left'] as const) {
    const [batch] = makeBatches(sequences, { batchSize: 3, padding });
    const where = batchRows(batch);
    assert.equal(where.pads, 3);
    const flat = batch.ids.flat();
    assert.deepEqual(Array.from(where.rows, (r) => flat[r]), [5, 6, 7, 8, 9, 10]);
    assert.deepEqual(Array.from(where.sequence), [0, 0, 0, 1, 2, 2]);
    assert.deepEqual(Array.from(where.position), [0, 1, 2, 0, 0, 1]);
  }
});

test('collectors: the first N rows; the K largest residuals with their place', () => {
  const first = new FirstRows(3, 2);
  first.add(new Tensor(Float32Array.from([1, 1, 2, 2, 9, 9]), [3, 2]), [0, 2]);
  first.add(new Tensor(Float32Array.from([3, 3, 4, 4]), [2, 2]), [0, 1]);
  assert.ok(first.full);
  assert.deepEqual(Array.from(first.rows()), [1, 1, 9, 9, 3, 3]);
  const keeper = new WorstTokenKeeper(2);
  const where = (seq: number[]) => ({ rows: new Int32Array(seq.length), sequence: Int32Array.from(seq), position: Int32Array.from(seq.map((_, i) => i)), pads: 0 });
  keeper.offer(Float64Array.from([0.1, 0.5, 0.2]), Float64Array.from([1, 1, 0.4]), where([0, 0, 0]));
  keeper.offer(Float64Array.from([0.3, 0.05]), Float64Array.from([0.6, 1]), where([1, 1]));
  assert.deepEqual(keeper.result(), [
    { sequence: 0, position: 1, residual: 0.5, relative: 0.5 },
    { sequence: 1, position: 0, residual: 0.3, relative: 0.5 },
  ]);
});

test('token context keeps the leading space of the token and marks it; ids without a tokenizer', () => {
  const ids = charTokenizer.encode('the cat sat on the mat', { addSpecialTokens: false });
  const shown = tokenInContext(ids, 4, (x) => charTokenizer.decode(x), 3, 2);
  assert.equal(shown.text, 'c');
  assert.equal(shown.context, '…he ⟦c⟧at…');
  assert.deepEqual(tokenInContext([5, 6, 7, 8], 1, undefined, 1, 1), { text: '6', context: '5 ⟦6⟧ 7 …' });
  const nl = tokenInContext(charTokenizer.encode('a\nb', { addSpecialTokens: false }), 1, (x) => charTokenizer.decode(x));
  assert.equal(nl.text, '\\n');
});

test('options: paper defaults, clear errors for impossible settings; labels', () => {
  assert.deepEqual(DEFAULT_SAMPLING, { samples: 128, chars: 512, seed: 0, bos: true });
  assert.throws(() => checkOptions({ ...DEFAULT_SAMPLING, samples: 0 }, DEFAULT_ANALYSIS), /--samples must be a positive integer/);
  assert.throws(() => checkOptions({ ...DEFAULT_SAMPLING, maxTokens: 1 }, DEFAULT_ANALYSIS), /--max-tokens must be at least 2/);
  assert.throws(() => checkOptions(DEFAULT_SAMPLING, { ...DEFAULT_ANALYSIS, batchSize: 0 }), /--batch-size/);
  assert.throws(() => checkOptions(DEFAULT_SAMPLING, { ...DEFAULT_ANALYSIS, ridge: -1 }), /--ridge/);
  assert.equal(defaultLabel('/models/gpt2/'), 'gpt2');
  assert.equal(defaultLabel('EleutherAI/pythia-70m'), 'pythia-70m');
  assert.deepEqual(uniqueLabels(['a', 'b', 'a', 'a']), ['a', 'b', 'a (2)', 'a (3)']);
});
