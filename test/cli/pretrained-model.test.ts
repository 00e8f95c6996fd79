/**
 * A model written by `linscope pretrain` is an ordinary Hugging Face folder of its architecture
 * (Llama, and with --arch GPT-2 and OPT here): every other command takes it as --model (info,
 * generate, linearity, laser eval/search/apply/higher-order, prune, finetune), and the folders those
 * commands write load again.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { captureConsole } from '../helpers/console.ts';
import { datasetsDir, skipUnless } from '../helpers/paths.ts';

const tinyStories = join(datasetsDir, 'tinystories-valid-subset');
const dir = mkdtempSync(join(tmpdir(), 'linscope-pretrained-'));
const text = join(dir, 'stories.txt');

/** Runs `linscope ...argv` in-process; returns its exit code and what it printed (stdout and stderr). */
async function linscope(...argv: string[]): Promise<{ code: number; out: string }> {
  const { result, out } = await captureConsole(() => main(argv), { stderr: true });
  return { code: result, out };
}

async function ok(...argv: string[]): Promise<string> {
  const r = await linscope(...argv);
  assert.equal(r.code, 0, `linscope ${argv.join(' ')} failed:\n${r.out}`);
  return r.out;
}

const skip = skipUnless(tinyStories);

before(() => {
  if (skip) return;
  const names = ['Lily', 'Tom', 'Ben', 'Sue'];
  const stories = Array.from({ length: 60 }, (_, i) => {
    const [a, b] = [names[i % 4], names[(i + 1) % 4]];
    return `Once upon a time, ${a} had a red ball. ${a} gave the ball to ${b}. ${b} said thank you to ${a}. They played in the park all day.`;
  });
  writeFileSync(text, stories.join('\n\n'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Architecture → the config's model line and the HF class its config.json must name. */
const ARCHS = {
  llama: { model: '{ hiddenSize: 32, numLayers: 3, numHeads: 2, numKvHeads: 1, intermediateSize: 48 }', hfClass: 'LlamaForCausalLM' },
  gpt2: { model: '{ arch: gpt2, hiddenSize: 32, numLayers: 3, numHeads: 2, intermediateSize: 48, maxPositions: 2048 }', hfClass: 'GPT2LMHeadModel' },
  opt: { model: '{ hiddenSize: 32, numLayers: 3, numHeads: 2, intermediateSize: 48, maxPositions: 2048 }', hfClass: 'OPTForCausalLM', cliArch: 'opt' },
} as const;

for (const [arch, a] of Object.entries(ARCHS)) {
  describe(`pretrain ${arch}`, () => {
    const run = join(dir, arch);
    const model = join(run, 'model');
    before(async () => {
      if (skip) return;
      const cfg = join(dir, `${arch}.yaml`);
      writeFileSync(cfg, [
        `model: ${a.model}`,
        'tokenizer: { vocabSize: 300, minFrequency: 1 }',
        'seqLen: 32', 'batchSize: 4', 'steps: 6', 'optimizer: { warmupSteps: 0, lr: 3.0e-3 }',
        'eval: { every: 6, batches: 1 }', 'linearity: { every: 0 }', 'checkpoint: { every: 6, keep: 1 }',
      ].join('\n'));
      // OPT comes from the command line (--arch), GPT-2 from the config's model.arch
      await ok('pretrain', '--config', cfg, ...('cliArch' in a ? ['--arch', a.cliArch] : []), '--data', text, '--out', run, '--quiet');
    });

    test(`pretrained ${arch}: HF config, info and generate`, { skip }, async () => {
      const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));
      assert.equal(config.model_type, arch);
      assert.deepEqual(config.architectures, [a.hfClass]);
      assert.match(await ok('info', '--model', model), new RegExp(arch, 'i'));
      const out = await ok('generate', '--model', model, '--prompt', 'Once upon a time', '--max-new-tokens', '5');
      assert.ok(out.includes('Once upon a time'), out);
    });

    test(`pretrained ${arch}: linearity profile`, { skip }, async () => {
      const out = join(run, 'lin');
      await ok('linearity', '--model', model, '--data', text, '--samples', '6', '--chars', '96', '--out', out, '--anisotropy', '--logit-lens');
      const result = JSON.parse(readFileSync(join(out, 'linearity.json'), 'utf8'));
      assert.ok(JSON.stringify(result).includes('withResidual'));
    });

    test(`pretrained ${arch}: laser eval, search, apply (reloads), higher-order`, { skip }, async () => {
      const facts = ['--dataset', 'cloze', '--data', tinyStories, '--max-cases', '12', '--quiet'];
      await ok('laser', 'eval', '--model', model, ...facts, '-i', 'out:1:0.5');
      await ok('laser', 'search', '--model', model, ...facts, '--types', 'out,q', '--layers', 'all', '--rhos', '0.5,0.1', '--out', join(run, 'search'));
      const applied = join(run, 'applied');
      await ok('laser', 'apply', '--model', model, '-i', 'in:2:0.25', '--out', applied, '--quiet');
      await ok('laser', 'eval', '--model', applied, ...facts);
      await ok('laser', 'higher-order', '--model', model, ...facts, '-i', 'out:0:0.5');
    });

    test(`pretrained ${arch}: prune (linear replacement) and finetune`, { skip }, async () => {
      const out = join(run, 'prune');
      await ok('prune', '--model', model, '--data', text, '--k', '1', '--calibration-docs', '8', '--calibration-length', '24', '--eval-docs', '8', '--max-length', '24', '--max-facts', '8', '--out', out);
      assert.ok(existsSync(join(out, 'results.csv')));
      await ok('finetune', '--model', model, '--task', 'cloze', '--steps', '2', '--batch-size', '4', '--train-examples', '16', '--eval-examples', '8', '--out', join(run, 'ft'), '--quiet');
      assert.match(await ok('info', '--model', join(run, 'ft', 'model')), new RegExp(arch, 'i'));
    });
  });
}
