import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { parquetWriteFile } from 'hyparquet-writer';
import { collectTexts, loadTexts } from '../../src/data/text-source.ts';
import { datasetsDir, skipUnless } from '../helpers/paths.ts';

const dir = mkdtempSync(join(tmpdir(), 'linscope-text-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function write(rel: string, content: string): string {
  const path = join(dir, rel);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  return path;
}

test('text file: paragraphs split on blank (or whitespace-only) lines, inner newlines kept', async () => {
  const path = write('a.txt', '\uFEFFfirst line\nsecond line\n\n\n  \t\nthird para\r\n\r\nlast');
  assert.deepEqual(await collectTexts(path), ['first line\nsecond line', 'third para', 'last']);
  assert.deepEqual(await collectTexts(path, { documents: 'lines' }), ['first line', 'second line', 'third para', 'last']);
  assert.deepEqual(await collectTexts(path, { documents: 'whole' }), ['first line\nsecond line\n\n\n  \t\nthird para\r\n\r\nlast']);
  assert.deepEqual(await collectTexts({ path, limit: 2 }), ['first line\nsecond line', 'third para']);
});

test('JSONL: field option, string records, clear errors', async () => {
  const path = write('b.jsonl', '{"text": "one", "n": 1}\n\n"two"\n{"text": "three"}\n');
  assert.deepEqual(await collectTexts(path), ['one', 'two', 'three']);
  const other = write('c.jsonl', '{"content": "x"}\n{"content": "y"}\n');
  assert.deepEqual(await collectTexts(other, { field: 'content' }), ['x', 'y']);
  await assert.rejects(collectTexts(other), /c\.jsonl:1: no field "text" \(fields: "content"\)/);
  const bad = write('d.jsonl', '{"text": "ok"}\n{oops\n');
  await assert.rejects(collectTexts(bad), /d\.jsonl:2: invalid JSON/);
});

test('JSON array of strings or objects', async () => {
  assert.deepEqual(await collectTexts(write('e.json', '["a", "", "b"]')), ['a', 'b']);
  assert.deepEqual(await collectTexts(write('f.json', '[{"body": "p"}, {"body": "q"}]'), { field: 'body' }), ['p', 'q']);
  await assert.rejects(collectTexts(write('g.json', '{"text": "x"}')), /expected a JSON array/);
});

test('folder: every .txt/.md/.jsonl at any depth, sorted by path; other files ignored', async () => {
  write('corpus/b.md', 'md doc');
  write('corpus/a.txt', 'a1\n\na2');
  write('corpus/sub/c.jsonl', '{"text": "c1"}\n');
  write('corpus/notes.csv', 'x,y');
  write('corpus/.hidden.txt', 'secret');
  assert.deepEqual(await collectTexts(join(dir, 'corpus')), ['a1', 'a2', 'md doc', 'c1']);
  mkdirSync(join(dir, 'empty'));
  await assert.rejects(collectTexts(join(dir, 'empty')), /no \.txt, \.md, \.jsonl or \.parquet files/);
  await assert.rejects(collectTexts(join(dir, 'missing')), /text source not found/);
});

test('parquet: text column read row group by row group, nulls skipped, column option', async () => {
  const n = 2500;
  const texts = Array.from({ length: n }, (_, i) => (i % 500 === 7 ? null : `document ${i} — ünïcödé`));
  const path = join(dir, 'data.parquet');
  parquetWriteFile({
    filename: path,
    columnData: [
      { name: 'id', data: Int32Array.from({ length: n }, (_, i) => i), type: 'INT32' },
      { name: 'text', data: texts, type: 'STRING' },
      { name: 'summary', data: texts.map((t) => (t ? t.slice(0, 10) : 'none')), type: 'STRING' },
    ],
    rowGroupSize: 1000,
  });
  assert.equal((await parquetMetadataAsync(await asyncBufferFromFile(path))).row_groups.length, 3);
  const docs = await collectTexts(path);
  assert.deepEqual(docs, texts.filter((t) => t !== null));
  assert.equal(docs.length, n - 5);
  assert.equal((await collectTexts(path, { column: 'summary' }))[0], 'document 0');
  assert.deepEqual(await collectTexts(path, { limit: 3 }), ['document 0 — ünïcödé', 'document 1 — ünïcödé', 'document 2 — ünïcödé']);
  await assert.rejects(collectTexts(path, { column: 'body' }), /no column "body"; columns are "id", "text", "summary"/);
  await assert.rejects(collectTexts(path, { column: 'id' }), /row 0 of column "id" is a number, not text/);

  // Early exit from the generator must not leave anything hanging.
  for await (const doc of loadTexts(path)) {
    assert.equal(doc, texts[0]);
    break;
  }
});

test('parquet with a codec hyparquet lacks: clear error, works with compressors', async () => {
  const path = join(dir, 'gzip.parquet');
  parquetWriteFile({
    filename: path,
    columnData: [{ name: 'text', data: ['alpha', 'beta'], type: 'STRING' }],
    codec: 'GZIP',
    compressors: { GZIP: (input: Uint8Array) => new Uint8Array(gzipSync(input)) },
  });
  await assert.rejects(collectTexts(path), /column "text" is GZIP-compressed.*hyparquet-compressors/);
  const compressors = { GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)) };
  assert.deepEqual(await collectTexts(path, { compressors }), ['alpha', 'beta']);
});

test('parquet folder in Hugging Face layout, filtered by split', async () => {
  const root = join(dir, 'hf-dataset');
  mkdirSync(join(root, 'data'), { recursive: true });
  const shard = (name: string, rows: string[]) =>
    parquetWriteFile({ filename: join(root, 'data', name), columnData: [{ name: 'text', data: rows, type: 'STRING' }] });
  shard('train-00000-of-00002.parquet', ['t0', 't1']);
  shard('train-00001-of-00002.parquet', ['t2']);
  shard('validation-00000-of-00001.parquet', ['v0']);
  write('hf-dataset/README.md', '# card');
  assert.deepEqual(await collectTexts(root), ['t0', 't1', 't2', 'v0']);
  assert.deepEqual(await collectTexts(root, { split: 'train' }), ['t0', 't1', 't2']);
  assert.deepEqual(await collectTexts(root, { split: 'validation' }), ['v0']);
  await assert.rejects(collectTexts(root, { split: 'test' }), /no parquet files of split "test"/);
});

const tinyStories = join(datasetsDir, 'tinystories-valid-subset', 'tinystories_val.txt');
test('real corpora: TinyStories paragraphs, WikiText whole file', { skip: skipUnless(tinyStories) }, async () => {
  const paragraphs = await collectTexts(tinyStories);
  assert.equal(paragraphs.length, 4302);
  assert.ok(paragraphs[0].startsWith('Spot. Spot saw the shiny car'));
  const wiki = await collectTexts(join(datasetsDir, 'wikitext-2', 'test.txt'), { documents: 'whole' });
  assert.equal(wiki.length, 1);
  assert.equal(wiki[0].length, 1255018);
});
