import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { configInt, readConfig, vocabSize } from '../../src/io/config.ts';
import { fixtureArchs, fixturesDir, skipUnless } from '../helpers/paths.ts';

for (const arch of fixtureArchs) {
  const dir = join(fixturesDir, arch);
  test(`readConfig reads fixtures/${arch}/config.json as the plain record`, { skip: skipUnless(dir) }, () => {
    const config = readConfig(dir);
    assert.equal(config.model_type, arch);
    assert.equal(vocabSize(config), 1000);
    assert.equal(typeof config.architectures[0], 'string');
  });
}

test('configInt: aliases, fallbacks and clear errors naming the file', { skip: skipUnless(fixturesDir) }, () => {
  const llama = readConfig(join(fixturesDir, 'llama'));
  assert.equal(configInt(llama, ['num_key_value_heads', 'num_kv_heads']), 2);
  assert.equal(configInt({ n_head: 4 }, ['num_attention_heads', 'n_head']), 4);
  assert.equal(configInt({}, ['nope'], 5), 5);
  assert.throws(() => vocabSize({ model_type: 'x' }), /none of "vocab_size" is set/);
  assert.throws(() => configInt(llama, ['missing_key']), /llama\/config\.json: none of "missing_key" is set/);
  assert.throws(() => configInt({ hidden_size: 1.5 }, ['hidden_size']), /"hidden_size" should be an integer, got 1.5/);
  assert.throws(() => readConfig(join(fixturesDir, 'no-such-model')), /cannot read model config .*no-such-model/);
});
