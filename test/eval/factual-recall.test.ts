import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FactCase } from '../../src/data/types.ts';
import { evaluateFactualRecall, prepareCases } from '../../src/eval/factual-recall.ts';
import { splitPromptAnswer } from '../../src/eval/answer-tokens.ts';
import { topKIds, tokenRank } from '../../src/eval/log-probs.ts';
import { BigramLM, wordTokenizer } from './toy.ts';

const fact = (id: string, prompt: string, answer: string): FactCase => ({ id, prompt, answer, subject: '', paraphrases: [] });
const cases = [
  fact('A', 'The capital is', ' Paris'),
  fact('B', 'The capital is', ' Rome is'),
  fact('C', 'The capital is Rome', ' of'),
  fact('D', 'The', ' France'),
];
const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);

test('hand-computed log-loss, perplexity and top-k on a bigram model', async () => {
  const { summary, perCase } = await evaluateFactualRecall(new BigramLM(), wordTokenizer, cases, { batchSize: 3 });
  close(perCase[0].logLoss, Math.log(2));
  close(perCase[1].logLoss, -(Math.log(0.25) + Math.log(0.6)) / 2);
  close(perCase[2].logLoss, -Math.log(0.2));
  close(perCase[3].logLoss, Math.log(9));
  assert.deepEqual(perCase.map((c) => c.firstTokenRank), [0, 1, 1, 0]); // D: all tied, ties count as hits
  assert.deepEqual(perCase.map((c) => c.answerTokens), [[5], [6, 4], [7], [8]]);
  assert.deepEqual(perCase.map((c) => c.promptTokens), [4, 4, 5, 2]);
  close(summary.logLoss, (Math.log(2) - (Math.log(0.25) + Math.log(0.6)) / 2 - Math.log(0.2) + Math.log(9)) / 4);
  close(summary.answerPerplexity, Math.exp((-Math.log(0.5) - Math.log(0.25) - Math.log(0.6) - Math.log(0.2) + Math.log(9)) / 5));
  assert.deepEqual(summary.topK, { 1: 0.5, 5: 1, 10: 1 });
  assert.equal(summary.answerTokens, 5);
  assert.equal(summary.generationContains, undefined);
});

test("greedy generation scores only new tokens, cut at EOS; authors' string top-k rule", async () => {
  const { summary, perCase } = await evaluateFactualRecall(new BigramLM(), wordTokenizer, cases, { generation: true, topKMatch: 'string', extraTokens: 2 });
  assert.deepEqual(perCase.map((c) => c.generated), [' Paris is Paris', ' Paris is Paris is', ' is Paris is', '']);
  assert.deepEqual(perCase.map((c) => c.generationStartsWith), [true, false, false, false]);
  assert.equal(summary.generationStartsWith, 0.25);
  assert.equal(summary.generationContains, 0.25);
  // string rule: A's best token " Paris" matches; B is two tokens (never); C's best is " is"; D's tied top-5 are ids 0…4
  assert.deepEqual(perCase.map((c) => c.topK[1]), [true, false, false, false]);
  assert.deepEqual(perCase.map((c) => c.topK[5]), [true, false, true, false]);
  assert.deepEqual(perCase.map((c) => c.topK[10]), [true, false, true, true]);
});

test('results do not depend on batch size with left padding (position-aware model)', async () => {
  const model = new BigramLM(undefined, 0.7);
  const one = await evaluateFactualRecall(model, wordTokenizer, cases, { batchSize: 1, generation: true });
  const all = await evaluateFactualRecall(model, wordTokenizer, prepareCases(cases, wordTokenizer), { batchSize: 4, generation: true });
  for (let i = 0; i < cases.length; i++) {
    close(one.perCase[i].logLoss, all.perCase[i].logLoss, 1e-5);
    assert.equal(one.perCase[i].firstTokenRank, all.perCase[i].firstTokenRank);
    assert.equal(one.perCase[i].generated, all.perCase[i].generated);
  }
});

test('answer tokens: prefix rule, and the suffix fallback when tokens merge across the boundary', () => {
  assert.deepEqual(splitPromptAnswer(wordTokenizer, 'The capital is', ' Rome is'), { prompt: [1, 2, 3, 4], answer: [6, 4] });
  // a tokenizer that merges "ab" into one token when joined
  const merging = {
    encode: (t: string) => (t === 'xab' ? [1, 9] : t === 'xa' ? [1, 2] : [...t].map((c) => c.charCodeAt(0))),
    decode: (ids: number[]) => ids.map((i) => (i === 9 ? 'ab' : i === 2 ? 'a' : i === 1 ? 'x' : '?')).join(''),
  };
  assert.deepEqual(splitPromptAnswer(merging, 'xa', 'b'), { prompt: [1], answer: [9] });
});

test('topKIds and tokenRank', () => {
  const row = Float32Array.from([0.1, 3, 2, 3, -1]);
  assert.deepEqual(topKIds(row, 0, 5, 3), [1, 3, 2]);
  assert.equal(tokenRank(row, 0, 5, 3), 0);
  assert.equal(tokenRank(row, 0, 5, 2), 2);
  assert.equal(tokenRank(row, 0, 5, 4), 4);
});
