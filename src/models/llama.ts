/**
 * Llama family (HF `LlamaForCausalLM`, `MistralForCausalLM`, `Qwen2ForCausalLM`): pre-RMSNorm
 * blocks, RoPE (rotate-half), grouped-query attention, SwiGLU MLP.
 * Differences handled by the config: Qwen2's q/k/v biases, Llama's optional attention/MLP biases,
 * Mistral's sliding window (Qwen2's from `max_window_layers` on when enabled), tied heads.
 * Gemma reuses these blocks (see gemma.ts) with its own norm offset, activation and embedding scale.
 */
import type { DecoderConfig } from './config.ts';
import { headWeightName, spec, type Architecture, type Family, type Weights, type WeightSpec } from './family.ts';
import type { Ops } from './ops.ts';
import type { MatrixTable } from './types.ts';

export function createLlamaLike(cfg: DecoderConfig, p: string): Architecture {
  const D = cfg.hiddenSize, F = cfg.intermediateSize;
  const qW = cfg.numHeads * cfg.headDim, kvW = cfg.numKvHeads * cfg.headDim;
  const n = (i: number, s: string): string => `${p}layers.${i}.${s}`;
  const emb = `${p}embed_tokens.weight`;
  const head = headWeightName(cfg, emb);
  const proj = {
    q: ['self_attn.q_proj', qW, D, cfg.qkvBias], k: ['self_attn.k_proj', kvW, D, cfg.qkvBias],
    v: ['self_attn.v_proj', kvW, D, cfg.qkvBias], o: ['self_attn.o_proj', D, qW, cfg.attnOutBias],
    in: ['mlp.gate_proj', F, D, cfg.mlpBias], up: ['mlp.up_proj', F, D, cfg.mlpBias], out: ['mlp.down_proj', D, F, cfg.mlpBias],
  } as const;
  const bias = <T>(w: Weights<T>, i: number, key: keyof typeof proj) => (proj[key][3] ? w(n(i, `${proj[key][0]}.bias`)) : undefined);
  const dense = <T>(o: Ops<T>, w: Weights<T>, i: number, key: keyof typeof proj, x: T) => o.project(x, w(n(i, `${proj[key][0]}.weight`)), bias(w, i, key));
  return {
    config: cfg, prefix: p,
    globalWeights: () => [
      spec(emb, [cfg.vocabSize, D]), spec(`${p}norm.weight`, [D]),
      ...(head === emb ? [] : [spec(head, [cfg.vocabSize, D])]),
    ],
    blockWeights(i) {
      const out: WeightSpec[] = [spec(n(i, 'input_layernorm.weight'), [D])];
      for (const key of ['q', 'k', 'v', 'o'] as const) {
        const [name, rows, cols, hasBias] = proj[key];
        out.push(spec(n(i, `${name}.weight`), [rows, cols]));
        if (hasBias) out.push(spec(n(i, `${name}.bias`), [rows]));
      }
      out.push(spec(n(i, 'post_attention_layernorm.weight'), [D]));
      for (const key of ['in', 'up', 'out'] as const) {
        const [name, rows, cols, hasBias] = proj[key];
        out.push(spec(n(i, `${name}.weight`), [rows, cols]));
        if (hasBias) out.push(spec(n(i, `${name}.bias`), [rows]));
      }
      return out;
    },
    embed(o, w, ids, ctx) {
      const h = o.embed(w(emb), ids, ctx);
      return cfg.embeddingMultiplier === 1 ? h : o.scaleTo(h, cfg.embeddingMultiplier);
    },
    block(o, w, i, x, ctx) {
      const h = o.norm(cfg.norm, x, w(n(i, 'input_layernorm.weight')));
      const window = cfg.slidingWindow !== undefined && i >= cfg.slidingWindowFromLayer ? cfg.slidingWindow : undefined;
      const a = o.attention(cfg, dense(o, w, i, 'q', h), dense(o, w, i, 'k', h), dense(o, w, i, 'v', h), ctx, { layer: i, scale: cfg.attentionScale, slidingWindow: window });
      const attnOut = dense(o, w, i, 'o', a);
      const mid = o.add(o.queryRows(x, ctx), attnOut);
      const h2 = o.norm(cfg.norm, mid, w(n(i, 'post_attention_layernorm.weight')));
      const mlpOut = o.gatedMlp(h2, cfg.activation, w(n(i, 'mlp.gate_proj.weight')), w(n(i, 'mlp.up_proj.weight')), w(n(i, 'mlp.down_proj.weight')),
        cfg.mlpBias ? { gate: bias(w, i, 'in'), up: bias(w, i, 'up'), down: bias(w, i, 'out') } : undefined);
      return { hidden: o.add(mid, mlpOut), attnOut, mlpOut };
    },
    finalNorm: (o, w, x) => o.norm(cfg.norm, x, w(`${p}norm.weight`)),
    lmHead: (o, w, x) => o.project(x, w(head)),
    matrices(i): MatrixTable {
      const table: MatrixTable = {};
      for (const key of ['q', 'k', 'v', 'o', 'in', 'up', 'out'] as const) {
        const [name, rows, cols, hasBias] = proj[key];
        table[key] = { tensorName: n(i, `${name}.weight`), layout: 'out_in', shape: [rows, cols], ...(hasBias ? { biasName: n(i, `${name}.bias`) } : {}) };
      }
      return table;
    },
  };
}

export const llamaFamily: Family = { name: 'llama', prefixes: ['model.', ''], embeddingName: 'embed_tokens.weight', create: createLlamaLike };
