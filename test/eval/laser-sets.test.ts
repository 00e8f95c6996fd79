/**
 * LASER's other sets (fever, truthfulqa, hotpotqa, bigbench_qa_wikidata) through the factual-recall
 * metrics, on stories260K and two Hugging Face fixtures (llama, gpt2; with a character tokenizer): every
 * per-case number is recomputed here from the model's own logits of the unpadded sequence
 * prompt + answer (float64 log-softmax written out below, no batching, no selected-logits path):
 * answer log-probability and log-loss to 1e-4, first-token rank and top-k hits exactly, and the
 * true/false choice (answer more likely than the other choice) exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadFactSet, type FactSetKind } from '../../src/eval/fact-sets.ts';
import { evaluateFactualRecall, prepareCases } from '../../src/eval/factual-recall.ts';
import { LaserEditor } from '../../src/laser/intervention.ts';
import { parseInterventions } from '../../src/laser/parse.ts';
import { PrefixCachedEvaluator } from '../../src/laser/prefix-cache.ts';
import type { CausalLM, EvalTokenizer } from '../../src/eval/model-api.ts';
import type { FactCase } from '../../src/data/types.ts';
import { openModelSource } from '../../src/io/model-source.ts';
import { loadModel } from '../../src/models/decoder.ts';
import { datasetsDir, fixturesDir, skipUnless, stories260KDir } from '../helpers/paths.ts';

export const LASER_SETS: Record<string, string> = {
  fever: join(datasetsDir, 'fever'),
  truthfulqa: join(datasetsDir, 'truthfulqa', 'mc_task.json'),
  hotpotqa: join(datasetsDir, 'hotpotqa', 'hotpot_dev_v1_simplified.json'),
  bigbench_qa_wikidata: join(datasetsDir, 'bigbench-qa-wikidata', 'bigbench_qa_wikidata.jsonl'),
};
const N = 6;

/** Character tokenizer inside the fixtures' 1000-token vocabulary (BOS = 1). */
const fixtureTokenizer: EvalTokenizer = {
  bosId: 1,
  eosId: 2,
  encode: (text, opts = {}) => [...((opts.addSpecialTokens ?? true) ? [1] : []), ...Array.from(text, (c) => 10 + (c.codePointAt(0)! % 990))],
  decode: (ids) => ids.filter((i) => i >= 10).map((i) => String.fromCodePoint(i - 10)).join(''),
};

interface Reference {
  logProb: number;
  rank: number;
}

/** Σ log p(answer tokens) from one unpadded forward pass, and the first answer token's rank. */
async function reference(model: CausalLM, tokenizer: EvalTokenizer, prompt: string, answer: string): Promise<Reference> {
  const full = tokenizer.encode(prompt + answer);
  const p = tokenizer.encode(prompt);
  assert.deepEqual(full.slice(0, p.length), p, `prompt tokens are a prefix of prompt + answer for ${JSON.stringify(prompt.slice(-30))}`);
  const { logits } = await model.forward([full]);
  const V = logits.shape[2];
  let logProb = 0;
  let rank = -1;
  for (let t = p.length; t < full.length; t++) {
    const row = Array.from(logits.data.subarray((t - 1) * V, t * V), Number);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    logProb += row[full[t]] - lse;
    if (t === p.length) rank = row.filter((x) => x > row[full[t]]).length;
  }
  return { logProb, rank };
}

async function check(name: string, model: CausalLM, tokenizer: EvalTokenizer, cases: FactCase[]) {
  const { summary, perCase } = await evaluateFactualRecall(model, tokenizer, cases, { batchSize: 4 });
  assert.equal(perCase.length, cases.length);
  let choiceHits = 0;
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    const r = perCase[i];
    const ref = await reference(model, tokenizer, c.prompt, c.answer);
    assert.ok(Math.abs(r.answerLogProb - ref.logProb) < 1e-4, `${name} ${c.id}: log p ${r.answerLogProb} vs ${ref.logProb}`);
    assert.ok(Math.abs(r.logLoss + ref.logProb / r.answerTokens.length) < 1e-4);
    assert.equal(r.firstTokenRank, ref.rank, `${name} ${c.id}: rank`);
    for (const k of [1, 5, 10]) assert.equal(r.topK[k], ref.rank < k);
    if (c.choices) {
      const lps: number[] = [];
      for (const choice of c.choices) lps.push((await reference(model, tokenizer, c.prompt, choice)).logProb);
      const gold = c.choices.indexOf(c.answer);
      const correct = lps.every((v, j) => j === gold || lps[gold] > v);
      r.choiceLogProbs!.forEach((v, j) => assert.ok(Math.abs(v - lps[j]) < 1e-4, `${name} ${c.id}: choice ${j}`));
      assert.equal(r.choiceCorrect, correct, `${name} ${c.id}: choice`);
      if (correct) choiceHits++;
    } else {
      assert.equal(r.choiceCorrect, undefined);
    }
  }
  if (cases[0].choices) assert.equal(summary.choiceAccuracy, choiceHits / cases.length);
  else assert.equal(summary.choiceAccuracy, undefined);
}

for (const [kind, path] of Object.entries(LASER_SETS)) {
  const skip = skipUnless(path) || skipUnless(stories260KDir);
  test(`${kind}: metrics equal a reference from stories260K's logits`, { skip }, async () => {
    const source = await openModelSource(stories260KDir);
    const model = await loadModel(source);
    const tokenizer = (await source.tokenizer())!;
    const cases = await loadFactSet(kind as FactSetKind, path, { maxCases: N, tokenizer });
    await check(`stories260K/${kind}`, model, tokenizer, cases);
  });
  for (const arch of ['llama', 'gpt2']) {
    test(`${kind}: metrics equal a reference from the ${arch} fixture's logits`, { skip: skipUnless(path) || skipUnless(join(fixturesDir, arch)) }, async () => {
      const model = await loadModel(await openModelSource(join(fixturesDir, arch)));
      const cases = (await loadFactSet(kind as FactSetKind, path, { maxCases: N })).map((c) => ({ ...c, prompt: c.prompt.slice(-80) }));
      await check(`${arch}/${kind}`, model, fixtureTokenizer, cases);
    });
  }
}

test('fever with an intervention: the prefix-cached search evaluator gives the same choices and log-probs', { skip: skipUnless(LASER_SETS.fever) || skipUnless(stories260KDir) }, async () => {
  const source = await openModelSource(stories260KDir);
  const model = await loadModel(source);
  const tokenizer = (await source.tokenizer())!;
  const prepared = prepareCases(await loadFactSet('fever', LASER_SETS.fever, { maxCases: 7 }), tokenizer);
  const cached = new PrefixCachedEvaluator(model, tokenizer, { all: prepared }, { batchSize: 3 });
  await cached.evaluate('all', []);
  const ivs = parseInterventions('out:3:0.1', model.numLayers);
  new LaserEditor(model).applyAll(ivs);
  const fast = await cached.evaluate('all', ivs);
  const full = await evaluateFactualRecall(model, tokenizer, prepared, { batchSize: 3 });
  assert.equal(fast.summary.choiceAccuracy, full.summary.choiceAccuracy);
  full.perCase.forEach((c, i) => {
    assert.equal(fast.perCase[i].choiceCorrect, c.choiceCorrect);
    c.choiceLogProbs!.forEach((v, j) => assert.ok(Math.abs(v - fast.perCase[i].choiceLogProbs![j]) < 1e-4));
  });
});
