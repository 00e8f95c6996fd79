/**
 * Fine-tuning data of the Table 1 tasks (src/train/harness-finetune-data.ts, reward-data.ts): the
 * prompts and answers written out here from the raw SuperGLUE records, the seeded BoolQ / HH
 * splits (disjoint, complete, fixed), and an end-to-end finetune of stories260K on cb and
 * reward-hh (a reward-model folder refuses other tasks).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runFinetune } from '../../src/train/finetune.ts';
import { harnessFinetuneData, seededHoldout } from '../../src/train/harness-finetune-data.ts';
import { hhRewardData } from '../../src/train/reward-data.ts';
import { datasetsDir, skipUnless, stories260KDir } from '../helpers/paths.ts';

const root = mkdtempSync(join(tmpdir(), 'linscope-ft-harness-'));
after(() => rmSync(root, { recursive: true, force: true }));
const raw = (rel: string) => readFileSync(join(datasetsDir, rel), 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));

test('boolq: harness prompt and " yes"/" no" answers; validation split seeded, 20% held out, disjoint and complete', { skip: skipUnless(join(datasetsDir, 'superglue')) }, () => {
  const d = harnessFinetuneData('boolq', datasetsDir, 100000, 100000);
  const rows = raw('superglue/BoolQ/val.jsonl');
  assert.equal(d.eval.length, Math.ceil(rows.length * 0.2));
  assert.equal(d.train.length + d.eval.length, rows.length);
  const expected = new Map(rows.map((r) => [`${r.passage}\nQuestion: ${r.question}?\nAnswer:`, r.label ? ' yes' : ' no']));
  const prompts = new Set<string>();
  for (const e of [...d.train, ...d.eval]) {
    assert.deepEqual(e.choices, [' no', ' yes']);
    assert.ok(expected.has(e.prompt), e.prompt.slice(0, 60));
    prompts.add(e.prompt + '\u0000' + e.answer);
  }
  // every held-out example's answer matches its record; the same split twice
  for (const e of d.eval) assert.equal(e.answer, expected.get(e.prompt));
  assert.deepEqual(harnessFinetuneData('boolq', datasetsDir, 5, 5).eval, d.eval.slice(0, 5));
});

test('cb and multirc: train file → validation file, harness choices (multirc keeps the harness order: label 1 → "… no")', { skip: skipUnless(join(datasetsDir, 'superglue')) }, () => {
  const cb = harnessFinetuneData('cb', datasetsDir, 1000, 1000);
  assert.equal(cb.train.length, 250);
  assert.equal(cb.eval.length, 56);
  const cbVal = raw('superglue/CB/val.jsonl');
  const names: Record<string, string> = { entailment: ' True', contradiction: ' False', neutral: ' Neither' };
  const byPrompt = new Map(cbVal.map((r) => [`${r.premise}\nQuestion: ${r.hypothesis}. True, False, or Neither?\nAnswer:`, names[r.label]]));
  for (const e of cb.eval) {
    assert.deepEqual(e.choices, [' True', ' False', ' Neither']);
    assert.equal(e.answer, byPrompt.get(e.prompt));
  }
  const mr = harnessFinetuneData('multirc', datasetsDir, 50, 50);
  assert.equal(mr.train.length, 50);
  const first = raw('superglue/MultiRC/val.jsonl')[0];
  const q = first.passage.questions[0];
  const a = q.answers[0];
  const all = harnessFinetuneData('multirc', datasetsDir, 0, 100000).eval;
  const hit = all.find((e) => e.prompt === `${first.passage.text}\nQuestion: ${q.question}\nAnswer:` && e.choices![0] === ` ${a.text}\nIs the answer correct? yes`);
  assert.ok(hit);
  assert.equal(hit!.answer, ` ${a.text}\nIs the answer correct? ${a.label ? 'no' : 'yes'}`);
});

test('seeded holdout: fixed, disjoint, complete; HH pairs split the same way', { skip: skipUnless(join(datasetsDir, 'hh-rlhf-helpful-base')) }, () => {
  const items = Array.from({ length: 11 }, (_, i) => i);
  const a = seededHoldout(items), b = seededHoldout(items);
  assert.deepEqual(a, b);
  assert.equal(a.eval.length, 3);
  assert.deepEqual([...a.eval, ...a.train].sort((x, y) => x - y), items);
  const hh = hhRewardData(datasetsDir, 100000, 100000);
  assert.equal(hh.eval.length + hh.train.length, raw('hh-rlhf-helpful-base/test.jsonl').length);
  assert.equal(hh.eval.length, Math.ceil((hh.eval.length + hh.train.length) * 0.2));
  const evalSet = new Set(hh.eval.map((p) => p.chosen + p.rejected));
  assert.ok(hh.train.every((p) => !evalSet.has(p.chosen + p.rejected)) || hh.train.length === 0);
});

test('finetune stories260K on cb and reward-hh; the reward-model folder refuses another task', { skip: skipUnless(stories260KDir) || skipUnless(join(datasetsDir, 'hh-rlhf-helpful-base')) }, async () => {
  const small = { steps: 2, batchSize: 4, lr: 1e-3, warmupSteps: 0, trainExamples: 4, evalExamples: 4, maxLen: 48, quiet: true };
  const cb = await runFinetune({ model: stories260KDir, task: 'cb', outDir: join(root, 'cb'), ...small });
  assert.ok('choiceAccuracy' in cb.after && cb.after.choiceAccuracy !== undefined);
  assert.equal(cb.linearityAfter.layers.length, 5);
  const rw = await runFinetune({ model: stories260KDir, task: 'reward-hh', outDir: join(root, 'rw'), ...small });
  assert.ok('pairwiseAccuracy' in rw.after);
  assert.equal(rw.evalExamples, 4);
  const config = JSON.parse(readFileSync(join(rw.modelDir, 'config.json'), 'utf8'));
  assert.deepEqual(config.architectures, ['LlamaForSequenceClassification']);
  await assert.rejects(runFinetune({ model: rw.modelDir, task: 'cb', outDir: join(root, 'again'), ...small }), /is a reward model/);
});
