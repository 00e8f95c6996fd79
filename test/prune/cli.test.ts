/**
 * `linscope prune` end to end on stories260K with a tiny text file: prints the ranking and the
 * before/after table, writes ranking.csv / results.csv / results.json and an exported model that
 * reloads to the pruned model's logits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/commands/prune.ts';
import { loadPrunedCheckpoint } from '../../src/prune/load.ts';
import { skipUnless, stories260KDir } from '../helpers/paths.ts';

const paragraphs = [
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park.',
  'One day, she saw a big red ball. She ran to it and kicked it very high.',
  'Tom was a happy dog. He liked to run and jump with his friend Sam.',
  'The sun was shining and the birds were singing. Lily smiled and said hello to the bird.',
  'Ben had a toy car. He wanted to show it to his mom. His mom said it was very nice.',
  'They played together all day and became best friends. The end.',
];

test('linscope prune: tables, files and an export that reloads', { skip: skipUnless(stories260KDir) }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-prune-cli-'));
  const data = join(dir, 'text.txt');
  writeFileSync(data, [...paragraphs, ...paragraphs, ...paragraphs].join('\n\n'));
  const out = join(dir, 'out');
  const lines: string[] = [];
  const log = console.log;
  console.log = (s: unknown) => lines.push(String(s));
  let code: number;
  try {
    code = await run([
      '-m', stories260KDir, '-d', data, '--k', '2', '--method', 'linear', '--criterion', 'angular', '--map-input', 'mlp',
      '--calibration-docs', '6', '--eval-docs', '12', '--max-length', '32', '--distill-steps', '3', '--distill-loss', 'cosine', '-q', '-o', out,
    ]);
  } finally {
    console.log = log;
  }
  try {
    assert.equal(code, 0);
    const text = lines.join('\n');
    assert.match(text, /ranking by angular/);
    assert.match(text, /before \/ after/);
    assert.match(text, /non-overlapping chunks of 32 tokens/);
    assert.match(text, /sliding windows of ≤32 tokens, stride 16/);
    for (const f of ['ranking.csv', 'results.csv', 'results.json', 'model/config.json', 'model/model.safetensors', 'model/prune.json']) {
      assert.ok(existsSync(join(out, f)), `${f} missing`);
    }
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.equal(results.evaluations.length, 3);
    assert.equal(results.evaluations[2].blocks, 3);
    assert.equal(results.distillation.length, 3);
    const reloaded = await loadPrunedCheckpoint(join(out, 'model'));
    assert.equal(reloaded.base.numLayers, 3);
    assert.ok(readFileSync(join(out, 'results.csv'), 'utf8').startsWith('model,blocks,ppl (chunks)'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('linscope prune --help lists the options', async () => {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => (lines.push(s), true)) as typeof process.stdout.write;
  try {
    assert.equal(await run(['--help']), 0);
  } finally {
    process.stdout.write = write;
  }
  const help = lines.join('');
  for (const flag of ['--criterion', '--span', '--sequential', '--distill-steps', '--map-input', '--out']) assert.ok(help.includes(flag), flag);
});
