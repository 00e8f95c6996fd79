/**
 * Loading an exported pruned checkpoint as a PrunedModel (what prune's evaluation and export work on):
 *
 *   const model = await loadPrunedCheckpoint('out/pruned');   // a PrunedModel
 *   const { logits } = model.forward(ids);
 *
 * The checkpoint's linear maps between blocks are part of the loaded `DecoderModel` itself
 * (src/models/linscope-maps.ts): every command's `loadModel` runs them, so the PrunedModel starts
 * with no replacements of its own.
 */
import { openModelSource, type ModelSource } from '../io/model-source.ts';
import { createModel, type LoadOptions } from '../models/decoder.ts';
import type { WeightSource } from '../models/types.ts';
import { PrunedModel } from './pruned-model.ts';

/** Open a (possibly pruned) checkpoint as a PrunedModel with its linear maps in place. */
export async function loadPrunedCheckpoint(source: string | ModelSource, options: LoadOptions = {}): Promise<PrunedModel> {
  const src = typeof source === 'string' ? await openModelSource(source) : source;
  return new PrunedModel(createModel(src as WeightSource, options));
}
