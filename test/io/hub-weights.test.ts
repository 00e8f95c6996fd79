/**
 * Which weights the hub downloader fetches (transformers' order: model.safetensors, its index and
 * only the shards it names, pytorch_model.bin, its index and shards; consolidated/duplicate
 * safetensors skipped), and `org/name@revision` hub ids. Served by the loopback fake hub.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseWeights, resolveModel, splitRevision } from '../../src/io/hub.ts';
import { openModelSource } from '../../src/io/model-source.ts';
import { loadModel } from '../../src/models/decoder.ts';
import { maxAbsDiff } from '../../src/tensor/elementwise.ts';
import { repoRoot } from '../helpers/paths.ts';
import { startFakeHub, type FakeHub, type FakeRepo } from './fake-hub.ts';

const qwenDir = join(repoRoot, 'test', 'data', 'torch-bin', 'qwen2-sharded');
const SHA = 'c'.repeat(39) + '3';
let hub: FakeHub;
let work: string;
const saved = Object.fromEntries(['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE', 'HF_ENDPOINT'].map((k) => [k, process.env[k]]));

const file = (s: string) => Buffer.from(s);
const repos: FakeRepo[] = [
  {
    id: 'org/torch-only', sha: SHA, lfs: [],
    files: Object.fromEntries([
      ...readdirSync(qwenDir).map((f) => [f, readFileSync(join(qwenDir, f))] as const),
      ['pytorch_model-00003-of-00002.bin', file('stale shard, not in the index')],
      ['training_args.bin', file('not weights')],
    ]),
  },
  {
    id: 'org/duplicates', sha: SHA, lfs: [],
    files: { 'config.json': file('{}'), 'model.safetensors': file('m'), 'consolidated.safetensors': file('c'), 'pytorch_model.bin': file('p') },
  },
  {
    id: 'org/sharded-st', sha: SHA, lfs: [],
    files: {
      'config.json': file('{}'),
      'model.safetensors.index.json': file(JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } })),
      'model-00001-of-00002.safetensors': file('1'), 'model-00002-of-00002.safetensors': file('2'),
      'consolidated.safetensors': file('c'), 'model-old.safetensors': file('o'),
    },
  },
  {
    id: 'org/bad-index', sha: SHA, lfs: [],
    files: { 'config.json': file('{}'), 'pytorch_model.bin.index.json': file(JSON.stringify({ weight_map: { a: 'missing.bin' } })) },
  },
];

before(async () => {
  for (const k of Object.keys(saved)) delete process.env[k];
  work = mkdtempSync(join(tmpdir(), 'linscope-hubw-'));
  hub = await startFakeHub(repos);
});

after(async () => {
  for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
  await hub.close();
  rmSync(work, { recursive: true, force: true });
});

test('chooseWeights follows transformers: safetensors, its index, pytorch_model.bin, its index, else other safetensors', () => {
  assert.deepEqual(chooseWeights(['model.safetensors', 'consolidated.safetensors', 'pytorch_model.bin']), { files: ['model.safetensors'] });
  assert.deepEqual(chooseWeights(['model.safetensors.index.json', 'consolidated.safetensors']), { files: ['model.safetensors.index.json'], index: 'model.safetensors.index.json' });
  assert.deepEqual(chooseWeights(['pytorch_model.bin', 'pytorch_model.bin.index.json']), { files: ['pytorch_model.bin'] });
  assert.deepEqual(chooseWeights(['consolidated.safetensors']), { files: ['consolidated.safetensors'] });
  assert.deepEqual(splitRevision('org/name@v1.0'), { id: 'org/name', revision: 'v1.0' });
  assert.deepEqual(splitRevision('gpt2'), { id: 'gpt2' });
});

test('a PyTorch-only repo: the index and the shards it names are fetched, and the model runs as from the local folder', async () => {
  const cacheDir = join(work, 'torch');
  const dir = await resolveModel('org/torch-only', { hubUrl: hub.url, cacheDir });
  assert.deepEqual(readdirSync(dir).sort(), ['config.json', 'pytorch_model-00001-of-00002.bin', 'pytorch_model-00002-of-00002.bin', 'pytorch_model.bin.index.json']);
  const a = (await loadModel(await openModelSource('org/torch-only', { hubUrl: hub.url, cacheDir }))).forward([[1, 2, 3]]);
  const b = (await loadModel(qwenDir)).forward([[1, 2, 3]]);
  assert.equal(maxAbsDiff(a.logits, b.logits), 0);
});

test('duplicate and consolidated safetensors are skipped', async () => {
  const cacheDir = join(work, 'dups');
  assert.deepEqual(readdirSync(await resolveModel('org/duplicates', { hubUrl: hub.url, cacheDir })).sort(), ['config.json', 'model.safetensors']);
  assert.deepEqual(readdirSync(await resolveModel('org/sharded-st', { hubUrl: hub.url, cacheDir })).sort(),
    ['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json']);
  await assert.rejects(resolveModel('org/bad-index', { hubUrl: hub.url, cacheDir }), /the index names shard missing\.bin, which the repo does not have/);
});

test('org/name@revision pins the revision, in the cache refs too; conflicts and empty revisions are refused', async () => {
  const cacheDir = join(work, 'rev');
  const dir = await resolveModel(`org/duplicates@${SHA}`, { hubUrl: hub.url, cacheDir });
  assert.ok(dir.endsWith(join('snapshots', SHA)));
  assert.equal(existsSync(join(cacheDir, 'models--org--duplicates', 'refs', 'main')), false);
  await resolveModel('org/duplicates@main', { hubUrl: hub.url, cacheDir });
  assert.equal(readFileSync(join(cacheDir, 'models--org--duplicates', 'refs', 'main'), 'utf8'), SHA);
  assert.equal(await resolveModel('org/duplicates@main', { cacheDir, offline: true }), dir);
  await assert.rejects(resolveModel('org/duplicates@nope', { hubUrl: hub.url, cacheDir }), /org\/duplicates@nope failed with HTTP 404/);
  await assert.rejects(resolveModel('org/duplicates@main', { hubUrl: hub.url, cacheDir, revision: 'v2' }), /names revision main but --revision says v2/);
  await assert.rejects(resolveModel('org/duplicates@', { hubUrl: hub.url, cacheDir }), /neither an existing file or folder nor a hub id/);
});
