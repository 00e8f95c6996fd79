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
import type { DecoderConfig } from './config.ts';
import { dense, headWeightName, normWithBias, spec, withBias, type Architecture, type Family, type Weights } from './family.ts';
import { fusedQkvRanges, type FusedQkvLayout } from './layers.ts';
import type { Ops } from './ops.ts';
import type { MatrixRef, MatrixTable } from './types.ts';

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
  const ln = <T>(o: Ops<T>, w: Weights<T>, name: string, x: T): T => normWithBias(o, w, cfg.norm, name, x);
  return {
    config: cfg, prefix: p,
    globalWeights: () => [
      spec(emb, [cfg.vocabSize, D]), ...withBias(`${p}ln_f`, [D], true),
      ...(head === emb ? [] : [spec(head, [cfg.vocabSize, D])]),
    ],
    blockWeights: (i) => [
      ...blockNorms.flatMap((m) => [spec(n(i, `${m}.weight`), [D]), spec(n(i, `${m}.bias`), [D])]),
      ...withBias(n(i, 'self_attention.query_key_value'), [fusedRows, D], cfg.qkvBias),
      ...withBias(n(i, 'self_attention.dense'), [D, H * Dh], cfg.attnOutBias),
      ...withBias(n(i, 'mlp.dense_h_to_4h'), [F, D], cfg.mlpBias),
      ...withBias(n(i, 'mlp.dense_4h_to_h'), [D, F], cfg.mlpBias),
    ],
    embed: (o, w, ids, ctx) => o.embed(w(emb), ids, ctx),
    block(o, w, i, x, ctx) {
      const attnIn = ln(o, w, n(i, twoNorms ? 'ln_attn' : 'input_layernorm'), x);
      const fused = dense(o, w, n(i, 'self_attention.query_key_value'), attnIn, cfg.qkvBias);
      const a = o.attention(cfg, o.columns(fused, qkv.q), o.columns(fused, qkv.k), o.columns(fused, qkv.v), ctx, { layer: i, scale: cfg.attentionScale, alibiSlopes: slopes });
      const attnOut = dense(o, w, n(i, 'self_attention.dense'), a, cfg.attnOutBias);
      const mlp = (input: typeof x) => o.plainMlp(input, cfg.activation, w(n(i, 'mlp.dense_h_to_4h.weight')), cfg.mlpBias ? w(n(i, 'mlp.dense_h_to_4h.bias')) : undefined,
        w(n(i, 'mlp.dense_4h_to_h.weight')), cfg.mlpBias ? w(n(i, 'mlp.dense_4h_to_h.bias')) : undefined);
      const xs = o.queryRows(x, ctx);
      if (cfg.parallelResidual) {
        const mlpOut = mlp(twoNorms ? ln(o, w, n(i, 'ln_mlp'), xs) : o.queryRows(attnIn, ctx));
        return { hidden: o.add(mlpOut, attnOut, xs), attnOut, mlpOut };
      }
      const mid = o.add(attnOut, xs);
      const mlpOut = mlp(ln(o, w, n(i, 'post_attention_layernorm'), mid));
      return { hidden: o.add(mlpOut, mid), attnOut, mlpOut };
    },
    finalNorm: (o, w, x) => ln(o, w, `${p}ln_f`, x),
    lmHead: (o, w, x) => o.project(x, w(head)),
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
