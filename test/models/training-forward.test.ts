/**
 * One definition of each architecture: the training forward (architecture module on the autograd
 * tape, src/train/trainable-model.ts) equals the inference forward (the same module on eager
 * tensors, src/models/decoder.ts) on every fixture checkpoint, for logits, every HF hidden state and
 * pre_final_norm, unpadded and left-padded:
 * - to 1e-6 relative against the runtime keeping attention probabilities (then both paths run the
 *   same kernels in the same order, bit for bit, except exact GELU, table-interpolated on the tape);
 * - to 1e-5 relative to the largest entry (at most a few float32 ulps) against the runtime's default
 *   attention, which divides by the softmax row sums after P·V instead of normalising P first (the
 *   tape keeps the normalised P for backward).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openModelSource } from '../../src/io/model-source.ts';
import { loadModel } from '../../src/models/decoder.ts';
import { maxAbsDiff } from '../../src/tensor/elementwise.ts';
import { Rng } from '../../src/tensor/random.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { TrainableModel } from '../../src/train/trainable-model.ts';
import { fixtureArchs, fixturesDir, skipUnless } from '../helpers/paths.ts';

const TOL = 1e-5;

function maxAbs(t: Tensor): number {
  let m = 0;
  for (const x of t.data) m = Math.max(m, Math.abs(x));
  return m;
}

for (const arch of fixtureArchs) {
  const dir = join(fixturesDir, arch);
  test(`${arch}: training forward equals inference forward (logits, hidden states, pre_final_norm)`, { skip: skipUnless(dir) }, async () => {
    const source = await openModelSource(dir);
    const runtime = await loadModel(source);
    const trainable = TrainableModel.fromSource(source);
    const L = runtime.numLayers, V = runtime.config.vocabSize;
    const rng = new Rng(11);
    const B = 2, T = 9;
    const rows = Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(V)));
    const masks = [undefined, [new Array(T).fill(1), [0, 0, 0, ...new Array(T - 3).fill(1)]]];
    for (const attentionMask of masks) {
      const ours = trainable.evaluate(rows.flat(), B, T, { attentionMask });
      for (const keepAttentionProbs of [true, false]) {
        const what = `${attentionMask ? 'left-padded' : 'unpadded'}, ${keepAttentionProbs ? 'probabilities kept' : 'default attention'}`;
        const ref = runtime.forward(rows, { outputHiddenStates: true, attentionMask, keepAttentionProbs });
        const close = (a: Tensor, b: Tensor, name: string) => {
          const d = maxAbsDiff(a, b);
          const tol = (keepAttentionProbs ? TOL / 10 : TOL) * Math.max(1, maxAbs(b));
          assert.ok(d <= tol, `${what} ${name}: max |Δ| ${d} > ${tol}`);
        };
        assert.deepEqual(ours.logits.shape, ref.logits.shape);
        close(ours.logits.value, ref.logits, 'logits');
        for (let i = 0; i < L; i++) close(ours.states[i].value, ref.hiddenStates![i], `hidden_states.${i}`);
        close(ours.normed.value, ref.hiddenStates![L], `hidden_states.${L}`);
        close(ours.states[L].value, ref.preFinalNorm!, 'pre_final_norm');
      }
    }
  });
}
