/**
 * One writer at a time: `laser search` into an output folder another live process holds is refused
 * with "in use by pid N"; a lock left by a dead process is taken over with a message; two downloads
 * of one repository into one cache at once both succeed (the second waits for the first).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveModel } from '../../src/io/hub.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { writeSafetensors } from '../../src/io/safetensors.ts';
import { startFakeHub } from '../io/fake-hub.ts';
import { datasetsDir, skipUnless, stories260KDir } from '../helpers/paths.ts';
import { runCli, withTmp } from './harness.ts';

const storiesText = join(datasetsDir, 'tinystories-valid-subset', 'tinystories_val.txt');
const skip = skipUnless(stories260KDir) || skipUnless(storiesText);
const LOCK = '.linscope.lock';

function writeLock(dir: string, pid: number): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, LOCK), JSON.stringify({ pid, host: hostname(), command: 'laser search -o x', startedAt: new Date().toISOString(), token: 'other' }));
}

const searchArgs = (out: string) => ['laser', 'search', '-m', stories260KDir, '--dataset', 'cloze', '--data', storiesText, '--max-cases', '5', '--no-test', '--quiet', '--types', 'out', '--layers', 'last:1', '--rhos', '0.5', '-o', out];

test('laser search into an output folder held by a live process → refused with its pid, nothing written', { skip }, () => withTmp(async (dir) => {
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  try {
    const out = join(dir, 'search');
    writeLock(out, holder.pid!);
    const r = await runCli(searchArgs(out));
    assert.equal(r.code, 1, 'a second writer must not run');
    assert.match(r.out, new RegExp(`in use by pid ${holder.pid}`));
    assert.ok(!existsSync(join(out, 'runs.jsonl')), 'nothing was written');
  } finally {
    holder.kill();
  }
}));

test('laser search: a lock left by a process that is gone is taken over, with a message, and removed at the end', { skip }, () => withTmp(async (dir) => {
  const gone = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
  const out = join(dir, 'search');
  writeLock(out, gone);
  const r = await runCli(searchArgs(out));
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, new RegExp(`taking over the lock of pid ${gone}.*no longer running`));
  assert.ok(existsSync(join(out, 'runs.jsonl')));
  assert.ok(!existsSync(join(out, LOCK)), 'the lock is released');
}));

test('two downloads of one repository into one cache at once: both succeed with the right bytes', () => withTmp(async (dir) => {
  const rng = new Rng(3);
  const w = Tensor.zeros([512, 256]); // 512 kB
  for (let i = 0; i < w.size; i++) w.data[i] = rng.uniform();
  writeSafetensors(join(dir, 'w.safetensors'), { 'model.embed_tokens.weight': w }, { format: 'pt' });
  const weights = readFileSync(join(dir, 'w.safetensors'));
  const hub = await startFakeHub([{
    id: 'org/m', sha: 'c'.repeat(40), lfs: ['model.safetensors'],
    files: { 'config.json': Buffer.from('{"model_type":"llama"}'), 'model.safetensors': weights },
  }]);
  try {
    const cacheDir = join(dir, 'cache');
    const results = await Promise.allSettled([0, 1].map(() => resolveModel('org/m', { cacheDir, hubUrl: hub.url, offline: false })));
    for (const r of results) assert.equal(r.status, 'fulfilled', r.status === 'rejected' ? String(r.reason) : '');
    const [a, b] = results.map((r) => (r as PromiseFulfilledResult<string>).value);
    assert.equal(a, b);
    assert.ok(readFileSync(join(a, 'model.safetensors')).equals(weights));
  } finally {
    await hub.close();
  }
}));
