/** `laser search --task`: selection on a benchmark task's accuracy, base validation = a direct evaluation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main.ts';
import { evaluateTask } from '../../../src/eval/harness/evaluate.ts';
import { resolveTasks } from '../../../src/eval/harness/tasks/index.ts';
import { openModelSource } from '../../../src/io/model-source.ts';
import { loadModel } from '../../../src/models/decoder.ts';
import { captureConsole } from '../../helpers/console.ts';
import { datasetsDir, skipUnless, stories260KDir } from '../../helpers/paths.ts';

const model = join(stories260KDir, 'stories260K.bin');

test('laser search --task copa selects on copa accuracy (validation = first 20% of the documents)', { skip: skipUnless(model) || skipUnless(datasetsDir) }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-laser-task-'));
  try {
    const { result, out } = await captureConsole(() => main([
      'laser', 'search', '-m', model, '--task', 'copa', '--max-cases', '20', '--layers', 'last:1', '--types', 'out', '--rhos', '0.1',
      '--data-dir', datasetsDir, '-q', '-o', dir,
    ]), { stderr: true });
    assert.equal(result, 0, out);
    const r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    assert.equal(r.base.summary.cases, 4);
    const source = await openModelSource(model);
    const tokenizer = (await source.tokenizer())!;
    const [copa] = resolveTasks(['copa']);
    const docs = copa.evalDocs(datasetsDir).docs.slice(0, 4);
    const direct = evaluateTask(await loadModel(source), tokenizer, copa, { datasetsDir, docs, batchSize: 4, maxLength: 512, padId: 0, bootstrapIters: 0 });
    assert.equal(r.base.summary.topK['1'], direct.aggregates[0].value);
    assert.equal(r.baseTest.summary.cases, 16);
    const bad = await captureConsole(() => main(['laser', 'search', '-m', model, '--task', 'copa', '--metric', 'top5', '-o', dir]), { stderr: true });
    assert.equal(bad.result, 1);
    assert.match(bad.out, /--metric must be top1/);
    // the log is keyed on the model's content, as the fact-set search's: another model's results are not resumed
    const header = JSON.parse(readFileSync(join(dir, 'runs.jsonl'), 'utf8').split('\n')[0]);
    assert.ok(header.inputs.model.hash, 'model fingerprint logged');
    header.inputs.model.hash = 'another model';
    writeFileSync(join(dir, 'runs.jsonl'), readFileSync(join(dir, 'runs.jsonl'), 'utf8').replace(/^.*\n/, `${JSON.stringify(header)}\n`));
    const again = await captureConsole(() => main([
      'laser', 'search', '-m', model, '--task', 'copa', '--max-cases', '20', '--layers', 'last:1', '--types', 'out', '--rhos', '0.1',
      '--data-dir', datasetsDir, '-q', '-o', dir,
    ]), { stderr: true });
    assert.equal(again.result, 1);
    assert.match(again.out, /the model changed since .*runs\.jsonl was written .* Pass --restart/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
