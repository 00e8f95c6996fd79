/**
 * Falcon and Gemma have no reference fixtures (no HF-generated outputs here). They are tested for
 * internal consistency (cache vs no cache, padding invariance, streaming, cached generation), and
 * against independent constructions:
 * - Gemma = Llama with norm gains 1 + w, embeddings × √d, GeGLU, tied head (weights mapped by hand);
 * - Falcon's three fused-QKV layouts against HF's `_split_heads` view semantics written out here;
 * - Falcon (new architecture, no GQA, biases) = GPT-NeoX with full rotary and parallel residual.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel } from '../../src/models/decoder.ts';
import { memorySource } from '../../src/models/memory-source.ts';
import { randomWeightSource } from '../../src/models/random-weights.ts';
import { attention } from '../../src/tensor/attention.ts';
import { addInPlace, scale } from '../../src/tensor/elementwise.ts';
import { embedding } from '../../src/tensor/embedding.ts';
import { linear } from '../../src/tensor/matmul.ts';
import { layerNorm } from '../../src/tensor/norms.ts';
import { applyRope } from '../../src/tensor/rope.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { hfInverseFrequencies } from '../../src/models/rope-scaling.ts';
import { assertClose, checkInternalConsistency } from './consistency.ts';

const small = { hidden_size: 32, num_hidden_layers: 2, vocab_size: 97, max_position_embeddings: 64 };

const falconVariants = {
  'falcon-7b style (multi-query, parallel)': { ...small, model_type: 'falcon', num_attention_heads: 4 },
  'falcon-40b style (new architecture, GQA, ln_attn/ln_mlp)': { ...small, model_type: 'falcon', num_attention_heads: 4, num_kv_heads: 2, new_decoder_architecture: true },
  'falcon-rw style (ALiBi, sequential, biases)': { ...small, model_type: 'falcon', num_attention_heads: 4, alibi: true, multi_query: false, parallel_attn: false, bias: true },
  'falcon new architecture with one parallel norm': { ...small, model_type: 'falcon', num_attention_heads: 4, num_kv_heads: 2, new_decoder_architecture: true, num_ln_in_parallel_attn: 1 },
};

for (const [name, config] of Object.entries(falconVariants)) {
  test(`${name}: internally consistent`, () => {
    checkInternalConsistency(createModel(randomWeightSource(config, { seed: 1, std: 0.1 })));
  });
}

const gemmaConfig = { ...small, model_type: 'gemma', num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, intermediate_size: 48 };

test('gemma: internally consistent', () => {
  checkInternalConsistency(createModel(randomWeightSource(gemmaConfig, { seed: 2, std: 0.1 })));
});

test('gemma equals a Llama with the same weights remapped (1 + w gains, √d embeddings, GeGLU, tied head)', () => {
  const gemmaSource = randomWeightSource(gemmaConfig, { seed: 3, std: 0.1 });
  const gemma = createModel(gemmaSource);
  const tensors = new Map<string, Tensor>();
  for (const name of gemma.weightNames()) {
    const w = gemma.getWeight(name);
    tensors.set(name, name.endsWith('norm.weight') ? Tensor.from(w.toArray().map((v) => v + 1)) : w);
  }
  const emb = gemma.getWeight('model.embed_tokens.weight');
  tensors.set('model.embed_tokens.weight', scale(emb, Math.fround(Math.sqrt(32))));
  tensors.set('lm_head.weight', emb);
  const llama = createModel(memorySource({
    ...gemmaConfig, model_type: 'llama', hidden_act: 'gelu_pytorch_tanh', rms_norm_eps: 1e-6, tie_word_embeddings: false,
  }, tensors));
  const ids = [[3, 14, 15, 92, 65, 35, 89, 79]];
  assertClose(gemma.forward(ids).logits, llama.forward(ids).logits, 1e-4, 'gemma vs remapped llama');
});

/** HF FalconAttention._split_heads, written out: returns q, k, v as [B, T, heads·Dh]. */
function hfSplitHeads(fused: Tensor, H: number, Hkv: number, Dh: number, layout: 'new' | 'multi_query' | 'per_head'): Tensor[] {
  const [B, T] = fused.shape;
  const rowsPerToken = fused.shape[2];
  const q = Tensor.zeros([B, T, H * Dh]);
  const kvHeads = layout === 'multi_query' ? 1 : Hkv;
  const k = Tensor.zeros([B, T, kvHeads * Dh]);
  const v = Tensor.zeros([B, T, kvHeads * Dh]);
  const copy = (dst: Tensor, dstHead: number, srcSlot: number, bt: number) => {
    for (let d = 0; d < Dh; d++) dst.data[bt * (dst.shape[2]) + dstHead * Dh + d] = fused.data[bt * rowsPerToken + srcSlot * Dh + d];
  };
  for (let bt = 0; bt < B * T; bt++) {
    if (layout === 'new') {
      const G = H / Hkv; // view(B, T, Hkv, G + 2, Dh): q = [:, :, :, :G], k = [..., G], v = [..., G + 1]
      for (let j = 0; j < Hkv; j++) {
        for (let g = 0; g < G; g++) copy(q, j * G + g, j * (G + 2) + g, bt);
        copy(k, j, j * (G + 2) + G, bt);
        copy(v, j, j * (G + 2) + G + 1, bt);
      }
    } else if (layout === 'multi_query') { // view(B, T, H + 2, Dh)
      for (let h = 0; h < H; h++) copy(q, h, h, bt);
      copy(k, 0, H, bt);
      copy(v, 0, H + 1, bt);
    } else { // view(B, T, H, 3, Dh)
      for (let h = 0; h < H; h++) {
        copy(q, h, 3 * h, bt);
        copy(k, h, 3 * h + 1, bt);
        copy(v, h, 3 * h + 2, bt);
      }
    }
  }
  return [q, k, v];
}

for (const [name, config, layout] of [
  ['multi-query', falconVariants['falcon-7b style (multi-query, parallel)'], 'multi_query'],
  ['new architecture with GQA', falconVariants['falcon-40b style (new architecture, GQA, ln_attn/ln_mlp)'], 'new'],
  ['per-head (RW) with ALiBi', falconVariants['falcon-rw style (ALiBi, sequential, biases)'], 'per_head'],
] as const) {
  test(`falcon ${name}: attention output of block 0 equals HF's split-heads semantics`, () => {
    const model = createModel(randomWeightSource(config, { seed: 4, std: 0.2 }));
    const cfg = model.config;
    const ids = [[1, 5, 9, 13, 17, 21]];
    const T = ids[0].length;
    const { attnOutputs } = model.forward(ids, { outputBlockParts: true });
    const p = 'transformer.h.0.';
    const x = embedding(model.getWeight('transformer.word_embeddings.weight'), ids[0], [1, T]);
    const lnName = cfg.falcon!.newDecoderArchitecture && cfg.falcon!.parallelNorms === 2 ? 'ln_attn' : 'input_layernorm';
    const h = layerNorm(x, model.getWeight(`${p}${lnName}.weight`), model.getWeight(`${p}${lnName}.bias`), cfg.norm.eps);
    const bias = (n: string) => (cfg.qkvBias ? model.getWeight(n) : undefined);
    const fused = linear(h, model.getWeight(`${p}self_attention.query_key_value.weight`), bias(`${p}self_attention.query_key_value.bias`));
    const [q, k, v] = hfSplitHeads(fused, cfg.numHeads, cfg.numKvHeads, cfg.headDim, layout);
    const positions = Array.from({ length: T }, (_, i) => i);
    const heads = { numHeads: cfg.numHeads, numKvHeads: k.shape[2] / cfg.headDim, headDim: cfg.headDim };
    let alibi = {};
    if (cfg.alibi) {
      // HF: (QKᵀ + slope·pos) / √d; slopes for 4 heads: 2^-2, 2^-4, 2^-6, 2^-8
      alibi = { alibiSlopes: [0.25, 0.0625, 0.015625, 0.00390625].map((s) => s * cfg.attentionScale), alibiPositions: positions };
    } else {
      const inv = hfInverseFrequencies(cfg.headDim, 10000);
      applyRope(q, { numHeads: cfg.numHeads, headDim: cfg.headDim, rotaryDim: cfg.headDim, invFreq: inv, style: 'half', positions });
      applyRope(k, { numHeads: heads.numKvHeads, headDim: cfg.headDim, rotaryDim: cfg.headDim, invFreq: inv, style: 'half', positions });
    }
    const a = attention(q, k, v, { ...heads, scale: cfg.attentionScale, ...alibi }).out;
    const expected = linear(a, model.getWeight(`${p}self_attention.dense.weight`), cfg.attnOutBias ? model.getWeight(`${p}self_attention.dense.bias`) : undefined);
    assertClose(attnOutputs![0], expected, 1e-5, 'attention output');
  });
}

test('falcon (new architecture, no GQA, biases, untied) equals GPT-NeoX with full rotary and parallel residual', () => {
  const falconConfig = { ...small, model_type: 'falcon', num_attention_heads: 4, num_kv_heads: 4, new_decoder_architecture: true, bias: true, tie_word_embeddings: false };
  const falcon = createModel(randomWeightSource(falconConfig, { seed: 5, std: 0.1 }));
  const map: Record<string, string> = {
    'transformer.word_embeddings.weight': 'gpt_neox.embed_in.weight', 'lm_head.weight': 'embed_out.weight',
    'transformer.ln_f.weight': 'gpt_neox.final_layer_norm.weight', 'transformer.ln_f.bias': 'gpt_neox.final_layer_norm.bias',
  };
  const blockMap: Record<string, string> = {
    ln_attn: 'input_layernorm', ln_mlp: 'post_attention_layernorm', 'self_attention.query_key_value': 'attention.query_key_value',
    'self_attention.dense': 'attention.dense', 'mlp.dense_h_to_4h': 'mlp.dense_h_to_4h', 'mlp.dense_4h_to_h': 'mlp.dense_4h_to_h',
  };
  const tensors = new Map<string, Tensor>();
  for (const name of falcon.weightNames()) {
    const m = /^transformer\.h\.(\d+)\.(.+)\.(weight|bias)$/.exec(name);
    const target = m ? `gpt_neox.layers.${m[1]}.${blockMap[m[2]]}.${m[3]}` : map[name];
    assert.ok(target, name);
    tensors.set(target, falcon.getWeight(name));
  }
  const neox = createModel(memorySource({
    model_type: 'gpt_neox', hidden_size: 32, num_attention_heads: 4, num_hidden_layers: 2, vocab_size: 97, intermediate_size: 128,
    rotary_pct: 1, use_parallel_residual: true, hidden_act: 'gelu', max_position_embeddings: 64,
  }, tensors));
  const ids = [[2, 7, 1, 8, 28, 18, 28, 45]];
  assertClose(falcon.forward(ids).logits, neox.forward(ids).logits, 1e-5, 'falcon vs neox');
  // and the sum of the parts is the block output
  const out = falcon.forward(ids, { outputBlockParts: true, outputHiddenStates: true });
  const sum = addInPlace(addInPlace(out.hiddenStates![0].clone(), out.attnOutputs![0]), out.mlpOutputs![0]);
  assertClose(sum, out.hiddenStates![1], 1e-5, 'x + attn + mlp');
});
