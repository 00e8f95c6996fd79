/**
 * llama2.c checkpoints (`.bin`), served under Hugging Face Llama tensor names with an HF-style config.
 *
 * Formats (little-endian):
 *   - version 0 ("legacy"): 7 × int32 header (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
 *     vocab_size, seq_len; a negative vocab_size means an untied classifier), then float32 tensors:
 *     token_embedding[V,dim], rms_att[L,dim], wq[L,dim,dim], wk[L,kv,dim], wv[L,kv,dim], wo[L,dim,dim],
 *     rms_ffn[L,dim], w1[L,hid,dim], w2[L,dim,hid], w3[L,hid,dim], rms_final[dim],
 *     freq_cis_real[seq,hs/2], freq_cis_imag[seq,hs/2], then wcls[V,dim] when untied.
 *   - version 1: 256-byte header (uint32 magic "ak42" = 0x616b3432, int32 version, the same 7 int32,
 *     uint8 shared_classifier, zero padding), then float32: rms_att[L,dim], rms_ffn[L,dim],
 *     rms_final[dim], token_embedding, wq, wk, wv, wo, w1, w2, w3 (stacked over layers), wcls if untied.
 *   (Version 2, Q8_0-quantized, is not supported.)
 * Matrices are [out, in], row-major, as torch.nn.Linear stores them.
 *
 * Name mapping: w1 → mlp.gate_proj, w2 → mlp.down_proj, w3 → mlp.up_proj, rms_att →
 * input_layernorm, rms_ffn → post_attention_layernorm, wcls → lm_head. With a tied classifier
 * there is no `lm_head.weight` (as in HF checkpoints) and the config says tie_word_embeddings.
 *
 * RoPE: llama2.c rotates interleaved pairs; HF Llama rotates halves. wq and wk rows are therefore
 * permuted per head on read (see rope-permute.ts), so the one HF-convention Llama forward runs
 * these checkpoints unchanged.
 *
 * Tensors are read lazily, one at a time, at their byte offset.
 */
import { statSync } from 'node:fs';
import { nonFiniteSummary } from '../tensor/finite.ts';
import { type DType, Tensor } from '../tensor/tensor.ts';
import { InputError } from './input-error.ts';
import { tagConfig, type ModelConfig } from './config.ts';
import { readExactly, readFloat32At } from './read-at.ts';
import { interleavedToHalfRows } from './rope-permute.ts';

export { Llama2cTokenizer, readLlama2cTokenizer, findLlama2cTokenizerFile } from './llama2c-tokenizer.ts';

const MAGIC_V1 = 0x616b3432; // "ak42"

export interface Llama2cHeader {
  version: 0 | 1;
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  sharedClassifier: boolean;
}

interface Slot {
  /** Byte offset of the first element. */
  offset: number;
  shape: number[];
  /** For wq/wk: the number of heads whose rows get the RoPE permutation. */
  ropeHeads?: number;
}

/** The first implausible field of a header, or undefined when it could be a llama2.c model. */
function headerProblem(h: Llama2cHeader): string | undefined {
  const fields: [string, number][] = [
    ['dim', h.dim], ['hidden_dim', h.hiddenDim], ['n_layers', h.nLayers], ['n_heads', h.nHeads],
    ['n_kv_heads', h.nKvHeads], ['vocab_size', h.vocabSize], ['seq_len', h.seqLen],
  ];
  for (const [name, v] of fields) if (!(v > 0 && v < 1 << 24)) return `${name} = ${v} is not a plausible size`;
  if (h.dim % h.nHeads !== 0) return `dim = ${h.dim} is not a multiple of n_heads = ${h.nHeads}`;
  if (h.nHeads % h.nKvHeads !== 0) return `n_heads = ${h.nHeads} is not a multiple of n_kv_heads = ${h.nKvHeads}`;
  if ((h.dim / h.nHeads) % 2 !== 0) return `the head size dim / n_heads = ${h.dim / h.nHeads} is odd (RoPE needs pairs)`;
  return undefined;
}

function readHeader(path: string): { header: Llama2cHeader; dataStart: number } {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (err) {
    throw new InputError(path, `cannot read llama2.c checkpoint: ${(err as Error).message}`);
  }
  if (size === 0) throw new InputError(path, 'not a llama2.c checkpoint: the file is empty (0 bytes)');
  if (size < 28) throw new InputError(path, `not a llama2.c checkpoint: ${size} bytes, shorter than the 28-byte header`);
  const head = new Uint8Array(Math.min(size, 256));
  readExactly(path, 0, head, 'llama2.c header');
  const view = new DataView(head.buffer);
  const ints = (at: number) => Array.from({ length: 7 }, (_, i) => view.getInt32(at + 4 * i, true));
  let version: 0 | 1 = 0;
  let params: number[];
  let shared: boolean;
  let dataStart: number;
  if (view.getUint32(0, true) === MAGIC_V1) {
    const v = view.getInt32(4, true);
    if (v !== 1) throw new InputError(path, `llama2.c format version ${v} is not supported (only the float32 versions 0 and 1)`);
    if (size < 256) throw new InputError(path, `truncated llama2.c v1 header (${size} of 256 bytes)`);
    version = 1;
    params = ints(8);
    shared = view.getUint8(36) !== 0;
    dataStart = 256;
  } else {
    params = ints(0);
    shared = params[5] > 0;
    params[5] = Math.abs(params[5]);
    dataStart = 28;
  }
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen] = params;
  const header: Llama2cHeader = { version, dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen, sharedClassifier: shared };
  const problem = headerProblem(header);
  if (problem) throw new InputError(path, `not a llama2.c checkpoint: in its v${version} header, ${problem}`);
  return { header, dataStart };
}

/**
 * Bytes a checkpoint with header `h` has, by arithmetic alone (the same sum `layout` walks), so an
 * absurd header is refused before millions of slots are laid out.
 */
function layoutBytes(h: Llama2cHeader, dataStart: number): number {
  const headSize = h.dim / h.nHeads;
  const kvDim = headSize * h.nKvHeads;
  const perLayer = 2 * h.dim + 2 * h.dim * h.dim + 2 * kvDim * h.dim + 3 * h.dim * h.hiddenDim;
  let floats = h.vocabSize * h.dim + h.nLayers * perLayer + h.dim;
  if (h.version === 0) floats += h.seqLen * headSize; // freq_cis_real and freq_cis_imag, seqLen × headSize/2 each
  if (!h.sharedClassifier) floats += h.vocabSize * h.dim;
  return dataStart + 4 * floats;
}

/** Byte offsets of every tensor, under HF names. */
function layout(h: Llama2cHeader, dataStart: number): { slots: Map<string, Slot>; end: number } {
  const headSize = h.dim / h.nHeads;
  const kvDim = headSize * h.nKvHeads;
  const L = h.nLayers;
  const slots = new Map<string, Slot>();
  let offset = dataStart;
  /** Reserve `count` float32 per layer (or once), named by `name(i)`. */
  const place = (shape: number[], perLayer: string | null, single?: string, ropeHeads?: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    if (perLayer === null) {
      if (single) slots.set(single, { offset, shape, ropeHeads });
      offset += 4 * n;
      return;
    }
    for (let i = 0; i < L; i++) {
      slots.set(`model.layers.${i}.${perLayer}`, { offset, shape, ropeHeads });
      offset += 4 * n;
    }
  };
  const embed = () => place([h.vocabSize, h.dim], null, 'model.embed_tokens.weight');
  const rmsAtt = () => place([h.dim], 'input_layernorm.weight');
  const rmsFfn = () => place([h.dim], 'post_attention_layernorm.weight');
  const rmsFinal = () => place([h.dim], null, 'model.norm.weight');
  const matrices = () => {
    place([h.dim, h.dim], 'self_attn.q_proj.weight', undefined, h.nHeads);
    place([kvDim, h.dim], 'self_attn.k_proj.weight', undefined, h.nKvHeads);
    place([kvDim, h.dim], 'self_attn.v_proj.weight');
    place([h.dim, h.dim], 'self_attn.o_proj.weight');
  };
  const ffn = () => {
    place([h.hiddenDim, h.dim], 'mlp.gate_proj.weight'); // w1
    place([h.dim, h.hiddenDim], 'mlp.down_proj.weight'); // w2
    place([h.hiddenDim, h.dim], 'mlp.up_proj.weight'); // w3
  };
  if (h.version === 0) {
    embed();
    rmsAtt();
    matrices();
    rmsFfn();
    ffn();
    rmsFinal();
    place([h.seqLen, headSize / 2], null); // freq_cis_real (unused: RoPE is recomputed)
    place([h.seqLen, headSize / 2], null); // freq_cis_imag
  } else {
    rmsAtt();
    rmsFfn();
    rmsFinal();
    embed();
    matrices();
    ffn();
  }
  if (!h.sharedClassifier) place([h.vocabSize, h.dim], null, 'lm_head.weight');
  return { slots, end: offset };
}

/** The HF `LlamaConfig` equivalent of a llama2.c header. */
function llama2cConfig(h: Llama2cHeader): ModelConfig {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: h.dim,
    intermediate_size: h.hiddenDim,
    num_hidden_layers: h.nLayers,
    num_attention_heads: h.nHeads,
    num_key_value_heads: h.nKvHeads,
    head_dim: h.dim / h.nHeads,
    vocab_size: h.vocabSize,
    max_position_embeddings: h.seqLen,
    hidden_act: 'silu',
    rms_norm_eps: 1e-5,
    rope_theta: 10000.0,
    rope_scaling: null,
    attention_bias: false,
    mlp_bias: false,
    tie_word_embeddings: h.sharedClassifier,
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: 'float32',
  };
}

/** A llama2.c checkpoint opened lazily: header parsed and checked, tensors read on demand. */
export class Llama2cCheckpoint {
  readonly path: string;
  readonly header: Llama2cHeader;
  readonly config: ModelConfig;
  private readonly slots: Map<string, Slot>;

  constructor(path: string) {
    this.path = path;
    const { header, dataStart } = readHeader(path);
    this.header = header;
    const size = statSync(path).size;
    const end = layoutBytes(header, dataStart);
    if (size !== end) {
      const h = header;
      throw new InputError(path, `llama2.c v${h.version} checkpoint with dim=${h.dim}, hidden_dim=${h.hiddenDim}, ` +
        `n_layers=${h.nLayers}, n_heads=${h.nHeads}, n_kv_heads=${h.nKvHeads}, vocab_size=${h.vocabSize}, seq_len=${h.seqLen}, ` +
        `${h.sharedClassifier ? 'tied' : 'untied'} classifier should be ${end} bytes, but the file has ${size}` +
        (size < end ? ' (truncated?)' : ''));
    }
    const { slots, end: laidOut } = layout(header, dataStart);
    if (laidOut !== end) throw new Error(`llama2.c layout: ${laidOut} bytes laid out but ${end} expected (a bug)`);
    this.slots = slots;
    this.config = tagConfig(llama2cConfig(header), path);
  }

  /** Tensor names in file order. */
  names(): string[] {
    return [...this.slots.keys()];
  }

  has(name: string): boolean {
    return this.slots.has(name);
  }

  shape(name: string): number[] {
    return [...this.slot(name).shape];
  }

  private slot(name: string): Slot {
    const slot = this.slots.get(name);
    if (!slot) throw new InputError(this.path, `no tensor named "${name}" in this llama2.c checkpoint`);
    return slot;
  }

  /** Read one tensor (wq/wk already permuted to HF rotate-half order). */
  readTensor(name: string, dtype: DType = 'float32'): Tensor {
    const slot = this.slot(name);
    const n = slot.shape.reduce((a, b) => a * b, 1);
    let t = new Tensor(readFloat32At(this.path, slot.offset, n, `tensor "${name}"`), slot.shape);
    const bad = nonFiniteSummary(t.data, t.shape);
    if (bad) throw new InputError(this.path, `tensor "${name}" ${bad}: the checkpoint is corrupt (or was saved from a diverged run)`);
    if (slot.ropeHeads !== undefined) t = interleavedToHalfRows(t, slot.ropeHeads);
    return dtype === 'float64' ? t.to('float64') : t;
  }
}

/** Open a llama2.c `.bin` checkpoint (version 0 or 1). */
export function openLlama2c(path: string): Llama2cCheckpoint {
  return new Llama2cCheckpoint(path);
}

/** True when `path` starts like a llama2.c checkpoint (v1 magic, or a plausible v0 header). */
export function looksLikeLlama2c(path: string): boolean {
  return llama2cHeaderProblem(path) === undefined;
}

/** Why `path` is not a llama2.c checkpoint (the header error), or undefined when its header is plausible. */
export function llama2cHeaderProblem(path: string): InputError | undefined {
  try {
    readHeader(path);
    return undefined;
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
}
