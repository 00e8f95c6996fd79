/**
 * Item 12 of issue #13: binary garbage given as `--data` was analysed silently (decoded as U+FFFD
 * soup). The text readers now look at the start of every text/JSON/JSONL file and refuse one that
 * is not UTF-8 text, naming the file and why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/io/input-error.ts';
import { collectTexts } from '../../src/data/text-source.ts';
import { Rng } from '../../src/tensor/random.ts';
import { skipUnless, stories260KDir } from '../helpers/paths.ts';

const dir = mkdtempSync(join(tmpdir(), 'linscope-binary-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const refused = (path: string, pattern: RegExp) => async () =>
  assert.rejects(collectTexts(path), (err: unknown) => {
    assert.ok(err instanceof InputError, String(err));
    assert.ok(err.message.startsWith(path), err.message);
    assert.match(err.message, pattern);
    return true;
  });

const prose = 'Once upon a time there was a little girl.\n\nShe liked to play in the park.\n'.repeat(50);

test('a model checkpoint given as text is refused', { skip: skipUnless(stories260KDir) }, async () => {
  const p = join(dir, 'weights.txt');
  copyFileSync(join(stories260KDir, 'stories260K.bin'), p);
  await refused(p, /not text.*NUL bytes/)();
});

test('a gzip file is refused', async () => {
  const p = join(dir, 'corpus.txt.gz');
  writeFileSync(p, gzipSync(Buffer.from(prose)));
  await refused(p, /not text/)();
});

test('random bytes without NULs are refused as not UTF-8', async () => {
  const rng = new Rng(4);
  const bytes = Buffer.from(Array.from({ length: 4096 }, () => 1 + rng.int(255)));
  const p = join(dir, 'noise.txt');
  writeFileSync(p, bytes);
  await refused(p, /not UTF-8 text/)();
});

test('UTF-16 text is refused with the encoding named', async () => {
  const p = join(dir, 'utf16.txt');
  writeFileSync(p, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(prose, 'utf16le')]));
  await refused(p, /UTF-16/)();
});

test('binary JSONL and JSON files are refused the same way', async () => {
  const j = join(dir, 'data.jsonl');
  writeFileSync(j, Buffer.concat([Buffer.from('{"text": "a"}\n'), Buffer.alloc(64, 0)]));
  await refused(j, /NUL bytes/)();
  const a = join(dir, 'data.json');
  writeFileSync(a, gzipSync(Buffer.from('["a", "b"]')));
  await refused(a, /not text/)();
});

test('binary files inside a data folder are named', async () => {
  const folder = join(dir, 'folder');
  mkdirSync(folder);
  writeFileSync(join(folder, 'a.txt'), prose);
  writeFileSync(join(folder, 'b.txt'), Buffer.alloc(100, 0));
  await refused(folder, /b\.txt: not text/)();
});

test('UTF-8 text with accents, emoji and a BOM still reads', async () => {
  const p = join(dir, 'ok.txt');
  writeFileSync(p, '\ufeffCafé déjà vu 🎉\n\nZweiter Absatz — straße\n');
  assert.deepEqual(await collectTexts(p), ['Café déjà vu 🎉', 'Zweiter Absatz — straße']);
});
