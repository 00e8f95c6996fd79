/**
 * Fuzz: the readers of `--data` files — JSON arrays (a slice of known_1000.json), JSONL (a slice of
 * a PARAREL T-REx file), plain text (a slice of tinyshakespeare) and parquet (written here with
 * hyparquet-writer) — under thousands of seeded mutations. A correct load yields strings only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { collectTexts, type LoadTextsOptions } from '../../src/data/text-source.ts';
import { datasetsDir } from '../helpers/paths.ts';
import { fuzz, fuzzDir } from './harness.ts';
import { bitFlips, byteRun, extension, jsonFileMutator, splice, truncation, type Mutator } from './mutate.ts';

const dir = fuzzDir('linscope-fuzz-data-');
test.after(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (s: string) => new TextEncoder().encode(s);
const onlyStrings = (docs: string[]) => (docs.every((d) => typeof d === 'string') ? undefined : 'a document is not a string');

async function run(name: string, bases: Uint8Array[], mutate: Mutator, options: LoadTextsOptions, iterations: number, seed: number) {
  const report = await fuzz({
    path: join(dir, name),
    bases,
    mutate,
    load: (path) => collectTexts(path, options),
    check: onlyStrings,
    iterations,
    seed,
  });
  assert.deepEqual(report.failures.slice(0, 5), [], `${report.failures.length} failures`);
  assert.ok(report.accepted > 20 && report.refused > 20, JSON.stringify({ accepted: report.accepted, refused: report.refused }));
}

const known = join(datasetsDir, 'known_1000', 'known_1000.json');
test('fuzz: JSON array data (2000 mutations)', { skip: existsSync(known) ? false : `no ${known}` }, async () => {
  const records = JSON.parse(readFileSync(known, 'utf8')).slice(0, 12);
  await run('data.json', [bytes(JSON.stringify(records, null, 1)), bytes(JSON.stringify(records.map((r: { prompt: string }) => r.prompt)))],
    jsonFileMutator(), { field: 'prompt' }, 2000, 41);
});

const trex = join(datasetsDir, 'pararel-trex', 'trex_lms_vocab', 'P1001.jsonl');
test('fuzz: JSONL data (2000 mutations)', { skip: existsSync(trex) ? false : `no ${trex}` }, async () => {
  const lines = readFileSync(trex, 'utf8').split('\n').slice(0, 20).join('\n') + '\n';
  const mutate: Mutator = (src, rng) => {
    const r = rng.int(6);
    if (r < 2) {
      // mutate one line's JSON
      const text = new TextDecoder().decode(src).split('\n');
      const i = rng.int(text.length);
      text[i] = new TextDecoder().decode(jsonFileMutator()(bytes(text[i]), rng)).replace(/\n/g, ' ');
      return bytes(text.join('\n'));
    }
    if (r === 2) return truncation(src, rng);
    if (r === 3) return splice(src, rng);
    if (r === 4) return byteRun(src, rng);
    return bitFlips(src, rng);
  };
  await run('data.jsonl', [bytes(lines)], mutate, { field: 'sub_label' }, 2000, 42);
});

const shakespeare = join(datasetsDir, 'tinyshakespeare', 'input.txt');
test('fuzz: plain text data (1500 mutations)', { skip: existsSync(shakespeare) ? false : `no ${shakespeare}` }, async () => {
  const text = readFileSync(shakespeare).subarray(0, 3000);
  const mutate: Mutator = (src, rng) => [truncation, splice, extension, bitFlips, byteRun][rng.int(5)](src, rng);
  await run('data.txt', [text], mutate, {}, 1500, 43);
});

test('fuzz: parquet data (1500 mutations)', async () => {
  const path = join(dir, 'base.parquet');
  parquetWriteFile({
    filename: path,
    columnData: [
      { name: 'id', data: [1, 2, 3, 4, 5, 6], type: 'INT32' },
      { name: 'text', data: ['alpha beta', 'gamma', null, 'delta epsilon zeta', 'eta', 'theta'], type: 'STRING' },
    ],
    rowGroupSize: 2,
  });
  const base = readFileSync(path);
  const mutate: Mutator = (src, rng) => {
    const r = rng.int(6);
    // the footer (metadata) sits at the end: aim half the damage there
    if (r < 3) return rng.uniform() < 0.5 ? bitFlips(src, rng, [Math.max(0, src.length - 200), src.length]) : byteRun(src, rng, [Math.max(0, src.length - 200), src.length - 8]);
    if (r === 3) return truncation(src, rng);
    if (r === 4) return splice(src, rng);
    return bitFlips(src, rng);
  };
  await run('data.parquet', [base], mutate, {}, 1500, 44);
});
