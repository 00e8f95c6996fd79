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
 * orientation) and listed under `linscope_low_rank` in config.json; linscope's loader reads them
 * back as factors (format: src/io/low-rank-format.ts). Such a folder is linscope-only.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeShardedSafetensors, type FloatStorage } from '../io/safetensors.ts';
import { LEFT_SUFFIX, LOW_RANK_CONFIG_KEY, lowRankEntry, RIGHT_SUFFIX } from '../io/low-rank-format.ts';
import { isLowRank } from '../tensor/low-rank.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { AppliedIntervention } from './intervention.ts';
import { formatInterventions } from './types.ts';

/** Files copied from the source folder when present (tokenizer and generation settings). */
export const COPIED_FILES = [
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.json', 'merges.txt',
  'tokenizer.model', 'added_tokens.json', 'generation_config.json',
];

export interface ExportSource {
  /** config.json record. */
  config: Record<string, unknown>;
  /** Every weight to save, by its checkpoint name. */
  weightNames(): string[];
  getWeight(name: string): Tensor;
  /** Folder whose tokenizer files are copied (optional). */
  dir?: string;
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
  /** Write factored weights as their factors (linscope-only format) instead of dense. */
  factored?: boolean;
}

export interface ExportResult {
  dir: string;
  weightFiles: string[];
  copied: string[];
}

export function exportModel(outDir: string, source: ExportSource, opts: ExportOptions = {}): ExportResult {
  mkdirSync(outDir, { recursive: true });
  const tensors: Record<string, Tensor> = {};
  const ranks = new Map<string, number>();
  for (const name of source.weightNames()) {
    const w = source.getWeight(name);
    if (opts.factored && isLowRank(w)) {
      tensors[name + LEFT_SUFFIX] = w.left;
      tensors[name + RIGHT_SUFFIX] = w.right;
      ranks.set(name, w.rank);
    } else {
      tensors[name] = isLowRank(w) ? w.dense() : w;
    }
  }
  const interventions = (opts.applied ?? []).map((a) => a.intervention);
  const metadata: Record<string, string> = { format: 'pt' };
  if (interventions.length > 0) metadata.laser = formatInterventions(interventions);
  const { files } = writeShardedSafetensors(outDir, tensors, { dtype: opts.dtype ?? 'F32', maxShardBytes: opts.maxShardBytes ?? 2e9, metadata });
  const config: Record<string, unknown> = { ...source.config };
  delete config[LOW_RANK_CONFIG_KEY];
  if (ranks.size > 0) config[LOW_RANK_CONFIG_KEY] = lowRankEntry(ranks);
  if (opts.dtype) config.torch_dtype = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64' }[opts.dtype];
  writeFileSync(join(outDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');

  const copied: string[] = [];
  if (source.dir && existsSync(source.dir)) {
    const names = new Set(readdirSync(source.dir));
    const wanted = [...COPIED_FILES.filter((f) => names.has(f)), ...[...names].filter((f) => /^tok.*\.bin$/.test(f))];
    for (const f of wanted) {
      copyFileSync(join(source.dir, f), join(outDir, f));
      copied.push(f);
    }
  }
  const record = {
    interventions: formatInterventions(interventions),
    applied: (opts.applied ?? []).map((a) => ({
      intervention: a.intervention, tensorName: a.tensorName, outDim: a.outDim, inDim: a.inDim,
      rank: a.rank, fullRank: a.fullRank, keep: a.keep, relativeError: a.relativeError,
      denseParams: a.denseParams, factoredParams: a.factoredParams,
      storage: a.storage === 'factored' && ranks.has(a.tensorName) ? 'factored' : 'dense', ...(a.note ? { note: a.note } : {}),
    })),
    ...opts.provenance,
  };
  writeFileSync(join(outDir, 'laser.json'), JSON.stringify(record, null, 2) + '\n');
  return { dir: outDir, weightFiles: files, copied };
}
