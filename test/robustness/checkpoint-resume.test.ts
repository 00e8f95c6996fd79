/**
 * `pretrain --resume` when `checkpoints/latest.json` names a checkpoint that is missing or
 * incomplete: it falls back to the newest complete checkpoint and says so (the run then finishes
 * bit-identical to an uninterrupted one); with no complete checkpoint at all it refuses.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runPretraining } from '../../src/train/pretrain.ts';
import { tinyPretrainConfig, withTmp, writeCorpus } from './harness.ts';

const config = tinyPretrainConfig(6, { checkpoint: { every: 2, keep: 5 } });

async function interruptedRun(dir: string) {
  const sources = [{ name: 'stories', path: writeCorpus(dir) }];
  await runPretraining(config, { outDir: join(dir, 'straight'), sources, quiet: true, noReport: true });
  const out = join(dir, 'split');
  // checkpoints at steps 2, 4 and 5 (the stop); latest.json names step-000005
  await runPretraining(config, { outDir: out, sources, quiet: true, noReport: true, stopAfterSteps: 5 });
  assert.equal(JSON.parse(readFileSync(join(out, 'checkpoints', 'latest.json'), 'utf8')).step, 5);
  return { sources, out };
}

async function resumeAndCompare(dir: string, sources: { name: string; path: string }[], out: string) {
  const lines: string[] = [];
  const r = await runPretraining(config, { outDir: out, sources, resume: true, noReport: true, log: (s) => lines.push(s) });
  const said = lines.join('\n');
  assert.match(said, /step-000005.*(missing|incomplete)/);
  assert.match(said, /resuming from .*step-000004 \(step 4\)/);
  assert.equal(r.steps, 6);
  const weights = (run: string) => readFileSync(join(dir, run, 'model', 'model.safetensors'));
  assert.ok(weights('straight').equals(weights('split')), 'the resumed run ends with the weights of the uninterrupted one');
}

test('resume: latest.json names a missing checkpoint → the newest complete one is used, and said', () => withTmp(async (dir) => {
  const { sources, out } = await interruptedRun(dir);
  rmSync(join(out, 'checkpoints', 'step-000005'), { recursive: true });
  await resumeAndCompare(dir, sources, out);
}));

test('resume: latest.json names a truncated checkpoint → the newest complete one is used, and said', () => withTmp(async (dir) => {
  const { sources, out } = await interruptedRun(dir);
  const weights = join(out, 'checkpoints', 'step-000005', 'model.safetensors');
  truncateSync(weights, Math.floor(readFileSync(weights).length / 2));
  await resumeAndCompare(dir, sources, out);
}));

test('resume: no complete checkpoint at all → refused with the reason, never a silent restart from step 0', () => withTmp(async (dir) => {
  const { sources, out } = await interruptedRun(dir);
  for (const s of ['step-000002', 'step-000004', 'step-000005']) rmSync(join(out, 'checkpoints', s, 'optimizer.safetensors'));
  await assert.rejects(
    runPretraining(config, { outDir: out, sources, resume: true, quiet: true, noReport: true }),
    /no complete checkpoint.*step-000005.*optimizer\.safetensors/s,
  );
}));
