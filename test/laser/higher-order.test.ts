import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FactCase } from '../../src/data/types.ts';
import { evaluateFactualRecall } from '../../src/eval/factual-recall.ts';
import { higherOrderStudy } from '../../src/laser/higher-order.ts';
import { LaserEditor } from '../../src/laser/intervention.ts';
import { VOCAB, wordTokenizer } from '../eval/toy.ts';
import { ToyLM } from './toy-lm.ts';

const fact = (id: string, prompt: string, answer: string): FactCase => ({ id, prompt, answer, subject: '', paraphrases: [] });
const cases = [
  fact('1', 'The capital is', ' Paris'), fact('2', 'The capital of', ' France'), fact('3', 'The capital is Rome', ' of'),
  fact('4', 'The', ' capital'), fact('5', 'The capital of France is', ' Paris'), fact('6', 'The capital is Rome is', ' Rome'),
];

test('higher-order study: three consistent evaluations, groups partition the cases, model restored', async () => {
  const model = new ToyLM(VOCAB.length, 8, 2, 1);
  const before = new Map([...model.weights].map(([k, v]) => [k, v.clone()]));
  const iv = { type: 'in' as const, layer: 1, rho: 0.25 };
  const res = await higherOrderStudy(model, wordTokenizer, cases, iv);
  assert.equal(res.laserRank, 2);
  assert.equal(res.higherOrderComponents, 6);
  assert.equal(res.higherOrderKeep, 'residual');
  assert.equal(res.groups.reduce((s, g) => s + g.cases, 0), cases.length);
  for (const [k, v] of model.weights) assert.deepEqual(v.data, before.get(k)!.data, k);

  // summaries match direct evaluations of the three models
  const base = await evaluateFactualRecall(model, wordTokenizer, cases);
  assert.deepEqual(res.summaries.base, base.summary);
  const e = new LaserEditor(model);
  e.apply(iv);
  assert.deepEqual(res.summaries.laser, (await evaluateFactualRecall(model, wordTokenizer, cases)).summary);
  e.undo();
  e.apply(iv, { keep: 'residual' });
  const higher = await evaluateFactualRecall(model, wordTokenizer, cases, { keepTopTokens: true });
  e.undo();
  assert.deepEqual(res.summaries.higherOrder, higher.summary);
  res.cases.forEach((c, i) => assert.equal(c.higherOrder, wordTokenizer.decode([higher.perCase[i].topTokens![0]])));
  // group labels follow the top-1 predictions
  for (const c of res.cases) {
    const baseRight = c.base === c.answer, laserRight = c.laser === c.answer;
    assert.equal(c.group, baseRight ? (laserRight ? 'bothRight' : 'broke') : laserRight ? 'fixed' : 'bothWrong');
  }
  const counted = res.groups.flatMap((g) => g.topPredictions).reduce((s, p) => s + p.count, 0);
  assert.equal(counted, cases.length);
});

test('bottom-k variant uses exactly k smallest components', async () => {
  const model = new ToyLM(VOCAB.length, 8, 2, 1);
  const res = await higherOrderStudy(model, wordTokenizer, cases, { type: 'out', layer: 0, rho: 0.5 }, { bottomK: 3 });
  assert.equal(res.higherOrderKeep, 'bottom');
  assert.equal(res.higherOrderComponents, 3);
  await assert.rejects(higherOrderStudy(model, wordTokenizer, cases, { type: 'out', layer: 0, rho: 0.5 }, { bottomK: 9 }), /bottom k must be in 1…8/);
});
