/**
 * Comparing the tensors a checkpoint holds with the ones a model built from its config reads, as
 * Hugging Face's `from_pretrained` does: missing tensors are an error, unused ones a warning
 * ("Some weights of the model checkpoint were not used…"), so a config that does not match its
 * weights (fewer layers, another architecture) is never silent. Both lists are summarised on one
 * line: names that differ only in a layer index collapse to `model.layers.{2–3}.* (18 tensors)`.
 * Known non-weight buffers and linscope's extras (src/io/checkpoint-buffers.ts) are not "unused".
 */
import { isIgnorableCheckpointTensor } from '../io/checkpoint-buffers.ts';
import { readLinscopeEntry } from '../prune/linear-maps-format.ts';
import type { WeightSource } from './types.ts';

/** `1, 2, 3, 5` → "1–3, 5". */
function ranges(sorted: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j === i ? `${sorted[i]}` : `${sorted[i]}–${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/**
 * Tensor names summarised: names sharing everything before their first numeric component
 * (`model.layers.`) form one group `prefix{layers}.* (count tensors)`; a group of one name, and
 * names without a layer index, are quoted whole. At most `max` items, then "… and N more".
 */
function summariseNames(names: readonly string[], max = 6): string {
  const groups = new Map<string, { layers: Set<number>; names: string[] }>();
  const items: { key: string; names: string[] }[] = [];
  for (const name of names) {
    const m = /^(.*?\.)(\d+)\./.exec(name);
    const key = m ? m[1] : `"${name}"`;
    let g = groups.get(key);
    if (!g) {
      g = { layers: new Set(), names: [] };
      groups.set(key, g);
      items.push({ key, names: g.names });
    }
    if (m) g.layers.add(Number(m[2]));
    g.names.push(name);
  }
  const parts = items.map(({ key, names: members }) => {
    const g = groups.get(key)!;
    if (members.length === 1) return `"${members[0]}"`;
    if (g.layers.size === 0) return key;
    return `${key}{${ranges([...g.layers].sort((a, b) => a - b))}}.* (${members.length} tensors)`;
  });
  return parts.length > max ? `${parts.slice(0, max).join(', ')}, … and ${parts.length - max} more` : parts.join(', ');
}

const warned = new WeakSet<object>();

/**
 * Throw when `source` lacks any of `needed`; warn once per source about the tensors it holds that
 * the model does not read. `lmHeadTied`: the head is the embedding, so a stored `lm_head.weight`
 * (PyTorch saves both) is expected.
 */
export function checkCheckpointNames(source: WeightSource, needed: readonly string[], modelType: string, numLayers: number, lmHeadTied: boolean): void {
  const missing = needed.filter((name) => !source.hasTensor(name));
  if (missing.length > 0) {
    throw new Error(`${modelType} checkpoint lacks ${missing.length} tensor(s) the model needs: ${summariseNames(missing)}`);
  }
  if (!source.tensorNames || warned.has(source)) return;
  // the linear maps of a linscope export (config.json's linscope.linear_maps) are read too (linscope-maps.ts)
  const maps = readLinscopeEntry(source.config as Record<string, unknown>)?.linear_maps ?? [];
  const used = new Set([...needed, ...maps.flatMap((m) => (m.bias === null ? [m.weight] : [m.weight, m.bias]))]);
  const unused = source.tensorNames().filter((name) =>
    !used.has(name) && !isIgnorableCheckpointTensor(name) && !(lmHeadTied && /(^|\.)lm_head\.weight$/.test(name)));
  if (unused.length === 0) return;
  warned.add(source);
  const where = (source as { dir?: unknown }).dir;
  const n = unused.length;
  console.warn(`linscope: ${typeof where === 'string' ? `${where}: ` : ''}${n} tensor${n === 1 ? '' : 's'} of the checkpoint ${n === 1 ? 'is' : 'are'} ` +
    `not used by this ${modelType} model (${numLayers} layers in config.json): ${summariseNames(unused)} — ` +
    'expected only if the config describes part of the model on purpose; otherwise config.json does not match the weights');
}
