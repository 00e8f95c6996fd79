/**
 * The Table 1 summary (mean ± sample std over seeds of Δ linearity without residual) and the
 * pretraining benchmark table's chance marking, on hand-made runs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { meanStd, table1Markdown, table1Row } from '../../src/train/finetune-linearity-experiment.ts';
import type { FinetuneResult } from '../../src/train/finetune.ts';
import { pretrainingTableMarkdown, type PretrainingTable } from '../../src/train/pretraining-benchmarks.ts';

test('meanStd: sample standard deviation (n − 1)', () => {
  const m = meanStd([1, 2, 4]);
  assert.ok(Math.abs(m.mean - 7 / 3) < 1e-15);
  // Σ(x − 7/3)² = 16/9 + 1/9 + 25/9 = 42/9; / 2 = 7/3
  assert.ok(Math.abs(m.std - Math.sqrt(7 / 3)) < 1e-15);
  assert.ok(Number.isNaN(meanStd([5]).std));
});

function run(before: number, after: number, accB: number, accA: number): FinetuneResult {
  const lin = (x: number) => ({ tokens: 10, layers: [], meanWithResidual: 0.9, meanWithoutResidual: x });
  return {
    task: 'cb', model: 'm', modelDir: 'd', steps: 1, parameters: 1, trainExamples: 10, evalExamples: 5, seconds: 1,
    before: { examples: 5, answerLoss: 1, firstTokenAccuracy: 0, choiceAccuracy: accB },
    after: { examples: 5, answerLoss: 1, firstTokenAccuracy: 0, choiceAccuracy: accA },
    linearityBefore: lin(before), linearityAfter: lin(after),
  };
}

test('table1Row: Δ = after − before per seed, then mean ± std', () => {
  const r = table1Row('cb', [run(0.7, 0.72, 0.3, 0.5), run(0.7, 0.75, 0.3, 0.4), run(0.7, 0.71, 0.3, 0.6)]);
  assert.equal(r.metric, 'label accuracy');
  const d = [0.02, 0.05, 0.01];
  const mean = (d[0] + d[1] + d[2]) / 3;
  assert.ok(Math.abs(r.delta.mean - mean) < 1e-12);
  assert.ok(Math.abs(r.delta.std - Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / 2)) < 1e-12);
  assert.ok(Math.abs(r.accuracyAfter.mean - 0.5) < 1e-12);
  const md = table1Markdown([r]);
  assert.match(md, /\| cb \| 10 \/ 5 \| 3 \| 0\.7000 ± 0\.0000 \| 0\.7267 ± 0\.0208 \| \*\*\+0\.0267 ± 0\.0208\*\* \| 0\.300 ± 0\.000 \| 0\.500 ± 0\.100 \|/);
});

test('pretraining table: † only where every run is within 2 stderr of chance; mean over the tasks', () => {
  const t: PretrainingTable = {
    tasks: ['boolq', 'cb'],
    runs: [
      { name: 'baseline', model: 'a', scores: [{ acc: 0.52, stderr: 0.01, chance: 0.5, docs: 100 }, { acc: 0.5, stderr: 0.05, chance: 0.333, docs: 56 }], mean: 0.51 },
      { name: 'cosine', model: 'b', scores: [{ acc: 0.49, stderr: 0.01, chance: 0.5, docs: 100 }, { acc: 0.3, stderr: 0.05, chance: 0.333, docs: 56 }], mean: 0.395 },
    ],
    atChance: [true, false],
    note: 'n',
  };
  const md = pretrainingTableMarkdown(t);
  assert.match(md, /\| run \| BoolQ † \| CB \| mean \|/);
  assert.match(md, /\| cosine \| 0\.490 ± 0\.010 \| 0\.300 ± 0\.050 \| 0\.395 \|/);
  // (0.5 + 0.333) / 2 = 0.4165 rounds to 0.416 in binary floating point
  assert.match(md, /\| chance \| 0\.500 \| 0\.333 \| 0\.416 \|/);
});
