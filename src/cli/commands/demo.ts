/**
 * `linscope demo`: a one-minute tour on the real stories260K model that ships beside the repo
 * (../shared/data): generate a story, measure the linearity profile over TinyStories slices, and
 * run a small LASER evaluation on a TinyStories cloze set. Every step is an ordinary subcommand,
 * printed before it runs so it can be copied.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defineCommand, parseOrExplain } from '../args.ts';
import { commands } from '../main.ts';
import { sharedDataDir } from '../../train/shipped-data.ts';

const sharedData = sharedDataDir();

const spec = defineCommand({
  name: 'demo',
  summary: 'A short end-to-end tour on the bundled stories260K model',
  options: {
    model: { type: 'string', description: 'Model to use', default: join(sharedData, 'models', 'stories260K') },
    data: { type: 'string', description: 'Text for the linearity profile', default: join(sharedData, 'datasets', 'tinystories-valid-subset', 'tinystories_val.txt') },
    out: { type: 'string', description: 'Output folder', default: 'out/demo', short: 'o' },
  },
});

async function step(title: string, name: string, argv: string[]): Promise<void> {
  console.log(`\n== ${title}\n$ linscope ${name} ${argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}\n`);
  const code = await (await commands[name].load())(argv);
  if (code !== 0) throw new Error(`demo step "${name}" failed with exit code ${code}`);
}

export async function run(argv: string[]): Promise<number> {
  const args = parseOrExplain(spec, argv);
  if (typeof args === 'number') return args;
  const { model, data, out } = args.options;
  for (const [what, path] of [['model', model], ['data', data]] as const) {
    if (!existsSync(path)) throw new Error(`the demo's ${what} is not at ${path} (set --${what}, or LINSCOPE_SHARED_DATA to the shared data folder)`);
  }
  await step('What is this model?', 'info', ['--model', model]);
  await step('A story, greedy, with a KV cache', 'generate', ['--model', model, '--prompt', 'Once upon a time', '--max-new-tokens', '60']);
  await step('How linear is each layer? (the paper\'s score, 64 slices of 512 characters)', 'linearity', [
    '--model', model, '--data', data, '--samples', '64', '--anisotropy', '--logit-lens', '--out', join(out, 'linearity'), '--quiet',
  ]);
  await step('LASER: rank-reduce one MLP matrix and evaluate recall on a TinyStories cloze set', 'laser', [
    'eval', '--model', model, '--dataset', 'cloze', '--data', data, '--max-cases', '200', '--interventions', 'out:4:0.1', '--quiet',
  ]);
  console.log(`\nDone. The linearity report is ${join(out, 'linearity', 'report.html')}.`);
  return 0;
}
