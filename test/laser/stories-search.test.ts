/**
 * End to end on the real stories260K model (llama2.c format) with a TinyStories cloze set: the
 * library search, then the `linscope laser` command (search, resume, apply → eval on the export).
 * Kept small: one or two matrix types, one layer, two ρ, a handful of cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { buildClozeCases } from '../../src/data/cloze.ts';
import { splitCases } from '../../src/data/split.ts';
import { openModelSource } from '../../src/io/model-source.ts';
import { loadModel } from '../../src/models/decoder.ts';
import { evaluateFactualRecall, prepareCases } from '../../src/eval/factual-recall.ts';
import { laserSearch } from '../../src/laser/search.ts';
import { RunLog } from '../../src/laser/run-log.ts';
import { run } from '../../src/cli/commands/laser.ts';
import { datasetsDir, skipUnless, stories260KDir } from '../helpers/paths.ts';

const storiesText = join(datasetsDir, 'tinystories-valid-subset', 'tinystories_val.txt');
const skip = skipUnless(stories260KDir) || skipUnless(storiesText);

test('stories260K + TinyStories cloze: search end to end (library)', { skip }, async () => {
  const source = await openModelSource(stories260KDir);
  const model = await loadModel(source);
  const tokenizer = (await source.tokenizer())!;
  const cases = buildClozeCases(await readFile(storiesText, 'utf8'), { maxCases: 15, maxPromptChars: 300 });
  assert.equal(cases.length, 15);
  const { validation, test: testCases } = splitCases(cases, { fraction: 0.4 });
  const prepared = { validation: prepareCases(validation, tokenizer), test: prepareCases(testCases, tokenizer) };
  const dir = mkdtempSync(join(tmpdir(), 'laser-s260-'));
  try {
    const res = await laserSearch({
      model: model,
      evaluate: async (split) => (await evaluateFactualRecall(model, tokenizer, prepared[split], { batchSize: 8 })).summary,
      log: new RunLog(join(dir, 'runs.jsonl'), { cases: 15 }),
      types: ['out'], layers: [4], rhos: [0.5, 0.05],
    });
    assert.equal(res.grid.length, 2);
    assert.equal(res.base.summary.cases, 6);
    assert.equal(res.chosenTest!.summary.cases, 9);
    assert.ok(res.base.summary.topK[10] > 0.5, 'the base model recalls names from the story');
    assert.deepEqual(res.grid[1].ranks, [{ tensorName: 'model.layers.4.mlp.down_proj.weight', outDim: 64, inDim: 172, rank: 3 }]);
    assert.ok(res.grid[1].summary.logLoss !== res.base.summary.logLoss);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('linscope laser: search writes its outputs and resumes; apply → eval on the exported folder', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'laser-cli-'));
  const out: string[] = [];
  const log = console.log, err = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(' '));
  console.error = () => {};
  try {
    const common = ['--dataset', 'cloze', '--data', storiesText, '--max-cases', '10', '--quiet'];
    const search = ['search', '-m', stories260KDir, ...common, '--types', 'out', '--layers', 'last:1', '--rhos', '0.5,0.05', '-o', join(dir, 'search')];
    assert.equal(await run(search), 0);
    for (const f of ['runs.jsonl', 'results.csv', 'results.json', 'summary.csv', 'heatmap.svg', 'heatmap.json', 'heatmap-accuracy.svg', 'report.html']) {
      assert.ok(existsSync(join(dir, 'search', f)), f);
    }
    const lines = readFileSync(join(dir, 'search', 'runs.jsonl'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 1 + 3 + 2); // header, base + 2 grid (validation), base + chosen (test)
    assert.equal(await run(search), 0); // resumes: nothing new is logged
    assert.equal(readFileSync(join(dir, 'search', 'runs.jsonl'), 'utf8').trim().split('\n').length, lines.length);

    assert.equal(await run(['apply', '-m', stories260KDir, '-i', 'out:4:0.05', '-o', join(dir, 'model'), '--quiet']), 0);
    assert.ok(existsSync(join(dir, 'model', 'tok512.bin')));
    const evalExport = ['eval', '-m', join(dir, 'model'), '--tokenizer', join(dir, 'model', 'tok512.bin'), ...common, '-o', join(dir, 'e1')];
    assert.equal(await run(evalExport), 0);
    assert.equal(await run(['eval', '-m', stories260KDir, ...common, '-i', 'out:4:0.05', '-o', join(dir, 'e2')]), 0);
    assert.equal(await run(['eval', '-m', stories260KDir, ...common, '-o', join(dir, 'e3')]), 0);
    // the same numbers whether the intervention is applied in memory or loaded from the export
    const summary = (d: string) => JSON.parse(readFileSync(join(dir, d, 'summary.json'), 'utf8')).summary;
    assert.deepEqual(summary('e1'), summary('e2'));
    assert.notDeepEqual(summary('e2'), summary('e3'));
  } finally {
    console.log = log;
    console.error = err;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stories260K: cached and uncached greedy generation give the same cloze generations', { skip }, async () => {
  const { cachedGreedy, uncachedGreedy } = await import('../../src/eval/greedy.ts');
  const source = await openModelSource(stories260KDir);
  const model = await loadModel(source);
  const tokenizer = (await source.tokenizer())!;
  const cases = buildClozeCases(await readFile(storiesText, 'utf8'), { maxCases: 6, maxPromptChars: 200 });
  const a = await evaluateFactualRecall(model, tokenizer, cases, { generation: true, generate: cachedGreedy(model), batchSize: 3 });
  const b = await evaluateFactualRecall(model, tokenizer, cases, { generation: true, generate: uncachedGreedy(model), batchSize: 4 });
  assert.deepEqual(a.perCase.map((c) => c.generated), b.perCase.map((c) => c.generated));
  assert.ok(a.summary.generationContains! > 0);
});
