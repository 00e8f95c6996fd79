import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../src/tensor/tensor.ts';
import { Rng } from '../../src/tensor/random.ts';
import { writeSafetensors } from '../../src/io/safetensors.ts';
import { isRepoId, resolveModel, type HubProgress } from '../../src/io/hub.ts';
import { defaultHubCacheDir } from '../../src/io/hf-cache.ts';
import { gitBlobOid, sha256, startFakeHub, type FakeHub, type FakeRepo } from './fake-hub.ts';
import { tinyTokenizerJson } from './tiny-tokenizer.ts';

const SHA = 'a'.repeat(39) + '1';
const PRIVATE_SHA = 'b'.repeat(39) + '2';
let work: string;
let hub: FakeHub;
let weights: Buffer;
let repo: FakeRepo;

const HUB_ENV = ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE', 'HF_ENDPOINT'];
const savedEnv = Object.fromEntries(HUB_ENV.map((k) => [k, process.env[k]]));

before(async () => {
  for (const k of HUB_ENV) delete process.env[k]; // tests must not depend on the developer's hub settings
  work = mkdtempSync(join(tmpdir(), 'linscope-hub-'));
  const rng = new Rng(11);
  const w = Tensor.zeros([256, 200]); // 200 kB of weights
  for (let i = 0; i < w.size; i++) w.data[i] = rng.uniform();
  writeSafetensors(join(work, 'w.safetensors'), { 'model.embed_tokens.weight': w }, { format: 'pt' });
  weights = readFileSync(join(work, 'w.safetensors'));
  repo = {
    id: 'org/tiny-model', sha: SHA, lfs: ['model.safetensors'],
    files: {
      'config.json': Buffer.from(JSON.stringify({ model_type: 'llama', hidden_size: 200, vocab_size: 256 })),
      'tokenizer.json': Buffer.from(JSON.stringify(tinyTokenizerJson())),
      'model.safetensors': weights,
      'README.md': Buffer.from('# not a model file\n'),
      'pytorch_model.bin': Buffer.from('pickle, never downloaded'),
      'extra/notes.txt': Buffer.from('sub-folder file'),
    },
  };
  const privateRepo: FakeRepo = {
    id: 'org/private', sha: PRIVATE_SHA, lfs: [], token: 'hf_secret',
    files: { 'config.json': Buffer.from('{"model_type":"gpt2"}') },
  };
  hub = await startFakeHub([repo, privateRepo]);
});

after(async () => {
  for (const [k, v] of Object.entries(savedEnv)) if (v !== undefined) process.env[k] = v;
  await hub.close();
  rmSync(work, { recursive: true, force: true });
});

function freshCache(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const downloads = (since: number) => hub.requests.slice(since).filter((r) => r.path.includes('/resolve/'));

test('fresh download fills the HF cache layout (blobs, snapshot symlinks, refs) with model files only', async () => {
  const cacheDir = freshCache('fresh');
  const events: HubProgress[] = [];
  const dir = await resolveModel(repo.id, { hubUrl: hub.url, cacheDir, onProgress: (p) => events.push(p) });
  const repoDir = join(cacheDir, 'models--org--tiny-model');
  assert.equal(dir, join(repoDir, 'snapshots', SHA));
  assert.equal(readFileSync(join(repoDir, 'refs', 'main'), 'utf8'), SHA);
  for (const name of ['config.json', 'tokenizer.json', 'model.safetensors']) {
    assert.deepEqual(readFileSync(join(dir, name)), repo.files[name], name);
    assert.ok(lstatSync(join(dir, name)).isSymbolicLink());
  }
  assert.equal(readlinkSync(join(dir, 'model.safetensors')), join('..', '..', 'blobs', sha256(weights)));
  assert.ok(existsSync(join(repoDir, 'blobs', gitBlobOid(repo.files['config.json']))));
  for (const skipped of ['README.md', 'pytorch_model.bin', 'extra/notes.txt']) assert.equal(existsSync(join(dir, skipped)), false);
  // progress: every file ends "done" with all its bytes
  const last = new Map(events.map((e) => [e.file, e]));
  assert.equal(last.size, 3);
  for (const e of last.values()) {
    assert.equal(e.status, 'done');
    assert.equal(e.downloadedBytes, e.totalBytes);
    assert.equal(e.fileCount, 3);
  }
  assert.ok(events.some((e) => e.file === 'model.safetensors' && e.status === 'downloading' && e.downloadedBytes < weights.length));
});

test('second resolve is a cache hit: no file is downloaded again', async () => {
  const cacheDir = freshCache('hit');
  const first = await resolveModel(repo.id, { hubUrl: hub.url, cacheDir });
  const mark = hub.requests.length;
  const events: HubProgress[] = [];
  const second = await resolveModel(repo.id, { hubUrl: hub.url, cacheDir, onProgress: (p) => events.push(p) });
  assert.equal(second, first);
  assert.deepEqual(downloads(mark), []);
  assert.ok(events.length === 3 && events.every((e) => e.status === 'cached'));
  // resolving by commit sha finds the same snapshot
  assert.equal(await resolveModel(repo.id, { hubUrl: hub.url, cacheDir, revision: SHA }), first);
});

test('offline mode resolves from the cache only, with a clear error when missing', async () => {
  const cacheDir = freshCache('offline');
  await assert.rejects(resolveModel(repo.id, { cacheDir, offline: true }),
    /org\/tiny-model@main is not in the hub cache .* offline mode is on/);
  const online = await resolveModel(repo.id, { hubUrl: hub.url, cacheDir });
  const mark = hub.requests.length;
  assert.equal(await resolveModel(repo.id, { cacheDir, offline: true }), online);
  const saved = process.env.HF_HUB_OFFLINE;
  process.env.HF_HUB_OFFLINE = '1';
  try {
    assert.equal(await resolveModel(repo.id, { cacheDir, hubUrl: hub.url }), online);
  } finally {
    if (saved === undefined) delete process.env.HF_HUB_OFFLINE;
    else process.env.HF_HUB_OFFLINE = saved;
  }
  assert.equal(hub.requests.length, mark, 'offline: no request at all');
  await assert.rejects(resolveModel(repo.id, { cacheDir, offline: true, revision: 'v2' }), /org\/tiny-model@v2 is not in the hub cache/);
});

test('an unreachable hub falls back to the cache, or says it cannot reach it', async () => {
  const cacheDir = freshCache('unreachable');
  const dead = 'http://127.0.0.1:1'; // nothing listens on port 1
  await assert.rejects(resolveModel(repo.id, { hubUrl: dead, cacheDir }), /cannot reach the hub at http:\/\/127\.0\.0\.1:1 .* not in the cache/);
  const online = await resolveModel(repo.id, { hubUrl: hub.url, cacheDir });
  assert.equal(await resolveModel(repo.id, { hubUrl: dead, cacheDir }), online);
});

test('resume: a truncated .incomplete blob continues with an HTTP Range request', async () => {
  const cacheDir = freshCache('resume');
  const blobs = join(cacheDir, 'models--org--tiny-model', 'blobs');
  mkdirSync(blobs, { recursive: true });
  const have = 123_457;
  writeFileSync(join(blobs, `${sha256(weights)}.incomplete`), weights.subarray(0, have));
  const mark = hub.requests.length;
  const dir = await resolveModel(repo.id, { hubUrl: hub.url, cacheDir });
  const weightRequests = downloads(mark).filter((r) => r.path.endsWith('model.safetensors'));
  assert.deepEqual(weightRequests.map((r) => r.range), [`bytes=${have}-`]);
  assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), weights);
  assert.equal(existsSync(join(blobs, `${sha256(weights)}.incomplete`)), false);
});

test('resume after a dropped connection; a corrupt partial file is detected by sha256', async () => {
  const cacheDir = freshCache('dropped');
  hub.cutNextDownload('model.safetensors', 50_000);
  await assert.rejects(resolveModel(repo.id, { hubUrl: hub.url, cacheDir }), /interrupted at \d+ of 204\d+ bytes.*run again to resume/s);
  const partial = join(cacheDir, 'models--org--tiny-model', 'blobs', `${sha256(weights)}.incomplete`);
  const got = readFileSync(partial).length;
  assert.ok(got > 0 && got < weights.length);
  const mark = hub.requests.length;
  const dir = await resolveModel(repo.id, { hubUrl: hub.url, cacheDir });
  assert.deepEqual(downloads(mark).filter((r) => r.path.endsWith('model.safetensors')).map((r) => r.range), [`bytes=${got}-`]);
  assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), weights);

  const cacheDir2 = freshCache('corrupt');
  const blobs = join(cacheDir2, 'models--org--tiny-model', 'blobs');
  mkdirSync(blobs, { recursive: true });
  writeFileSync(join(blobs, `${sha256(weights)}.incomplete`), Buffer.alloc(1000, 7));
  await assert.rejects(resolveModel(repo.id, { hubUrl: hub.url, cacheDir: cacheDir2 }), /is corrupt: sha256 .*partial file removed/);
  assert.deepEqual(readFileSync(join(await resolveModel(repo.id, { hubUrl: hub.url, cacheDir: cacheDir2 }), 'model.safetensors')), weights);
});

test('private repos need a token; it is sent as a Bearer header', async () => {
  const cacheDir = freshCache('private');
  await assert.rejects(resolveModel('org/private', { hubUrl: hub.url, cacheDir }), /HTTP 401 .*pass a token or set HF_TOKEN/);
  const mark = hub.requests.length;
  const dir = await resolveModel('org/private', { hubUrl: hub.url, cacheDir, token: 'hf_secret' });
  assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), '{"model_type":"gpt2"}');
  assert.ok(hub.requests.slice(mark).every((r) => r.auth === 'Bearer hf_secret'));
  await assert.rejects(resolveModel('org/missing', { hubUrl: hub.url, cacheDir }), /org\/missing@main failed with HTTP 404/);
  await assert.rejects(resolveModel('org/private', { hubUrl: hub.url, cacheDir, token: 'secret' }), /token .* must start with "hf_"/);
});

test('local paths are used as is; junk is refused; the cache dir follows HF environment variables', async () => {
  assert.equal(await resolveModel(work), work);
  await assert.rejects(resolveModel('./no/such/dir'), /neither an existing file or folder nor a hub id/);
  assert.equal(isRepoId('gpt2'), true);
  assert.equal(isRepoId('org/name-1.5B'), true);
  assert.equal(isRepoId('a/b/c'), false);
  assert.equal(isRepoId('../x'), false);
  assert.equal(defaultHubCacheDir({ HF_HUB_CACHE: '/c' }), '/c');
  assert.equal(defaultHubCacheDir({ HF_HOME: '/h' }), join('/h', 'hub'));
  assert.equal(defaultHubCacheDir({ XDG_CACHE_HOME: '/x' }), join('/x', 'huggingface', 'hub'));
});
