/**
 * GPT-J (HF `GPTJForCausalLM`): one LayerNorm per block feeding attention and MLP in parallel
 * (x + attn(ln(x)) + mlp(ln(x))), separate bias-free q/k/v/out projections, interleaved RoPE
 * (rotate_every_two) on the first `rotary_dim` coordinates of each head, untied head with a bias.
 */
import type { DecoderConfig } from './config.ts';
import { headWeightName, normWithBias, spec, withBias, type Architecture, type Family } from './family.ts';
import type { MatrixTable } from './types.ts';

function create(cfg: DecoderConfig, p: string): Architecture {
  const D = cfg.hiddenSize, F = cfg.intermediateSize;
  const n = (i: number, s: string): string => `${p}h.${i}.${s}`;
  const emb = `${p}wte.weight`;
  const head = headWeightName(cfg, emb);
  return {
    config: cfg, prefix: p,
    globalWeights: () => [
      spec(emb, [cfg.vocabSize, D]), ...withBias(`${p}ln_f`, [D], true),
      ...(head === emb ? [] : [spec(head, [cfg.vocabSize, D])]),
      ...(cfg.lmHeadBias ? [spec('lm_head.bias', [cfg.vocabSize])] : []),
    ],
    blockWeights: (i) => [
      ...withBias(n(i, 'ln_1'), [D], true),
      spec(n(i, 'attn.k_proj.weight'), [D, D]), spec(n(i, 'attn.v_proj.weight'), [D, D]),
      spec(n(i, 'attn.q_proj.weight'), [D, D]), spec(n(i, 'attn.out_proj.weight'), [D, D]),
      spec(n(i, 'mlp.fc_in.weight'), [F, D]), spec(n(i, 'mlp.fc_in.bias'), [F]),
      spec(n(i, 'mlp.fc_out.weight'), [D, F]), spec(n(i, 'mlp.fc_out.bias'), [D]),
    ],
    embed: (o, w, ids, ctx) => o.embed(w(emb), ids, ctx),
    block(o, w, i, x, ctx) {
      const h = normWithBias(o, w, cfg.norm, n(i, 'ln_1'), x);
      const q = o.project(h, w(n(i, 'attn.q_proj.weight')));
      const k = o.project(h, w(n(i, 'attn.k_proj.weight')));
      const v = o.project(h, w(n(i, 'attn.v_proj.weight')));
      const a = o.attention(cfg, q, k, v, ctx, { layer: i, scale: cfg.attentionScale });
      const attnOut = o.project(a, w(n(i, 'attn.out_proj.weight')));
      const mlpOut = o.plainMlp(o.queryRows(h, ctx), cfg.activation, w(n(i, 'mlp.fc_in.weight')), w(n(i, 'mlp.fc_in.bias')), w(n(i, 'mlp.fc_out.weight')), w(n(i, 'mlp.fc_out.bias')));
      return { hidden: o.add(attnOut, mlpOut, o.queryRows(x, ctx)), attnOut, mlpOut };
    },
    finalNorm: (o, w, x) => normWithBias(o, w, cfg.norm, `${p}ln_f`, x),
    lmHead: (o, w, x) => o.project(x, w(head), cfg.lmHeadBias ? w('lm_head.bias') : undefined),
    matrices: (i): MatrixTable => ({
      q: { tensorName: n(i, 'attn.q_proj.weight'), layout: 'out_in', shape: [D, D] },
      k: { tensorName: n(i, 'attn.k_proj.weight'), layout: 'out_in', shape: [D, D] },
      v: { tensorName: n(i, 'attn.v_proj.weight'), layout: 'out_in', shape: [D, D] },
      o: { tensorName: n(i, 'attn.out_proj.weight'), layout: 'out_in', shape: [D, D] },
      in: { tensorName: n(i, 'mlp.fc_in.weight'), layout: 'out_in', shape: [F, D], biasName: n(i, 'mlp.fc_in.bias') },
      out: { tensorName: n(i, 'mlp.fc_out.weight'), layout: 'out_in', shape: [D, F], biasName: n(i, 'mlp.fc_out.bias') },
    }),
  };
}

export const gptjFamily: Family = { name: 'gptj', prefixes: ['transformer.', ''], embeddingName: 'wte.weight', create };
