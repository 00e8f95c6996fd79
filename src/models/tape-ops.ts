/**
 * The tape implementation of Ops (ops.ts) on autograd Vars: the training runtime. Each op is an
 * src/autograd op, recorded for backward; forward values come from the same src/tensor kernels as
 * the eager path (eager-ops.ts), so a training forward equals the inference forward up to float
 * rounding of a few fused kernels. Training calls run without a KV cache and keep no attention
 * probabilities.
 */
import {
  activation, add, attention, embedding, gatherColumns, layerNorm, linear, matmul, mul, reshape, rmsNorm, rope, scale, swiGlu, type Var,
} from '../autograd/index.ts';
import { checkPositions, type Ops } from './ops.ts';

const project: Ops<Var>['project'] = (x, weight, bias, layout = 'out_in') => {
  if (layout === 'out_in') return linear(x, weight, bias);
  const y = matmul(x, weight);
  return bias ? add(y, bias) : y;
};

export const tapeOps: Ops<Var> = {
  kind: 'tape',
  shape: (x) => x.shape,
  reshape: (x, shape) => reshape(x, ...shape),
  project,
  norm: (cfg, x, weight, bias) => (cfg.kind === 'rmsnorm' ? rmsNorm(x, weight, cfg.eps, cfg.unitOffset) : layerNorm(x, weight, bias, cfg.eps)),
  columns: gatherColumns,
  plainMlp: (x, act, fcIn, bIn, fcOut, bOut, layout = 'out_in') => project(activation(project(x, fcIn, bIn, layout), act), fcOut, bOut, layout),
  gatedMlp(x, act, gate, up, down, biases) {
    const g = linear(x, gate, biases?.gate);
    const u = linear(x, up, biases?.up);
    const h = act === 'silu' || act === 'swish' ? swiGlu(g, u) : mul(activation(g, act), u);
    return linear(h, down, biases?.down);
  },
  add: (a, b, c) => (c ? add(add(a, b), c) : add(a, b)),
  addTo: add,
  scaleTo: scale,
  embed: (table, ids, ctx) => embedding(table, ids, [ctx.batch, ctx.length]),
  embedPositions(table, positions, ctx, offset = 0) {
    checkPositions(table.shape[0], positions, offset);
    return embedding(table, offset === 0 ? positions : positions.map((p) => p + offset), [ctx.batch, ctx.length]);
  },
  attention(cfg, q, k, v, ctx, spec) {
    if (ctx.cacheIn || ctx.cacheOut || ctx.keepAttentionProbs || ctx.queryFrom) throw new Error('training forward: a KV cache, kept attention probabilities and queryFrom are inference-only');
    const { numHeads, numKvHeads, headDim } = cfg;
    if (cfg.rope && ctx.ropeInvFreq && ctx.ropePositions) {
      const common = { headDim, rotaryDim: cfg.rope.rotaryDim, invFreq: ctx.ropeInvFreq, style: cfg.rope.style, positions: ctx.ropePositions, attentionScaling: ctx.ropeAttentionScaling };
      q = rope(q, { ...common, numHeads });
      k = rope(k, { ...common, numHeads: numKvHeads });
    }
    return attention(q, k, v, {
      numHeads, numKvHeads, headDim, scale: spec.scale, causal: true, queryOffset: ctx.pastLength,
      keyMask: ctx.keyMask,
      alibiSlopes: spec.alibiSlopes,
      alibiPositions: spec.alibiSlopes ? ctx.alibiPositions : undefined,
      slidingWindow: spec.slidingWindow,
    });
  },
  queryRows(x, ctx) {
    if (ctx.queryFrom) throw new Error('training forward: queryFrom is inference-only');
    return x;
  },
};
