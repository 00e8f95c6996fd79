/**
 * The whole run on each of the 9 tiny HF fixtures (no tokenizer: random token ids, or token ids
 * from a file), every companion metric on, outputs written as JSON, CSV, SVG, PNG and HTML.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_ANALYSIS, DEFAULT_SAMPLING, type AnalysisOptions } from '../../src/linearity/options.ts';
import { writeLinearityOutputs } from '../../src/linearity/outputs.ts';
import { randomTokenIds } from '../../src/linearity/data.ts';
import { runLinearity } from '../../src/linearity/run.ts';
import { parseCsv } from '../../src/report/table.ts';
import { fixtureArchs, fixturesDir, skipUnless } from '../helpers/paths.ts';
import { assertSaneScores, tempDir } from './helpers.ts';

const skip = skipUnless(join(fixturesDir, 'gpt2'));
const sampling = { ...DEFAULT_SAMPLING, samples: 6 };
const analysis: AnalysisOptions = { ...DEFAULT_ANALYSIS, batchSize: 4, parts: true, anisotropy: true, intrinsicDim: true, logitLens: true, perToken: 2 };

test('all 9 fixtures: a sane profile with parts and companions, written as JSON/CSV/SVG/PNG/HTML', { skip }, async () => {
  const out = tempDir();
  const run = await runLinearity({
    models: fixtureArchs.map((a) => join(fixturesDir, a)),
    data: { kind: 'random', length: 30 },
    sampling,
    analysis,
    cache: { enabled: false },
  });
  assert.deepEqual(run.models.map((m) => m.model.label), [...fixtureArchs]);
  for (const m of run.models) {
    const what = m.model.label;
    assert.equal(m.tokens, 6 * 30, what);
    assert.equal(m.padTokens, 0, what);
    assert.equal(m.pairs.length, 4, what);
    assertSaneScores(m, what);
    assert.ok(m.pairs.every((p) => p.attention && p.mlp), `${what}: parts`);
    assert.ok(m.states.every((s) => s.anisotropy! > 0 && s.anisotropy! <= 1 && Number.isFinite(s.meanCosine!)), `${what}: anisotropy`);
    assert.ok(m.states.every((s) => s.intrinsicDimension!.points === 180), `${what}: intrinsic dimension points`);
    assert.equal(m.logitLens!.length, 5, what);
    assert.ok(m.worstTokens!.every((list) => list.length === 2 && list.every((w) => w.context.includes(`⟦${w.token}⟧`))), `${what}: worst tokens`);
    assert.equal(m.model.parallelResidual, ['gpt_neox', 'gptj', 'phi'].includes(what), `${what}: parallel residual`);
  }

  const files = await writeLinearityOutputs(out, run);
  for (const f of ['linearity.json', 'linearity.csv', 'states.csv', 'worst-tokens.csv', 'profile.svg', 'profile.png', 'parts.svg', 'anisotropy.svg', 'intrinsic-dimension.svg', 'logit-lens.svg', 'mean-linearity.svg', 'report.html']) {
    assert.ok(files.includes(f) && existsSync(join(out, f)), `${f} written`);
  }
  const json = JSON.parse(readFileSync(join(out, 'linearity.json'), 'utf8'));
  assert.equal(json.models.length, 9);
  assert.equal(json.models[0].pairs[0].layer.withResidual.exact, run.models[0].pairs[0].layer.withResidual.exact, 'JSON keeps every digit');
  assert.deepEqual(json.sampling, sampling);
  const csv = parseCsv(readFileSync(join(out, 'linearity.csv'), 'utf8'));
  assert.equal(csv.length, 1 + 9 * 4);
  assert.deepEqual(csv[0].slice(0, 9), ['model', 'block', 'pair', 'depth', 'tokens', 'exact', 'robust', 'no_residual_exact', 'no_residual_robust']);
  assert.equal(Number(csv[1][5]), run.models[0].pairs[0].layer.withResidual.exact);
  const svg = readFileSync(join(out, 'profile.svg'), 'utf8');
  assert.match(svg, /^<svg/);
  for (const a of fixtureArchs) assert.ok(svg.includes(a), `profile legend names ${a}`);
  assert.deepEqual([...readFileSync(join(out, 'profile.png')).subarray(1, 4)], [...Buffer.from('PNG')]);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  for (const h of ['Linearity profile', 'Attention and MLP parts', 'Companion metrics', 'Where the linear map fails', 'Run']) assert.ok(html.includes(`<h2>${h}</h2>`), h);
  assert.ok(!/<script|https?:\/\/(?!www\.w3\.org)/.test(html.replace(/<details[\s\S]*<\/details>/, '')), 'self-contained');
});

test('fixtures: token ids from a JSON file give exactly the numbers of the same ids drawn at random', { skip }, async () => {
  const dir = tempDir();
  const model = join(fixturesDir, 'llama');
  const ids = join(dir, 'ids.json');
  writeFileSync(ids, JSON.stringify(randomTokenIds(sampling.samples, 30, 1000, sampling.seed)));
  const base = { models: [model], sampling, analysis: { ...DEFAULT_ANALYSIS, batchSize: 4 }, cache: { enabled: false } };
  const random = await runLinearity({ ...base, data: { kind: 'random', length: 30 } });
  const fromFile = await runLinearity({ ...base, data: { kind: 'ids', path: ids } });
  assert.deepEqual(fromFile.models[0].pairs, random.models[0].pairs);
  assert.equal(fromFile.models[0].sequencesHash, random.models[0].sequencesHash);
  assert.equal(fromFile.data.kind, 'ids');
});

test('fixtures: --parts is refused where sublayers do not add to the residual stream', { skip }, async () => {
  const dir = tempDir();
  const cfg = JSON.parse(readFileSync(join(fixturesDir, 'opt', 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, do_layer_norm_before: false }));
  writeFileSync(join(dir, 'model.safetensors'), readFileSync(join(fixturesDir, 'opt', 'model.safetensors')));
  await assert.rejects(
    runLinearity({ models: [dir], data: { kind: 'random', length: 8 }, sampling, analysis: { ...DEFAULT_ANALYSIS, parts: true }, cache: { enabled: false } }),
    /--parts: opt normalises after each sublayer/,
  );
});

test('fixtures: streaming weights (one block at a time) gives the same numbers', { skip }, async () => {
  const base = { models: [join(fixturesDir, 'gpt_neox')], data: { kind: 'random' as const, length: 16 }, sampling, analysis: { ...DEFAULT_ANALYSIS, parts: true }, cache: { enabled: false } };
  const kept = await runLinearity(base);
  const streamed = await runLinearity({ ...base, execution: { streaming: true } });
  assert.deepEqual(streamed.models[0].pairs, kept.models[0].pairs);
});

test('fixtures: sequences never exceed the model context, whatever --max-tokens says', { skip }, async () => {
  const run = await runLinearity({
    models: [join(fixturesDir, 'gpt2')],
    data: { kind: 'random', length: 200 },
    sampling: { ...sampling, samples: 2, maxTokens: 1000 },
    analysis: DEFAULT_ANALYSIS,
    cache: { enabled: false },
  });
  assert.equal(run.models[0].tokens, 2 * 128, 'n_positions = 128');
});
