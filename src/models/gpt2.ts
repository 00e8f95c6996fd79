/**
 * GPT-2 (HF `GPT2LMHeadModel`): learned positions, pre-LN blocks, fused c_attn, Conv1D weights
 * stored [in, out] (y = x·W + b), LM head tied to wte.
 */
import type { DecoderConfig } from './config.ts';
import { headWeightName, normWithBias, spec, withBias, type Architecture, type Family } from './family.ts';
import { fusedQkvRanges } from './layers.ts';
import type { MatrixTable } from './types.ts';

function create(cfg: DecoderConfig, p: string): Architecture {
  const D = cfg.hiddenSize, F = cfg.intermediateSize;
  const n = (i: number, s: string): string => `${p}h.${i}.${s}`;
  const wte = `${p}wte.weight`;
  const head = headWeightName(cfg, wte);
  const qkv = fusedQkvRanges({ kind: 'blocks', qWidth: D, kvWidth: D });
  return {
    config: cfg, prefix: p,
    globalWeights: () => [
      spec(wte, [cfg.vocabSize, D]), spec(`${p}wpe.weight`, [cfg.maxPositions!, D]),
      ...withBias(`${p}ln_f`, [D], true),
      ...(head === wte ? [] : [spec(head, [cfg.vocabSize, D])]),
    ],
    blockWeights: (i) => [
      ...withBias(n(i, 'ln_1'), [D], true),
      spec(n(i, 'attn.c_attn.weight'), [D, 3 * D]), spec(n(i, 'attn.c_attn.bias'), [3 * D]),
      spec(n(i, 'attn.c_proj.weight'), [D, D]), spec(n(i, 'attn.c_proj.bias'), [D]),
      ...withBias(n(i, 'ln_2'), [D], true),
      spec(n(i, 'mlp.c_fc.weight'), [D, F]), spec(n(i, 'mlp.c_fc.bias'), [F]),
      spec(n(i, 'mlp.c_proj.weight'), [F, D]), spec(n(i, 'mlp.c_proj.bias'), [D]),
    ],
    embed(o, w, ids, ctx) {
      const h = o.embed(w(wte), ids, ctx);
      return o.addTo(h, o.embedPositions(w(`${p}wpe.weight`), ctx.positions, ctx));
    },
    block(o, w, i, x, ctx) {
      const h = normWithBias(o, w, cfg.norm, n(i, 'ln_1'), x);
      const fused = o.project(h, w(n(i, 'attn.c_attn.weight')), w(n(i, 'attn.c_attn.bias')), 'in_out');
      const scale = cfg.attentionScale / (cfg.scaleAttnByInverseLayerIdx ? i + 1 : 1);
      const attnSpec = { layer: i, scale };
      const a = o.attentionQkv ? o.attentionQkv(cfg, fused, qkv, ctx, attnSpec) : o.attention(cfg, o.columns(fused, qkv.q), o.columns(fused, qkv.k), o.columns(fused, qkv.v), ctx, attnSpec);
      const attnOut = o.project(a, w(n(i, 'attn.c_proj.weight')), w(n(i, 'attn.c_proj.bias')), 'in_out');
      const mid = o.add(o.queryRows(x, ctx), attnOut);
      const h2 = normWithBias(o, w, cfg.norm, n(i, 'ln_2'), mid);
      const mlpOut = o.plainMlp(h2, cfg.activation, w(n(i, 'mlp.c_fc.weight')), w(n(i, 'mlp.c_fc.bias')), w(n(i, 'mlp.c_proj.weight')), w(n(i, 'mlp.c_proj.bias')), 'in_out');
      return { hidden: o.add(mid, mlpOut), attnOut, mlpOut };
    },
    finalNorm: (o, w, x) => normWithBias(o, w, cfg.norm, `${p}ln_f`, x),
    lmHead: (o, w, x) => o.project(x, w(head)),
    matrices(i): MatrixTable {
      const attn = n(i, 'attn.c_attn.weight');
      const bias = n(i, 'attn.c_attn.bias');
      return {
        q: { tensorName: attn, layout: 'in_out', outRanges: qkv.q, shape: [D, D], biasName: bias },
        k: { tensorName: attn, layout: 'in_out', outRanges: qkv.k, shape: [D, D], biasName: bias },
        v: { tensorName: attn, layout: 'in_out', outRanges: qkv.v, shape: [D, D], biasName: bias },
        o: { tensorName: n(i, 'attn.c_proj.weight'), layout: 'in_out', shape: [D, D], biasName: n(i, 'attn.c_proj.bias') },
        in: { tensorName: n(i, 'mlp.c_fc.weight'), layout: 'in_out', shape: [F, D], biasName: n(i, 'mlp.c_fc.bias') },
        out: { tensorName: n(i, 'mlp.c_proj.weight'), layout: 'in_out', shape: [D, F], biasName: n(i, 'mlp.c_proj.bias') },
      };
    },
  };
}

export const gpt2Family: Family = { name: 'gpt2', prefixes: ['transformer.', ''], embeddingName: 'wte.weight', create };
