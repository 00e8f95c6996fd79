/**
 * Resumable logs and result caches are keyed on the content of the model and the data, not on
 * their paths: weights or data changed in place (same path, same size, same modification time)
 * are noticed, and so is another version of linscope's float32 arithmetic. `laser search` refuses
 * to mix results (naming what changed and `--restart`);
 * the linearity cache misses; `pretrain --resume` refuses when its training data changed.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { NUMERICS_VERSION } from '../../src/tensor/numerics.ts';
import { runPretraining } from '../../src/train/pretrain.ts';
import { datasetsDir, fixturesDir, skipUnless, stories260KDir } from '../helpers/paths.ts';
import { runCli, tinyPretrainConfig, withTmp, writeCorpus } from './harness.ts';

const storiesText = join(datasetsDir, 'tinystories-valid-subset', 'tinystories_val.txt');

/** Overwrites 4 bytes at `offset` with a different float, keeping the size and the modification time. */
function editInPlace(path: string, offset: number): void {
  const st = statSync(path);
  const bytes = readFileSync(path);
  bytes.writeFloatLE(bytes.readFloatLE(offset) + 0.5, offset);
  writeFileSync(path, bytes);
  utimesSync(path, st.atime, st.mtime);
}

const cli = runCli;

test('laser search: weights changed in place → the rerun refuses (names the file and --restart); --restart starts over', { skip: skipUnless(stories260KDir) || skipUnless(storiesText) }, () => withTmp(async (dir) => {
  const model = join(dir, 'stories260K');
  cpSync(stories260KDir, model, { recursive: true });
  const out = join(dir, 'search');
  const argv = ['laser', 'search', '-m', model, '--dataset', 'cloze', '--data', storiesText, '--max-cases', '5', '--no-test', '--quiet', '--types', 'out', '--layers', 'last:1', '--rhos', '0.5', '-o', out];
  assert.equal((await cli(argv)).code, 0);
  const before = readFileSync(join(out, 'runs.jsonl'), 'utf8');
  editInPlace(join(model, 'stories260K.bin'), 600_000);
  const again = await cli(argv);
  assert.equal(again.code, 1, 'a changed model must not silently reuse the old results');
  assert.match(again.out, /model.*changed.*stories260K\.bin: contents differ/);
  assert.match(again.out, /--restart/);
  assert.equal(readFileSync(join(out, 'runs.jsonl'), 'utf8'), before, 'the log is left as it was');
  const restarted = await cli([...argv, '--restart']);
  assert.equal(restarted.code, 0, restarted.out);
  assert.match(restarted.out, /discard/);
  assert.notEqual(readFileSync(join(out, 'runs.jsonl'), 'utf8').split('\n')[0], before.split('\n')[0]);
}));

test('laser search: the fact data changed in place → refused', { skip: skipUnless(stories260KDir) || skipUnless(storiesText) }, () => withTmp(async (dir) => {
  const data = join(dir, 'stories.txt');
  cpSync(storiesText, data);
  const out = join(dir, 'search');
  const argv = ['laser', 'search', '-m', stories260KDir, '--dataset', 'cloze', '--data', data, '--max-cases', '5', '--no-test', '--quiet', '--types', 'out', '--layers', 'last:1', '--rhos', '0.5', '-o', out];
  assert.equal((await cli(argv)).code, 0);
  const st = statSync(data);
  const text = readFileSync(data, 'utf8');
  writeFileSync(data, text.replace('Lily', 'Lucy'));
  utimesSync(data, st.atime, st.mtime);
  const again = await cli(argv);
  assert.equal(again.code, 1);
  assert.match(again.out, /data.*changed.*stories\.txt: contents differ/);
}));

test('laser search: a log written under another float32 arithmetic (numerics version) → refused, naming it', { skip: skipUnless(stories260KDir) || skipUnless(storiesText) }, () => withTmp(async (dir) => {
  const out = join(dir, 'search');
  const argv = ['laser', 'search', '-m', stories260KDir, '--dataset', 'cloze', '--data', storiesText, '--max-cases', '5', '--no-test', '--quiet', '--types', 'out', '--layers', 'last:1', '--rhos', '0.5', '-o', out];
  assert.equal((await cli(argv)).code, 0);
  const log = join(out, 'runs.jsonl');
  const lines = readFileSync(log, 'utf8').split('\n');
  const header = JSON.parse(lines[0]);
  assert.equal(header.settings.numerics, NUMERICS_VERSION);
  header.settings.numerics = NUMERICS_VERSION - 1; // as an earlier linscope wrote it
  writeFileSync(log, [JSON.stringify(header), ...lines.slice(1)].join('\n'));
  const again = await cli(argv);
  assert.equal(again.code, 1, 'results of other float32 arithmetic must not be mixed in');
  assert.match(again.out, new RegExp(`different settings[\\s\\S]*"numerics":${NUMERICS_VERSION - 1}[\\s\\S]*"numerics":${NUMERICS_VERSION}`));
}));

test('linearity cache: weights changed in place (size and mtime kept), directly or behind a symlink → recomputed, not a stale hit', { skip: skipUnless(fixturesDir) }, () => withTmp(async (dir) => {
  const real = join(dir, 'weights');
  cpSync(join(fixturesDir, 'llama'), real, { recursive: true });
  // a model folder made of symlinks, as a Hugging Face cache snapshot is
  const linked = join(dir, 'linked');
  mkdirSync(linked);
  for (const f of ['config.json', 'model.safetensors']) symlinkSync(join(real, f), join(linked, f));
  const cacheDir = join(dir, 'cache');
  for (const model of [real, linked]) {
    const argv = ['linearity', '-m', model, '--random-tokens', '12', '--samples', '8', '--no-png', '-o', join(dir, 'out'), '--cache-dir', cacheDir];
    const first = await cli(argv);
    assert.equal(first.code, 0, first.out);
    const score = () => JSON.parse(readFileSync(join(dir, 'out', 'linearity.json'), 'utf8')).models[0].pairs[1].layer.withResidual.exact as number;
    const s1 = score();
    assert.match((await cli(argv)).out, /cached result/, 'an unchanged model is a cache hit');
    editInPlace(join(real, 'model.safetensors'), 4 * Math.floor(statSync(join(real, 'model.safetensors')).size / 8));
    const after = await cli(argv);
    assert.equal(after.code, 0, after.out);
    assert.doesNotMatch(after.out, /cached result/, `${model}: changed weights must not hit the cache`);
    assert.notEqual(score(), s1);
  }
}));

test('pretrain --resume: the training data changed since the run started → refused, naming the change', () => withTmp(async (dir) => {
  const data = writeCorpus(dir);
  const sources = [{ name: 'stories', path: data }];
  const config = tinyPretrainConfig(4, { checkpoint: { every: 2 } });
  await runPretraining(config, { outDir: join(dir, 'run'), sources, quiet: true, noReport: true, stopAfterSteps: 2 });
  const st = statSync(data);
  writeFileSync(data, readFileSync(data, 'utf8').replace('Tom had', 'Tim had'));
  utimesSync(data, st.atime, st.mtime);
  await assert.rejects(runPretraining(config, { outDir: join(dir, 'run'), sources, resume: true, quiet: true, noReport: true }), /training data changed.*stories\.txt: contents differ/s);
}));
