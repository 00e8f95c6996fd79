/**
 * Item 4 of issue #13: a NaN or Inf in a weight gave `LAPACKE_?syevd: argument 5 had an illegal
 * value` deep inside the linearity solver. Now the weight is named when it is read (safetensors
 * and llama2.c), and statistics and matrices are checked before they reach LAPACK, naming the
 * block or tensor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinearityProfileAccumulator } from '../../src/analysis/linearity-profile.ts';
import { InputError } from '../../src/io/input-error.ts';
import { openLlama2c } from '../../src/io/llama2c.ts';
import { LaserEditor } from '../../src/laser/intervention.ts';
import { loadModel } from '../../src/models/decoder.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { Rng } from '../../src/tensor/random.ts';
import { fixturesDir, skipUnless, stories260KDir } from '../helpers/paths.ts';
import { ToyLM } from '../laser/toy-lm.ts';

const dir = mkdtempSync(join(tmpdir(), 'linscope-nonfinite-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Copy of the GPT-2 fixture with one float32 of `tensor` overwritten by `value`. */
function poisonedGpt2(name: string, tensor: string, index: number, value: number): string {
  const src = join(fixturesDir, 'gpt2');
  const out = join(dir, name);
  const bytes = readFileSync(join(src, 'model.safetensors'));
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  bytes.writeFloatLE(value, 8 + n + header[tensor].data_offsets[0] + 4 * index);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'model.safetensors'), bytes);
  copyFileSync(join(src, 'config.json'), join(out, 'config.json'));
  return out;
}

const gpt2 = join(fixturesDir, 'gpt2');

test('a NaN weight in a safetensors checkpoint is named on load', { skip: skipUnless(gpt2) }, async () => {
  const model = poisonedGpt2('nan', 'transformer.h.1.mlp.c_proj.weight', 7, NaN);
  await assert.rejects(loadModel(model), (err: unknown) => {
    assert.ok(err instanceof InputError, String(err));
    assert.match(err.message, /model\.safetensors: tensor "transformer\.h\.1\.mlp\.c_proj\.weight" holds 1 NaN\/Inf value \(first: NaN at \[0, 7\]\)/);
    return true;
  });
});

test('an Inf weight is named too, also when streaming', { skip: skipUnless(gpt2) }, async () => {
  const model = poisonedGpt2('inf', 'transformer.wte.weight', 3, -Infinity);
  await assert.rejects(loadModel(model), /tensor "transformer\.wte\.weight" holds 1 NaN\/Inf value \(first: -Infinity at \[0, 3\]\)/);
  const streamed = await loadModel(model, { streaming: true });
  assert.throws(() => streamed.forward([[1, 2, 3]]), /tensor "transformer\.wte\.weight" holds 1 NaN\/Inf value/);
});

test('a NaN in a llama2.c checkpoint is named on read', { skip: skipUnless(stories260KDir) }, () => {
  const bytes = readFileSync(join(stories260KDir, 'stories260K.bin'));
  bytes.writeFloatLE(NaN, 28 + 4 * 5); // token_embedding[0, 5]
  const path = join(dir, 'nan.bin');
  writeFileSync(path, bytes);
  const ck = openLlama2c(path);
  assert.throws(() => ck.readTensor('model.embed_tokens.weight'), /nan\.bin: tensor "model\.embed_tokens\.weight" holds 1 NaN\/Inf value \(first: NaN at \[0, 5\]\)/);
});

test('NaN hidden states are named before the linearity solver sees them', () => {
  const d = 4;
  const rng = new Rng(1);
  const acc = new LinearityProfileAccumulator({ dim: d, blocks: 3 });
  const states = Array.from({ length: 4 }, () => rng.randn([16, d], 1));
  states[2].data[9] = NaN;
  acc.add({ states });
  assert.throws(() => acc.result(), (err: unknown) => {
    assert.ok(err instanceof Error);
    assert.doesNotMatch(err.message, /LAPACK|illegal value/);
    assert.match(err.message, /hidden state 2 \(output of block 1\) holds NaN or Inf/);
    return true;
  });
});

test('LASER names the matrix holding a NaN instead of failing inside the SVD', () => {
  const lm = new ToyLM(10, 8, 2, 3);
  const w = lm.getWeight('layers.1.out');
  const poisoned = new Tensor(w.data.slice(), w.shape);
  poisoned.data[12] = NaN;
  lm.setWeight('layers.1.out', poisoned);
  const editor = new LaserEditor(lm);
  assert.throws(() => editor.apply({ type: 'out', layer: 1, rho: 0.5 }), /LASER: "layers\.1\.out" \(out, layer 1\) holds 1 NaN\/Inf value/);
});
