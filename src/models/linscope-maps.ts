/**
 * Hook for checkpoints exported by `linscope prune` (src/prune/export.ts): besides plain blocks they
 * may list linear maps to run between blocks under the `linscope` key of config.json (format:
 * src/prune/linear-maps-format.ts). `DecoderModel` runs blocks only, so such a checkpoint must be
 * opened with `loadPrunedCheckpoint` (src/prune/load.ts); `loadModel` warns once per folder.
 */
import type { ModelConfig } from '../io/config.ts';

const warned = new Set<string>();

/** Number of linscope linear maps a config lists (0 for ordinary checkpoints). */
export function linscopeLinearMapCount(config: ModelConfig): number {
  const maps = (config.linscope as { linear_maps?: unknown } | undefined)?.linear_maps;
  return Array.isArray(maps) ? maps.length : 0;
}

/** Warn (once per `where`) that a plain load would skip the checkpoint's linear maps. */
export function warnIfLinscopeLinearMaps(config: ModelConfig, where: string): void {
  const n = linscopeLinearMapCount(config);
  if (n === 0 || warned.has(where)) return;
  warned.add(where);
  console.warn(`linscope: ${where} holds ${n} linear map(s) between blocks (config.json "linscope"); loadModel runs the blocks only — use loadPrunedCheckpoint (src/prune/load.ts) to apply them`);
}
