/** A mistyped command or subcommand name gets "did you mean …", as mistyped options already did. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.ts';

async function stderrOf(argv: string[]): Promise<{ code: number; err: string }> {
  const error = console.error;
  const write = process.stderr.write;
  let err = '';
  console.error = (...a: unknown[]) => void (err += `${a.join(' ')}\n`);
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await main(argv), err };
  } finally {
    console.error = error;
    process.stderr.write = write;
  }
}

test('unknown commands suggest the closest one', async () => {
  for (const [typo, meant] of [['linerity', 'linearity'], ['lasr', 'laser'], ['purne', 'prune'], ['donwload', 'download'], ['fintune', 'finetune'], ['check-refrence', 'check-reference']]) {
    const { code, err } = await stderrOf([typo]);
    assert.equal(code, 2);
    assert.ok(err.startsWith(`linscope: unknown command "${typo}" (did you mean "${meant}"?)\n`), err);
    assert.match(err, /Commands:/);
  }
  const far = await stderrOf(['zzzzzzzz']);
  assert.ok(far.err.startsWith("linscope: unknown command \"zzzzzzzz\"\n"), far.err);
});

test('unknown laser subcommands suggest the closest one', async () => {
  for (const [typo, meant] of [['serch', 'search'], ['aply', 'apply'], ['evl', 'eval'], ['higher-ordr', 'higher-order'], ['higher', 'higher-order']]) {
    const { code, err } = await stderrOf(['laser', typo]);
    assert.equal(code, 2);
    assert.ok(err.startsWith(`linscope laser: unknown subcommand "${typo}" (did you mean "${meant}"?)\n`), err);
    assert.match(err, /Usage: linscope laser <search\|apply\|eval\|higher-order>/);
  }
});
