/**
 * Writes the inputs every peer job reads (linscope and PyTorch alike), once, into one folder:
 *
 *   gpt2/   config.json + model.safetensors: GPT-2-small shape (12 layers, d 768, 12 heads, vocab
 *           50257, 1024 positions), random float32 weights (N(0, 0.02²), norm gains 1 + noise)
 *   p5m/    config.json + model.safetensors: the Llama-style model of configs/pretrain-5m.yaml,
 *           initialised as `linscope pretrain` does (seed of the config)
 *   inputs.json  token ids: `forward` (1024 ids), `linearity` (4 × 512 ids), `train` (the 5M config's batch: 8 × 257 ids,
 *           inputs = ids[:, :-1], targets = ids[:, 1:]), `laser` (64 CounterFact-style cases: a
 *           24-token prompt and a one-token answer), the LASER intervention (out:11:0.1) and
 *           `perplexity` (a stream of 2048 ids, scored in sliding windows of 1024 every 512) and
 *           `generate` (a 24-token prompt continued greedily by 64 tokens)
 *
 *   node --import tsx bench/peers/make-inputs.ts [dir]   (default /tmp/linscope-peers)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/tensor/random.ts';
import { hfConfig } from '../../src/train/model-shape.ts';
import { loadPretrainConfig } from '../../src/train/pretrain-config.ts';
import { modelShape } from '../../src/train/pretrain.ts';
import { saveHFModel } from '../../src/train/hf-folder.ts';
import { TrainableModel } from '../../src/train/trainable-model.ts';

export const DEFAULT_DIR = '/tmp/linscope-peers';
export const GPT2_VOCAB = 50257;
export const FORWARD_TOKENS = 1024;
export const LINEARITY_SEQUENCES = 4;
export const LINEARITY_SEQ_LEN = 512;
export const LASER_CASES = 64;
export const LASER_PROMPT_TOKENS = 24;
export const LASER_INTERVENTION = { type: 'out', layer: 11, rho: 0.1 } as const;
export const PERPLEXITY_TOKENS = 2048;
export const GENERATE = { promptTokens: 24, newTokens: 64 } as const;
/** Hugging Face's "perplexity of fixed-length models" recipe at GPT-2's context: windows of 1024 every 512. */
export const PERPLEXITY_WINDOWS = { maxLength: 1024, stride: 512 } as const;

export interface PeerInputs {
  forward: number[];
  linearity: number[][];
  train: { batch: number; seqLen: number; ids: number[] };
  laser: { prompt: number[]; answer: number }[];
  intervention: typeof LASER_INTERVENTION;
  trainConfig: { lr: number; betas: [number, number]; eps: number; weightDecay: number; gradClip: number };
  perplexity: { ids: number[]; maxLength: number; stride: number };
  generate: { prompt: number[]; newTokens: number };
}

export function makeInputs(dir = DEFAULT_DIR): void {
  const path = join(dir, 'inputs.json');
  if (existsSync(path)) {
    // inputs of an older layout are rewritten; complete ones are reused (same seeds, same content)
    const have = Object.keys(JSON.parse(readFileSync(path, 'utf8')) as object);
    if (['forward', 'linearity', 'train', 'laser', 'intervention', 'trainConfig', 'perplexity', 'generate'].every((k) => have.includes(k))) return;
  }
  mkdirSync(dir, { recursive: true });
  const gpt2 = hfConfig({
    arch: 'gpt2', vocabSize: GPT2_VOCAB, hiddenSize: 768, intermediateSize: 3072, numLayers: 12, numHeads: 12,
    maxPositions: 1024, tieWordEmbeddings: true, initializerRange: 0.02,
  });
  saveHFModel(join(dir, 'gpt2'), TrainableModel.initialize(gpt2, new Rng(7)));
  const config = loadPretrainConfig(new URL('../../configs/pretrain-5m.yaml', import.meta.url).pathname);
  const shape = modelShape(config, { vocabSize: config.tokenizer.vocabSize });
  saveHFModel(join(dir, 'p5m'), TrainableModel.initialize(hfConfig(shape), new Rng(config.seed)));
  const rng = new Rng(11);
  const ints = (n: number, v: number) => Array.from({ length: n }, () => rng.int(v));
  const inputs: PeerInputs = {
    forward: ints(FORWARD_TOKENS, GPT2_VOCAB),
    linearity: Array.from({ length: LINEARITY_SEQUENCES }, () => ints(LINEARITY_SEQ_LEN, GPT2_VOCAB)),
    train: { batch: config.batchSize, seqLen: config.seqLen, ids: ints(config.batchSize * (config.seqLen + 1), shape.vocabSize) },
    laser: Array.from({ length: LASER_CASES }, () => ({ prompt: ints(LASER_PROMPT_TOKENS, GPT2_VOCAB), answer: rng.int(GPT2_VOCAB) })),
    intervention: LASER_INTERVENTION,
    trainConfig: {
      lr: config.optimizer.lr, betas: config.optimizer.betas, eps: config.optimizer.eps,
      weightDecay: config.optimizer.weightDecay, gradClip: config.optimizer.gradClip,
    },
    perplexity: { ids: ints(PERPLEXITY_TOKENS, GPT2_VOCAB), ...PERPLEXITY_WINDOWS },
    generate: { prompt: ints(GENERATE.promptTokens, GPT2_VOCAB), newTokens: GENERATE.newTokens },
  };
  writeFileSync(path, JSON.stringify(inputs)); // last: its presence means the folder is complete
}

if (import.meta.url === `file://${process.argv[1]}`) makeInputs(process.argv[2] ?? DEFAULT_DIR);

/** The training job's batch from the shared ids: inputs are each row's first seqLen ids, targets the next. */
export function peerTrainBatch(t: PeerInputs['train']): { inputs: Int32Array; targets: Int32Array; batch: number; seqLen: number } {
  const inputs = new Int32Array(t.batch * t.seqLen);
  const targets = new Int32Array(t.batch * t.seqLen);
  for (let b = 0; b < t.batch; b++) {
    for (let i = 0; i < t.seqLen; i++) {
      inputs[b * t.seqLen + i] = t.ids[b * (t.seqLen + 1) + i];
      targets[b * t.seqLen + i] = t.ids[b * (t.seqLen + 1) + i + 1];
    }
  }
  return { inputs, targets, batch: t.batch, seqLen: t.seqLen };
}
