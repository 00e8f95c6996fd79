/**
 * Fuzz: `tokenizer.json` (a byte-level BPE tokenizer built here, the shape GPT-2's has) and
 * `tokenizer_config.json` under thousands of JSON value swaps, numeric changes, truncations and
 * byte damage. A correct load encodes and decodes a sample with ids inside the vocabulary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadHFTokenizer } from '../../src/io/tokenizer.ts';
import { tinyTokenizerConfig, tinyTokenizerJson } from '../io/tiny-tokenizer.ts';
import { fuzz, fuzzDir } from './harness.ts';
import { jsonFileMutator } from './mutate.ts';

const dir = fuzzDir('linscope-fuzz-tok-');
test.after(() => rmSync(dir, { recursive: true, force: true }));
const sample = 'the cat sat on the mat, 42 times. Ünïcödé 🎉';
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

function load() {
  const tok = loadHFTokenizer(dir);
  if (!tok) throw new Error('no tokenizer');
  const ids = tok.encode(sample);
  return { ids, vocab: tok.vocabSize, text: tok.decode(ids) };
}

const check = ({ ids, vocab, text }: ReturnType<typeof load>) =>
  !ids.every((id) => Number.isInteger(id) && id >= 0 && id < vocab) ? `ids outside [0, ${vocab})` : typeof text !== 'string' ? 'decode gave no string' : undefined;

test('fuzz: tokenizer.json (2000 mutations)', async () => {
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tinyTokenizerConfig()));
  const report = await fuzz({
    path: join(dir, 'tokenizer.json'),
    bases: [enc(tinyTokenizerJson())],
    mutate: jsonFileMutator(),
    load,
    check,
    iterations: 2000,
    seed: 51,
  });
  assert.deepEqual(report.failures.slice(0, 5), [], `${report.failures.length} failures`);
  assert.ok(report.accepted > 100 && report.refused > 100, JSON.stringify({ accepted: report.accepted, refused: report.refused }));
});

test('fuzz: tokenizer_config.json (800 mutations)', async () => {
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
  const report = await fuzz({
    path: join(dir, 'tokenizer_config.json'),
    files: [join(dir, 'tokenizer.json')],
    bases: [enc(tinyTokenizerConfig())],
    mutate: jsonFileMutator(),
    load,
    check,
    iterations: 800,
    seed: 52,
  });
  assert.deepEqual(report.failures.slice(0, 5), [], `${report.failures.length} failures`);
});
