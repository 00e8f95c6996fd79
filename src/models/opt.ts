/**
 * OPT (HF `OPTForCausalLM`): learned positions with an offset of 2, indexed by
 * cumsum(mask)·mask − 1 (OPT derives positions from the attention mask, never from position_ids);
 * pre-LN blocks (post-LN when `do_layer_norm_before` is false, opt-350m); optional
 * project_in/project_out when `word_embed_proj_dim` ≠ hidden_size; head tied to embed_tokens.
 */
import type { DecoderConfig } from './config.ts';
import { optPositionsFromMask } from './context.ts';
import { dense, headWeightName, normWithBias, spec, withBias, type Architecture, type Family, type Weights } from './family.ts';
import type { Ops } from './ops.ts';
import type { MatrixTable } from './types.ts';

/** OPTLearnedPositionalEmbedding's offset. */
const POSITION_OFFSET = 2;

function create(cfg: DecoderConfig, p: string): Architecture {
  const D = cfg.hiddenSize, F = cfg.intermediateSize, E = cfg.embedProjDim;
  const projected = E !== D;
  const n = (i: number, s: string): string => `${p}layers.${i}.${s}`;
  const emb = `${p}embed_tokens.weight`;
  const head = headWeightName(cfg, emb);
  const ln = <T>(o: Ops<T>, w: Weights<T>, name: string, x: T): T => normWithBias(o, w, cfg.norm, name, x);
  return {
    config: cfg, prefix: p,
    globalWeights: () => [
      spec(emb, [cfg.vocabSize, E]),
      spec(`${p}embed_positions.weight`, [cfg.maxPositions! + POSITION_OFFSET, D]),
      ...(projected ? [spec(`${p}project_in.weight`, [D, E]), spec(`${p}project_out.weight`, [E, D])] : []),
      ...(cfg.finalNorm ? [...withBias(`${p}final_layer_norm`, [D], true)] : []),
      ...(head === emb ? [] : [spec(head, [cfg.vocabSize, E])]),
    ],
    blockWeights: (i) => [
      ...['k_proj', 'v_proj', 'q_proj', 'out_proj'].flatMap((m) => withBias(n(i, `self_attn.${m}`), [D, D], m === 'out_proj' ? cfg.attnOutBias : cfg.qkvBias)),
      ...withBias(n(i, 'self_attn_layer_norm'), [D], true),
      ...withBias(n(i, 'fc1'), [F, D], cfg.mlpBias), ...withBias(n(i, 'fc2'), [D, F], cfg.mlpBias),
      ...withBias(n(i, 'final_layer_norm'), [D], true),
    ],
    embed(o, w, ids, ctx) {
      let h = o.embed(w(emb), ids, ctx);
      if (projected) h = o.project(h, w(`${p}project_in.weight`));
      const positions = ctx.maskRows.flatMap((row) => optPositionsFromMask(row).slice(ctx.pastLength));
      return o.addTo(h, o.embedPositions(w(`${p}embed_positions.weight`), positions, ctx, POSITION_OFFSET));
    },
    block(o, w, i, x, ctx) {
      const pre = cfg.normBeforeSublayer;
      const h = pre ? ln(o, w, n(i, 'self_attn_layer_norm'), x) : x;
      const q = dense(o, w, n(i, 'self_attn.q_proj'), h, cfg.qkvBias);
      const k = dense(o, w, n(i, 'self_attn.k_proj'), h, cfg.qkvBias);
      const v = dense(o, w, n(i, 'self_attn.v_proj'), h, cfg.qkvBias);
      const a = o.attention(cfg, q, k, v, ctx, { layer: i, scale: cfg.attentionScale });
      const attnOut = dense(o, w, n(i, 'self_attn.out_proj'), a, cfg.attnOutBias);
      let mid = o.add(o.queryRows(x, ctx), attnOut);
      if (!pre) mid = ln(o, w, n(i, 'self_attn_layer_norm'), mid);
      const h2 = pre ? ln(o, w, n(i, 'final_layer_norm'), mid) : mid;
      const b = (name: string) => (cfg.mlpBias ? w(n(i, `${name}.bias`)) : undefined);
      const mlpOut = o.plainMlp(h2, cfg.activation, w(n(i, 'fc1.weight')), b('fc1'), w(n(i, 'fc2.weight')), b('fc2'));
      let out = o.add(mid, mlpOut);
      if (!pre) out = ln(o, w, n(i, 'final_layer_norm'), out);
      return { hidden: out, attnOut, mlpOut };
    },
    finalNorm(o, w, x) {
      let h = cfg.finalNorm ? ln(o, w, `${p}final_layer_norm`, x) : x;
      if (projected) h = o.project(h, w(`${p}project_out.weight`));
      return h;
    },
    lmHead: (o, w, x) => o.project(x, w(head)),
    matrices(i): MatrixTable {
      const m = (name: string, shape: [number, number], bias: boolean) =>
        ({ tensorName: n(i, `${name}.weight`), layout: 'out_in' as const, shape, ...(bias ? { biasName: n(i, `${name}.bias`) } : {}) });
      return {
        q: m('self_attn.q_proj', [D, D], cfg.qkvBias), k: m('self_attn.k_proj', [D, D], cfg.qkvBias),
        v: m('self_attn.v_proj', [D, D], cfg.qkvBias), o: m('self_attn.out_proj', [D, D], cfg.attnOutBias),
        in: m('fc1', [F, D], cfg.mlpBias), out: m('fc2', [D, F], cfg.mlpBias),
      };
    },
  };
}

export const optFamily: Family = { name: 'opt', prefixes: ['model.decoder.', 'decoder.', ''], embeddingName: 'embed_tokens.weight', create };
