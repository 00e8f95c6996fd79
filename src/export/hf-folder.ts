/**
 * The one writer of Hugging Face model folders (`pretrain`, `finetune`, `laser apply`, `prune`).
 *
 * - config.json follows the export rule of custom-code.ts: vanilla base config, or `auto_map` +
 *   `modeling_linscope.py` when the model has linear maps or factored weights.
 * - weights: `model.safetensors` (or shards + index, as `save_pretrained`), tokenizer files
 *   (tokenizer-files.ts: copied, or written from a llama2.c `tok*.bin`), then any extra records.
 * - atomic as a whole: everything is written into a temporary sibling folder
 *   `.<name>.linscope-partial-<pid>-<random>`, each file completely, and that folder is renamed to
 *   the target only when all files are written. An interruption or a full disk leaves the target
 *   as it was (absent, or the previous export) and no partial folder under its name — never a
 *   folder that loads as something else. A target that exists is replaced whole if it is a model
 *   folder (has config.json) or empty; any other existing folder is refused, so no unrelated files
 *   are lost. Partial folders a killed process left beside the target are removed by the next export.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { copyFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../io/atomic-file.ts';
import { writeShardedSafetensors, type FloatStorage } from '../io/safetensors.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { WritableTensor } from '../io/safetensors-write.ts';
import { LOW_RANK_CONFIG_KEY, type LowRankEntry } from '../io/low-rank-format.ts';
import { exportConfig, MODELING_FILE } from './custom-code.ts';
import { MAP_TENSOR_PREFIX } from './model-parts.ts';
import { tokenizerFilesFor } from './tokenizer-files.ts';

export interface HFFolderContent {
  /** config.json before the export rule is applied (may carry `linscope` / `linscope_low_rank`). */
  config: Record<string, unknown>;
  /**
   * Every tensor of the checkpoint, by name (RawTensor entries keep their own dtype; LazyTensor
   * entries are produced one at a time as they are written, so the model is never held whole).
   */
  tensors: Record<string, WritableTensor>;
  /** Storage dtype (default F32); recorded as torch_dtype when given. */
  dtype?: FloatStorage;
  /** Shard size in bytes (default 2 GB; one file when everything fits). */
  maxShardBytes?: number;
  /** safetensors metadata (default {format: 'pt'}). */
  metadata?: Record<string, string>;
  /** Folder whose tokenizer files go with the model; `vocabSize` picks a llama2.c tok file there. */
  tokenizerFrom?: string;
  vocabSize?: number;
  /** Further files: name → text (JSON records end with a newline). */
  files?: Record<string, string>;
  /**
   * Body prefix of the tensor names and the one transformers' CausalLM class uses (`checkpointPrefix`
   * in model-parts.ts): a custom-code folder gets full names, since transformers cannot load a
   * checkpoint without the body prefix that has tensors outside the body (the maps).
   */
  prefix?: { from: string; to: string };
}

export interface HFFolderResult {
  dir: string;
  weightFiles: string[];
  /** Tokenizer files copied or written. */
  tokenizerFiles: string[];
  /** Whether the folder needs `trust_remote_code=True` in transformers (and why). */
  customCode: boolean;
  config: Record<string, unknown>;
}

const TORCH_DTYPES: Record<FloatStorage, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64' };

/** Throws (one line) when `dir` exists and is neither empty nor a model folder we may replace. */
export function checkExportTarget(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new Error(`${dir} exists and is not a folder; choose another output path`);
  const names = readdirSync(dir);
  if (names.length > 0 && !names.includes('config.json')) {
    throw new Error(`${dir} exists and is not a model folder (no config.json); choose another output folder or empty it`);
  }
}

/** Write a complete model folder at `outDir` (see the module comment). */
export function writeHFFolder(outDir: string, content: HFFolderContent): HFFolderResult {
  const target = resolve(outDir);
  checkExportTarget(target);
  removeAbandoned(target);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const partial = join(dirname(target), `.${basename(target)}.linscope-partial-${tag}`);
  mkdirSync(partial, { recursive: true });
  try {
    const { config, modelingFile } = exportConfig(content.config);
    if (content.dtype) config.torch_dtype = TORCH_DTYPES[content.dtype];
    const tensors = modelingFile && content.prefix ? withFullNames(content.tensors, config, content.prefix) : content.tensors;
    const { files: weightFiles } = writeShardedSafetensors(partial, tensors, {
      dtype: content.dtype ?? 'F32',
      maxShardBytes: content.maxShardBytes ?? 2e9,
      metadata: content.metadata ?? { format: 'pt' },
    });
    const tokenizer = tokenizerFilesFor(content.tokenizerFrom, content.vocabSize);
    for (const [name, from] of Object.entries(tokenizer.copy)) copyFileAtomic(from, join(partial, name));
    for (const [name, text] of Object.entries(tokenizer.write)) writeFileAtomicSync(join(partial, name), text);
    if (modelingFile) writeFileAtomicSync(join(partial, MODELING_FILE), modelingFile);
    for (const [name, text] of Object.entries(content.files ?? {})) writeFileAtomicSync(join(partial, name), text);
    writeFileAtomicSync(join(partial, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    replaceFolder(partial, target, tag);
    return {
      dir: outDir, weightFiles, tokenizerFiles: [...Object.keys(tokenizer.copy), ...Object.keys(tokenizer.write)],
      customCode: modelingFile !== undefined, config,
    };
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    throw err;
  }
}

/** Tensors renamed from `prefix.from` to `prefix.to` (and the names config.json lists with them). */
function withFullNames<T>(tensors: Record<string, T>, config: Record<string, unknown>, prefix: { from: string; to: string }): Record<string, T> {
  const outside = ['lm_head.', 'embed_out.', MAP_TENSOR_PREFIX];
  const rename = (name: string) => (name.startsWith(prefix.from) && !outside.some((o) => name.startsWith(o)) ? prefix.to + name.slice(prefix.from.length) : name);
  const maps = (config.linscope as { linear_maps?: { mlp_output?: string }[] } | undefined)?.linear_maps ?? [];
  for (const m of maps) if (m.mlp_output) m.mlp_output = rename(m.mlp_output);
  const lowRank = config[LOW_RANK_CONFIG_KEY] as LowRankEntry | undefined;
  if (lowRank) {
    lowRank.tensors = Object.fromEntries(Object.entries(lowRank.tensors).map(([n, f]) => [rename(n), { ...f, left: rename(f.left), right: rename(f.right) }]));
  }
  return Object.fromEntries(Object.entries(tensors).map(([n, t]) => [rename(n), t]));
}

/** Partial folders of `target` left by killed processes (their pid is gone) are removed. */
function removeAbandoned(target: string): void {
  const parent = dirname(target);
  if (!existsSync(parent)) return;
  const pattern = new RegExp(`^\\.${basename(target).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.linscope-(?:partial|replaced)-(\\d+)-[0-9a-f]+$`);
  for (const name of readdirSync(parent)) {
    const m = pattern.exec(name);
    if (m && !processAlive(Number(m[1]))) rmSync(join(parent, name), { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function copyFileAtomic(from: string, to: string): void {
  const tmp = `${to}.copying`;
  try {
    copyFileSync(from, tmp);
    renameSync(tmp, to);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Move the complete folder `partial` to `target`, replacing a previous folder there. */
function replaceFolder(partial: string, target: string, tag: string): void {
  if (!existsSync(target)) {
    renameSync(partial, target);
    return;
  }
  const old = join(dirname(target), `.${basename(target)}.linscope-replaced-${tag}`);
  renameSync(target, old);
  try {
    renameSync(partial, target);
  } catch (err) {
    renameSync(old, target);
    throw err;
  }
  rmSync(old, { recursive: true, force: true });
}
