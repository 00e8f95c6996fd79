/**
 * HF_HUB_OFFLINE=1 (and --offline) keep every command that takes a model off the network: the
 * fake hub (test/io/fake-hub.ts) records every request, and none may arrive. Before the fix, `info`,
 * `generate` and `download` had a boolean --offline that defaulted to false and hid the variable.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { captureConsole } from '../helpers/console.ts';
import { fixturesDir, skipUnless } from '../helpers/paths.ts';
import { startFakeHub, type FakeHub } from '../io/fake-hub.ts';

const ID = 'org/tiny-llama';
const HUB_ENV = ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE', 'HF_ENDPOINT', 'HF_HUB_CACHE'];
const savedEnv = Object.fromEntries(HUB_ENV.map((k) => [k, process.env[k]]));
const fixture = join(fixturesDir, 'llama');
let work: string;
let hub: FakeHub;

before(async () => {
  if (skipUnless(fixture)) return;
  for (const k of HUB_ENV) delete process.env[k];
  work = mkdtempSync(join(tmpdir(), 'linscope-offline-'));
  hub = await startFakeHub([{
    id: ID, sha: 'c'.repeat(40), lfs: ['model.safetensors'],
    files: { 'config.json': readFileSync(join(fixture, 'config.json')), 'model.safetensors': readFileSync(join(fixture, 'model.safetensors')) },
  }]);
  process.env.HF_ENDPOINT = hub.url;
});

after(async () => {
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await hub?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Every command that may touch the hub, with the arguments it needs to get as far as opening the model. */
const commandLines = (out: string): string[][] => [
  ['info', '-m', ID],
  ['generate', '-m', ID, '--prompt', 'hi', '--max-new-tokens', '1'],
  ['download', ID, '--quiet'],
  ['linearity', '-m', ID, '--random-tokens', '4', '--samples', '2', '-o', join(out, 'lin'), '--no-cache', '-q'],
  ['laser', 'eval', '-m', ID, '--perplexity', fixture],
  ['laser', 'apply', '-m', ID, '-i', 'out:0:0.5', '-o', join(out, 'laser')],
  ['laser', 'search', '-m', ID, '--data', fixture, '-o', join(out, 'search')],
  ['laser', 'higher-order', '-m', ID, '-i', 'out:0:0.5', '--data', fixture],
  ['prune', '-m', ID, '-d', fixture, '-o', join(out, 'prune')],
  ['finetune', '-m', ID, '-o', join(out, 'ft'), '--quiet'],
  ['check-reference', '-m', ID, '--reference', join(fixture, 'reference.safetensors')],
];

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  const { result, out } = await captureConsole(() => main(argv), { stderr: true });
  return { code: result, out };
}

test('HF_HUB_OFFLINE=1: no command contacts the hub; each says the model is not in the cache', { skip: skipUnless(fixture) }, async () => {
  process.env.HF_HUB_CACHE = mkdtempSync(join(work, 'empty-cache-'));
  process.env.HF_HUB_OFFLINE = '1';
  try {
    for (const argv of commandLines(work)) {
      const mark = hub.requests.length;
      const { code, out } = await run(argv);
      assert.equal(hub.requests.length, mark, `${argv.join(' ')}: contacted the hub: ${hub.requests.slice(mark).map((r) => r.path).join(', ')}`);
      assert.notEqual(code, 0, argv.join(' '));
      assert.match(out, /org\/tiny-llama@main is not in the hub cache .* offline mode is on/, argv.join(' '));
    }
  } finally {
    delete process.env.HF_HUB_OFFLINE;
  }
});

test('--offline does the same without the variable; --no-offline overrides HF_HUB_OFFLINE=1', { skip: skipUnless(fixture) }, async () => {
  process.env.HF_HUB_CACHE = mkdtempSync(join(work, 'flag-cache-'));
  for (const argv of commandLines(work)) {
    const mark = hub.requests.length;
    const { code, out } = await run([...argv, '--offline']);
    assert.equal(hub.requests.length, mark, `${argv.join(' ')} --offline: contacted the hub`);
    assert.notEqual(code, 0);
    assert.match(out, /not in the hub cache .* offline mode is on/, argv.join(' '));
  }
  process.env.HF_HUB_OFFLINE = '1';
  try {
    const mark = hub.requests.length;
    const { code, out } = await run(['download', ID, '--quiet', '--no-offline']);
    assert.equal(code, 0, out);
    assert.ok(hub.requests.length > mark, 'an explicit --no-offline goes online');
  } finally {
    delete process.env.HF_HUB_OFFLINE;
  }
});

test('HF_HUB_OFFLINE=1 with the model cached: info and download run from the cache, still without a request', { skip: skipUnless(fixture) }, async () => {
  process.env.HF_HUB_CACHE = mkdtempSync(join(work, 'full-cache-'));
  assert.equal((await run(['download', ID, '--quiet'])).code, 0);
  process.env.HF_HUB_OFFLINE = '1';
  try {
    const mark = hub.requests.length;
    const info = await run(['info', '-m', ID, '--json']);
    assert.equal(info.code, 0, info.out);
    assert.match(info.out, /"modelType": "llama"/);
    const dl = await run(['download', ID, '--quiet']);
    assert.equal(dl.code, 0, dl.out);
    assert.equal(hub.requests.length, mark, 'no request while offline');
  } finally {
    delete process.env.HF_HUB_OFFLINE;
  }
});
