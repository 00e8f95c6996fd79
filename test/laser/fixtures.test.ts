/**
 * LASER on real checkpoint layouts (the shared HF fixtures, loaded by src/models): the reduced
 * matrix equals an independent float64 truncation of the original tensor block, located here from
 * Hugging Face's conventions (not from the model's matrix table); export → reload gives identical
 * logits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensors } from '../../src/io/safetensors.ts';
import { loadModel } from '../../src/models/decoder.ts';
import { LaserEditor } from '../../src/laser/intervention.ts';
import { exportModel } from '../../src/laser/export.ts';
import { keptRank } from '../../src/laser/rank.ts';
import type { MatrixType } from '../../src/laser/types.ts';
import { fixturesDir, skipUnless, stories260KDir } from '../helpers/paths.ts';
import { referenceTruncation } from './reference-svd.ts';

interface Expected {
  tensor: string;
  rows?: number[];
  cols?: number[];
}
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

/** Where HF stores each LASER matrix of layer `l` (d = hidden size, h = heads). */
const expectedLocation: Record<string, (l: number, d: number, h: number) => Partial<Record<MatrixType, Expected>>> = {
  gpt2: (l, d) => ({
    q: { tensor: `transformer.h.${l}.attn.c_attn.weight`, cols: range(0, d) },
    k: { tensor: `transformer.h.${l}.attn.c_attn.weight`, cols: range(d, 2 * d) },
    v: { tensor: `transformer.h.${l}.attn.c_attn.weight`, cols: range(2 * d, 3 * d) },
    o: { tensor: `transformer.h.${l}.attn.c_proj.weight` },
    in: { tensor: `transformer.h.${l}.mlp.c_fc.weight` },
    out: { tensor: `transformer.h.${l}.mlp.c_proj.weight` },
  }),
  gpt_neox: (l, d, h) => {
    const hd = d / h;
    const part = (which: number) => range(0, d).map((i) => Math.floor(i / hd) * 3 * hd + which * hd + (i % hd));
    return {
      q: { tensor: `gpt_neox.layers.${l}.attention.query_key_value.weight`, rows: part(0) },
      k: { tensor: `gpt_neox.layers.${l}.attention.query_key_value.weight`, rows: part(1) },
      v: { tensor: `gpt_neox.layers.${l}.attention.query_key_value.weight`, rows: part(2) },
      o: { tensor: `gpt_neox.layers.${l}.attention.dense.weight` },
      in: { tensor: `gpt_neox.layers.${l}.mlp.dense_h_to_4h.weight` },
      out: { tensor: `gpt_neox.layers.${l}.mlp.dense_4h_to_h.weight` },
    };
  },
  llama: (l) => ({
    q: { tensor: `model.layers.${l}.self_attn.q_proj.weight` },
    k: { tensor: `model.layers.${l}.self_attn.k_proj.weight` },
    v: { tensor: `model.layers.${l}.self_attn.v_proj.weight` },
    o: { tensor: `model.layers.${l}.self_attn.o_proj.weight` },
    in: { tensor: `model.layers.${l}.mlp.gate_proj.weight` },
    up: { tensor: `model.layers.${l}.mlp.up_proj.weight` },
    out: { tensor: `model.layers.${l}.mlp.down_proj.weight` },
  }),
};

function block(data: ArrayLike<number>, width: number, rows: number[], cols: number[]): Float64Array {
  const out = new Float64Array(rows.length * cols.length);
  rows.forEach((r, i) => cols.forEach((c, j) => (out[i * cols.length + j] = data[r * width + c])));
  return out;
}

async function tryLoad(dir: string) {
  try {
    return await loadModel(dir);
  } catch (e) {
    if (/no implementation/.test((e as Error).message)) return undefined;
    throw e;
  }
}

for (const arch of ['gpt2', 'gpt_neox', 'llama']) {
  const dir = join(fixturesDir, arch);
  test(`${arch}: every matrix type is replaced by the reference rank-r truncation of its block`, { skip: skipUnless(dir) }, async (t) => {
    const model = await tryLoad(dir);
    if (!model) return t.skip(`src/models cannot load ${arch} yet`);
    const file = openSafetensors(join(dir, 'model.safetensors'));
    const d = model.config.hiddenSize, h = model.config.numHeads;
    const layer = 1;
    const where = expectedLocation[arch](layer, d, h);
    const editor = new LaserEditor(model);
    for (const [type, loc] of Object.entries(where) as [MatrixType, Expected][]) {
      const original = file.readTensor(loc.tensor, 'float64');
      const [R, C] = original.shape;
      const rows = loc.rows ?? range(0, R), cols = loc.cols ?? range(0, C);
      const applied = editor.apply({ type, layer, rho: 0.2 });
      assert.equal(applied.tensorName, loc.tensor, type);
      const r = keptRank(0.2, rows.length, cols.length);
      assert.equal(applied.rank, r);
      const expected = referenceTruncation(block(original.data, C, rows, cols), rows.length, cols.length, r);
      const now = model.getWeight(loc.tensor);
      const got = block(now.data, C, rows, cols);
      let err = 0;
      for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i] - expected[i]));
      assert.ok(err < 1e-5, `${arch} ${type}: max |Δ| = ${err}`);
      // everything outside the block is untouched
      const inBlock = new Set(rows.flatMap((rr) => cols.map((cc) => rr * C + cc)));
      for (let i = 0; i < now.size; i++) if (!inBlock.has(i)) assert.equal(now.data[i], Math.fround(original.data[i]));
      editor.undo();
      assert.deepEqual(model.getWeight(loc.tensor).data, Float32Array.from(original.data));
      assert.deepEqual(model.modifiedWeightNames(), [], 'undo drops the replacement instead of keeping a copy');
    }
    // a weight already replaced before LASER is restored to that replacement, not to the checkpoint
    const name = where.o!.tensor;
    const custom = model.getWeight(name).clone();
    custom.data[0] = 42;
    model.setWeight(name, custom);
    editor.apply({ type: 'o', layer, rho: 0.1 });
    assert.notEqual(model.getWeight(name).data[0], 42);
    editor.undo();
    assert.deepEqual(model.getWeight(name).data, custom.data);
    model.resetWeight(name);
  });
}

for (const [name, dir] of [['gpt2 fixture', join(fixturesDir, 'gpt2')], ['stories260K (llama2.c)', stories260KDir]] as const) {
  test(`${name}: export after LASER, reload, identical logits`, { skip: skipUnless(dir) }, async () => {
    const model = await loadModel(dir);
    const editor = new LaserEditor(model);
    const applied = editor.applyAll([{ type: 'out', layer: 1, rho: 0.1 }, { type: 'q', layer: 0, rho: 0.5 }]);
    const ids = [[1, 5, 9, 22, 7, 300, 11, 2], [3, 3, 8, 100, 41, 6, 9, 17]];
    const before = model.forward(ids).logits;
    const out = mkdtempSync(join(tmpdir(), 'laser-export-'));
    try {
      const res = exportModel(out, { config: model.source.config, weightNames: () => model.weightNames(), getWeight: (n) => model.getWeight(n), dir: (model.source as { dir?: string }).dir }, { applied });
      assert.ok(existsSync(join(out, 'config.json')) && existsSync(join(out, 'laser.json')));
      assert.deepEqual(res.weightFiles, ['model.safetensors']);
      const reloaded = await loadModel(out);
      const after = reloaded.forward(ids).logits;
      assert.deepEqual(after.shape, before.shape);
      assert.deepEqual(after.data, before.data);
      // and the reduction is really in the file
      const base = await loadModel(dir);
      assert.notDeepEqual(base.forward(ids).logits.data, after.data);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}
