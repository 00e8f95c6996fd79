import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { run as experiment } from '../../src/cli/commands/experiment.ts';
import { run as pretrain, withOverrides } from '../../src/cli/commands/pretrain.ts';
import { parsePretrainConfig } from '../../src/train/pretrain-config.ts';
import { captureConsole } from '../helpers/console.ts';

async function captured(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const { result, out } = await captureConsole(fn);
  return { code: result, out };
}

test('linscope pretrain: YAML config + --data + overrides, then --resume of a finished run is a no-op', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-cli-'));
  try {
    const data = join(dir, 'd.txt');
    writeFileSync(data, Array.from({ length: 30 }, (_, i) => `Line ${i % 3} of a small text about a cat and a dog.`).join('\n\n'));
    const cfg = join(dir, 'c.yaml');
    writeFileSync(cfg, [
      'model: { hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 16 }',
      'tokenizer: { vocabSize: 270, minFrequency: 1 }',
      'seqLen: 8', 'batchSize: 2', 'steps: 2', 'optimizer: { warmupSteps: 0 }',
      'eval: { every: 1, batches: 1 }', 'linearity: { every: 0 }', 'checkpoint: { every: 1, keep: 1 }',
    ].join('\n'));
    const out = join(dir, 'run');
    const r = await captured(() => pretrain(['--config', cfg, '--data', data, '--out', out, '--steps', '3', '--regularizer', 'mse', '--quiet']));
    assert.equal(r.code, 0);
    const summary = JSON.parse(r.out);
    assert.equal(summary.steps, 3);
    assert.equal(summary.finished, true);
    assert.ok(existsSync(join(out, 'model', 'model.safetensors')) && existsSync(join(out, 'report.html')) && existsSync(join(out, 'loss.svg')));
    assert.equal(JSON.parse(readFileSync(join(out, 'pretrain-config.json'), 'utf8')).regularizer.kind, 'mse');
    // resuming without --config reads the saved one; the run is already complete
    const again = await captured(() => pretrain(['--out', out, '--resume', '--data', data, '--quiet']));
    assert.equal(JSON.parse(again.out).steps, 3);
    const evalsAt3 = readFileSync(join(out, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"type":"eval"') && l.includes('"step":3,'));
    assert.equal(evalsAt3.length, 1, 'no duplicate evaluation record');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('command-line overrides are validated like the config', () => {
  const base = parsePretrainConfig({ model: { hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 8 } });
  assert.equal(withOverrides(base, { lambda: 0.25, regularizer: 'cosine' }).regularizer.lambda, 0.25);
  assert.throws(() => withOverrides(base, { lambda: -1 }), /regularizer.lambda/);
});

test('--arch carries a grouped-query Llama config over to an architecture without it, saying so', () => {
  const gqa = parsePretrainConfig({ model: { hiddenSize: 16, numLayers: 1, numHeads: 4, numKvHeads: 2, intermediateSize: 8 } });
  const notes: string[] = [];
  const gpt2 = withOverrides(gqa, { arch: 'gpt2' }, (n) => notes.push(n));
  assert.equal(gpt2.model.arch, 'gpt2');
  assert.equal(gpt2.model.numKvHeads, undefined);
  assert.deepEqual(notes, ['gpt2 has no grouped-query attention: 4 key/value heads (the config\'s numKvHeads 2 is for llama)']);
  const bloom = withOverrides(gqa, { arch: 'bloom' }, (n) => notes.push(n));
  assert.equal(bloom.model.intermediateSize, 64);
  assert.match(notes[notes.length - 1], /BLOOM's MLP is always 4·hiddenSize wide: intermediateSize 64 \(the config says 8\)/);
  const mistral = withOverrides(gqa, { arch: 'mistral' }, (n) => notes.push(n));
  assert.equal(mistral.model.numKvHeads, 2, 'kept where the architecture has grouped-query attention');
  assert.equal(notes.length, 3);
  assert.throws(() => withOverrides(gqa, { arch: 'gpt3' }), /model.arch/);
});

test('linscope experiment: unknown experiment names are refused', async () => {
  await assert.rejects(experiment(['nonsense']), /unknown experiment "nonsense"/);
});
