import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { counterFactFromRecords, loadCounterFact, loadKnownFacts } from '../../src/data/counterfact.ts';
import { loadParaRel, paraRelPrompt } from '../../src/data/pararel.ts';
import { splitCases } from '../../src/data/split.ts';
import { datasetsDir, skipUnless } from '../helpers/paths.ts';

const easyEdit = join(datasetsDir, 'counterfact-easyedit');
const known = join(datasetsDir, 'known_1000', 'known_1000.json');
const pararel = join(datasetsDir, 'pararel-trex');

test('CounterFact EasyEdit layout: train 10,000 + val 1,919 + edit 10,000 = 21,919 distinct cases', { skip: skipUnless(easyEdit) }, async () => {
  const train = await loadCounterFact(join(easyEdit, 'counterfact-train.json'));
  const val = await loadCounterFact(join(easyEdit, 'counterfact-val.json'));
  const edit = await loadCounterFact(join(easyEdit, 'counterfact-edit.json'));
  assert.deepEqual([train.length, val.length, edit.length], [10000, 1919, 10000]);

  const all = await loadCounterFact(easyEdit);
  assert.equal(all.length, 21919);
  assert.equal(new Set(all.map((c) => c.id)).size, 21919);
  assert.deepEqual(all.map((c) => c.id), Array.from({ length: 21919 }, (_, i) => String(i)), 'ROME order, case_id 0…21918');

  assert.deepEqual(all[0], {
    id: '0',
    prompt: 'The mother tongue of Danielle Darrieux is',
    subject: 'Danielle Darrieux',
    answer: ' French',
    paraphrases: ['Where Danielle Darrieux is from, people speak the language of'],
    targetNew: ' English',
    neighborhood: ['Michel Rocard is a native speaker of'],
  });
  const toko = all[2];
  assert.equal(toko.prompt, 'Toko Yasuda, the');
  assert.equal(toko.answer, ' guitar');
  for (const c of all) {
    assert.ok(c.answer.startsWith(' ') && !c.answer.startsWith('  '), `answer of ${c.id}`);
    assert.ok(c.prompt.includes(c.subject), `subject in prompt of ${c.id}`);
  }
});

test('CounterFact ROME layout: template filled, all paraphrase and neighborhood prompts kept', async () => {
  const records = [
    {
      case_id: 7,
      pararel_idx: 1,
      requested_rewrite: {
        prompt: 'The headquarters of {} are in',
        relation_id: 'P159',
        target_new: { str: 'Berlin', id: 'Q64' },
        target_true: { str: 'Paris', id: 'Q90' },
        subject: 'Le Monde $&',
      },
      paraphrase_prompts: ['Le Monde $& is based in', 'Where is Le Monde $& based? In'],
      neighborhood_prompts: ['Libération is headquartered in'],
      attribute_prompts: ['Die Zeit is based in'],
      generation_prompts: ['Le Monde $& is known for'],
    },
  ];
  assert.deepEqual(counterFactFromRecords(records), [
    {
      id: '7',
      prompt: 'The headquarters of Le Monde $& are in',
      subject: 'Le Monde $&',
      answer: ' Paris',
      paraphrases: ['Le Monde $& is based in', 'Where is Le Monde $& based? In'],
      relationId: 'P159',
      targetNew: ' Berlin',
      neighborhood: ['Libération is headquartered in'],
    },
  ]);

  const dir = mkdtempSync(join(tmpdir(), 'linscope-cf-'));
  try {
    const path = join(dir, 'counterfact.json');
    writeFileSync(path, JSON.stringify([records[0], { ...records[0], case_id: 3 }]));
    assert.deepEqual((await loadCounterFact(path)).map((c) => c.id), ['3', '7'], 'sorted by case_id');
    writeFileSync(path, JSON.stringify([records[0], records[0]]));
    await assert.rejects(loadCounterFact(path), /case_id 7 appears twice/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CounterFact: unknown layout and missing fields are reported with their place', () => {
  assert.throws(() => counterFactFromRecords([{ foo: 1 }], 'x.json'), /x\.json\[0\]: neither ROME .* nor EasyEdit/);
  assert.throws(
    () => counterFactFromRecords([{ case_id: 1, requested_rewrite: { prompt: 'no slot', subject: 's' } }]),
    /has no \{\} for the subject/,
  );
  assert.throws(() => counterFactFromRecords([{ case_id: 1, ground_truth: 'x', prompt: 'p' }]), /field "subject" missing/);
});

test('known_1000: 1,209 records, prompt + attribute with a leading space', { skip: skipUnless(known) }, async () => {
  const cases = await loadKnownFacts(known);
  assert.equal(cases.length, 1209);
  assert.deepEqual(cases[0], {
    id: '0',
    prompt: 'Vinson Massif is located in the continent of',
    subject: 'Vinson Massif',
    answer: ' Antarctica',
    paraphrases: [],
    relationId: 'P30',
  });
  assert.equal(new Set(cases.map((c) => c.id)).size, 1209);
});

test('ParaRel templates: [Y] must come last, after a space', () => {
  assert.equal(paraRelPrompt('[X] is located in [Y] .'), '[X] is located in');
  assert.equal(paraRelPrompt('[X], which is located in [Y].'), '[X], which is located in');
  assert.equal(paraRelPrompt('The capital of [X] is [Y]'), 'The capital of [X] is');
  assert.equal(paraRelPrompt('[Y] is the capital of [X].'), null);
  assert.equal(paraRelPrompt('[X] is a [Y] by profession.'), null);
  assert.equal(paraRelPrompt("[X]'s capital, [Y]-owned"), null);
  assert.equal(paraRelPrompt('[X] was born in [Y] or [Y].'), null);
});

test('ParaRel/T-REx: 29,411 facts; 27,610 in the 39 relations with end-[Y] templates', { skip: skipUnless(pararel) }, async () => {
  const factsDir = join(pararel, 'trex_lms_vocab');
  const lines = readdirSync(factsDir).reduce((n, f) => n + readFileSync(join(factsDir, f), 'utf8').trim().split('\n').length, 0);
  assert.equal(lines, 29411);
  const cases = await loadParaRel(pararel);
  assert.equal(cases.length, 27610); // 29,411 minus P31 (879) and P527 (922), which have no pattern file
  assert.equal(new Set(cases.map((c) => c.relationId)).size, 39);
  assert.equal(new Set(cases.map((c) => c.id)).size, cases.length, 'uuids are distinct');

  const eibenstock = cases.find((c) => c.subject === 'Eibenstock' && c.relationId === 'P17')!;
  assert.equal(eibenstock.prompt, 'Eibenstock is located in');
  assert.equal(eibenstock.answer, ' Germany');
  assert.ok(eibenstock.paraphrases.includes('Eibenstock, which is located in'));
  assert.ok(!eibenstock.paraphrases.includes(eibenstock.prompt));
  for (const c of cases) assert.ok(!c.prompt.includes('[X]') && c.answer.startsWith(' '));

  const capitals = await loadParaRel(pararel, { relations: ['P36'] });
  assert.equal(capitals.length, 471);
  await assert.rejects(loadParaRel(pararel, { relations: ['P31'] }), /no usable facts\/templates for relation\(s\) P31/);
});

test('splitCases: LASER first-20% validation, or a seeded random split', () => {
  const items = Array.from({ length: 21919 }, (_, i) => i);
  const first = splitCases(items);
  assert.equal(first.validation.length, 4383); // ⌊0.2 · 21919⌋
  assert.deepEqual(first.validation.slice(0, 3), [0, 1, 2]);
  assert.equal(first.test[0], 4383);

  const random = splitCases(items, { mode: 'random', seed: 1 });
  assert.equal(random.validation.length, 4383);
  assert.equal(random.test.length, 21919 - 4383);
  assert.deepEqual([...random.validation, ...random.test].sort((a, b) => a - b), items, 'a partition');
  assert.ok(random.validation.every((v, i) => i === 0 || v > random.validation[i - 1]), 'input order kept');
  assert.deepEqual(splitCases(items, { mode: 'random', seed: 1 }), random, 'deterministic');
  assert.notDeepEqual(splitCases(items, { mode: 'random', seed: 2 }).validation, random.validation);

  assert.deepEqual(splitCases([1, 2, 3, 4, 5], { fraction: 0.4 }), { validation: [1, 2], test: [3, 4, 5] });
  assert.throws(() => splitCases(items, { fraction: 1.5 }), /fraction must be in \[0, 1\]/);
});
