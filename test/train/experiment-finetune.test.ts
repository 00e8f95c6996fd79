import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openModelSource } from '../../src/io/model-source.ts';
import { runCosineRegExperiment } from '../../src/train/cosine-reg-experiment.ts';
import { runFinetune, type SftEval } from '../../src/train/finetune.ts';
import { buildTask } from '../../src/train/finetune-tasks.ts';
import { readMetrics, type TrainRecord } from '../../src/train/metrics-log.ts';
import { parsePretrainConfig } from '../../src/train/pretrain-config.ts';
import { sftBatch, tokenizePair } from '../../src/train/sft-batches.ts';
import { IGNORE_INDEX } from '../../src/train/train-step.ts';
import { datasetsDir, skipUnless, stories260KDir } from '../helpers/paths.ts';

function withTmp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-exp-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('cosine-reg experiment: two runs on the same batches, one report; finished runs are reused', () => withTmp(async (dir) => {
  const data = join(dir, 'text.txt');
  writeFileSync(data, Array.from({ length: 40 }, (_, i) => `Story ${i % 4}: the dog ran to the park and found a ball.`).join('\n\n'));
  const config = parsePretrainConfig({
    model: { hiddenSize: 16, numLayers: 2, numHeads: 2, intermediateSize: 32 },
    tokenizer: { vocabSize: 280, minFrequency: 1 }, seqLen: 12, batchSize: 2, steps: 4,
    optimizer: { warmupSteps: 1 }, eval: { every: 2, batches: 1 }, linearity: { every: 4, batches: 1 }, checkpoint: { every: 0 },
  });
  const lines: string[] = [];
  const out = join(dir, 'exp');
  const { runs, reportPath } = await runCosineRegExperiment(config, { outDir: out, sources: [{ name: 'text', path: data }], log: (s) => lines.push(s) });
  assert.equal(runs.length, 2);
  const html = readFileSync(reportPath, 'utf8');
  assert.match(html, /Cosine-regularised pretraining vs baseline/);
  assert.match(html, /<svg/);
  // equal compute: same tokens; the first step's CE is identical (same init, same batch), the total loss differs by λ·R
  const firstTrain = runs.map((r) => r.records.find((x) => x.type === 'train')!) as { ce: number; loss: number; reg: number }[];
  assert.equal(firstTrain[0].ce, firstTrain[1].ce);
  assert.equal(firstTrain[0].reg, 0);
  assert.ok(Math.abs(firstTrain[1].loss - (firstTrain[1].ce + 0.5 * firstTrain[1].reg)) < 1e-5);
  const again: string[] = [];
  await runCosineRegExperiment(config, { outDir: out, sources: [{ name: 'text', path: data }], log: (s) => again.push(s) });
  assert.equal(again.filter((s) => s.includes('reusing')).length, 2);
}));

test('SFT batches: targets only on answer tokens, right padding', () => {
  const tok = {
    encode: (t: string) => [1, ...[...t].map((c) => c.charCodeAt(0))],
    decode: (ids: number[]) => String.fromCharCode(...ids.filter((i) => i !== 1)),
    bosId: 1,
  };
  const a = tokenizePair(tok, 'abc', ' d', 16);
  assert.deepEqual(a, { ids: [1, 97, 98, 99, 32, 100], answerStart: 4 });
  const cut = tokenizePair(tok, 'abcdefgh', ' z', 6);
  assert.deepEqual(cut, { ids: [1, 102, 103, 104, 32, 122], answerStart: 4 }, 'prompt cut from the left, BOS kept');
  const b = sftBatch([a, { ids: [1, 120, 32, 121], answerStart: 2 }], 0);
  assert.equal(b.seqLen, 5);
  assert.deepEqual(Array.from(b.targets.slice(0, 5)), [IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, 32, 100]);
  assert.deepEqual(Array.from(b.targets.slice(5)), [IGNORE_INDEX, 32, 121, IGNORE_INDEX, IGNORE_INDEX]);
  assert.deepEqual(Array.from(b.inputs.slice(5)), [1, 120, 32, 0, 0]);
  assert.deepEqual(Array.from(b.realRows), [0, 1, 2, 3, 4, 5, 6, 7]);
});

test('source-id task: balanced labels from the four shipped corpora', { skip: skipUnless(join(datasetsDir, 'war-and-peace')) }, async () => {
  const t = await buildTask('source-id', { trainExamples: 40, evalExamples: 20, seed: 1 });
  assert.equal(t.eval.length, 20);
  const labels = new Set(t.eval.map((e) => e.answer));
  assert.deepEqual([...labels].sort(), [' encyclopedia', ' novel', ' play', ' story']);
  assert.ok(t.train.every((e) => e.prompt.endsWith('\nSource:') && e.choices!.length === 4));
  const evalPrompts = new Set(t.eval.map((e) => e.prompt));
  assert.ok(t.train.every((e) => !evalPrompts.has(e.prompt)), 'train and eval are disjoint');
});

test('fine-tuning stories260K on cloze: training loss drops; linearity before/after per layer; model reloads', { skip: skipUnless(stories260KDir) }, () => withTmp(async (dir) => {
  // full-batch steps on 8 examples: the answer loss on them must go down
  const r = await runFinetune({ model: stories260KDir, task: 'cloze', outDir: dir, steps: 4, batchSize: 8, lr: 1e-3, warmupSteps: 0, trainExamples: 8, evalExamples: 8, maxLen: 96, quiet: true });
  const train = readMetrics(join(dir, 'metrics.jsonl')).filter((x): x is TrainRecord => x.type === 'train');
  assert.equal(train.length, 4);
  assert.ok(train[3].ce < train[0].ce, `${train[0].ce} → ${train[3].ce}`);
  assert.ok(Number.isFinite((r.after as SftEval).answerLoss) && (r.before as SftEval).firstTokenAccuracy >= 0);
  assert.equal(r.linearityBefore.layers.length, 5);
  assert.equal(r.linearityAfter.layers.length, 5);
  for (const l of [...r.linearityBefore.layers, ...r.linearityAfter.layers]) {
    assert.ok(l.withResidual > 0 && l.withResidual <= 1 && l.withoutResidual > 0 && l.withoutResidual <= 1);
  }
  assert.ok(existsSync(join(dir, 'report.html')));
  const source = await openModelSource(r.modelDir);
  assert.equal(source.config.model_type, 'llama');
}));
