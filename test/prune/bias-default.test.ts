/**
 * `prune --bias`: one default, the same in `--help` and in the code — a bias, except for --map-input
 * mlp on an MLP whose output projection has none (then none, so the map folds and the export stays
 * vanilla) — and an explicit --bias / --no-bias always wins. (--help: test/cli/tokenizer-option.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultMapBias, run } from '../../src/cli/commands/prune.ts';
import { captureConsole } from '../helpers/console.ts';
import { skipUnless, stories260KDir } from '../helpers/paths.ts';

const text = Array.from({ length: 12 }, (_, i) => `Once upon a time, there was a little girl named Lily number ${i}. She loved to play outside in the park with her dog.`).join('\n\n');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function prune(extra: string[]): Promise<{ prune: Record<string, any>; config: Record<string, any> }> {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-prune-bias-'));
  try {
    writeFileSync(join(dir, 'text.txt'), text);
    const out = join(dir, 'out');
    const code = await captureConsole(() => run(['-m', stories260KDir, '-d', join(dir, 'text.txt'), '--k', '1', '--calibration-docs', '6', '--eval-docs', '4',
      '--max-length', '32', '--criterion', 'angular', '-q', '-o', out, ...extra]));
    assert.equal(code.result, 0);
    return {
      prune: JSON.parse(readFileSync(join(out, 'model', 'prune.json'), 'utf8')),
      config: JSON.parse(readFileSync(join(out, 'model', 'config.json'), 'utf8')),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('defaultMapBias: yes, except mlp maps on output projections without bias', () => {
  assert.equal(defaultMapBias('residual', false), true);
  assert.equal(defaultMapBias('residual', true), true);
  assert.equal(defaultMapBias('mlp', true), true);
  assert.equal(defaultMapBias('mlp', false), false);
});

test('prune: residual maps get a bias by default; --bias=false drops it; mlp maps on Llama fold without one', { skip: skipUnless(stories260KDir) }, async () => {
  const byDefault = await prune([]);
  assert.equal(byDefault.prune.replacements[0].bias, true);
  assert.notEqual(byDefault.config.linscope.linear_maps[0].bias, null);
  assert.equal(byDefault.config.model_type, 'linscope_llama');
  for (const flag of [['--bias=false']]) {
    const off = await prune(flag);
    assert.equal(off.prune.replacements[0].bias, false, flag.join(' '));
  }
  const mlp = await prune(['--map-input', 'mlp']);
  assert.equal(mlp.prune.replacements[0].bias, false);
  assert.equal(mlp.prune.folded.length, mlp.prune.replacements[0].span === '0' ? 0 : 1);
});
