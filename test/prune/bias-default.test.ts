/**
 * `prune --bias`: one default, the same in `--help` and in the code — no bias, so an mlp map folds
 * into any MLP output projection and the export stays vanilla — and an explicit --bias / --bias=true
 * wins; what the export then holds follows (--help: test/cli/tokenizer-option.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/commands/prune.ts';
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

test('prune: no map bias by default; --bias and --bias=true fit one; mlp maps on Llama fold', { skip: skipUnless(stories260KDir) }, async () => {
  const byDefault = await prune([]);
  assert.equal(byDefault.prune.replacements[0].bias, false);
  assert.equal(byDefault.config.linscope.linear_maps[0].bias, null);
  assert.equal(byDefault.config.model_type, 'linscope_llama');
  for (const flag of [['--bias'], ['--bias=true']]) {
    const on = await prune(flag);
    assert.equal(on.prune.replacements[0].bias, true, flag.join(' '));
    assert.notEqual(on.config.linscope.linear_maps[0].bias, null);
  }
  const mlp = await prune(['--map-input', 'mlp']);
  assert.equal(mlp.prune.replacements[0].bias, false);
  assert.equal(mlp.prune.folded.length, 1);
  assert.equal(mlp.config.model_type, 'llama');
});
