/**
 * Falcon (HF `FalconForCausalLM`, also the legacy RefinedWeb model types). Three fused-QKV layouts:
 * - new decoder architecture (40B/180B): per key/value group [q_1 … q_G | k | v];
 * - multi-query (7B): [q (all heads) | k | v] with one key/value head;
 * - otherwise (RW-1B/7B): per head [q_h | k_h | v_h] like BLOOM.
 * Blocks are parallel (x + attn(ln(x)) + mlp(ln(x)), or separate ln_attn/ln_mlp with the new
 * architecture) or sequential with post_attention_layernorm. RoPE (rotate-half) unless `alibi`,
 * where HF scales the ALiBi bias together with the scores: (QKᵀ + alibi)/√d.
 */
import { alibiSlopes } from '../tensor/attention.ts';
import { linear } from '../tensor/matmul.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { DecoderConfig } from './config.ts';
import { embedTokens, headWeightName, spec, type Architecture, type Family, type WeightSpec } from './family.ts';
import { fusedQkvRanges, gatherColumns, norm, plainMlp, sum2, sum3, type FusedQkvLayout } from './layers.ts';
import { attendWithCache } from './self-attention.ts';
import type { MatrixRef, MatrixTable, WeightGetter } from './types.ts';

function create(cfg: DecoderConfig, p: string): Architecture {
  const D = cfg.hiddenSize, F = cfg.intermediateSize, Dh = cfg.headDim;
  const H = cfg.numHeads, Hkv = cfg.numKvHeads;
  const f = cfg.falcon!;
  const layout: FusedQkvLayout = f.newDecoderArchitecture
    ? { kind: 'per_group', numKvHeads: Hkv, group: H / Hkv, headDim: Dh }
    : f.multiQuery ? { kind: 'blocks', qWidth: H * Dh, kvWidth: Dh } : { kind: 'per_head', numHeads: H, headDim: Dh };
  const qkv = fusedQkvRanges(layout);
  const fusedRows = (H + 2 * Hkv) * Dh;
  const twoNorms = f.newDecoderArchitecture && f.parallelNorms === 2;
  const blockNorms = twoNorms ? ['ln_attn', 'ln_mlp'] : cfg.parallelResidual ? ['input_layernorm'] : ['input_layernorm', 'post_attention_layernorm'];
  const slopes = cfg.alibi ? Float32Array.from(alibiSlopes(H), (s) => Math.fround(s) * cfg.attentionScale) : undefined;
  const n = (i: number, s: string): string => `${p}h.${i}.${s}`;
  const emb = `${p}word_embeddings.weight`;
  const head = headWeightName(cfg, emb);
  const withBias = (name: string, shape: number[], bias: boolean): WeightSpec[] =>
    [spec(`${name}.weight`, shape), ...(bias ? [spec(`${name}.bias`, [shape[0]])] : [])];
  const dense = (w: WeightGetter, name: string, x: Tensor, bias: boolean): Tensor => linear(x, w(`${name}.weight`), bias ? w(`${name}.bias`) : undefined);
  const ln = (w: WeightGetter, name: string, x: Tensor): Tensor => norm(cfg.norm, x, w(`${name}.weight`), w(`${name}.bias`));
  return {
    config: cfg, prefix: p,
    globalWeights: () => [
      spec(emb, [cfg.vocabSize, D]), spec(`${p}ln_f.weight`, [D]), spec(`${p}ln_f.bias`, [D]),
      ...(head === emb ? [] : [spec(head, [cfg.vocabSize, D])]),
    ],
    blockWeights: (i) => [
      ...blockNorms.flatMap((m) => [spec(n(i, `${m}.weight`), [D]), spec(n(i, `${m}.bias`), [D])]),
      ...withBias(n(i, 'self_attention.query_key_value'), [fusedRows, D], cfg.qkvBias),
      ...withBias(n(i, 'self_attention.dense'), [D, H * Dh], cfg.attnOutBias),
      ...withBias(n(i, 'mlp.dense_h_to_4h'), [F, D], cfg.mlpBias),
      ...withBias(n(i, 'mlp.dense_4h_to_h'), [D, F], cfg.mlpBias),
    ],
    embed: (w, ids, ctx) => embedTokens(w(emb), ids, ctx),
    block(w, i, x, ctx) {
      const attnIn = ln(w, n(i, twoNorms ? 'ln_attn' : 'input_layernorm'), x);
      const fused = dense(w, n(i, 'self_attention.query_key_value'), attnIn, cfg.qkvBias);
      const a = attendWithCache(cfg, gatherColumns(fused, qkv.q), gatherColumns(fused, qkv.k), gatherColumns(fused, qkv.v), ctx, { layer: i, scale: cfg.attentionScale, alibiSlopes: slopes });
      const attnOut = dense(w, n(i, 'self_attention.dense'), a, cfg.attnOutBias);
      const mlp = (input: Tensor) => plainMlp(input, cfg.activation, w(n(i, 'mlp.dense_h_to_4h.weight')), cfg.mlpBias ? w(n(i, 'mlp.dense_h_to_4h.bias')) : undefined,
        w(n(i, 'mlp.dense_4h_to_h.weight')), cfg.mlpBias ? w(n(i, 'mlp.dense_4h_to_h.bias')) : undefined);
      if (cfg.parallelResidual) {
        const mlpOut = mlp(twoNorms ? ln(w, n(i, 'ln_mlp'), x) : attnIn);
        return { hidden: sum3(mlpOut, attnOut, x), attnOut, mlpOut };
      }
      const mid = sum2(attnOut, x);
      const mlpOut = mlp(ln(w, n(i, 'post_attention_layernorm'), mid));
      return { hidden: sum2(mlpOut, mid), attnOut, mlpOut };
    },
    finalNorm: (w, x) => ln(w, `${p}ln_f`, x),
    lmHead: (w, x) => linear(x, w(head)),
    matrices(i): MatrixTable {
      const fusedName = n(i, 'self_attention.query_key_value.weight');
      const fusedBias = cfg.qkvBias ? { biasName: n(i, 'self_attention.query_key_value.bias') } : {};
      const m = (name: string, shape: [number, number], bias: boolean): MatrixRef =>
        ({ tensorName: n(i, `${name}.weight`), layout: 'out_in', shape, ...(bias ? { biasName: n(i, `${name}.bias`) } : {}) });
      return {
        q: { tensorName: fusedName, layout: 'out_in', outRanges: qkv.q, shape: [H * Dh, D], ...fusedBias },
        k: { tensorName: fusedName, layout: 'out_in', outRanges: qkv.k, shape: [Hkv * Dh, D], ...fusedBias },
        v: { tensorName: fusedName, layout: 'out_in', outRanges: qkv.v, shape: [Hkv * Dh, D], ...fusedBias },
        o: m('self_attention.dense', [D, H * Dh], cfg.attnOutBias),
        in: m('mlp.dense_h_to_4h', [F, D], cfg.mlpBias),
        out: m('mlp.dense_4h_to_h', [D, F], cfg.mlpBias),
      };
    },
  };
}

export const falconFamily: Family = { name: 'falcon', prefixes: ['transformer.', ''], embeddingName: 'word_embeddings.weight', create };
