/**
 * Output and cache folders that cannot be written fail before any work, with the real reason.
 *
 * The tests run as root in CI, and root ignores permission bits, so "read-only" is simulated two
 * ways that hold for root too: a path whose parent is a regular file (ENOTDIR: the one case that
 * can always be built), and a folder under /sys, where the kernel refuses to create files even for
 * root (EPERM/EACCES/EROFS depending on the system; skipped where /sys accepts a file). A real
 * read-only mount (EROFS) takes the same code path: the reason comes from the error code of a
 * probe file created in the nearest existing folder.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveModel } from '../../src/io/hub.ts';
import { assertWritableDir } from '../../src/io/writable.ts';
import { startFakeHub } from '../io/fake-hub.ts';
import { datasetsDir, fixturesDir, skipUnless, stories260KDir } from '../helpers/paths.ts';
import { runCli, withTmp, writeCorpus } from './harness.ts';

const storiesText = join(datasetsDir, 'tinystories-valid-subset', 'tinystories_val.txt');
const NOT_A_FOLDER = /cannot write there: .*blocker is a file, not a folder \(ENOTDIR\)/;

function blocker(dir: string): string {
  const file = join(dir, 'blocker');
  writeFileSync(file, 'a file where a folder should be');
  return file;
}

test('linearity: --out under a file → the reason, before any computation (nothing reaches the cache)', { skip: skipUnless(fixturesDir) }, () => withTmp(async (dir) => {
  const cacheDir = join(dir, 'cache');
  const r = await runCli(['linearity', '-m', join(fixturesDir, 'llama'), '--random-tokens', '12', '--samples', '4', '--no-png', '-o', join(blocker(dir), 'out'), '--cache-dir', cacheDir]);
  assert.equal(r.code, 1);
  assert.match(r.out, /--out .*blocker\/out: /);
  assert.match(r.out, NOT_A_FOLDER);
  assert.ok(!existsSync(cacheDir) || readdirSync(cacheDir).length === 0, 'no analysis ran');
}));

test('linearity: --cache-dir under a file → the reason, before any computation', { skip: skipUnless(fixturesDir) }, () => withTmp(async (dir) => {
  const r = await runCli(['linearity', '-m', join(fixturesDir, 'llama'), '--random-tokens', '12', '--samples', '4', '--no-png', '-o', join(dir, 'out'), '--cache-dir', join(blocker(dir), 'cache')]);
  assert.equal(r.code, 1);
  assert.match(r.out, /--cache-dir .*: cannot write there/);
  assert.ok(!existsSync(join(dir, 'out')));
}));

test('laser search, prune and pretrain: --out under a file → the reason before loading anything', { skip: skipUnless(stories260KDir) || skipUnless(storiesText) }, () => withTmp(async (dir) => {
  const out = join(blocker(dir), 'out');
  const search = await runCli(['laser', 'search', '-m', stories260KDir, '--dataset', 'cloze', '--data', storiesText, '--max-cases', '8', '--quiet', '-o', out]);
  assert.equal(search.code, 1);
  assert.match(search.out, NOT_A_FOLDER);
  assert.doesNotMatch(search.out, /LASER search:/, 'the search did not start');
  const prune = await runCli(['prune', '-m', stories260KDir, '-d', storiesText, '--quiet', '-o', out]);
  assert.equal(prune.code, 1);
  assert.match(prune.out, NOT_A_FOLDER);
  assert.doesNotMatch(prune.out, /blocks, d =/, 'the model was not analysed');
  const corpus = writeCorpus(dir);
  const pretrain = await runCli(['pretrain', '--config', join('configs', 'pretrain-tiny.yaml'), '--data', corpus, '--quiet', '--out', out]);
  assert.equal(pretrain.code, 1);
  assert.match(pretrain.out, NOT_A_FOLDER);
}));

test('download: a hub cache that cannot be written → the reason before any request to the hub', () => withTmp(async (dir) => {
  const hub = await startFakeHub([{ id: 'org/m', sha: 'd'.repeat(40), lfs: [], files: { 'config.json': Buffer.from('{}') } }]);
  try {
    await assert.rejects(resolveModel('org/m', { cacheDir: join(blocker(dir), 'hub'), hubUrl: hub.url, offline: false }), /the hub cache .*: cannot write there: .*is a file, not a folder/);
    assert.equal(hub.requests.length, 0);
  } finally {
    await hub.close();
  }
}));

/** A folder under /sys, where the kernel refuses new files even to root; undefined where it does not. */
function refusedFolder(): string | undefined {
  const probe = '/sys/linscope-write-probe';
  try {
    mkdirSync(probe);
    rmSync(probe, { recursive: true });
    return undefined;
  } catch {
    return existsSync('/sys') ? join(probe, 'out') : undefined;
  }
}

test('a folder the system refuses (under /sys) → "not writable" or "read-only" with the error code', { skip: refusedFolder() === undefined && '/sys accepts new files here' }, () => {
  assert.throws(() => assertWritableDir(refusedFolder()!, '--out'), /--out \/sys\/linscope-write-probe\/out: cannot write there: \/sys (is not writable \(permission denied\) \(EACCES\)|is not writable \(operation not permitted\) \(EPERM\)|is on a read-only file system \(EROFS\))/);
});
