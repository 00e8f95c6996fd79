/**
 * BLOOM (HF `BloomForCausalLM`): LayerNorm right after the word embedding, ALiBi instead of
 * positions (bias slope_h · key position, key positions (cumsum(mask) − 1)·mask), fused
 * query_key_value with rows interleaved per head like GPT-NeoX, GELU (tanh), head tied to the
 * embedding. `apply_residual_connection_post_layernorm` makes the residual start from the normed input.
 */
import { alibiSlopes } from '../tensor/attention.ts';
import type { DecoderConfig } from './config.ts';
import { headWeightName, normWithBias, spec, withBias, type Architecture, type Family } from './family.ts';
import { fusedQkvRanges } from './layers.ts';
import type { MatrixTable } from './types.ts';

function create(cfg: DecoderConfig, p: string): Architecture {
  const D = cfg.hiddenSize, F = cfg.intermediateSize;
  const n = (i: number, s: string): string => `${p}h.${i}.${s}`;
  const emb = `${p}word_embeddings.weight`;
  const head = headWeightName(cfg, emb);
  const qkv = fusedQkvRanges({ kind: 'per_head', numHeads: cfg.numHeads, headDim: cfg.headDim });
  // HF builds the slopes as a float32 tensor.
  const slopes = Float32Array.from(alibiSlopes(cfg.numHeads));
  const names = ['input_layernorm', 'self_attention.query_key_value', 'self_attention.dense', 'post_attention_layernorm', 'mlp.dense_h_to_4h', 'mlp.dense_4h_to_h'];
  const shapes: Record<string, number[]> = {
    input_layernorm: [D], post_attention_layernorm: [D],
    'self_attention.query_key_value': [3 * D, D], 'self_attention.dense': [D, D],
    'mlp.dense_h_to_4h': [F, D], 'mlp.dense_4h_to_h': [D, F],
  };
  return {
    config: cfg, prefix: p,
    globalWeights: () => [
      spec(emb, [cfg.vocabSize, D]),
      ...withBias(`${p}word_embeddings_layernorm`, [D], true),
      ...withBias(`${p}ln_f`, [D], true),
      ...(head === emb ? [] : [spec(head, [cfg.vocabSize, D])]),
    ],
    blockWeights: (i) => names.flatMap((m) => [spec(n(i, `${m}.weight`), shapes[m]), spec(n(i, `${m}.bias`), [shapes[m][0]])]),
    embed: (o, w, ids, ctx) => o.norm(cfg.norm, o.embed(w(emb), ids, ctx), w(`${p}word_embeddings_layernorm.weight`), w(`${p}word_embeddings_layernorm.bias`)),
    block(o, w, i, x, ctx) {
      const W = (m: string) => w(n(i, `${m}.weight`));
      const B = (m: string) => w(n(i, `${m}.bias`));
      const h = o.norm(cfg.norm, x, W('input_layernorm'), B('input_layernorm'));
      const fused = o.project(h, W('self_attention.query_key_value'), B('self_attention.query_key_value'));
      const a = o.attention(cfg, o.columns(fused, qkv.q), o.columns(fused, qkv.k), o.columns(fused, qkv.v), ctx, { layer: i, scale: cfg.attentionScale, alibiSlopes: slopes });
      const attnOut = o.project(a, W('self_attention.dense'), B('self_attention.dense'));
      const mid = o.add(attnOut, o.queryRows(cfg.residualFromNorm ? h : x, ctx));
      const h2 = o.norm(cfg.norm, mid, W('post_attention_layernorm'), B('post_attention_layernorm'));
      const mlpOut = o.plainMlp(h2, cfg.activation, W('mlp.dense_h_to_4h'), B('mlp.dense_h_to_4h'), W('mlp.dense_4h_to_h'), B('mlp.dense_4h_to_h'));
      return { hidden: o.add(mlpOut, cfg.residualFromNorm ? h2 : mid), attnOut, mlpOut };
    },
    finalNorm: (o, w, x) => normWithBias(o, w, cfg.norm, `${p}ln_f`, x),
    lmHead: (o, w, x) => o.project(x, w(head)),
    matrices(i): MatrixTable {
      const fusedName = n(i, 'self_attention.query_key_value.weight');
      const biasName = n(i, 'self_attention.query_key_value.bias');
      return {
        q: { tensorName: fusedName, layout: 'out_in', outRanges: qkv.q, shape: [D, D], biasName },
        k: { tensorName: fusedName, layout: 'out_in', outRanges: qkv.k, shape: [D, D], biasName },
        v: { tensorName: fusedName, layout: 'out_in', outRanges: qkv.v, shape: [D, D], biasName },
        o: { tensorName: n(i, 'self_attention.dense.weight'), layout: 'out_in', shape: [D, D], biasName: n(i, 'self_attention.dense.bias') },
        in: { tensorName: n(i, 'mlp.dense_h_to_4h.weight'), layout: 'out_in', shape: [F, D], biasName: n(i, 'mlp.dense_h_to_4h.bias') },
        out: { tensorName: n(i, 'mlp.dense_4h_to_h.weight'), layout: 'out_in', shape: [D, F], biasName: n(i, 'mlp.dense_4h_to_h.bias') },
      };
    },
  };
}

export const bloomFamily: Family = { name: 'bloom', prefixes: ['transformer.', ''], embeddingName: 'word_embeddings.weight', create };
