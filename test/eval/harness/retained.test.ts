/** Retained performance of a pruned model (prune --eval-tasks), and plain scoring = cached scoring. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { evaluateTask } from '../../../src/eval/harness/evaluate.ts';
import { compareOnTasks } from '../../../src/eval/harness/retained.ts';
import { resolveTasks } from '../../../src/eval/harness/tasks/index.ts';
import { openModelSource } from '../../../src/io/model-source.ts';
import { loadModel } from '../../../src/models/decoder.ts';
import { PrunedModel } from '../../../src/prune/pruned-model.ts';
import { datasetsDir, skipUnless, stories260KDir } from '../../helpers/paths.ts';

const model = join(stories260KDir, 'stories260K.bin');

test('plain scoring (pruned-model path) equals cached scoring; retained = pruned acc / original acc', { skip: skipUnless(model) || skipUnless(datasetsDir) }, async () => {
  const source = await openModelSource(model);
  const tokenizer = (await source.tokenizer())!;
  const base = await loadModel(source);
  const opts = { datasetsDir, limit: 6, batchSize: 4, maxLength: 512, padId: 0, bootstrapIters: 0 };
  const [copa, wino] = resolveTasks(['copa', 'winogrande']);
  const cached = evaluateTask(base, tokenizer, copa, opts);
  const plain = evaluateTask(new PrunedModel(base), tokenizer, copa, { ...opts, scoring: 'plain' });
  cached.samples.forEach((s, d) => s.responses.forEach((r, i) => {
    assert.ok(Math.abs(r.logLikelihood - plain.samples[d].responses[i].logLikelihood) < 1e-4);
    assert.equal(r.isGreedy, plain.samples[d].responses[i].isGreedy);
  }));
  const dropped = new PrunedModel(base, [{ start: 2, count: 1 }]);
  const { rows, meanRetained } = compareOnTasks(
    [{ name: 'original', model: new PrunedModel(base), scoring: 'plain' }, { name: 'drop 2', model: dropped, scoring: 'plain' }],
    tokenizer, [copa, wino], opts,
  );
  assert.deepEqual(rows.map((r) => r.task), ['copa', 'winogrande']);
  assert.equal(rows[0].chance, 0.5);
  for (const r of rows) {
    assert.equal(r.retained[0], r.acc[0] > 0 ? 1 : undefined);
    if (r.acc[0] > 0) assert.equal(r.retained[1], r.acc[1] / r.acc[0]);
  }
  const defined = rows.map((r) => r.retained[1]).filter((x): x is number => x !== undefined);
  assert.equal(meanRetained[1], defined.reduce((a, b) => a + b, 0) / defined.length);
  assert.equal(rows[0].acc[0], cached.aggregates[0].value);
});
