/**
 * Gradient checks of whole models: for a tiny config of every architecture (and the variants that
 * change the graph: GQA, sliding window, ALiBi, partial and interleaved rotary, parallel and
 * sequential residuals, post-LN, OPT's projections, qk_layernorm, Gemma's (1 + w) norms and GeGLU),
 * the tape forward's analytic gradient with respect to every parameter equals central finite
 * differences (float64, src/autograd/gradcheck.ts), on a left-padded batch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheck, type Var } from '../../src/autograd/index.ts';
import type { ModelConfig } from '../../src/io/config.ts';
import { Rng } from '../../src/tensor/random.ts';
import { TrainableModel } from '../../src/train/trainable-model.ts';

const tiny = { hidden_size: 8, num_hidden_layers: 1, vocab_size: 11, max_position_embeddings: 16, num_attention_heads: 2, intermediate_size: 12, initializer_range: 0.4 };
const gptStyle = { n_embd: 8, n_head: 2, n_layer: 1, n_positions: 16, vocab_size: 11, initializer_range: 0.4 };

export const TINY_CONFIGS: Record<string, ModelConfig> = {
  'gpt2': { ...gptStyle, model_type: 'gpt2', n_inner: 12 },
  'opt': { ...tiny, model_type: 'opt', ffn_dim: 12 },
  'opt post-LN with project_in/out': { ...tiny, model_type: 'opt', ffn_dim: 12, do_layer_norm_before: false, word_embed_proj_dim: 4 },
  'llama (GQA, untied)': { ...tiny, model_type: 'llama', num_attention_heads: 4, num_key_value_heads: 2, tie_word_embeddings: false },
  'mistral (sliding window 3)': { ...tiny, model_type: 'mistral', num_key_value_heads: 1, sliding_window: 3 },
  'qwen2 (q/k/v biases)': { ...tiny, model_type: 'qwen2', num_key_value_heads: 1 },
  'gpt_neox (partial rotary, parallel residual)': { ...tiny, model_type: 'gpt_neox', rotary_pct: 0.5 },
  'gpt_neox sequential residual': { ...tiny, model_type: 'gpt_neox', rotary_pct: 0.5, use_parallel_residual: false },
  'bloom (ALiBi)': { ...tiny, model_type: 'bloom', n_head: 2 },
  'bloom residual from the norm': { ...tiny, model_type: 'bloom', n_head: 2, apply_residual_connection_post_layernorm: true },
  'gptj (interleaved partial rotary)': { ...gptStyle, model_type: 'gptj', n_inner: 12, rotary_dim: 2 },
  'phi (qk_layernorm, partial rotary)': { ...tiny, model_type: 'phi', qk_layernorm: true, partial_rotary_factor: 0.5 },
  'falcon (multi-query, parallel)': { ...tiny, model_type: 'falcon' },
  'falcon-rw (ALiBi, sequential, biases)': { ...tiny, model_type: 'falcon', alibi: true, multi_query: false, parallel_attn: false, bias: true },
  'falcon new architecture (GQA, two norms)': { ...tiny, model_type: 'falcon', num_attention_heads: 4, num_kv_heads: 2, new_decoder_architecture: true },
  'gemma (1 + w norms, GeGLU)': { ...tiny, model_type: 'gemma', num_key_value_heads: 1, head_dim: 4 },
};

for (const [name, config] of Object.entries(TINY_CONFIGS)) {
  test(`${name}: gradients of all parameters match finite differences`, () => {
    const rng = new Rng(3);
    const model = TrainableModel.initialize(config, rng, 'float64');
    // norm gains and biases start at 1 / 0: perturb them so their gradients are generic
    for (const p of model.params.values()) for (let i = 0; i < p.size; i++) p.value.data[i] += 0.3 * rng.normal();
    const names = [...model.params.keys()];
    const B = 2, T = 4;
    const ids = Array.from({ length: B * T }, () => rng.int(11));
    const attentionMask = [[1, 1, 1, 1], [0, 1, 1, 1]];
    const fn = (...vars: Var[]) => {
      vars.forEach((v, i) => model.params.set(names[i], v));
      return model.forward(ids, B, T, { attentionMask }).logits;
    };
    const result = gradcheck(fn, names.map((n) => model.params.get(n)!.value));
    // an identically-zero gradient (the key bias: softmax is shift-invariant) has no scale to be relative to
    for (const r of result.inputs) {
      assert.ok(r.relError < 1e-5 || r.maxAbsError < 1e-7, `${names[r.input]}: relative error ${r.relError}, max |Δ| ${r.maxAbsError}`);
    }
  });
}
