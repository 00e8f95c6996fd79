/**
 * Ctrl-C on long commands, sent to the real CLI process (bin/linscope.mjs): `pretrain` saves a
 * checkpoint of the steps done and prints how to resume (and the resume continues from it);
 * `laser search` says how many results are saved and that a rerun continues; `linearity` says which
 * models are already in the result cache. Exit code 130 each.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runPretraining } from '../../src/train/pretrain.ts';
import { parsePretrainConfig } from '../../src/train/pretrain-config.ts';
import { datasetsDir, fixturesDir, skipUnless, stories260KDir } from '../helpers/paths.ts';
import { runCli, spawnCli, withTmp, writeCorpus } from './harness.ts';

const storiesText = join(datasetsDir, 'tinystories-valid-subset', 'tinystories_val.txt');

test('pretrain: Ctrl-C saves a checkpoint of the steps done, prints how to resume, exits 130; --resume continues there', () => withTmp(async (dir) => {
  const corpus = writeCorpus(dir);
  const raw = {
    model: { hiddenSize: 16, numLayers: 2, numHeads: 2, numKvHeads: 1, intermediateSize: 32 },
    tokenizer: { vocabSize: 300, minFrequency: 1 },
    seqLen: 16, batchSize: 4, steps: 1_000_000, logEvery: 5,
    optimizer: { lr: 1e-2, minLr: 1e-3, warmupSteps: 2, weightDecay: 0.01 },
    seed: 7, data: { validationFraction: 0.1 },
    eval: { every: 0, batches: 1 }, linearity: { every: 0, batches: 1 }, checkpoint: { every: 0 },
  };
  const cfg = join(dir, 'tiny.json');
  writeFileSync(cfg, JSON.stringify(raw));
  const out = join(dir, 'run');
  const cli = spawnCli(['pretrain', '--config', cfg, '--data', corpus, '--out', out]);
  await cli.waitFor(/step 10\/1000000/, 120_000);
  cli.child.kill('SIGINT');
  const code = await cli.exit;
  assert.equal(code, 130, cli.err());
  assert.match(cli.err(), /stopped at step (\d+) of 1000000; checkpoint saved in .*step-0*\d+\. Continue with: linscope pretrain --out .* --resume/);
  const step = Number(/stopped at step (\d+)/.exec(cli.err())![1]);
  assert.ok(step >= 10);
  const latest = JSON.parse(readFileSync(join(out, 'checkpoints', 'latest.json'), 'utf8'));
  assert.equal(latest.step, step);
  const resumed = await runPretraining(parsePretrainConfig(raw), { outDir: out, sources: [{ name: 'stories.txt', path: corpus }], resume: true, stopAfterSteps: 1, quiet: true, noReport: true });
  assert.equal(resumed.steps, step + 1, 'the resume continues from the saved step');
}));

test('laser search: a second run into the same folder is refused with the first one\'s pid; Ctrl-C says how many results are saved and that rerunning continues; exits 130', { skip: skipUnless(stories260KDir) || skipUnless(storiesText) }, () => withTmp(async (dir) => {
  const out = join(dir, 'search');
  const cli = spawnCli(['laser', 'search', '-m', stories260KDir, '--dataset', 'cloze', '--data', storiesText, '--max-cases', '20', '--rhos', '0.9,0.5,0.2,0.1,0.05,0.01', '-o', out]);
  // wait until a few results are in the log
  const lines = () => (existsSync(join(out, 'runs.jsonl')) ? readFileSync(join(out, 'runs.jsonl'), 'utf8').split('\n').length - 1 : 0);
  for (const t0 = Date.now(); lines() < 4; await new Promise((ok) => setTimeout(ok, 50))) {
    if (Date.now() - t0 > 120_000 || cli.child.exitCode !== null) throw new Error(`no results logged:\n${cli.err()}`);
  }
  // meanwhile, a second search into the same folder is refused with the running one's pid
  const second = await runCli(['laser', 'search', '-m', stories260KDir, '--dataset', 'cloze', '--data', storiesText, '--max-cases', '5', '--quiet', '-o', out]);
  assert.equal(second.code, 1);
  assert.match(second.out, new RegExp(`the output folder .* is in use by pid ${cli.child.pid}`));
  cli.child.kill('SIGINT');
  const code = await cli.exit;
  assert.equal(code, 130, cli.err());
  assert.match(cli.err(), /laser search: interrupted \(SIGINT\)\. \d+ results are saved in .*runs\.jsonl; rerun the same command to continue/);
  assert.ok(existsSync(join(out, 'runs.jsonl')));
  assert.ok(!existsSync(join(out, '.linscope.lock')), 'the lock is released on exit');
}));

/** Polls `ready()` every 50 ms; throws (with the child's stderr) on timeout or when the child ended. */
async function until(ready: () => boolean, cli: { child: { exitCode: number | null }; err: () => string }, what: string): Promise<void> {
  for (const t0 = Date.now(); !ready(); await new Promise((ok) => setTimeout(ok, 50))) {
    if (Date.now() - t0 > 120_000 || cli.child.exitCode !== null) throw new Error(`${what} did not happen:\n${cli.err()}`);
  }
}

test('linearity: Ctrl-C during the second model says the first is in the result cache and a rerun reuses it; exits 130', { skip: skipUnless(fixturesDir) }, () => withTmp(async (dir) => {
  const cacheDir = join(dir, 'cache');
  const out = join(dir, 'out');
  const cli = spawnCli(['linearity', '-m', join(fixturesDir, 'llama'), '-m', join(fixturesDir, 'mistral'), '--random-tokens', '64', '--samples', '120', '--no-png', '-q', '--cache-dir', cacheDir, '-o', out]);
  const entries = () => (existsSync(cacheDir) ? readdirSync(cacheDir).filter((d) => !d.startsWith('.')).length : 0);
  await until(() => entries() > 0, cli, 'the first model finishing');
  cli.child.kill('SIGINT');
  assert.equal(await cli.exit, 130, cli.err());
  assert.match(cli.err(), /linearity: interrupted \(SIGINT\)\. 1 model\(s\) finished in this run and are in the result cache; the analysis of mistral was lost; nothing was written to .* yet\. Rerun the same command: finished models come from the cache\./);
  assert.ok(!existsSync(join(out, 'linearity.json')));
}));

test('prune: Ctrl-C during the ranking says nothing was written and to rerun; exits 130', { skip: skipUnless(stories260KDir) || skipUnless(storiesText) }, () => withTmp(async (dir) => {
  const out = join(dir, 'prune');
  const cli = spawnCli(['prune', '-m', stories260KDir, '-d', storiesText, '--k', '1', '--distill-steps', '100000', '-o', out]);
  await cli.waitFor(/calibration: \d+ documents/, 120_000);
  cli.child.kill('SIGINT');
  assert.equal(await cli.exit, 130, cli.err());
  assert.match(cli.err(), /linscope prune: interrupted \(SIGINT\)\. nothing was written to .* \(prune writes its outputs when it finishes\); rerun the same command to start again/);
  assert.ok(!existsSync(join(out, 'results.json')));
}));
