/**
 * Loading an exported pruned checkpoint: the plain model, plus the unfolded linear maps listed
 * under config.json's `linscope` key (linear-maps-format.ts), inserted between its blocks.
 *
 *   const model = await loadPrunedCheckpoint('out/pruned');   // a PrunedModel
 *   const { logits } = model.forward(ids);
 *
 * A folder without the key loads as a PrunedModel with no replacements (the plain model).
 */
import { join } from 'node:path';
import { openSafetensors } from '../io/safetensors.ts';
import { openModelSource, type ModelSource } from '../io/model-source.ts';
import { createModel, type DecoderModel, type LoadOptions } from '../models/decoder.ts';
import type { WeightSource } from '../models/types.ts';
import { Tensor } from '../tensor/tensor.ts';
import { LINEAR_MAPS_FILE, readLinscopeEntry } from './linear-maps-format.ts';
import { PrunedModel } from './pruned-model.ts';
import type { Replacement } from './types.ts';

/**
 * The replacements (count-0 map insertions) a checkpoint's config asks for, read from
 * `linscope_linear_maps.safetensors` in `dir`; [] when the config has no `linscope` key.
 */
export function linscopeLinearMaps(config: Record<string, unknown>, dir: string, hiddenSize: number): Replacement[] {
  const entry = readLinscopeEntry(config);
  if (!entry || entry.linear_maps.length === 0) return [];
  const path = join(dir, LINEAR_MAPS_FILE);
  let file: ReturnType<typeof openSafetensors>;
  try {
    file = openSafetensors(path);
  } catch (e) {
    throw new Error(`config.json lists ${entry.linear_maps.length} linscope linear map(s) but ${path} cannot be read: ${(e as Error).message}`);
  }
  return entry.linear_maps.map((m) => {
    const read = (name: string) => {
      if (!file.has(name)) throw new Error(`${path} has no tensor "${name}" (listed in config.json's linscope.linear_maps)`);
      return file.readTensor(name, 'float64');
    };
    const w = read(m.weight);
    if (w.shape.length !== 2 || w.shape[0] !== hiddenSize || w.shape[1] !== hiddenSize) {
      throw new Error(`${path}: "${m.weight}" must be [${hiddenSize}, ${hiddenSize}], got [${w.shape.join(', ')}]`);
    }
    const bias = m.bias === null ? undefined : read(m.bias);
    return { start: m.after_layer + 1, count: 0, map: { input: m.input, weight: transpose(w), ...(bias ? { bias } : {}) } };
  });
}

/** Open a (possibly pruned) checkpoint as a PrunedModel with its linear maps in place. */
export async function loadPrunedCheckpoint(source: string | ModelSource, options: LoadOptions = {}): Promise<PrunedModel> {
  const src = typeof source === 'string' ? await openModelSource(source) : source;
  const model: DecoderModel = createModel(src as WeightSource, options);
  return new PrunedModel(model, linscopeLinearMaps(src.config, src.dir, model.config.hiddenSize));
}

function transpose(m: Tensor): Tensor {
  const d = m.shape[0];
  const out = Tensor.zeros([d, d], 'float64');
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out.data[j * d + i] = m.data[i * d + j];
  return out;
}
