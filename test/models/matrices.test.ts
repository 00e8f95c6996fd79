/**
 * The LASER matrix table points at the right numbers: zeroing a matrix through the table has the
 * effect that matrix's role implies (uniform attention for q/k, attention output = o's bias for v/o,
 * MLP output = out's bias for in/up/out), and read → write round-trips bit-exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createModel, loadModel, type DecoderModel } from '../../src/models/decoder.ts';
import { matrixRef, readBias, readMatrix, writeBias, writeMatrix } from '../../src/models/matrices.ts';
import { randomWeightSource } from '../../src/models/random-weights.ts';
import { MATRIX_TYPES, type MatrixType } from '../../src/models/types.ts';
import { maxAbsDiff } from '../../src/tensor/elementwise.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { fixtureArchs, fixturesDir, skipUnless } from '../helpers/paths.ts';

const ids = [[3, 1, 4, 1, 5, 9, 2, 6]];

function zero(model: DecoderModel, layer: number, type: MatrixType): void {
  const ref = matrixRef(model, layer, type);
  writeMatrix(model, ref, Tensor.zeros(ref.shape));
  if (ref.biasName) writeBias(model, ref, Tensor.zeros([ref.shape[0]]));
}

/** Each row of a [T, D] block equals `bias` (or zeros). */
function assertRowsEqual(x: Tensor, bias: Tensor | undefined, what: string): void {
  const D = x.dim(-1);
  for (let r = 0; r < x.size / D; r++) {
    for (let j = 0; j < D; j++) {
      const want = bias ? bias.data[j] : 0;
      assert.ok(Math.abs(x.data[r * D + j] - want) < 1e-5, `${what}: row ${r} col ${j}: ${x.data[r * D + j]} vs ${want}`);
    }
  }
}

function checkTable(model: DecoderModel): void {
  const layer = 1;
  const table = model.matrices(layer);
  const base = model.forward(ids, { keepAttentionProbs: true, outputBlockParts: true });
  // keeping the probabilities normalises P before P·V instead of after, so compare like with like
  const baseLogits = model.forward(ids).logits;

  // read → write is exact, shapes are as declared, fused ranges partition their tensor
  const fusedCover = new Map<string, number>();
  for (const [type, ref] of Object.entries(table)) {
    const m = readMatrix(model, ref!);
    assert.deepEqual(m.shape, ref!.shape, type);
    writeMatrix(model, ref!, m);
    if (ref!.outRanges) fusedCover.set(ref!.tensorName, (fusedCover.get(ref!.tensorName) ?? 0) + ref!.shape[0]);
  }
  for (const [name, rows] of fusedCover) {
    const w = model.getWeight(name);
    const ref = Object.values(table).find((r) => r!.tensorName === name)!;
    assert.equal(rows, ref.layout === 'out_in' ? w.shape[0] : w.shape[1], `${name} is covered by q, k, v`);
  }
  assert.equal(maxAbsDiff(model.forward(ids).logits, baseLogits), 0, 'round trip changes nothing');

  const probsAfterZeroing = (type: MatrixType) => {
    zero(model, layer, type);
    const p = model.forward(ids, { keepAttentionProbs: true }).attentions![layer];
    model.resetWeight();
    return p;
  };
  const pq = probsAfterZeroing('q');
  const pk = probsAfterZeroing('k');
  assert.ok(maxAbsDiff(pq, pk) < 1e-6, 'zero q and zero k leave the same (position-only) attention');
  if (!model.config.alibi) {
    const [, H, T] = pq.shape;
    for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) assert.ok(Math.abs(pq.get(0, h, i, 0) - 1 / (i + 1)) < 1e-6, 'uniform causal attention');
  }
  assert.ok(maxAbsDiff(pq, base.attentions![layer]) > 1e-3, 'zeroing q changes attention');

  const oBias = readBias(model, table.o!);
  for (const type of ['v', 'o'] as const) {
    zero(model, layer, type);
    assertRowsEqual(model.forward(ids, { outputBlockParts: true }).attnOutputs![layer], type === 'o' ? undefined : oBias, `zero ${type}`);
    model.resetWeight();
  }
  const outBias = readBias(model, table.out!);
  for (const type of ['in', 'up', 'out'] as const) {
    if (!table[type]) continue;
    zero(model, layer, type);
    assertRowsEqual(model.forward(ids, { outputBlockParts: true }).mlpOutputs![layer], type === 'out' ? undefined : outBias, `zero ${type}`);
    model.resetWeight();
  }
}

for (const arch of fixtureArchs) {
  const dir = join(fixturesDir, arch);
  test(`${arch}: matrix table points at q, k, v, o, in, (up,) out`, { skip: skipUnless(dir) }, async () => {
    const model = await loadModel(dir);
    const types = Object.keys(model.matrices(0));
    assert.deepEqual(types.sort(), MATRIX_TYPES.filter((t) => t !== 'up' || model.config.gatedMlp).sort());
    checkTable(model);
  });
}

const small = { hidden_size: 32, num_hidden_layers: 2, vocab_size: 97, max_position_embeddings: 64 };
for (const [name, config] of Object.entries({
  'falcon multi-query': { ...small, model_type: 'falcon', num_attention_heads: 4 },
  'falcon new architecture': { ...small, model_type: 'falcon', num_attention_heads: 4, num_kv_heads: 2, new_decoder_architecture: true, bias: true },
  'falcon rw (alibi)': { ...small, model_type: 'falcon', num_attention_heads: 4, alibi: true, multi_query: false, parallel_attn: false, bias: true },
  gemma: { ...small, model_type: 'gemma', num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8, intermediate_size: 48 },
})) {
  test(`${name}: matrix table points at the right matrices`, () => checkTable(createModel(randomWeightSource(config, { seed: 1, std: 0.3 }))));
}

test('matrix helpers: clear errors', { skip: skipUnless(fixturesDir) }, async () => {
  const model = await loadModel(join(fixturesDir, 'gpt2'));
  assert.throws(() => matrixRef(model, 0, 'up'), /gpt2 has no "up" matrix/);
  assert.throws(() => writeMatrix(model, matrixRef(model, 0, 'q'), Tensor.zeros([3, 3])), /expects a \[64, 64\] matrix/);
  // GPT-2 Conv1D: readMatrix returns [out, in] = transpose of the stored [in, out] slice
  const w = model.getWeight('transformer.h.0.attn.c_attn.weight');
  const q = readMatrix(model, matrixRef(model, 0, 'q'));
  assert.equal(q.get(2, 5), w.get(5, 2));
  const k = readMatrix(model, matrixRef(model, 0, 'k'));
  assert.equal(k.get(2, 5), w.get(5, 64 + 2));
});
