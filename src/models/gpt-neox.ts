/**
 * GPT-NeoX / Pythia (HF `GPTNeoXForCausalLM`): fused query_key_value whose output rows interleave
 * q, k, v per head ([q_h | k_h | v_h] for h = 0…H−1), partial rotary (rotary_pct of each head,
 * rotate-half), parallel residual x + attn(ln1(x)) + mlp(ln2(x)) by default, untied `embed_out`.
 */
import type { DecoderConfig } from './config.ts';
import { dense, normWithBias, spec, withBias, type Architecture, type Family } from './family.ts';
import { fusedQkvRanges } from './layers.ts';
import type { MatrixTable } from './types.ts';

function create(cfg: DecoderConfig, p: string): Architecture {
  const D = cfg.hiddenSize, F = cfg.intermediateSize;
  const n = (i: number, s: string): string => `${p}layers.${i}.${s}`;
  const emb = `${p}embed_in.weight`;
  const head = cfg.tieWordEmbeddings ? emb : 'embed_out.weight';
  const qkv = fusedQkvRanges({ kind: 'per_head', numHeads: cfg.numHeads, headDim: cfg.headDim });
  return {
    config: cfg, prefix: p,
    globalWeights: () => [
      spec(emb, [cfg.vocabSize, D]),
      ...withBias(`${p}final_layer_norm`, [D], true),
      ...(head === emb ? [] : [spec(head, [cfg.vocabSize, D])]),
    ],
    blockWeights: (i) => [
      ...withBias(n(i, 'input_layernorm'), [D], true),
      ...withBias(n(i, 'post_attention_layernorm'), [D], true),
      ...withBias(n(i, 'attention.query_key_value'), [3 * D, D], cfg.qkvBias),
      ...withBias(n(i, 'attention.dense'), [D, D], cfg.attnOutBias),
      ...withBias(n(i, 'mlp.dense_h_to_4h'), [F, D], true),
      ...withBias(n(i, 'mlp.dense_4h_to_h'), [D, F], true),
    ],
    embed: (o, w, ids, ctx) => o.embed(w(emb), ids, ctx),
    block(o, w, i, x, ctx) {
      const h = normWithBias(o, w, cfg.norm, n(i, 'input_layernorm'), x);
      const fused = dense(o, w, n(i, 'attention.query_key_value'), h, cfg.qkvBias);
      const a = o.attention(cfg, o.columns(fused, qkv.q), o.columns(fused, qkv.k), o.columns(fused, qkv.v), ctx, { layer: i, scale: cfg.attentionScale });
      const attnOut = dense(o, w, n(i, 'attention.dense'), a, cfg.attnOutBias);
      const mlp = (input: typeof x) => o.plainMlp(
        normWithBias(o, w, cfg.norm, n(i, 'post_attention_layernorm'), input),
        cfg.activation, w(n(i, 'mlp.dense_h_to_4h.weight')), w(n(i, 'mlp.dense_h_to_4h.bias')), w(n(i, 'mlp.dense_4h_to_h.weight')), w(n(i, 'mlp.dense_4h_to_h.bias')));
      const xs = o.queryRows(x, ctx);
      if (cfg.parallelResidual) {
        const mlpOut = mlp(xs);
        return { hidden: o.add(mlpOut, attnOut, xs), attnOut, mlpOut };
      }
      const mid = o.add(attnOut, xs);
      const mlpOut = mlp(mid);
      return { hidden: o.add(mlpOut, mid), attnOut, mlpOut };
    },
    finalNorm: (o, w, x) => normWithBias(o, w, cfg.norm, `${p}final_layer_norm`, x),
    lmHead: (o, w, x) => o.project(x, w(head)),
    matrices(i): MatrixTable {
      const fusedName = n(i, 'attention.query_key_value.weight');
      const fusedBias = cfg.qkvBias ? { biasName: n(i, 'attention.query_key_value.bias') } : {};
      return {
        q: { tensorName: fusedName, layout: 'out_in', outRanges: qkv.q, shape: [D, D], ...fusedBias },
        k: { tensorName: fusedName, layout: 'out_in', outRanges: qkv.k, shape: [D, D], ...fusedBias },
        v: { tensorName: fusedName, layout: 'out_in', outRanges: qkv.v, shape: [D, D], ...fusedBias },
        o: { tensorName: n(i, 'attention.dense.weight'), layout: 'out_in', shape: [D, D], ...(cfg.attnOutBias ? { biasName: n(i, 'attention.dense.bias') } : {}) },
        in: { tensorName: n(i, 'mlp.dense_h_to_4h.weight'), layout: 'out_in', shape: [F, D], biasName: n(i, 'mlp.dense_h_to_4h.bias') },
        out: { tensorName: n(i, 'mlp.dense_4h_to_h.weight'), layout: 'out_in', shape: [D, F], biasName: n(i, 'mlp.dense_4h_to_h.bias') },
      };
    },
  };
}

export const gptNeoxFamily: Family = { name: 'gpt_neox', prefixes: ['gpt_neox.', ''], embeddingName: 'embed_in.weight', create };
