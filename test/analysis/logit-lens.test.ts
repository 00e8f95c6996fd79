import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogitLensAccumulator, nextTokenTargets } from '../../src/analysis/logit-lens.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

const d = 5;
const V = 11;

function rmsNorm(h: Tensor): Tensor {
  const out = h.clone();
  for (let r = 0; r < h.size / d; r++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += h.data[r * d + j] ** 2;
    const f = 1 / Math.sqrt(s / d + 1e-6);
    for (let j = 0; j < d; j++) out.data[r * d + j] *= f;
  }
  return out;
}

test('logit lens: cross-entropy, top-1 and KL to the final layer equal a naive computation', () => {
  const rng = new Rng(1);
  const w = rng.randn([d, V], 2, 'float32');
  const unembed = (h: Tensor) => {
    const m = h.size / d;
    const out = new Tensor(new Float32Array(m * V), [m, V]);
    for (let r = 0; r < m; r++) for (let k = 0; k < d; k++) for (let v = 0; v < V; v++) out.data[r * V + v] += h.data[r * d + k] * w.data[k * V + v];
    return out;
  };
  const layers = 4;
  const ids = Array.from({ length: 2 * 9 }, () => rng.int(V));
  const mask = ids.map((_, i) => (i === 17 || i === 16 ? 0 : 1)); // right padding in the second sequence
  const targets = nextTokenTargets(ids, 9, mask);
  assert.equal(targets[8], -1);
  assert.equal(targets[0], ids[1]);
  assert.equal(targets[15], -1);
  assert.equal(targets[14], ids[15]);
  const states = Array.from({ length: layers }, () => rng.randn([2, 9, d], 1, 'float32'));
  const lens = new LogitLensAccumulator(layers, { finalNorm: rmsNorm, unembed, chunkRows: 4 });
  const batch = lens.add(states, targets);
  const res = lens.result();

  const logSoftmax = (z: number[]) => {
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
    return z.map((v) => v - lse);
  };
  const rowsWithTarget = [...targets.keys()].filter((i) => targets[i] >= 0);
  assert.equal(res[0].tokens, rowsWithTarget.length);
  assert.deepEqual(Array.from(batch.rows), rowsWithTarget);
  const decode = (layer: number, row: number) => Array.from(unembed(rmsNorm(states[layer].reshape(18, d).slice0(row, row + 1))).data);
  for (let layer = 0; layer < layers; layer++) {
    let ce = 0;
    let correct = 0;
    let kl = 0;
    rowsWithTarget.forEach((row, k) => {
      const lp = logSoftmax(decode(layer, row));
      const lf = logSoftmax(decode(layers - 1, row));
      const rowCe = -lp[targets[row]];
      ce += rowCe;
      const arg = lp.indexOf(Math.max(...lp));
      if (arg === targets[row]) correct++;
      kl += lf.reduce((a, q, v) => a + Math.exp(q) * (q - lp[v]), 0);
      assert.ok(Math.abs(batch.crossEntropy[layer][k] - rowCe) < 1e-9);
      assert.equal(batch.top1[layer][k], arg);
    });
    const n = rowsWithTarget.length;
    assert.ok(Math.abs(res[layer].crossEntropy - ce / n) < 1e-9, `layer ${layer} CE`);
    assert.equal(res[layer].top1Accuracy, correct / n);
    assert.ok(Math.abs(res[layer].klToFinal - kl / n) < 1e-9, `layer ${layer} KL`);
  }
  assert.equal(res[layers - 1].klToFinal, 0);
  assert.throws(() => lens.add(states.slice(1), targets), /expected 4 states/);
});
