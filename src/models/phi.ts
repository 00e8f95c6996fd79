/**
 * Phi-1/1.5/2 (HF `PhiForCausalLM`): one LayerNorm per block feeding attention and MLP in parallel,
 * q/k/v/dense with biases, partial rotary (partial_rotary_factor of each head, rotate-half),
 * optional per-head LayerNorm on queries and keys (`qk_layernorm`), untied head with a bias.
 */
import type { DecoderConfig } from './config.ts';
import { headWeightName, normWithBias, spec, withBias, type Architecture, type Family } from './family.ts';
import type { Ops } from './ops.ts';
import type { MatrixTable } from './types.ts';

/** LayerNorm over each head's Dh coordinates of a [B, T, H·Dh] projection. */
function perHeadLayerNorm<T>(o: Ops<T>, x: T, headDim: number, weight: T, bias: T, eps: number): T {
  return o.reshape(o.norm({ kind: 'layernorm', eps, unitOffset: false }, o.reshape(x, [-1, headDim]), weight, bias), o.shape(x));
}

function create(cfg: DecoderConfig, p: string): Architecture {
  const D = cfg.hiddenSize, F = cfg.intermediateSize, Dh = cfg.headDim;
  const qW = cfg.numHeads * Dh, kvW = cfg.numKvHeads * Dh;
  if (cfg.qkLayerNorm && cfg.numKvHeads !== cfg.numHeads) {
    throw new Error('phi: qk_layernorm together with grouped-query attention is not supported (transformers cannot run it either)');
  }
  const n = (i: number, s: string): string => `${p}layers.${i}.${s}`;
  const emb = `${p}embed_tokens.weight`;
  const head = headWeightName(cfg, emb);
  const mats = { q: ['self_attn.q_proj', qW, D], k: ['self_attn.k_proj', kvW, D], v: ['self_attn.v_proj', kvW, D], o: ['self_attn.dense', D, qW], in: ['mlp.fc1', F, D], out: ['mlp.fc2', D, F] } as const;
  return {
    config: cfg, prefix: p,
    globalWeights: () => [
      spec(emb, [cfg.vocabSize, D]), ...withBias(`${p}final_layernorm`, [D], true),
      ...(head === emb ? [] : [spec(head, [cfg.vocabSize, D])]),
      ...(cfg.lmHeadBias ? [spec('lm_head.bias', [cfg.vocabSize])] : []),
    ],
    blockWeights: (i) => [
      ...withBias(n(i, 'input_layernorm'), [D], true),
      ...Object.values(mats).flatMap(([name, rows, cols]) => [spec(n(i, `${name}.weight`), [rows, cols]), spec(n(i, `${name}.bias`), [rows])]),
      ...(cfg.qkLayerNorm ? ['q_layernorm', 'k_layernorm'].flatMap((m) => [spec(n(i, `self_attn.${m}.weight`), [Dh]), spec(n(i, `self_attn.${m}.bias`), [Dh])]) : []),
    ],
    embed: (o, w, ids, ctx) => o.embed(w(emb), ids, ctx),
    block(o, w, i, x, ctx) {
      const dense = (key: keyof typeof mats, input: typeof x) => o.project(input, w(n(i, `${mats[key][0]}.weight`)), w(n(i, `${mats[key][0]}.bias`)));
      const h = normWithBias(o, w, cfg.norm, n(i, 'input_layernorm'), x);
      let q = dense('q', h);
      let k = dense('k', h);
      if (cfg.qkLayerNorm) {
        q = perHeadLayerNorm(o, q, Dh, w(n(i, 'self_attn.q_layernorm.weight')), w(n(i, 'self_attn.q_layernorm.bias')), cfg.norm.eps);
        k = perHeadLayerNorm(o, k, Dh, w(n(i, 'self_attn.k_layernorm.weight')), w(n(i, 'self_attn.k_layernorm.bias')), cfg.norm.eps);
      }
      const a = o.attention(cfg, q, k, dense('v', h), ctx, { layer: i, scale: cfg.attentionScale });
      const attnOut = dense('o', a);
      const mlpOut = o.plainMlp(o.queryRows(h, ctx), cfg.activation, w(n(i, 'mlp.fc1.weight')), w(n(i, 'mlp.fc1.bias')), w(n(i, 'mlp.fc2.weight')), w(n(i, 'mlp.fc2.bias')));
      return { hidden: o.add(attnOut, mlpOut, o.queryRows(x, ctx)), attnOut, mlpOut };
    },
    finalNorm: (o, w, x) => normWithBias(o, w, cfg.norm, `${p}final_layernorm`, x),
    lmHead: (o, w, x) => o.project(x, w(head), cfg.lmHeadBias ? w('lm_head.bias') : undefined),
    matrices(i): MatrixTable {
      const table: MatrixTable = {};
      for (const [key, [name, rows, cols]] of Object.entries(mats) as Array<[keyof typeof mats, (typeof mats)[keyof typeof mats]]>) {
        table[key] = { tensorName: n(i, `${name}.weight`), layout: 'out_in', shape: [rows, cols], biasName: n(i, `${name}.bias`) };
      }
      return table;
    },
  };
}

export const phiFamily: Family = { name: 'phi', prefixes: ['model.', ''], embeddingName: 'embed_tokens.weight', create };
