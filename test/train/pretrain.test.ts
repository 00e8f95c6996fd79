import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openModelSource } from '../../src/io/model-source.ts';
import { loadModel } from '../../src/models/decoder.ts';
import { validationBatches, WindowSampler } from '../../src/train/batches.ts';
import { readMetrics, type EvalRecord, type TrainRecord } from '../../src/train/metrics-log.ts';
import { loadPretrainConfig, parsePretrainConfig } from '../../src/train/pretrain-config.ts';
import { runPretraining } from '../../src/train/pretrain.ts';
import { tinyPretrainConfig, withTmp, writeCorpus } from '../helpers/pretrain-fixtures.ts';

/** The shared tiny config, evaluating every 5 steps on 2 batches. */
const tinyConfig = (steps: number, extra: Record<string, unknown> = {}) => tinyPretrainConfig(steps, { eval: { every: 5, batches: 2 }, ...extra });

test('a tiny run learns: training and validation loss go down; the saved model loads', () => withTmp(async (dir) => {
  const data = writeCorpus(dir);
  const r = await runPretraining(tinyConfig(40, { linearity: { every: 20, batches: 1 } }), { outDir: join(dir, 'run'), sources: [{ name: 'stories', path: data }], quiet: true, noReport: true });
  assert.equal(r.finished, true);
  const records = readMetrics(join(dir, 'run', 'metrics.jsonl'));
  const train = records.filter((x): x is TrainRecord => x.type === 'train');
  const evals = records.filter((x): x is EvalRecord => x.type === 'eval');
  assert.equal(train.length, 40);
  const early = train.slice(0, 5).reduce((s, x) => s + x.ce, 0) / 5;
  const late = train.slice(-5).reduce((s, x) => s + x.ce, 0) / 5;
  assert.ok(late < early - 1, `train CE ${early} → ${late}`);
  assert.equal(evals[0].step, 0);
  assert.ok(evals.at(-1)!.valLoss < evals[0].valLoss - 1, `val ${evals[0].valLoss} → ${evals.at(-1)!.valLoss}`);
  assert.ok(records.some((x) => x.type === 'linearity' && x.step === 40));
  const model = await loadModel(await openModelSource(r.modelDir));
  const tok = (await (await openModelSource(r.modelDir)).tokenizer())!;
  const ids = tok.encode('Tom had a red ball.');
  assert.equal(ids[0], tok.bosId);
  assert.equal(model.forward([ids]).logits.shape[2], model.config.vocabSize);
}));

test('resume continues bit-exactly: 3 + 3 steps equal 6 uninterrupted steps', () => withTmp(async (dir) => {
  const data = writeCorpus(dir);
  const sources = [{ name: 'stories', path: data }];
  const config = tinyConfig(6, { regularizer: { kind: 'cosine', lambda: 0.5 } });
  await runPretraining(config, { outDir: join(dir, 'straight'), sources, quiet: true, noReport: true });
  const first = await runPretraining(config, { outDir: join(dir, 'split'), sources, quiet: true, noReport: true, stopAfterSteps: 3 });
  assert.equal(first.finished, false);
  assert.equal(first.steps, 3);
  const second = await runPretraining(config, { outDir: join(dir, 'split'), sources, quiet: true, noReport: true, resume: true });
  assert.equal(second.steps, 6);
  assert.ok(readFileSync(join(dir, 'straight', 'model', 'model.safetensors')).equals(readFileSync(join(dir, 'split', 'model', 'model.safetensors'))), 'identical weights');
  const losses = (run: string) => readMetrics(join(dir, run, 'metrics.jsonl')).filter((x): x is TrainRecord => x.type === 'train').map((x) => [x.step, x.loss, x.reg]);
  assert.deepEqual(losses('split'), losses('straight'));
  assert.ok(losses('straight').every(([, , reg]) => reg > 0), 'the cosine regulariser is active');
  await assert.rejects(runPretraining(config, { outDir: join(dir, 'split'), sources, quiet: true, noReport: true }), /--resume/);
  await assert.rejects(runPretraining(tinyConfig(7), { outDir: join(dir, 'split'), sources, quiet: true, noReport: true, resume: true }), /different/);
}));

test('token streams are rebuilt when the tokenizer settings change', () => withTmp(async (dir) => {
  const data = writeCorpus(dir);
  const sources = [{ name: 'stories', path: data }];
  const out = join(dir, 'run');
  await runPretraining(tinyConfig(2, { eval: { every: 0, batches: 1 } }), { outDir: out, sources, quiet: true, noReport: true });
  const vocab = () => JSON.parse(readFileSync(join(out, 'model', 'config.json'), 'utf8')).vocab_size;
  assert.equal(vocab(), 300);
  await runPretraining(tinyConfig(2, { eval: { every: 0, batches: 1 }, tokenizer: { vocabSize: 280, minFrequency: 1 } }), { outDir: out, sources, quiet: true, noReport: true });
  assert.equal(vocab(), 280);
}));

test('batches are a function of (seed, step); validation windows cover the whole stream', () => {
  const stream = Int32Array.from({ length: 1000 }, (_, i) => i);
  const a = new WindowSampler(stream, 10, 3), b = new WindowSampler(stream, 10, 3);
  assert.equal(a.windows, 99);
  assert.deepEqual(a.batchForStep(30, 4), b.batchForStep(30, 4));
  const batch = a.batchForStep(0, 2);
  for (let t = 0; t < 10; t++) assert.equal(batch.targets[t], batch.inputs[t] + 1);
  // one epoch visits every window once
  const seen = new Set<number>();
  for (let s = 0; s < 99; s++) seen.add(a.samples(s, 1).inputs[0]);
  assert.equal(seen.size, 99);
  const val = validationBatches(stream, 10, 4, 2);
  assert.equal(val.length, 2);
  assert.equal(val[0].inputs[0], 0);
  assert.ok(val[1].inputs[30] > 800, 'last window near the end');
});

test('config errors are clear: unknown keys, bad values, YAML files', () => withTmp(async (dir) => {
  assert.throws(() => parsePretrainConfig({ model: { hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 8 }, stpes: 3 }), /unknown key "stpes" \(did you mean "steps"\?\)/);
  assert.throws(() => parsePretrainConfig({ model: { hiddenSize: 16, numLayers: 1, numHeads: 3, intermediateSize: 8 } }), /not divisible/);
  assert.throws(() => parsePretrainConfig({ model: { hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 8 }, regularizer: { kind: 'l2' } }), /none, cosine, mse/);
  assert.throws(() => parsePretrainConfig({ model: { numLayers: 1 } }), /model.hiddenSize" is required/);
  const yaml = join(dir, 'c.yaml');
  writeFileSync(yaml, 'model:\n  hiddenSize: 16\n  numLayers: 1\n  numHeads: 2\n  intermediateSize: 8\nsteps: 5\nregularizer: { kind: cosine }\n');
  const c = loadPretrainConfig(yaml);
  assert.equal(c.steps, 5);
  assert.equal(c.regularizer.lambda, 0.5);
  assert.equal(c.optimizer.warmupSteps, 0);
}));
