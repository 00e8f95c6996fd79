/**
 * The eager attention core (eager-ops.ts) once q, k, v are projected ([B, T, H·Dh]):
 * rotate q and k (RoPE), append k and v to the cache, attend (causal, key padding, ALiBi, sliding
 * window, GQA), and keep the probabilities when asked.
 */
import { attention, attentionFromFused } from '../tensor/attention.ts';
import { applyRope } from '../tensor/rope.ts';
import { Tensor, allocate } from '../tensor/tensor.ts';
import type { DecoderConfig } from './config.ts';
import { gatherColumns } from './layers.ts';
import type { AttentionSpec, QkvRanges } from './ops.ts';
import type { ForwardContext } from './types.ts';

/**
 * Rows per sequence filled in each growable cache buffer: a cache whose filled rows end exactly
 * there is the newest one on that buffer and may grow in place. An older cache on the same buffer (a
 * shorter prefix, e.g. a prompt cache extended twice) no longer ends there, so extending it copies:
 * the newer cache's appended rows are never overwritten.
 */
const filledTo = new WeakMap<ArrayBufferLike, number>();

/** Rows of room a cache gets at least when it is copied into a new buffer. */
const ROOM_ROWS = 32;

/**
 * A KV cache layer [B, capacity, W] whose first `filled` rows per sequence hold keys (or values),
 * with the step's [B, Tb, W] appended after them: written in place when the buffer has room (a
 * generation step then copies only its own rows and allocates nothing), otherwise copied into a new
 * buffer with room for max(32, filled/4) more rows per sequence: a copy every 32 steps for short
 * caches, amortised O(1) rows per step for long ones; the room costs 32 rows or a quarter of the
 * cache (Llama-2-7B with 8 sequences: 8 MB per row over all layers). The first filled + Tb rows per
 * sequence are the keys; attention reads them with `keyRows`.
 */
export function appendRows(cache: Tensor, filled: number, step: Tensor): Tensor {
  const [B, capacity, W] = cache.shape;
  const Tb = step.shape[1];
  const T = filled + Tb;
  if (step.shape[0] !== B || step.shape[2] !== W) throw new Error(`forward: the cache's keys [${cache.shape}] do not fit this call's [${step.shape}]`);
  const buffer = cache.data.buffer;
  const grows = capacity >= T && cache.data.byteOffset === 0 && filledTo.get(buffer) === filled;
  const cap = grows ? capacity : T + Math.max(ROOM_ROWS, Math.ceil(filled / 4));
  const out = grows ? cache : new Tensor(cache.dtype === 'float64' ? new Float64Array(B * cap * W) : new Float32Array(B * cap * W), [B, cap, W]);
  for (let b = 0; b < B; b++) {
    if (!grows) out.data.set(cache.data.subarray(b * capacity * W, (b * capacity + filled) * W), b * cap * W);
    out.data.set(step.data.subarray(b * Tb * W, (b + 1) * Tb * W), (b * cap + filled) * W);
  }
  filledTo.set(out.data.buffer, T);
  return out;
}

/** Rows [from, T) of each sequence of x [B, T, W]: [B, T − from, W]. */
export function suffixRows(x: Tensor, from: number): Tensor {
  const [B, T, W] = x.shape;
  if (!(Number.isInteger(from) && from >= 0 && from < T)) throw new Error(`queryFrom ${from} is outside the ${T} positions of the call`);
  const out = new Tensor(allocate(x.dtype, B * (T - from) * W), [B, T - from, W]);
  for (let b = 0; b < B; b++) out.data.set(x.data.subarray((b * T + from) * W, (b + 1) * T * W), b * (T - from) * W);
  return out;
}

/**
 * Rotates q and k in place (when the model uses RoPE), caches k/v, and returns the attention output
 * [B, T, H·Dh] — or, with ctx.queryFrom, the output of the queries at positions ≥ queryFrom only.
 */
export function attendWithCache(cfg: DecoderConfig, q: Tensor, k: Tensor, v: Tensor, ctx: ForwardContext, spec: AttentionSpec): Tensor {
  const { numHeads, numKvHeads, headDim } = cfg;
  if (cfg.rope && ctx.ropeInvFreq && ctx.ropePositions) {
    const common = { headDim, rotaryDim: cfg.rope.rotaryDim, invFreq: ctx.ropeInvFreq, style: cfg.rope.style, positions: ctx.ropePositions, attentionScaling: ctx.ropeAttentionScaling };
    applyRope(q, { ...common, numHeads });
    applyRope(k, { ...common, numHeads: numKvHeads });
  }
  let keys = k;
  let values = v;
  if (ctx.cacheIn && ctx.pastLength > 0) {
    const pastK = ctx.cacheIn.keys[spec.layer];
    const pastV = ctx.cacheIn.values[spec.layer];
    if (!pastK || !pastV) throw new Error(`forward: the cache has no keys for layer ${spec.layer}`);
    keys = appendRows(pastK, ctx.pastLength, k);
    values = appendRows(pastV, ctx.pastLength, v);
  }
  if (ctx.cacheOut) {
    ctx.cacheOut.keys[spec.layer] = keys;
    ctx.cacheOut.values[spec.layer] = values;
  }
  const from = ctx.queryFrom ?? 0;
  if (from > 0 && ctx.keepAttentionProbs) throw new Error('queryFrom cannot be combined with kept attention probabilities');
  const { out, probs } = attention(from > 0 ? suffixRows(q, from) : q, keys, values, {
    numHeads, numKvHeads, headDim,
    scale: spec.scale,
    causal: true,
    queryOffset: ctx.pastLength + from,
    keyMask: ctx.keyMask,
    alibiSlopes: spec.alibiSlopes,
    alibiPositions: spec.alibiSlopes ? ctx.alibiPositions : undefined,
    slidingWindow: spec.slidingWindow,
    keepProbs: ctx.keepAttentionProbs,
    keyRows: ctx.pastLength + ctx.length,
  });
  if (probs) ctx.attentionProbs[spec.layer] = probs;
  return out;
}

/**
 * attendWithCache on the q, k, v column ranges of a fused projection y [B, T, W]: without RoPE, KV
 * cache or kept probabilities, and with each of q, k, v one contiguous range, the native kernel
 * reads them in place (no copies); otherwise they are copied out and attendWithCache runs.
 */
export function attendFused(cfg: DecoderConfig, y: Tensor, ranges: QkvRanges, ctx: ForwardContext, spec: AttentionSpec): Tensor {
  const inPlace = !cfg.rope && !(ctx.cacheIn && ctx.pastLength > 0) && !ctx.cacheOut && !ctx.keepAttentionProbs && !ctx.queryFrom &&
    ranges.q.length === 1 && ranges.k.length === 1 && ranges.v.length === 1;
  if (inPlace) {
    const out = attentionFromFused(y, ranges.q[0][0], ranges.k[0][0], ranges.v[0][0], {
      numHeads: cfg.numHeads, numKvHeads: cfg.numKvHeads, headDim: cfg.headDim, scale: spec.scale, causal: true,
      queryOffset: 0, keyMask: ctx.keyMask, alibiSlopes: spec.alibiSlopes,
      alibiPositions: spec.alibiSlopes ? ctx.alibiPositions : undefined, slidingWindow: spec.slidingWindow,
    });
    if (out) return out;
  }
  return attendWithCache(cfg, gatherColumns(y, ranges.q), gatherColumns(y, ranges.k), gatherColumns(y, ranges.v), ctx, spec);
}
