/**
 * Every architecture with a fixture reproduces Hugging Face's own outputs (logits, every hidden
 * state, pre_final_norm) to 1e-4, unpadded and left-padded, in cached and streaming weight modes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { checkReference, runCheckReference } from '../../src/cli/check-reference.ts';
import { loadModel } from '../../src/models/decoder.ts';
import { openModelSource } from '../../src/io/model-source.ts';
import { maxAbsDiff } from '../../src/tensor/elementwise.ts';
import { fixtureArchs, fixturesDir, skipUnless } from '../helpers/paths.ts';

const quiet = () => {};

for (const arch of fixtureArchs) {
  const dir = join(fixturesDir, arch);
  for (const file of ['reference', 'reference_padded']) {
    test(`${arch}: matches ${file}.safetensors to 1e-4 (logits, hidden_states.*, pre_final_norm)`, { skip: skipUnless(dir) }, async () => {
      const result = await checkReference({ model: dir, reference: join(dir, `${file}.safetensors`), tolerance: 1e-4, log: quiet });
      const names = result.comparisons.map((c) => c.name);
      assert.deepEqual(names, ['logits', 'hidden_states.0', 'hidden_states.1', 'hidden_states.2', 'hidden_states.3', 'hidden_states.4', 'pre_final_norm']);
      for (const c of result.comparisons) assert.ok(c.pass, `${arch} ${file} ${c.name}: max |Δ| ${c.maxAbsDiff}`);
      assert.ok(result.pass);
    });
  }

  test(`${arch}: streaming mode gives bit-identical outputs`, { skip: skipUnless(dir) }, async () => {
    const source = await openModelSource(dir);
    const cached = await loadModel(source);
    const streaming = await loadModel(source, { streaming: true });
    const ids = [[5, 17, 300, 42, 7, 999 % cached.config.vocabSize]];
    const a = cached.forward(ids, { outputHiddenStates: true });
    const b = streaming.forward(ids, { outputHiddenStates: true });
    assert.equal(maxAbsDiff(a.logits, b.logits), 0);
    a.hiddenStates!.forEach((h, i) => assert.equal(maxAbsDiff(h, b.hiddenStates![i]), 0));
  });
}

test('check-reference fails above the tolerance and the command returns exit codes', { skip: skipUnless(fixturesDir) }, async () => {
  const dir = join(fixturesDir, 'llama');
  const lines: string[] = [];
  const strict = await checkReference({ model: dir, reference: join(dir, 'reference.safetensors'), tolerance: 0, log: (l) => lines.push(l) });
  assert.equal(strict.pass, false);
  assert.match(lines.at(-1)!, /FAIL/);
  assert.match(lines.join('\n'), /hidden_states\.0 +max \|Δ\| = 0\.000e\+0 +ok/);
  const log = console.log;
  console.log = quiet;
  try {
    assert.equal(await runCheckReference(['--model', dir, '--reference', join(dir, 'reference.safetensors')]), 0);
    assert.equal(await runCheckReference(['--model', dir, '--reference', join(dir, 'reference.safetensors'), '--tolerance', '0']), 1);
  } finally {
    console.log = log;
  }
});
