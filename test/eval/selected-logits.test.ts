import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadModel } from '../../src/models/decoder.ts';
import { logitsAt } from '../../src/eval/selected-logits.ts';
import { fixtureArchs, fixturesDir, skipUnless } from '../helpers/paths.ts';

for (const arch of ['gpt2', 'llama']) {
  const dir = join(fixturesDir, arch);
  test(`${arch}: logits at chosen positions (staged path) equal the full forward's rows, with left padding`, { skip: skipUnless(dir) }, async () => {
    const model = await loadModel(dir);
    const ids = [[0, 0, 0, 5, 9, 100, 7], [3, 8, 2, 44, 61, 17, 90]];
    const attentionMask = [[0, 0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1]];
    const at: [number, number][] = [[0, 6], [1, 2], [0, 4], [1, 6]];
    const staged = await logitsAt(model, ids, { attentionMask }, at);
    const plain = await logitsAt({ forward: (x, o) => model.forward(x, o) }, ids, { attentionMask }, at);
    assert.deepEqual(staged.shape, plain.shape);
    let err = 0;
    for (let i = 0; i < staged.size; i++) err = Math.max(err, Math.abs(staged.data[i] - plain.data[i]));
    assert.ok(err < 1e-5, `max |Δ| ${err}`);
  });
}

// every architecture family: with logitsAt the last block runs its queries, residual stream and MLP
// from the first requested position on (ForwardContext.queryFrom), so each family's block is covered
for (const arch of fixtureArchs) {
  const dir = join(fixturesDir, arch);
  test(`${arch}: forward's logitsAt and lastTokenLogitsOnly equal the full forward's rows; a pair outside the batch is refused`, { skip: skipUnless(dir) }, async () => {
    const model = await loadModel(dir);
    const ids = [[0, 0, 0, 5, 9, 100, 7], [3, 8, 2, 44, 61, 17, 90]];
    const attentionMask = [[0, 0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1]];
    const full = model.forward(ids, { attentionMask }).logits;
    const [, T, V] = full.shape;
    const close = (got: Float32Array | Float64Array, pairs: readonly (readonly [number, number])[]) => {
      let err = 0;
      pairs.forEach(([b, t], n) => {
        for (let v = 0; v < V; v++) err = Math.max(err, Math.abs(got[n * V + v] - full.data[(b * T + t) * V + v]));
      });
      assert.ok(err < 1e-5, `max |Δ| ${err}`);
    };
    const at: [number, number][] = [[1, 2], [0, 6], [0, 4], [1, 6], [1, 2]];
    const some = model.forward(ids, { attentionMask, logitsAt: at }).logits;
    assert.deepEqual(some.shape, [1, at.length, V]);
    close(some.data, at);
    // with every hidden state returned too, the head reads the rows of the normed last state
    const withStates = model.forward(ids, { attentionMask, logitsAt: at, outputHiddenStates: true });
    assert.equal(withStates.hiddenStates!.length, model.config.numLayers + 1);
    close(withStates.logits.data, at);
    const last = model.forward(ids, { attentionMask, lastTokenLogitsOnly: true }).logits;
    assert.deepEqual(last.shape, [2, 1, V]);
    close(last.data, [[0, T - 1], [1, T - 1]]);
    assert.throws(() => model.forward(ids, { logitsAt: [[2, 0]] }), /logits requested at \(2, 0\), outside the \[2, 7\] batch/);
  });
}
