import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeConfig, SUPPORTED_MODEL_TYPES, type DecoderConfig } from '../../src/models/config.ts';
import { hfInverseFrequencies, ropeForCall } from '../../src/models/rope-scaling.ts';
import { fixtureArchs, fixturesDir, skipUnless } from '../helpers/paths.ts';

const withoutRaw = ({ raw: _raw, ...rest }: DecoderConfig) => rest;

for (const arch of fixtureArchs) {
  const dir = join(fixturesDir, arch);
  test(`${arch}: diff-only config.json and fully resolved config.full.json normalise alike`, { skip: skipUnless(dir) }, () => {
    const diff = normalizeConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
    const full = normalizeConfig(JSON.parse(readFileSync(join(dir, 'config.full.json'), 'utf8')));
    assert.deepEqual(withoutRaw(diff), withoutRaw(full));
    assert.equal(diff.numLayers, 4);
    assert.equal(diff.vocabSize, 1000);
  });
}

test('unknown model types are named, with the supported list', () => {
  assert.throws(() => normalizeConfig({ model_type: 't5' }), (e: Error) => {
    assert.match(e.message, /unsupported model_type "t5"/);
    for (const t of SUPPORTED_MODEL_TYPES) assert.ok(e.message.includes(t));
    return true;
  });
  assert.throws(() => normalizeConfig({}), /no "model_type"/);
  assert.throws(() => normalizeConfig({ model_type: 'toString' }), /unsupported model_type "toString"/);
});

test('architecture details that differ between families', () => {
  const llama = normalizeConfig({ model_type: 'llama', hidden_size: 64, num_attention_heads: 4, num_hidden_layers: 2, intermediate_size: 128, vocab_size: 50 });
  assert.equal(llama.numKvHeads, 4);
  assert.equal(llama.tieWordEmbeddings, false);
  assert.equal(llama.norm.eps, 1e-6);
  const mistral = normalizeConfig({ model_type: 'mistral', num_hidden_layers: 2 });
  assert.equal(mistral.slidingWindow, 4096);
  assert.equal(mistral.numKvHeads, 8);
  assert.equal(normalizeConfig({ model_type: 'mistral', sliding_window: null }).slidingWindow, undefined);
  const qwen = normalizeConfig({ model_type: 'qwen2', use_sliding_window: true, sliding_window: 16, max_window_layers: 3 });
  assert.equal(qwen.qkvBias, true);
  assert.equal(qwen.attnOutBias, false);
  assert.deepEqual([qwen.slidingWindow, qwen.slidingWindowFromLayer], [16, 3]);
  const neox = normalizeConfig({ model_type: 'gpt_neox', hidden_size: 64, num_attention_heads: 4, rotary_pct: 0.25 });
  assert.equal(neox.rope!.rotaryDim, 4);
  const bloom = normalizeConfig({ model_type: 'bloom', n_embed: 96, n_head: 4 });
  assert.equal(bloom.hiddenSize, 96);
  assert.equal(bloom.alibi, true);
  const gemma = normalizeConfig({ model_type: 'gemma', hidden_size: 64, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 48, hidden_act: 'gelu' });
  assert.equal(gemma.headDim, 48);
  assert.equal(gemma.activation, 'gelu_pytorch_tanh', 'HF v4.42 Gemma ignores hidden_act');
  assert.equal(gemma.embeddingMultiplier, Math.fround(8));
  assert.equal(gemma.norm.unitOffset, true);
  const falcon7b = normalizeConfig({ model_type: 'falcon', hidden_size: 4544, num_attention_heads: 71 });
  assert.equal(falcon7b.numKvHeads, 1);
  assert.equal(falcon7b.parallelResidual, true);
  const falcon40b = normalizeConfig({ model_type: 'falcon', new_decoder_architecture: true, num_kv_heads: 8, hidden_size: 8192, num_attention_heads: 128 });
  assert.deepEqual(falcon40b.falcon, { newDecoderArchitecture: true, multiQuery: true, parallelNorms: 2 });
  assert.equal(falcon40b.numKvHeads, 8);
  const rw = normalizeConfig({ model_type: 'RefinedWeb', alibi: true, multi_query: false, parallel_attn: false, bias: true, hidden_size: 64, n_head: 4 });
  assert.equal(rw.modelType, 'falcon');
  assert.equal(rw.rope, undefined);
  assert.equal(rw.numKvHeads, 4);
  assert.equal(rw.parallelResidual, false);
  const opt350 = normalizeConfig({ model_type: 'opt', do_layer_norm_before: false, word_embed_proj_dim: 512, hidden_size: 1024, num_attention_heads: 16 });
  assert.equal(opt350.finalNorm, false);
  assert.equal(opt350.embedProjDim, 512);
});

test('bad configs give clear errors', () => {
  assert.throws(() => normalizeConfig({ model_type: 'llama', hidden_size: 65, num_attention_heads: 4 }), /not divisible by 4 heads/);
  assert.throws(() => normalizeConfig({ model_type: 'llama', hidden_size: 48, num_attention_heads: 6, num_key_value_heads: 4 }), /not a multiple of 4 key\/value heads/);
  assert.throws(() => normalizeConfig({ model_type: 'llama', rope_scaling: { type: 'su', factor: 4 } }), /rope_scaling type "su" is not supported \(supported: linear, dynamic, llama3, yarn, longrope\)/);
  assert.throws(() => normalizeConfig({ model_type: 'llama', hidden_size: '64' }), /"hidden_size" should be a number/);
});

test('rope_scaling: linear divides positions, dynamic grows the base past the trained length, llama3 bends low frequencies', () => {
  const theta = 500000;
  const plain = hfInverseFrequencies(128, theta);
  const linear = normalizeConfig({ model_type: 'llama', rope_scaling: { type: 'linear', factor: 4 } }).rope!;
  const lin = ropeForCall(linear, [0, 4, 6]);
  assert.deepEqual(lin.positions, [0, 1, 1.5]);

  const dyn = normalizeConfig({ model_type: 'llama', max_position_embeddings: 8, hidden_size: 64, num_attention_heads: 4, rope_scaling: { type: 'dynamic', factor: 2 } }).rope!;
  assert.deepEqual(ropeForCall(dyn, [0, 1, 7]).invFreq, hfInverseFrequencies(16, 10000));
  const grown = ropeForCall(dyn, [0, 15]).invFreq;
  // base' = 10000 · (2·16/8 − 1)^(16/14)
  const expected = hfInverseFrequencies(16, 10000 * Math.pow(3, 16 / 14));
  grown.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= 1e-6 * expected[i]));

  const l3 = normalizeConfig({
    model_type: 'llama', hidden_size: 4096, num_attention_heads: 32, rope_theta: theta,
    rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
  }).rope!;
  const inv = ropeForCall(l3, [0]).invFreq;
  for (let i = 0; i < inv.length; i++) {
    const wavelen = (2 * Math.PI) / plain[i];
    if (wavelen < 8192 / 4) assert.equal(inv[i], plain[i], 'high frequencies unchanged');
    else if (wavelen > 8192) assert.equal(inv[i], Math.fround(plain[i] / 8), 'low frequencies divided by the factor');
    else {
      assert.ok(inv[i] < plain[i] && inv[i] > plain[i] / 8, 'medium band interpolated');
      const smooth = (8192 / wavelen - 1) / 3;
      assert.ok(Math.abs(inv[i] - ((1 - smooth) * plain[i] / 8 + smooth * plain[i])) < 1e-6 * plain[i]);
    }
  }
});
