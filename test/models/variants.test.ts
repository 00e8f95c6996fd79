/**
 * Config variants the fixtures do not cover (post-LN OPT with projections, Llama biases and llama3
 * RoPE, short sliding windows, NeoX sequential residual, BLOOM residual from the norm, Phi
 * qk_layernorm, GPT-2 inverse-layer scaling), checked for internal consistency on random weights.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel } from '../../src/models/decoder.ts';
import { randomWeightSource } from '../../src/models/random-weights.ts';
import { maxAbsDiff } from '../../src/tensor/elementwise.ts';
import { checkInternalConsistency, positionsOf } from './consistency.ts';

const small = { hidden_size: 32, num_hidden_layers: 2, vocab_size: 101, max_position_embeddings: 64, num_attention_heads: 4, intermediate_size: 48 };

const variants: Record<string, Record<string, unknown>> = {
  'opt-350m style (post-LN, project_in/out, no final norm)': { ...small, model_type: 'opt', ffn_dim: 48, do_layer_norm_before: false, word_embed_proj_dim: 16 },
  'opt without biases': { ...small, model_type: 'opt', ffn_dim: 48, enable_bias: false },
  'llama with attention/MLP biases, tied head, llama3 RoPE': {
    ...small, model_type: 'llama', num_key_value_heads: 1, attention_bias: true, mlp_bias: true, tie_word_embeddings: true,
    rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 },
  },
  'llama with linear RoPE scaling': { ...small, model_type: 'llama', rope_scaling: { type: 'linear', factor: 2 } },
  'llama with dynamic RoPE scaling': { ...small, model_type: 'llama', rope_scaling: { type: 'dynamic', factor: 2 } },
  'qwen2 with yarn RoPE scaling': { ...small, model_type: 'qwen2', num_key_value_heads: 2, rope_scaling: { type: 'yarn', factor: 4, original_max_position_embeddings: 16 } },
  'llama with longrope scaling': {
    ...small, model_type: 'llama', original_max_position_embeddings: 32,
    rope_scaling: { type: 'longrope', short_factor: [1, 1.5, 2, 3], long_factor: [2, 4, 6, 8] },
  },
  'gpt_neox sequential residual': { ...small, model_type: 'gpt_neox', use_parallel_residual: false, rotary_pct: 0.5 },
  'bloom residual from the norm': { ...small, model_type: 'bloom', n_head: 4, apply_residual_connection_post_layernorm: true },
  'phi with qk_layernorm': { ...small, model_type: 'phi', qk_layernorm: true, partial_rotary_factor: 0.5 },
  'gpt2 with scale_attn_by_inverse_layer_idx': { ...small, model_type: 'gpt2', n_embd: 32, n_head: 4, n_layer: 2, n_positions: 64, scale_attn_by_inverse_layer_idx: true },
  'gptj with rotary_dim 4': { ...small, model_type: 'gptj', n_embd: 32, n_head: 4, n_layer: 2, n_positions: 64, rotary_dim: 4 },
};

for (const [name, config] of Object.entries(variants)) {
  test(`${name}: internally consistent`, () => {
    checkInternalConsistency(createModel(randomWeightSource(config, { seed: 7, std: 0.1 })));
  });
}

const windowed = {
  'mistral with a 4-token sliding window': { ...small, model_type: 'mistral', num_key_value_heads: 2, sliding_window: 4 },
  'qwen2 with a sliding window from layer 1': { ...small, model_type: 'qwen2', num_key_value_heads: 2, use_sliding_window: true, sliding_window: 4, max_window_layers: 1 },
};
for (const [name, config] of Object.entries(windowed)) {
  test(`${name}: cache, streaming and generation consistent`, () => {
    checkInternalConsistency(createModel(randomWeightSource(config, { seed: 8, std: 0.1 })), 1e-4, false);
  });
}

test('sliding window: with one layer, position i ignores tokens more than window − 1 back', () => {
  const model = createModel(randomWeightSource({ ...small, num_hidden_layers: 1, model_type: 'mistral', num_key_value_heads: 2, sliding_window: 3 }, { seed: 9, std: 0.3 }));
  const a = model.forward([[5, 6, 7, 8, 9, 10]]).logits;
  const b = model.forward([[50, 6, 7, 8, 9, 10]]).logits;
  assert.ok(maxAbsDiff(positionsOf(a, 0, 0, 3), positionsOf(b, 0, 0, 3)) > 1e-3, 'positions 0..2 see token 0');
  assert.equal(maxAbsDiff(positionsOf(a, 0, 3, 6), positionsOf(b, 0, 3, 6)), 0, 'positions 3.. do not');
  const full = createModel(randomWeightSource({ ...small, num_hidden_layers: 1, model_type: 'mistral', num_key_value_heads: 2, sliding_window: null }, { seed: 9, std: 0.3 }));
  assert.ok(maxAbsDiff(positionsOf(full.forward([[5, 6, 7, 8, 9, 10]]).logits, 0, 5, 6), positionsOf(full.forward([[50, 6, 7, 8, 9, 10]]).logits, 0, 5, 6)) > 1e-4);
});
