/**
 * Readers of LASER's other sets (src/data/{fever,hotpotqa,truthfulqa,bigbench-qa-wikidata}.ts):
 * prompts and answers written out from the authors' scripts, their filters, and the sizes of the
 * shipped files (FEVER 13,086 and TruthfulQA 5,882 as in the LASER paper's dataset table).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { feverFromSplits, loadFever } from '../../src/data/fever.ts';
import { loadHotpotQA } from '../../src/data/hotpotqa.ts';
import { loadTruthfulQA } from '../../src/data/truthfulqa.ts';
import { loadBigBenchQAWikidata } from '../../src/data/bigbench-qa-wikidata.ts';
import { loadFactSet } from '../../src/eval/fact-sets.ts';
import { charTokenizer } from './stub-tokenizer.ts';
import { datasetsDir, skipUnless } from '../helpers/paths.ts';

function tmpFiles(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'laser-sets-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

test('fever: prompt, labels, NEI left out, inconsistent claims dropped, duplicates once, paper_dev first', async () => {
  const r = (id: number, claim: string, label: string) => ({ id, claim, label });
  const labelled = [
    r(1, 'A is B', 'NOT ENOUGH INFO'), r(2, 'C is D.', 'REFUTES'), r(3, 'E is F', 'SUPPORTS'), r(4, 'G?', 'SUPPORTS'),
    r(5, 'E is F', 'SUPPORTS'), r(6, 'V', 'SUPPORTS'), r(7, 'X', 'REFUTES'), r(8, ' Y ', 'SUPPORTS'),
  ];
  const dir = tmpFiles({
    'fever_labelled_dev.json': JSON.stringify(labelled),
    'paper_dev.jsonl': [labelled[0], labelled[3], labelled[6], labelled[7]].map((x) => JSON.stringify(x)).join('\n') + '\n',
  });
  try {
    const cases = await loadFever(dir);
    // dev = ids 1, 4, 7, 8 (NEI 1 out); test = 2, 3, 5, 6 (5 repeats 3's claim: kept once)
    assert.deepEqual(cases.map((c) => [c.id, c.answer]), [['4', ' true'], ['7', ' false'], ['8', ' true'], ['2', ' false'], ['3', ' true'], ['6', ' true']]);
    assert.equal(cases[0].prompt, 'Consider the following claim: G? Is this claim true or false. The claim is');
    assert.equal(cases[2].prompt, 'Consider the following claim: Y. Is this claim true or false. The claim is');
    assert.equal(cases[3].prompt, 'Consider the following claim: C is D. Is this claim true or false. The claim is');
    assert.deepEqual(cases[0].choices, [' true', ' false']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // a claim labelled both ways within one split is dropped
  assert.deepEqual(feverFromSplits([[r(1, 'Z', 'SUPPORTS'), r(2, 'Z', 'REFUTES'), r(3, 'W', 'REFUTES')]]).map((c) => c.id), ['3']);
  assert.throws(() => feverFromSplits([[{ id: 1, claim: 'Q' }]]), /field "label" missing/);
  assert.throws(() => feverFromSplits([[r(1, 'Q', 'SUPPORTS')], [r(2, 'Q', 'SUPPORTS')]]), /in both paper_dev and paper_test/);
});

test('hotpotqa: prompt with "?" inserted, answer stripped with one space, LASER length filter with a tokenizer', async () => {
  const records = [
    { question: 'Who wrote it?', answer: ' Ann ' },
    { question: 'Name the river', answer: 'Nile' },
    { question: 'Long one.', answer: 'a'.repeat(15) },
  ];
  const dir = tmpFiles({ 'h.json': JSON.stringify(records) });
  try {
    const all = await loadHotpotQA(join(dir, 'h.json'));
    assert.deepEqual(all.map((c) => [c.prompt, c.answer]), [
      ['Who wrote it? The answer is', ' Ann'], ['Name the river? The answer is', ' Nile'], ['Long one. The answer is', ' ' + 'a'.repeat(15)],
    ]);
    // charTokenizer: BOS + one token per character, so 15 characters make 16 tokens > 15
    assert.deepEqual((await loadHotpotQA(join(dir, 'h.json'), { tokenizer: charTokenizer })).map((c) => c.id), ['0', '1']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('truthfulqa: one statement per mc2 candidate, in order, with LASER\'s text', async () => {
  const dir = tmpFiles({
    'mc.json': JSON.stringify([{ question: 'Q1?', mc1_targets: { a: 1 }, mc2_targets: { 'Yes.': 1, No: 0, 'Maybe.': 1 } }]),
  });
  try {
    const cases = await loadTruthfulQA(join(dir, 'mc.json'));
    assert.deepEqual(cases.map((c) => [c.id, c.prompt, c.answer]), [
      ['0.0', 'Q1? Yes.Is this statement true or false? This statement is', ' true'],
      ['0.1', 'Q1? No.Is this statement true or false? This statement is', ' false'],
      ['0.2', 'Q1? Maybe.Is this statement true or false? This statement is', ' true'],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bigbench_qa_wikidata: MosaicML {context, continuation} and BIG-bench {inputs, targets} (single target only)', async () => {
  const lines = [
    { context: 'The capital of France is ', continuation: 'Paris' },
    { inputs: 'The author of Emma is', targets: ['Jane Austen'] },
    { inputs: 'Two answers', targets: ['a', 'b'] },
  ];
  const dir = tmpFiles({ 'b.jsonl': lines.map((l) => JSON.stringify(l)).join('\n') + '\n' });
  try {
    const cases = await loadBigBenchQAWikidata(join(dir, 'b.jsonl'));
    assert.deepEqual(cases.map((c) => [c.prompt, c.answer]), [['The capital of France is', ' Paris'], ['The author of Emma is', ' Jane Austen']]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const shipped = join(datasetsDir, 'fever');
test('sizes of the shipped sets', { skip: skipUnless(shipped) }, async () => {
  const fever = await loadFactSet('fever', shipped);
  assert.equal(fever.length, 13086);
  assert.equal(fever[0].id, '137334'); // the first SUPPORTS/REFUTES claim of paper_dev
  assert.equal((await loadFactSet('truthfulqa', join(datasetsDir, 'truthfulqa', 'mc_task.json'))).length, 5882);
  assert.equal((await loadFactSet('hotpotqa', join(datasetsDir, 'hotpotqa', 'hotpot_dev_v1_simplified.json'))).length, 7405);
  assert.equal((await loadFactSet('bigbench_qa_wikidata', join(datasetsDir, 'bigbench-qa-wikidata', 'bigbench_qa_wikidata.jsonl'))).length, 20321);
});
