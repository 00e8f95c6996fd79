/**
 * Per-call preparation shared by every architecture: shapes, masks, position ids, RoPE tables and
 * the KV cache bookkeeping.
 *
 * Masks and positions follow Hugging Face. `attentionMask` covers the tokens of this call; the
 * cache remembers the mask of earlier calls, so the key mask is (cached mask ++ this call's mask).
 * Position ids default to cumsum(mask) − 1 with pad slots set to 1 (what HF `generate()` passes);
 * without any padding that is simply the slot index.
 */
import type { DecoderConfig } from './config.ts';
import { ropeForCall } from './rope-scaling.ts';
import type { ForwardContext, KVCache } from './types.ts';

export interface ForwardInputs {
  /** 1 = real token, 0 = padding; B rows × T, for the tokens of this call only. */
  attentionMask?: number[][];
  /** Position ids of this call's tokens (B × T). Default: from the mask, as HF generate(). */
  positionIds?: number[][];
  /** A cache from an earlier call to continue, or `true` to start one. */
  cache?: KVCache | boolean;
  /** Keep each layer's attention probabilities [B, H, T, Tk]. */
  keepAttentionProbs?: boolean;
}

function checkRectangular(rows: readonly (readonly number[])[], batch: number, length: number, what: string): void {
  if (rows.length !== batch) throw new Error(`${what}: ${rows.length} rows for a batch of ${batch}`);
  for (let b = 0; b < rows.length; b++) {
    if (rows[b].length !== length) throw new Error(`${what}: row ${b} has ${rows[b].length} entries, expected ${length}`);
  }
}

/** Running count of real tokens, minus one, per slot: cumsum(mask) − 1. */
function cumsumMinusOne(mask: readonly number[]): number[] {
  let c = 0;
  return mask.map((m) => {
    c += m;
    return c - 1;
  });
}

/** HF generate()'s default position ids over a mask: cumsum − 1, pad slots set to 1. */
function positionsFromMask(mask: readonly number[]): number[] {
  const cs = cumsumMinusOne(mask);
  return mask.map((m, i) => (m === 0 ? 1 : cs[i]));
}

/** BLOOM/Falcon ALiBi key positions: (cumsum(mask) − 1) · mask. */
function alibiPositionsFromMask(mask: readonly number[]): number[] {
  const cs = cumsumMinusOne(mask);
  return mask.map((m, i) => cs[i] * m);
}

/** OPT's learned-position index before its +2 offset: cumsum(mask) · mask − 1. */
export function optPositionsFromMask(mask: readonly number[]): number[] {
  let c = 0;
  return mask.map((m) => {
    c += m;
    return c * m - 1;
  });
}

export function makeCache(keys: KVCache['keys'], values: KVCache['values'], mask: number[][]): KVCache {
  return { keys, values, mask, get length() { return mask[0]?.length ?? 0; } };
}

/** Check inputs and build the context of one forward call. */
export function prepareCall(cfg: DecoderConfig, inputIds: readonly (readonly number[])[], opts: ForwardInputs = {}): ForwardContext {
  const batch = inputIds.length;
  if (batch === 0) throw new Error('forward: inputIds is empty (need at least one sequence)');
  const length = inputIds[0].length;
  if (length === 0) throw new Error('forward: sequences are empty');
  checkRectangular(inputIds, batch, length, 'forward: inputIds (pad sequences to one length and pass attentionMask)');
  if (opts.attentionMask) checkRectangular(opts.attentionMask, batch, length, 'forward: attentionMask');
  if (opts.positionIds) checkRectangular(opts.positionIds, batch, length, 'forward: positionIds');

  const cacheIn = typeof opts.cache === 'object' ? opts.cache : undefined;
  if (cacheIn && cacheIn.mask.length !== batch) throw new Error(`forward: the cache holds ${cacheIn.mask.length} sequences but inputIds has ${batch}`);
  const pastLength = cacheIn?.length ?? 0;
  if (cacheIn && pastLength > 0 && cacheIn.keys.length !== cfg.numLayers) throw new Error(`forward: the cache has ${cacheIn.keys.length} layers, the model ${cfg.numLayers}`);

  const maskRows: number[][] = [];
  let anyPad = false;
  for (let b = 0; b < batch; b++) {
    const current = opts.attentionMask ? opts.attentionMask[b].map((m) => (m ? 1 : 0)) : new Array<number>(length).fill(1);
    const row = cacheIn ? [...cacheIn.mask[b], ...current] : current;
    if (row.includes(0)) anyPad = true;
    maskRows.push(row);
  }

  const positions: number[] = [];
  for (let b = 0; b < batch; b++) {
    const row = opts.positionIds ? opts.positionIds[b] : positionsFromMask(maskRows[b]).slice(pastLength);
    for (const p of row) positions.push(p);
  }

  const ctx: ForwardContext = {
    batch, length, pastLength, positions, maskRows,
    keyMask: anyPad ? maskRows.flat() : undefined,
    cacheIn,
    cacheOut: opts.cache ? { keys: new Array(cfg.numLayers), values: new Array(cfg.numLayers) } : undefined,
    keepAttentionProbs: opts.keepAttentionProbs ?? false,
    attentionProbs: [],
  };
  if (cfg.alibi) ctx.alibiPositions = maskRows.flatMap(alibiPositionsFromMask);
  if (cfg.rope) {
    const r = ropeForCall(cfg.rope, positions);
    ctx.ropeInvFreq = r.invFreq;
    ctx.ropePositions = r.positions;
    ctx.ropeAttentionScaling = r.attentionScaling;
  }
  return ctx;
}

/** The cache after a call: the new per-layer K/V and the extended mask. */
export function finishCache(ctx: ForwardContext): KVCache | undefined {
  const out = ctx.cacheOut;
  if (!out) return undefined;
  return makeCache(out.keys, out.values, ctx.maskRows);
}
