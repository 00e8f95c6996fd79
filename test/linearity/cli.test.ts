/** `linscope linearity` through the CLI entry point: outputs, cache hits, token-id data, errors. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { fixturesDir, skipUnless, stories260KDir } from '../helpers/paths.ts';
import { tempDir, tinyStories } from './helpers.ts';

/**
 * Runs `main(argv)` with stdout and stderr recorded. Everything is still passed through: the test
 * runner reports on stdout too, and its lines must not be swallowed.
 */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const write = { out: process.stdout.write, err: process.stderr.write };
  const tee = (stream: NodeJS.WriteStream, original: typeof process.stdout.write, record: (s: string) => void) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      record(String(chunk));
      return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
    }) as typeof process.stdout.write;
  process.stdout.write = tee(process.stdout, write.out, (s) => (out += s));
  process.stderr.write = tee(process.stderr, write.err, (s) => (err += s));
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

test('cli: stories260K on TinyStories slices writes every output; the rerun is a cache hit', { skip: skipUnless(stories260KDir) || skipUnless(tinyStories) }, async () => {
  const out = tempDir();
  const cacheDir = tempDir();
  const argv = ['linearity', '-m', stories260KDir, '-d', tinyStories, '--samples', '8', '--chars', '160', '-b', '3', '--anisotropy', '--per-token', '2', '--no-png', '-o', out, '--cache-dir', cacheDir];
  const first = await cli(argv);
  assert.equal(first.code, 0, first.err);
  assert.match(first.out, /stories260K: llama, 5 blocks, d = 64; \d+ tokens in 8 sequences/);
  assert.match(first.out, /pair\s+depth\s+linearity\s+robust\s+w\/o residual/);
  assert.match(first.out, /wrote \d+ files to /);
  for (const f of ['linearity.json', 'linearity.csv', 'states.csv', 'worst-tokens.csv', 'profile.svg', 'anisotropy.svg', 'report.html']) assert.ok(existsSync(join(out, f)), f);
  assert.ok(!existsSync(join(out, 'profile.png')), '--no-png');
  const json = JSON.parse(readFileSync(join(out, 'linearity.json'), 'utf8'));
  assert.equal(json.models[0].cached, false);
  assert.equal(json.sampling.samples, 8);
  assert.equal(json.options.batchSize, 3);
  assert.match(json.command, /^linscope linearity -m /);
  assert.ok(json.models[0].timings.forward > 0 && json.models[0].timings.statistics > 0);
  for (const p of json.models[0].pairs) assert.ok(p.layer.withResidual.exact > 0 && p.layer.withResidual.exact < 1);

  const second = await cli(argv);
  assert.equal(second.code, 0, second.err);
  assert.match(second.err, /cached result/);
  const again = JSON.parse(readFileSync(join(out, 'linearity.json'), 'utf8'));
  assert.equal(again.models[0].cached, true);
  assert.deepEqual(again.models[0].pairs, json.models[0].pairs);
});

test('cli: a fixture with token ids from JSONL (detected), two models and labels', { skip: skipUnless(fixturesDir) }, async () => {
  const dir = tempDir();
  const ids = join(dir, 'ids.jsonl');
  writeFileSync(ids, Array.from({ length: 6 }, (_, i) => JSON.stringify({ ids: Array.from({ length: 20 + i }, (_, t) => (7 * t + 13 * i) % 1000) })).join('\n'));
  const out = join(dir, 'out');
  const r = await cli(['linearity', '-m', join(fixturesDir, 'qwen2'), '-m', join(fixturesDir, 'phi'), '--label', 'Q', '--label', 'P', '-d', ids, '--last-pair', 'skip', '-q', '--no-cache', '--no-png', '-o', out]);
  assert.equal(r.code, 0, r.err);
  const json = JSON.parse(readFileSync(join(out, 'linearity.json'), 'utf8'));
  assert.equal(json.data.kind, 'ids');
  assert.deepEqual(json.models.map((m: { model: { label: string } }) => m.model.label), ['Q', 'P']);
  assert.equal(json.models[0].tokens, 20 + 21 + 22 + 23 + 24 + 25);
  assert.equal(json.models[0].pairs.length, 3);
  assert.ok(existsSync(join(out, 'mean-linearity.svg')));
});

test('cli: clear errors', { skip: skipUnless(fixturesDir) }, async () => {
  const out = tempDir();
  const fixture = join(fixturesDir, 'gpt2');
  const noData = await cli(['linearity', '-m', fixture, '-o', out]);
  assert.equal(noData.code, 1);
  assert.match(noData.err, /no probe data: pass --data .* or --random-tokens N/);
  const typo = await cli(['linearity', '-m', fixture, '--random-token', '8', '-o', out]);
  assert.equal(typo.code, 2);
  assert.match(typo.err, /unknown option --random-token \(did you mean --random-tokens\?\)/);
  const noTokenizer = await cli(['linearity', '-m', fixture, '-d', tinyStories, '--no-cache', '-q', '-o', out]);
  assert.equal(noTokenizer.code, 1);
  assert.match(noTokenizer.err, /no tokenizer .* pass token ids .* or --random-tokens N/);
  const both = await cli(['linearity', '-m', fixture, '-d', tinyStories, '--random-tokens', '8', '-o', out]);
  assert.match(both.err, /either --data or --random-tokens/);
  const help = await cli(['linearity', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /--last-pair <preFinalNorm\|finalNorm\|skip>/);
});
