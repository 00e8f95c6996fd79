/**
 * Greedy decoders in the shape the evaluation expects (`GenerateFn`: new tokens only):
 * - `cachedGreedy`: src/models' KV-cached `generate` (prefill once, then one token per step);
 * - `uncachedGreedy`: through `forward` alone, re-running the whole left-padded batch each step
 *   (O(steps · T²)); for models without a cache. Both agree up to float rounding.
 */
import type { DecoderModel } from '../models/decoder.ts';
import { generate } from '../models/generate.ts';
import type { CausalLM, GenerateFn } from './model-api.ts';
import { argmax } from './log-probs.ts';

/** Greedy generation with src/models' KV cache; stops a row at `eosId` (the config's EOS ids when undefined). */
export function cachedGreedy(model: DecoderModel): GenerateFn {
  return async (prompts, maxNewTokens, { eosId, padId }) =>
    generate(model, prompts, { maxNewTokens, eosTokenIds: eosId === undefined ? undefined : [eosId], padTokenId: padId }).tokens;
}

/** A `GenerateFn` for `model` that recomputes the full forward at each step. */
export function uncachedGreedy(model: CausalLM): GenerateFn {
  return async (prompts, maxNewTokens, { eosId, padId }) => {
    const rows = prompts.map((p) => [...p]);
    const generated: number[][] = prompts.map(() => []);
    const done = prompts.map(() => false);
    for (let step = 0; step < maxNewTokens && done.some((d) => !d); step++) {
      const width = Math.max(...rows.map((r) => r.length));
      const ids = rows.map((r) => [...new Array<number>(width - r.length).fill(padId), ...r]);
      const attentionMask = rows.map((r) => [...new Array<number>(width - r.length).fill(0), ...new Array<number>(r.length).fill(1)]);
      const { logits } = await model.forward(ids, { attentionMask });
      const vocab = logits.shape[2];
      for (let b = 0; b < rows.length; b++) {
        if (done[b]) continue;
        const next = argmax(logits.data, (b * width + width - 1) * vocab, vocab);
        generated[b].push(next);
        rows[b].push(next);
        if (next === eosId) done[b] = true;
      }
    }
    return generated;
  };
}
