/**
 * Internal-consistency checks for a model without reference outputs: a KV-cached forward equals
 * the full forward, left padding does not change real positions, streaming equals cached weights,
 * and cached greedy generation equals uncached generation.
 */
import assert from 'node:assert/strict';
import { createModel, type DecoderModel } from '../../src/models/decoder.ts';
import { generate } from '../../src/models/generate.ts';
import { maxAbsDiff } from '../../src/tensor/elementwise.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';

/** Rows [t0, t1) of batch row b of a [B, T, X] tensor, as a flat array. */
export function positionsOf(x: Tensor, b: number, t0: number, t1: number): Float32Array | Float64Array {
  const [, T] = x.shape;
  const w = x.size / (x.shape[0] * T);
  return x.data.subarray((b * T + t0) * w, (b * T + t1) * w);
}

export function assertClose(a: Tensor | ArrayLike<number>, b: Tensor | ArrayLike<number>, tol: number, what: string): void {
  const d = maxAbsDiff(a, b);
  assert.ok(d <= tol, `${what}: max |Δ| = ${d} > ${tol}`);
}

function tokens(model: DecoderModel, n: number, seed: number): number[] {
  const V = model.config.vocabSize;
  return Array.from({ length: n }, (_, i) => (seed * 7919 + i * 104729) % V);
}

export function checkCacheMatchesFullForward(model: DecoderModel, tol = 1e-4): void {
  const ids = tokens(model, 12, 1);
  const full = model.forward([ids]).logits;
  const first = model.forward([ids.slice(0, 7)], { cache: true });
  const second = model.forward([ids.slice(7, 10)], { cache: first.cache });
  const third = model.forward([ids.slice(10)], { cache: second.cache });
  assert.equal(third.cache!.length, 12);
  assertClose(positionsOf(full, 0, 0, 7), first.logits, tol, 'prefix logits');
  assertClose(positionsOf(full, 0, 7, 10), second.logits, tol, 'cached continuation logits');
  assertClose(positionsOf(full, 0, 10, 12), third.logits, tol, 'second cached continuation logits');
}

export function checkPaddingInvariance(model: DecoderModel, tol = 1e-4): void {
  const long = tokens(model, 10, 2);
  const short = tokens(model, 6, 3);
  const alone = model.forward([short], { outputHiddenStates: true });
  const pad = 4;
  const batch = model.forward([long, [...new Array(pad).fill(0), ...short]], {
    attentionMask: [new Array(10).fill(1), [...new Array(pad).fill(0), ...new Array(6).fill(1)]],
    outputHiddenStates: true,
  });
  assertClose(positionsOf(batch.logits, 1, pad, 10), alone.logits, tol, 'padded row logits');
  alone.hiddenStates!.forEach((h, i) => assertClose(positionsOf(batch.hiddenStates![i], 1, pad, 10), h, tol, `padded row hidden_states.${i}`));
  const longAlone = model.forward([long]).logits;
  assertClose(positionsOf(batch.logits, 0, 0, 10), longAlone, tol, 'unpadded row in a padded batch');
}

export function checkStreamingMatches(model: DecoderModel): void {
  const streaming = createModel(model.source, { streaming: true, dtype: model.dtype });
  const ids = [tokens(model, 9, 4)];
  assert.equal(maxAbsDiff(model.forward(ids).logits, streaming.forward(ids).logits), 0);
}

export function checkCachedGenerationMatches(model: DecoderModel, paddingInvariant = true): void {
  const prompts = [tokens(model, 3, 5), tokens(model, 7, 6)];
  const cached = generate(model, prompts, { maxNewTokens: 6, eosTokenIds: [] });
  const uncached = generate(model, prompts, { maxNewTokens: 6, eosTokenIds: [], useCache: false });
  assert.deepEqual(cached.tokens, uncached.tokens);
  if (!paddingInvariant) return;
  const alone = generate(model, [prompts[0]], { maxNewTokens: 6, eosTokenIds: [] });
  assert.deepEqual(alone.tokens[0], cached.tokens[0], 'left padding does not change a prompt\'s continuation');
}

/**
 * All checks. `paddingInvariant: false` for sliding-window models whose window is shorter than the
 * test sequences: HF counts the window in cache slots, so pad slots use up part of it.
 */
export function checkInternalConsistency(model: DecoderModel, tol = 1e-4, paddingInvariant = true): void {
  checkCacheMatchesFullForward(model, tol);
  if (paddingInvariant) checkPaddingInvariance(model, tol);
  checkStreamingMatches(model);
  checkCachedGenerationMatches(model, paddingInvariant);
}
