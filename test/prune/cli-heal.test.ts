/**
 * `linscope prune --distill all --heal-steps N --heal-scope adjacent` end to end on stories260K: the
 * before/after table has the distilled and healed rows, results.json records the healing losses,
 * and the exported (healed) model reloads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/commands/prune.ts';
import { captureConsole } from '../helpers/console.ts';
import { loadPrunedCheckpoint } from '../../src/prune/load.ts';
import { skipUnless, stories260KDir } from '../helpers/paths.ts';

const text = [
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park.',
  'Tom was a happy dog. He liked to run and jump with his friend Sam.',
  'Ben had a toy car. He wanted to show it to his mom. His mom said it was very nice.',
];

test('linscope prune --distill all --heal-steps: rows, losses, reloadable export', { skip: skipUnless(stories260KDir) }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-prune-heal-'));
  try {
    const data = join(dir, 'text.txt');
    writeFileSync(data, [...text, ...text, ...text, ...text].join('\n\n'));
    const out = join(dir, 'out');
    const { result: code, out: printed } = await captureConsole(() => run([
      '-m', stories260KDir, '-d', data, '--k', '1', '--span', '--calibration-docs', '4', '--eval-docs', '8', '--max-length', '32',
      '--distill', 'all', '--distill-steps', '2', '--heal-steps', '3', '--heal-scope', 'adjacent', '-q', '-o', out,
    ]));
    assert.equal(code, 0, printed);
    assert.match(printed, /distillation of all parameters \(mse, 2 steps/);
    assert.match(printed, /healing \(adjacent parameters: [\d,]+, 3 steps\)/);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.deepEqual(results.evaluations.map((e: { name: string }) => e.name), ['original', 'linear k=1', 'linear k=1 + distil all', 'linear k=1 + distil all + heal adjacent']);
    assert.equal(results.healing.length, 3);
    const reloaded = await loadPrunedCheckpoint(join(out, 'model'));
    assert.equal(reloaded.base.numLayers, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
