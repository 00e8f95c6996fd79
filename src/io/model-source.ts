/**
 * ModelSource: what the model code reads weights, config and tokenizer from, whatever the
 * checkpoint format. `openModelSource` takes a folder, a file, or a hub id and picks the format:
 *   - Hugging Face folder: config.json + weights, picked in transformers' order: model.safetensors.index.json
 *     (sharded), model.safetensors, pytorch_model.bin.index.json, pytorch_model.bin (torch.save pickles,
 *     read by a restricted unpickler, torch-bin.ts); another lone *.safetensors only when none of those
 *     exists; tokenizer per tokenizer.ts;
 *   - llama2.c: a `.bin` checkpoint (the folder holding one, or the file itself), with the `tok*.bin`
 *     beside it as tokenizer; served under HF Llama names (see llama2c.ts).
 * Tensors are read lazily, one per getTensor call, so a model larger than RAM can be streamed
 * layer by layer. F16/BF16 weights are upcast to float32 (or float64 on request).
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { DType, Tensor } from '../tensor/tensor.ts';
import { readConfig, type ModelConfig } from './config.ts';
import { withLowRankTensors } from './low-rank-format.ts';
import { resolveModel, type ResolveModelOptions } from './hub.ts';
import { refuseQuantized } from './quantization.ts';
import { InputError } from './input-error.ts';
import { findLlama2cTokenizerFile, llama2cHeaderProblem, looksLikeLlama2c, openLlama2c, readLlama2cTokenizer } from './llama2c.ts';
import { readStoredTensor, readStoredTorchTensor } from './stored-tensor.ts';
import { findSafetensorsWeights, openTensorReader, SAFETENSORS_INDEX_NAME, SAFETENSORS_SINGLE_NAME } from './safetensors.ts';
import { findTorchBinWeights, looksLikeTorchBin, openTorchWeights } from './torch-bin.ts';
import type { Tokenizer } from './tokenizer.ts';
import { loadFolderTokenizer } from './tokenizer-files.ts';

export interface ModelSource {
  /** Folder the model lives in (for a hub id: its snapshot folder in the cache). */
  dir: string;
  /** config.json as a plain record (for llama2.c: the equivalent HF Llama config). */
  config: ModelConfig;
  /** Checkpoint format. */
  format: 'safetensors' | 'pytorch' | 'llama2c';
  tensorNames(): string[];
  hasTensor(name: string): boolean;
  /** Shape without reading the data. */
  tensorShape(name: string): number[];
  /** Read one tensor now (float32 by default). */
  getTensor(name: string, dtype?: DType): Tensor;
  /** Read one tensor in its stored 16-bit dtype (2-D BF16/F16 → `HalfWeight`), others as `getTensor`. */
  getStoredTensor?(name: string): Tensor;
  /** Stored dtype of a tensor, as safetensors names it (F32, BF16, F16, …), without reading it. */
  tensorDtype?(name: string): string;
  /** The model's tokenizer, or undefined when the source has none. */
  tokenizer(): Promise<Tokenizer | undefined>;
}

export type OpenModelSourceOptions = ResolveModelOptions;

function memo<T>(fn: () => T): () => T {
  let cached: { value: T } | undefined;
  return () => (cached ??= { value: fn() }).value;
}

function safetensorsSource(dir: string, weightsPath: string): ModelSource {
  if (!existsSync(join(dir, 'config.json'))) {
    throw new Error(`${dir}: has safetensors weights (${basename(weightsPath)}) but no config.json`);
  }
  const config = readConfig(dir);
  const reader = openTensorReader(weightsPath);
  refuseQuantized(dir, config, reader);
  return withLowRankTensors({
    dir,
    config,
    format: 'safetensors',
    tensorNames: () => reader.names(),
    hasTensor: (name) => reader.has(name),
    tensorShape: (name) => reader.info(name).shape,
    tensorDtype: (name) => reader.info(name).dtype,
    getTensor: (name, dtype) => reader.readTensor(name, dtype),
    getStoredTensor: (name) => readStoredTensor(reader, name),
    tokenizer: memo(async () => loadFolderTokenizer(dir, config)),
  } satisfies ModelSource);
}

const TORCH_TO_SAFETENSORS: Record<string, string> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16', float64: 'F64' };

function torchBinSource(dir: string, weightsPath: string): ModelSource {
  if (!existsSync(join(dir, 'config.json'))) {
    throw new Error(`${dir}: has PyTorch weights (${basename(weightsPath)}) but no config.json`);
  }
  const config = readConfig(dir);
  const reader = openTorchWeights(weightsPath);
  return withLowRankTensors({
    dir,
    config,
    format: 'pytorch',
    tensorNames: () => reader.names(),
    hasTensor: (name) => reader.has(name),
    tensorShape: (name) => reader.shape(name),
    tensorDtype: (name) => TORCH_TO_SAFETENSORS[reader.dtype(name)] ?? reader.dtype(name),
    getTensor: (name, dtype) => reader.readTensor(name, dtype),
    getStoredTensor: (name) => readStoredTorchTensor(reader, name),
    tokenizer: memo(async () => loadFolderTokenizer(dir, config)),
  } satisfies ModelSource);
}

function llama2cSource(binPath: string): ModelSource {
  const ck = openLlama2c(binPath);
  const dir = dirname(binPath);
  return {
    dir,
    config: ck.config,
    format: 'llama2c',
    tensorNames: () => ck.names(),
    hasTensor: (name) => ck.has(name),
    tensorShape: (name) => ck.shape(name),
    getTensor: (name, dtype) => ck.readTensor(name, dtype),
    tokenizer: memo(async () => {
      const file = findLlama2cTokenizerFile(dir, ck.header.vocabSize);
      return file ? readLlama2cTokenizer(file, ck.header.vocabSize) : undefined;
    }),
  };
}

/** True when a `.bin` is a PyTorch file (by its name, or a zip / pickle start), not a llama2.c checkpoint. */
function isTorchBin(path: string): boolean {
  const name = basename(path);
  if (name.startsWith('pytorch_model') || name.startsWith('training_args')) return true;
  const head = Buffer.alloc(4);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    readSync(fd, head, 0, 4, 0);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return head.readUInt32BE(0) === 0x504b0304 || (head[0] === 0x80 && head[1] >= 2 && head[1] <= 5); // zip, pickle protocol 2–5
}

/** Possible llama2.c checkpoints in a folder: `.bin` files other than tokenizers and PyTorch files. */
function llama2cCandidates(dir: string, files: string[]): string[] {
  return files
    .filter((f) => f.endsWith('.bin') && !/^tok.*\.bin$/.test(f))
    .map((f) => join(dir, f))
    .filter((f) => !isTorchBin(f));
}

/** Open the model at a local folder or file, or a hub id (downloaded into the HF cache first). */
export async function openModelSource(pathOrId: string, options: OpenModelSourceOptions = {}): Promise<ModelSource> {
  const path = await resolveModel(pathOrId, options);
  if (statSync(path).isFile()) {
    if (path.endsWith('.safetensors') || path.endsWith('.safetensors.index.json')) return safetensorsSource(dirname(path), path);
    if (path.endsWith('.bin.index.json') || looksLikeTorchBin(path)) return torchBinSource(dirname(path), path);
    if (looksLikeLlama2c(path)) return llama2cSource(path);
    if (path.endsWith('.bin') && !isTorchBin(path)) throw llama2cHeaderProblem(path)!;
    throw new Error(`${path}: not a model file linscope can read (expected *.safetensors, *.safetensors.index.json, a torch.save .bin, *.bin.index.json or a llama2.c .bin)`);
  }
  const files = readdirSync(path);
  // transformers' order: HF-named safetensors, then PyTorch pickles, then any other lone safetensors.
  if (files.includes(SAFETENSORS_INDEX_NAME) || files.includes(SAFETENSORS_SINGLE_NAME)) {
    return safetensorsSource(path, findSafetensorsWeights(path, files)!);
  }
  const torchWeights = findTorchBinWeights(path, files);
  if (torchWeights) return torchBinSource(path, torchWeights);
  const weights = findSafetensorsWeights(path, files);
  if (weights) return safetensorsSource(path, weights);
  const candidates = llama2cCandidates(path, files);
  const bins = candidates.filter(looksLikeLlama2c);
  if (bins.length === 1) return llama2cSource(bins[0]);
  if (bins.length > 1) {
    throw new Error(`${path}: holds several llama2.c checkpoints (${bins.map((b) => basename(b)).join(', ')}); pass the one to use`);
  }
  if (candidates.length === 1) throw llama2cHeaderProblem(candidates[0])!;
  if (candidates.length > 1) {
    const problems = candidates.map((c) => llama2cHeaderProblem(c)!.message).join('; ');
    throw new InputError(path, `no model weights found: none of its .bin files is a llama2.c checkpoint (${problems})`);
  }
  const found = files.filter((f) => /\.(safetensors|bin|pt|pth|json)$/.test(f) && f !== 'config.json');
  const hint = found.length > 0 ? ` Found: ${found.slice(0, 8).join(', ')}${found.length > 8 ? ', …' : ''}.` : '';
  throw new Error(`${path}: no model weights found (expected model.safetensors, model.safetensors.index.json, ` +
    `pytorch_model.bin, pytorch_model.bin.index.json or a llama2.c .bin).${hint}`);
}
