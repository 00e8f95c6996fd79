/**
 * Write a (LASER-modified) model as a Hugging Face folder that our loader (and transformers) can
 * read back: `config.json`, `model.safetensors` (or shards + index), the tokenizer files of the
 * source copied unchanged, and `laser.json` recording what was applied.
 *
 * For a llama2.c source the config is the equivalent HF Llama config and the weights carry HF
 * Llama names (the loader already permuted q/k rows to HF's rotary layout). Its tokenizer
 * (`tok*.bin`) is copied beside the weights.
 *
 * By default every weight is written dense, so transformers loads the folder as is. With
 * `factored`, weights the model holds as `LowRankWeight` (LASER `--factored`) are written as their
 * two factors `<name>.laser_left` [m, r] and `<name>.laser_right` [r, n] (W = L·R in the stored
 * orientation) and listed under `linscope_low_rank` in config.json (src/io/low-rank-format.ts);
 * linscope's loader reads them back as factors, and the folder carries linscope's modeling file so
 * transformers runs them too with `trust_remote_code=True` and refuses the folder without it
 * (src/export/custom-code.ts). A source checkpoint's linear maps between blocks are kept. The folder
 * is written by the one writer, src/export/hf-folder.ts (atomic as a whole).
 */
import { writeHFFolder } from '../export/hf-folder.ts';
import { storeLinearMaps, storeWeights, weightToWrite, type MapToStore, type WeightsToWrite } from '../export/model-parts.ts';
import { LOW_RANK_CONFIG_KEY } from '../io/low-rank-format.ts';
import type { FloatStorage } from '../io/safetensors.ts';
import { LINEAR_MAPS_FORMAT, LINSCOPE_CONFIG_KEY } from '../prune/linear-maps-format.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { AppliedIntervention } from './intervention.ts';
import { formatInterventions } from './types.ts';

export { COPIED_FILES } from '../export/tokenizer-files.ts';

export interface ExportSource {
  /** config.json record. */
  config: Record<string, unknown>;
  /** Every weight to save, by its checkpoint name. */
  weightNames(): string[];
  getWeight(name: string): Tensor;
  /** A streamed model: its unreplaced weights are read when written (src/export/model-parts.ts `weightToWrite`). */
  streamed?: WeightsToWrite;
  /** Folder whose tokenizer files are copied (optional). */
  dir?: string;
  /** Vocabulary size (finds a llama2.c tok file in `dir` to write tokenizer.json from). */
  vocabSize?: number;
  /** The model's linear maps between blocks (`checkpointMaps(model)`), stored again. */
  linearMaps?: readonly MapToStore[];
  /** Body prefix to normalise for custom-code folders (`checkpointPrefix(model)`). */
  prefix?: { from: string; to: string };
}

export interface ExportOptions {
  /** Storage dtype (default F32). */
  dtype?: FloatStorage;
  /** Shard size in bytes (default 2 GB; one file when everything fits). */
  maxShardBytes?: number;
  /** What was applied, recorded in laser.json and the safetensors metadata. */
  applied?: readonly AppliedIntervention[];
  /** Extra provenance for laser.json (command line, source path…). */
  provenance?: Record<string, unknown>;
  /** Write factored weights as their factors (needs linscope's modeling file in transformers) instead of dense. */
  factored?: boolean;
}

export interface ExportResult {
  dir: string;
  weightFiles: string[];
  copied: string[];
  /** The folder needs linscope's modeling file in transformers (trust_remote_code=True). */
  customCode: boolean;
}

export function exportModel(outDir: string, source: ExportSource, opts: ExportOptions = {}): ExportResult {
  const modified = new Set(source.streamed?.modifiedWeightNames());
  const weightOf = (n: string) => (source.streamed ? weightToWrite(source.streamed, n, modified) : source.getWeight(n));
  const weights = storeWeights(source.weightNames().map((n) => [n, weightOf(n)]), opts.factored ?? false);
  const maps = storeLinearMaps(source.linearMaps ?? []);
  const interventions = (opts.applied ?? []).map((a) => a.intervention);
  const metadata: Record<string, string> = { format: 'pt' };
  if (interventions.length > 0) metadata.laser = formatInterventions(interventions);
  const config: Record<string, unknown> = { ...source.config };
  delete config[LOW_RANK_CONFIG_KEY];
  if (weights.lowRank) config[LOW_RANK_CONFIG_KEY] = weights.lowRank;
  const linscope = (config[LINSCOPE_CONFIG_KEY] ?? {}) as Record<string, unknown>;
  config[LINSCOPE_CONFIG_KEY] = { ...linscope, format: LINEAR_MAPS_FORMAT, linear_maps: maps.entries };
  const factoredNames = new Set(Object.keys(weights.lowRank?.tensors ?? {}));
  const record = {
    interventions: formatInterventions(interventions),
    applied: (opts.applied ?? []).map((a) => ({
      intervention: a.intervention, tensorName: a.tensorName, outDim: a.outDim, inDim: a.inDim,
      rank: a.rank, fullRank: a.fullRank, keep: a.keep, relativeError: a.relativeError,
      denseParams: a.denseParams, factoredParams: a.factoredParams,
      storage: a.storage === 'factored' && factoredNames.has(a.tensorName) ? 'factored' : 'dense', ...(a.note ? { note: a.note } : {}),
    })),
    ...opts.provenance,
  };
  const written = writeHFFolder(outDir, {
    config, tensors: { ...weights.tensors, ...maps.tensors }, dtype: opts.dtype, maxShardBytes: opts.maxShardBytes, metadata,
    tokenizerFrom: source.dir, vocabSize: source.vocabSize, prefix: source.prefix,
    files: { 'laser.json': `${JSON.stringify(record, null, 2)}\n` },
  });
  return { dir: outDir, weightFiles: written.weightFiles, copied: written.tokenizerFiles, customCode: written.customCode };
}
