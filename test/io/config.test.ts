import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  bosTokenId, configInt, eosTokenIds, headDim, hiddenSize, maxPositions, modelType, numHeads, numKvHeads, numLayers,
  readConfig, vocabSize,
} from '../../src/io/config.ts';
import { fixtureArchs, fixturesDir, skipUnless } from '../helpers/paths.ts';

for (const arch of fixtureArchs) {
  const dir = join(fixturesDir, arch);
  test(`config helpers read fixtures/${arch}/config.json`, { skip: skipUnless(dir) }, () => {
    const config = readConfig(dir);
    const full = readConfig(join(dir, 'config.full.json'));
    assert.equal(modelType(config), arch);
    assert.equal(hiddenSize(config), full.hidden_size ?? full.n_embd);
    assert.equal(numLayers(config), 4);
    assert.equal(numHeads(config), full.num_attention_heads ?? full.n_head);
    assert.equal(vocabSize(config), 1000);
    assert.equal(headDim(config), hiddenSize(config) / numHeads(config));
    assert.ok(numKvHeads(config) <= numHeads(config));
    assert.equal(typeof config.architectures[0], 'string'); // still the plain record
  });
}

test('config helpers: aliases, lists of ids, fallbacks and clear errors', { skip: skipUnless(fixturesDir) }, () => {
  const llama = readConfig(join(fixturesDir, 'llama'));
  assert.equal(numKvHeads(llama), 2);
  assert.equal(maxPositions(llama), 128);
  assert.equal(bosTokenId(llama), 1);
  assert.deepEqual(eosTokenIds({ eos_token_id: [2, 7] }), [2, 7]);
  assert.equal(configInt({}, ['nope'], 5), 5);
  assert.throws(() => hiddenSize({ model_type: 'x' }), /none of "hidden_size", "n_embd", "d_model" is set/);
  assert.throws(() => configInt(llama, ['missing_key']), /llama\/config\.json: none of "missing_key" is set/);
  assert.throws(() => readConfig(join(fixturesDir, 'no-such-model')), /cannot read model config .*no-such-model/);
});
