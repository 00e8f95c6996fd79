/** `linscope pretrain --config cfg.yaml [--arch A] [--data …] [--out DIR] [--resume]`: pretrain a small decoder of any supported architecture. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRETRAIN_ARCHS, shapeForArch, type PretrainArch } from '../../train/model-shape.ts';
import { loadPretrainConfig, parsePretrainConfig, type PretrainConfig } from '../../train/pretrain-config.ts';
import { runPretraining } from '../../train/pretrain.ts';
import { REGULARIZER_KINDS } from '../../train/regularizer.ts';
import { namedSources } from '../../train/shipped-data.ts';
import { acquireLock } from '../../io/lock-file.ts';
import { handleInterrupts } from '../../util/interrupt.ts';
import { assertWritableDir } from '../../io/writable.ts';
import { defineCommand, parseOrExplain } from '../args.ts';

const spec = defineCommand({
  name: 'pretrain',
  summary: 'Pretrain a small decoder (Llama, Mistral, GPT-2, OPT, GPT-NeoX, …), optionally with the cosine regulariser',
  description:
    'Trains a byte-level BPE tokenizer and a decoder of the chosen architecture (default Llama) from scratch on the shipped texts (TinyStories subset, ' +
    'Tiny Shakespeare, War and Peace, WikiText-2; the last 5% of each held out) or on --data. Writes checkpoints, ' +
    'metrics.jsonl, loss.svg, report.html and the final model as a Hugging Face folder (DIR/model).',
  options: {
    config: { type: 'string', description: 'YAML or JSON config (see configs/); optional with --resume', valueName: 'path' },
    data: { type: 'string', multiple: true, description: 'Text source (file, folder, .jsonl, parquet) instead of the shipped texts', valueName: 'path' },
    tokenizer: { type: 'string', description: "Use this tokenizer.json folder instead of training one (overrides the config's tokenizer.path)", valueName: 'path' },
    out: { type: 'string', description: 'Output folder', default: 'out/pretrain', valueName: 'dir', short: 'o' },
    resume: { type: 'boolean', description: 'Continue from the newest checkpoint in --out (bit-exact)' },
    arch: { type: 'string', choices: PRETRAIN_ARCHS, description: 'Override the config\'s model.arch (HF model_type of the architecture)' },
    steps: { type: 'integer', description: 'Override the config\'s number of steps' },
    seed: { type: 'integer', description: 'Override the config\'s seed' },
    regularizer: { type: 'string', choices: REGULARIZER_KINDS, description: 'Override the regulariser kind' },
    lambda: { type: 'number', description: 'Override the regulariser weight λ' },
    timeBudget: { type: 'number', description: 'Stop with a checkpoint after this many minutes of training (resume later)', valueName: 'minutes' },
    quiet: { type: 'boolean', description: 'No progress output' },
  },
  examples: [
    'linscope pretrain --config configs/pretrain-5m.yaml --out out/p5m',
    'linscope pretrain --config configs/pretrain-tiny.yaml --regularizer cosine --lambda 0.5 --out out/tiny-cos',
    'linscope pretrain --config configs/pretrain-tiny.yaml --arch gpt2 --out out/tiny-gpt2',
    'linscope pretrain --out out/p5m --resume',
  ],
});

/**
 * The config with command-line overrides applied (validated again). `--arch` carries the config's
 * sizes over to that architecture (shapeForArch); each adjustment is passed to `onNote`.
 */
export function withOverrides(config: PretrainConfig, o: { arch?: string; steps?: number; seed?: number; regularizer?: string; lambda?: number; tokenizer?: string }, onNote: (note: string) => void = () => {}): PretrainConfig {
  const raw = JSON.parse(JSON.stringify(config)) as Record<string, unknown> & { regularizer: Record<string, unknown>; tokenizer: Record<string, unknown>; model: Record<string, unknown> };
  if (o.tokenizer !== undefined) raw.tokenizer.path = o.tokenizer;
  if (o.arch !== undefined && o.arch !== config.model.arch) {
    if (!PRETRAIN_ARCHS.includes(o.arch as PretrainArch)) raw.model.arch = o.arch; // refused by parsePretrainConfig below
    else {
      const { shape, notes } = shapeForArch(config.model, o.arch as PretrainArch);
      raw.model = JSON.parse(JSON.stringify(shape)) as Record<string, unknown>;
      notes.forEach(onNote);
    }
  }
  if (o.steps !== undefined) raw.steps = o.steps;
  if (o.seed !== undefined) raw.seed = o.seed;
  if (o.regularizer !== undefined) raw.regularizer.kind = o.regularizer;
  if (o.lambda !== undefined) raw.regularizer.lambda = o.lambda;
  return parsePretrainConfig(raw);
}

/** Where the newest checkpoint is and how to continue from it (for an interrupted run). */
function lastCheckpoint(out: string): string {
  const pointer = join(out, 'checkpoints', 'latest.json');
  if (!existsSync(pointer)) return 'No checkpoint was written yet: rerun the command to start over.';
  const { checkpoint, step } = JSON.parse(readFileSync(pointer, 'utf8')) as { checkpoint: string; step: number };
  return `The newest checkpoint is ${join(out, 'checkpoints', checkpoint)} (step ${step}). Continue with: linscope pretrain --out ${out} --resume`;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseOrExplain(spec, argv);
  if (typeof args === 'number') return args;
  const o = args.options;
  assertWritableDir(o.out, '--out');
  const savedConfig = join(o.out, 'pretrain-config.json');
  let config: PretrainConfig;
  if (o.config) config = loadPretrainConfig(o.config);
  else if (o.resume && existsSync(savedConfig)) config = parsePretrainConfig(JSON.parse(readFileSync(savedConfig, 'utf8')));
  else throw new Error('--config is required (or --resume with an --out folder that holds a run)');
  config = withOverrides(config, o, (note) => console.error(`linscope pretrain: ${note}`));
  const sources = namedSources(o.data);
  // one run per output folder at a time: two would overwrite each other's checkpoints
  const lock = acquireLock(join(o.out, '.linscope.lock'), { what: `the output folder ${o.out}`, onMessage: (m) => console.error(m) });
  let result: Awaited<ReturnType<typeof runPretraining>>;
  const stopHandling = handleInterrupts({ command: 'pretrain', graceful: true, status: () => lastCheckpoint(o.out) });
  try {
    result = await runPretraining(config, {
      outDir: o.out, resume: o.resume, sources, quiet: o.quiet,
      timeBudgetSeconds: o.timeBudget !== undefined ? o.timeBudget * 60 : undefined,
    });
  } finally {
    stopHandling();
    lock.release();
  }
  console.log(JSON.stringify({
    out: result.outDir, model: result.finished ? result.modelDir : undefined, steps: result.steps, finished: result.finished,
    parameters: result.parameters, valLoss: result.finalEval.loss, valPerplexity: result.finalEval.perplexity,
    linearityWithResidual: result.linearity?.meanWithResidual, linearityWithoutResidual: result.linearity?.meanWithoutResidual,
    tokensPerSecond: Math.round(result.tokensPerSecond), wallSeconds: Math.round(result.wallSeconds),
  }, null, 2));
  return 0;
}
