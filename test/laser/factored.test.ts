/**
 * LASER with the factors installed (`factored`): on the shared fixtures the model holding
 * L = U·Σ, R = Vᵀ gives the logits of the dense-reduced model, dense reads of a factored weight
 * equal L·R, a fused QKV block stays dense with a note, and a factored export reloads as factors
 * with the same logits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensors } from '../../src/io/safetensors.ts';
import { openModelSource } from '../../src/io/model-source.ts';
import { loadModel, type DecoderModel } from '../../src/models/decoder.ts';
import { LaserEditor } from '../../src/laser/intervention.ts';
import { exportModel } from '../../src/laser/export.ts';
import type { Intervention } from '../../src/laser/types.ts';
import { isLowRank, LowRankWeight } from '../../src/tensor/low-rank.ts';
import { linear } from '../../src/tensor/matmul.ts';
import { project } from '../../src/models/layers.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { Rng } from '../../src/tensor/random.ts';
import { fixturesDir, skipUnless } from '../helpers/paths.ts';
import { captureConsole } from '../helpers/console.ts';

const ids = [[1, 5, 9, 42, 7, 3, 100, 11], [2, 8, 64, 4, 33, 12, 6, 90]];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** L·R in float64 loops, independent of the class under test. */
function product(w: LowRankWeight): Float64Array {
  const [m, r] = w.left.shape;
  const n = w.right.shape[1];
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let k = 0; k < r; k++) for (let j = 0; j < n; j++) out[i * n + j] += w.left.data[i * r + k] * w.right.data[k * n + j];
  return out;
}

async function reduced(dir: string, ivs: Intervention[], factored: boolean): Promise<{ model: DecoderModel; editor: LaserEditor }> {
  const model = await loadModel(await openModelSource(dir));
  const editor = new LaserEditor(model);
  editor.applyAll(ivs, { factored });
  return { model, editor };
}

test('low-rank linear: both layouts and materialisation match the dense product', () => {
  const rng = new Rng(3);
  const left = new Tensor(Float32Array.from({ length: 12 * 3 }, () => rng.normal()), [12, 3]);
  const right = new Tensor(Float32Array.from({ length: 3 * 7 }, () => rng.normal()), [3, 7]);
  const w = new LowRankWeight(left, right);
  const dense = w.dense();
  assert.ok(maxAbsDiff(dense.data, product(w)) < 1e-5);
  assert.ok(maxAbsDiff(w.data, dense.data) < 1e-6);
  assert.ok(Math.abs(w.get(4, 5) - dense.get(4, 5)) < 1e-5);
  const x7 = new Tensor(Float32Array.from({ length: 2 * 5 * 7 }, () => rng.normal()), [2, 5, 7]);
  assert.ok(maxAbsDiff(linear(x7, w as unknown as Tensor).data, linear(x7, dense).data) < 1e-5, 'out_in: x·Wᵀ');
  const x12 = new Tensor(Float32Array.from({ length: 5 * 12 }, () => rng.normal()), [5, 12]);
  assert.ok(maxAbsDiff(project(x12, w as unknown as Tensor, undefined, 'in_out').data, project(x12, dense, undefined, 'in_out').data) < 1e-5, 'in_out: x·W');
  assert.ok(!isLowRank(w.clone()), 'clone is a dense copy');
});

const cases: Array<[string, Intervention[]]> = [
  ['llama', [{ type: 'in', layer: 3, rho: 0.1 }, { type: 'up', layer: 2, rho: 0.1 }, { type: 'out', layer: 1, rho: 0.1 }, { type: 'q', layer: 0, rho: 0.1 }, { type: 'o', layer: 3, rho: 0.2 }]],
  ['gpt2', [{ type: 'in', layer: 3, rho: 0.1 }, { type: 'out', layer: 2, rho: 0.1 }, { type: 'o', layer: 1, rho: 0.1 }, { type: 'q', layer: 3, rho: 0.1 }]],
];

for (const [arch, ivs] of cases) {
  const dir = join(fixturesDir, arch);

  test(`${arch}: factored weights give the dense-reduced logits; dense reads equal L·R`, { skip: skipUnless(dir) }, async () => {
    const dense = await reduced(dir, ivs, false);
    const fact = await reduced(dir, ivs, true);
    for (const a of fact.editor.applied) {
      const w = fact.model.getWeight(a.tensorName);
      if (a.intervention.type === 'q' && arch === 'gpt2') {
        assert.equal(a.storage, 'dense');
        assert.match(a.note ?? '', /fused tensor .*c_attn\.weight.*only whole tensors can be factored/);
        assert.ok(!isLowRank(w));
        continue;
      }
      assert.equal(a.storage, 'factored', `${a.tensorName}: ${a.note}`);
      assert.ok(isLowRank(w), `${a.tensorName} is held as factors`);
      assert.equal(w.rank, a.rank);
      assert.ok(maxAbsDiff(w.data, product(w)) < 1e-5, `${a.tensorName}: getWeight().data = L·R`);
      assert.ok(maxAbsDiff(w.data, dense.model.getWeight(a.tensorName).data) < 1e-5, `${a.tensorName}: = dense-reduced weight`);
    }
    const d = maxAbsDiff(fact.model.forward(ids).logits.data, dense.model.forward(ids).logits.data);
    assert.ok(d < 1e-5, `logits differ by ${d}`);
  });

  test(`${arch}: a second intervention on a factored matrix reads L·R; undo restores the checkpoint`, { skip: skipUnless(dir) }, async () => {
    const twice: Intervention[] = [{ type: 'in', layer: 2, rho: 0.2 }, { type: 'in', layer: 2, rho: 0.1 }];
    const dense = await reduced(dir, twice, false);
    const fact = await reduced(dir, twice, true);
    const d = maxAbsDiff(fact.model.forward(ids).logits.data, dense.model.forward(ids).logits.data);
    assert.ok(d < 1e-5, `logits differ by ${d}`);
    const base = await loadModel(dir);
    fact.editor.undo();
    assert.deepEqual(fact.model.modifiedWeightNames(), []);
    assert.ok(maxAbsDiff(fact.model.forward(ids).logits.data, base.forward(ids).logits.data) === 0);
  });

  test(`${arch}: factored export → reload gives factors and the same logits; default export stays dense`, { skip: skipUnless(dir) }, async () => {
    const { model, editor } = await reduced(dir, ivs, true);
    const source = await openModelSource(dir);
    const tmp = mkdtempSync(join(tmpdir(), 'laser-factored-'));
    try {
      const exportSource = { config: source.config, weightNames: () => model.weightNames(), getWeight: (n: string) => model.getWeight(n) };
      exportModel(join(tmp, 'factored'), exportSource, { applied: editor.applied, factored: true });
      exportModel(join(tmp, 'dense'), exportSource, { applied: editor.applied });
      const factoredNames = editor.applied.filter((a) => a.storage === 'factored').map((a) => a.tensorName);
      const stored = openSafetensors(join(tmp, 'factored', 'model.safetensors'));
      const config = JSON.parse(readFileSync(join(tmp, 'factored', 'config.json'), 'utf8'));
      for (const name of factoredNames) {
        assert.ok(stored.has(`${name}.laser_left`) && stored.has(`${name}.laser_right`) && !stored.has(name));
        assert.equal(config.linscope_low_rank.tensors[name].left, `${name}.laser_left`);
      }
      const denseFile = openSafetensors(join(tmp, 'dense', 'model.safetensors'));
      assert.ok(denseFile.names().every((n) => !n.includes('.laser_')));
      assert.equal(JSON.parse(readFileSync(join(tmp, 'dense', 'config.json'), 'utf8')).linscope_low_rank, undefined);

      const before = model.forward(ids).logits;
      const reloaded = await loadModel(join(tmp, 'factored'));
      for (const name of factoredNames) assert.ok(isLowRank(reloaded.getWeight(name)), `${name} reloads as factors`);
      const d = maxAbsDiff(reloaded.forward(ids).logits.data, before.data);
      assert.ok(d < 1e-5, `reloaded logits differ by ${d}`);
      const d2 = maxAbsDiff((await loadModel(join(tmp, 'dense'))).forward(ids).logits.data, before.data);
      assert.ok(d2 < 1e-5, `dense export logits differ by ${d2}`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

test('laser apply --factored (CLI): states real parameter counts, writes factors that reload as such', { skip: skipUnless(join(fixturesDir, 'gpt2')) }, async () => {
  const { run } = await import('../../src/cli/commands/laser.ts');
  const tmp = mkdtempSync(join(tmpdir(), 'laser-factored-cli-'));
  try {
    const { result: code, out: text } = await captureConsole(() => run(['apply', '-m', join(fixturesDir, 'gpt2'), '-i', 'in:3:0.1,q:2:0.1', '--factored', '-o', join(tmp, 'out')]));
    assert.equal(code, 0);
    assert.match(text, /c_fc\.weight .*stored as factors: 16384 → 1920 params/);
    assert.match(text, /q:2:0\.1 .*stored dense: 4096 params.*kept dense: the matrix is a block of the fused tensor/);
    assert.match(text, /the model holds 6016 \(1 of 2 factored\)/);
    const reloaded = await loadModel(join(tmp, 'out'));
    assert.ok(isLowRank(reloaded.getWeight('transformer.h.3.mlp.c_fc.weight')));
    assert.ok(!isLowRank(reloaded.getWeight('transformer.h.2.attn.c_attn.weight')));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
