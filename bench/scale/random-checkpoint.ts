/**
 * Random-weight checkpoints in real Hugging Face Llama layouts and sizes, for scale benchmarks:
 * sharded BF16 safetensors + `model.safetensors.index.json` + `config.json` (the published
 * config.json of each model, values as on the hub) + a tokenizer (the llama2.c 512-piece tokenizer
 * of the shared stories260K model, as tokenizer.json; its ids are valid in any of these vocabularies).
 *
 *   node --import tsx bench/scale/random-checkpoint.ts --shape llama-2-7b --out /work/big/llama-2-7b
 *   node --import tsx bench/scale/random-checkpoint.ts --shape llama-2-70b --layers 4 --out /tmp/70b-4
 *
 * Written tensor by tensor through the one folder writer (src/export/hf-folder.ts with lazy
 * tensors), so memory stays at about the largest tensor in float32 whatever the model size. Each
 * tensor has its own random stream seeded from (--seed, its name), so a cut model (`--layers N`)
 * has the same weights as the first N blocks of the full one. Entries are uniform with std 0.02
 * (`--normal` for Gaussian, several times slower to draw), norm gains 1 + the same noise
 * (src/models/random-weights.ts).
 */
import { join } from 'node:path';
import { writeHFFolder } from '../../src/export/hf-folder.ts';
import type { LazyTensor } from '../../src/io/safetensors-write.ts';
import { randomWeight, weightSpecs } from '../../src/models/random-weights.ts';
import { Rng } from '../../src/tensor/random.ts';
import { stories260KDir } from '../../test/helpers/paths.ts';

/** The published config.json fields of each model (Llama architecture, float weights untied). */
export const SHAPES: Record<string, Record<string, unknown>> = {
  'tinyllama-1.1b': { hidden_size: 2048, num_hidden_layers: 22, intermediate_size: 5632, num_attention_heads: 32, num_key_value_heads: 4, max_position_embeddings: 2048 },
  'llama-2-7b': { hidden_size: 4096, num_hidden_layers: 32, intermediate_size: 11008, num_attention_heads: 32, num_key_value_heads: 32, max_position_embeddings: 4096 },
  'llama-2-13b': { hidden_size: 5120, num_hidden_layers: 40, intermediate_size: 13824, num_attention_heads: 40, num_key_value_heads: 40, max_position_embeddings: 4096 },
  'llama-2-70b': { hidden_size: 8192, num_hidden_layers: 80, intermediate_size: 28672, num_attention_heads: 64, num_key_value_heads: 8, max_position_embeddings: 4096 },
};

export function shapeConfig(shape: string, layers?: number): Record<string, unknown> {
  const s = SHAPES[shape];
  if (!s) throw new Error(`unknown shape "${shape}"; one of ${Object.keys(SHAPES).join(', ')}`);
  return {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 32000, hidden_act: 'silu',
    rms_norm_eps: 1e-5, rope_theta: 10000, rope_scaling: null, tie_word_embeddings: false,
    initializer_range: 0.02, bos_token_id: 1, eos_token_id: 2, pad_token_id: null, attention_bias: false,
    torch_dtype: 'bfloat16', ...s, ...(layers === undefined ? {} : { num_hidden_layers: layers }),
  };
}

/** FNV-1a of the text: a per-tensor seed. */
function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export interface RandomCheckpointOptions {
  shape: string;
  out: string;
  layers?: number;
  seed?: number;
  normal?: boolean;
  dtype?: 'BF16' | 'F16' | 'F32';
  maxShardBytes?: number;
  onTensor?: (name: string) => void;
}

export function writeRandomCheckpoint(o: RandomCheckpointOptions): { files: string[]; bytes: number } {
  const config = shapeConfig(o.shape, o.layers);
  const tensors: Record<string, LazyTensor> = {};
  let bytes = 0;
  const width = o.dtype === 'F32' ? 4 : 2;
  for (const spec of weightSpecs(config)) {
    bytes += spec.shape.reduce((a, b) => a * b, 1) * width;
    tensors[spec.name] = {
      lazy: true, shape: spec.shape,
      load: () => {
        o.onTensor?.(spec.name);
        return randomWeight(spec, new Rng(seedOf(`${o.seed ?? 0}:${spec.name}`)), { uniform: !o.normal });
      },
    };
  }
  const written = writeHFFolder(o.out, {
    config, tensors, dtype: o.dtype ?? 'BF16', maxShardBytes: o.maxShardBytes ?? 5e9,
    tokenizerFrom: join(stories260KDir, 'tok512.bin'), vocabSize: 512,
  });
  return { files: written.weightFiles, bytes };
}

function main(): void {
  const args = process.argv.slice(2);
  const get = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const shape = get('--shape');
  const out = get('--out');
  if (!shape || !out) {
    console.error('usage: random-checkpoint.ts --shape <tinyllama-1.1b|llama-2-7b|llama-2-13b|llama-2-70b> --out DIR [--layers N] [--seed S] [--normal] [--dtype BF16|F16|F32] [--shard-gb G]');
    process.exit(2);
  }
  const layers = get('--layers');
  const shardGb = get('--shard-gb');
  const t0 = Date.now();
  let n = 0;
  const result = writeRandomCheckpoint({
    shape, out, layers: layers === undefined ? undefined : Number(layers), seed: Number(get('--seed') ?? 0),
    normal: args.includes('--normal'), dtype: (get('--dtype') ?? 'BF16') as 'BF16',
    maxShardBytes: shardGb === undefined ? undefined : Number(shardGb) * 1e9,
    onTensor: (name) => {
      n++;
      if (n % 20 === 0) console.error(`${n} tensors (${name}), ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    },
  });
  console.log(`${out}: ${result.files.length} shard(s), ${(result.bytes / 1e9).toFixed(2)} GB of weights, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('random-checkpoint.ts')) main();
