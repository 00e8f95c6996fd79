import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FactCase } from '../../src/data/types.ts';
import { evaluateFactualRecall, prepareCases } from '../../src/eval/factual-recall.ts';
import { laserSearch, searchGrid, isBetter, type SplitEvaluator } from '../../src/laser/search.ts';
import { RunLog } from '../../src/laser/run-log.ts';
import { VOCAB, wordTokenizer } from '../eval/toy.ts';
import { ToyLM } from './toy-lm.ts';

const fact = (id: string, prompt: string, answer: string): FactCase => ({ id, prompt, answer, subject: '', paraphrases: [] });
const cases = [
  fact('1', 'The capital is', ' Paris'), fact('2', 'The capital of', ' France'), fact('3', 'The capital is Rome', ' of'),
  fact('4', 'The', ' capital'), fact('5', 'The capital of France is', ' Paris'), fact('6', 'The capital is Rome is', ' Rome'),
];

function setup(seed = 4) {
  const model = new ToyLM(VOCAB.length, 8, 2, seed);
  const validation = prepareCases(cases.slice(0, 3), wordTokenizer);
  const testSet = prepareCases(cases.slice(3), wordTokenizer);
  let evaluations = 0;
  const evaluate: SplitEvaluator = async (split) => {
    evaluations++;
    return (await evaluateFactualRecall(model, wordTokenizer, split === 'validation' ? validation : testSet)).summary;
  };
  return { model, evaluate, count: () => evaluations };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'laser-search-'));
const space = { types: ['in', 'out'] as const, rhos: [0.5, 0.25, 0.125] };

test('grid order: last layer first, then types, then ρ as given', () => {
  assert.deepEqual(searchGrid(['in', 'out'], [1, 0], [0.5, 0.1]).map((iv) => `${iv.type}:${iv.layer}:${iv.rho}`), [
    'in:1:0.5', 'in:1:0.1', 'out:1:0.5', 'out:1:0.1', 'in:0:0.5', 'in:0:0.1', 'out:0:0.5', 'out:0:0.1',
  ]);
});

test('search picks the best validation accuracy, ties by lower log-loss, and leaves the model unchanged', async () => {
  const dir = tmp();
  const { model, evaluate } = setup();
  const before = new Map([...model.weights].map(([k, v]) => [k, v.clone()]));
  const res = await laserSearch({ model, evaluate, log: new RunLog(join(dir, 'log.jsonl'), { t: 1 }), ...space });
  assert.equal(res.grid.length, 12);
  assert.deepEqual(res.grid.map((r) => r.key).slice(0, 3), ['in:1:0.5', 'in:1:0.25', 'in:1:0.125']);
  for (const r of res.grid) {
    assert.ok(!isBetter(r.summary, res.best.summary, 'top1'), `${r.key} beats the chosen ${res.best.key}`);
  }
  // first best in grid order
  const firstEqual = res.grid.find((r) => !isBetter(res.best.summary, r.summary, 'top1'));
  assert.equal(firstEqual!.key, res.best.key);
  assert.equal(res.chosen, res.best);
  assert.ok(res.baseTest && res.chosenTest);
  assert.equal(res.chosenTest.key, res.best.key);
  for (const [k, v] of model.weights) assert.deepEqual(v.data, before.get(k)!.data, k);
  rmSync(dir, { recursive: true });
});

test('resumes from a partial log: only missing configurations are evaluated, same outcome', async () => {
  const dir = tmp();
  const path = join(dir, 'log.jsonl');
  const full = setup();
  const reference = await laserSearch({ model: full.model, evaluate: full.evaluate, log: new RunLog(join(dir, 'ref.jsonl'), { t: 1 }), ...space });

  // First attempt dies after 5 evaluations (base + 4 grid cells).
  const first = setup();
  let n = 0;
  const dying: SplitEvaluator = async (split, ivs) => {
    if (++n > 5) throw new Error('killed');
    return first.evaluate(split, ivs);
  };
  await assert.rejects(laserSearch({ model: first.model, evaluate: dying, log: new RunLog(path, { t: 1 }), ...space }), /killed/);
  // simulate a torn final line
  writeFileSync(path, readFileSync(path, 'utf8') + '{"kind":"evalu');

  const second = setup();
  const log = new RunLog(path, { t: 1 });
  assert.equal(log.resumed, 5);
  let resumedSteps = 0;
  const res = await laserSearch({ model: second.model, evaluate: second.evaluate, log, ...space, onStep: (s) => (resumedSteps += s.resumed ? 1 : 0) });
  assert.equal(resumedSteps, 5);
  assert.equal(second.count(), 13 - 5 + 2); // remaining grid + base/chosen test
  assert.equal(res.chosen.key, reference.chosen.key);
  assert.deepEqual(res.grid.map((r) => r.summary), reference.grid.map((r) => r.summary));
  // the torn line was cut off: the log is valid JSONL again (header + 5 + 10 records)
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  assert.equal(lines.length, 16);
  for (const l of lines) JSON.parse(l);
  assert.throws(() => new RunLog(path, { t: 2 }), /different settings/);
  rmSync(dir, { recursive: true });
});

test('greedy composition only accepts improving additions on distinct matrices', async () => {
  const dir = tmp();
  const { model, evaluate } = setup(7);
  const res = await laserSearch({ model, evaluate, log: new RunLog(join(dir, 'log.jsonl'), {}), ...space, compose: true, test: false });
  assert.ok(res.composition.length >= 2, 'this seed composes');
  let prev = res.best;
  for (const step of res.composition) {
    assert.ok(isBetter(step.summary, prev.summary, 'top1'));
    assert.equal(step.interventions.length, prev.interventions.length + 1);
    const keys = step.interventions.map((iv) => `${iv.type}:${iv.layer}`);
    assert.equal(new Set(keys).size, keys.length);
    prev = step;
  }
  assert.equal(res.chosen, prev);
  assert.equal(res.baseTest, undefined);
  assert.equal(res.bestTest, undefined);
  rmSync(dir, { recursive: true });
});
