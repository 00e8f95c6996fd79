/** `linscope experiment cosine-reg --config cfg.yaml`: baseline vs cosine-regularised pretraining at equal compute, one HTML report. */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printTable } from '../../report/table.ts';
import { runCosineRegExperiment } from '../../train/cosine-reg-experiment.ts';
import { runSummaryRow } from '../../train/run-report.ts';
import { loadPretrainConfig, type PretrainConfig } from '../../train/pretrain-config.ts';
import { namedSources, type NamedSource } from '../../train/shipped-data.ts';
import { assertWritableDir } from '../../io/writable.ts';
import { didYouMean } from '../../util/closest-match.ts';
import { defineCommand, parseOrExplain } from '../args.ts';
import { withOverrides } from './pretrain.ts';
import { FINETUNE_TASKS, type FinetuneTask } from '../../train/finetune-tasks.ts';
import { runTable1 } from '../../train/finetune-linearity-experiment.ts';
import { pretrainingTableMarkdown } from '../../train/pretraining-benchmarks.ts';
import { datasetsDir as defaultDatasetsDir } from '../../train/shipped-data.ts';

const EXPERIMENTS = ['cosine-reg', 'finetune-linearity'] as const;

const spec = defineCommand({
  name: 'experiment',
  summary: 'Run a whole experiment (cosine-reg: baseline vs regularised pretraining; finetune-linearity: the paper\'s Table 1)',
  description:
    'cosine-reg: pretrains the config twice with the same data, seed and steps — without a regulariser and with the ' +
    'paper\'s cosine regulariser — and writes DIR/report.html (loss curves, final validation loss, linearity profiles, ' +
    'table) and the paper\'s benchmark table of both final models (BoolQ, CB, COPA, MultiRC, RTE, WiC, xStoryCloze-en and ' +
    'the mean, lm-evaluation-harness definitions, 0-shot; ReCoRD is not shipped and is left out; † marks tasks where both ' +
    'runs are within two standard errors of chance) in DIR/benchmarks.md. Finished runs in DIR are reused; interrupted ones resume. ' +
    'finetune-linearity: the paper\'s Table 1 — fine-tunes --model on each of --tasks (default boolq, cb, multirc, reward-hh; ' +
    'see `linscope finetune --help`) with each of --seeds and reports the mean linearity without residual before and after, ' +
    'its change Δ as mean ± sample std over the seeds, and the held-out accuracy; DIR/table1.md, DIR/<task>/seed-<s>/. ' +
    'Finished (task, seed) runs with the same options are reused.',
  positionals: [{ name: 'experiment', description: `One of: ${EXPERIMENTS.join(', ')}`, required: true }],
  options: {
    config: { type: 'string', description: 'Pretraining config (YAML or JSON)', default: 'configs/pretrain-tiny.yaml', valueName: 'path' },
    lambda: { type: 'number', description: 'Regulariser weight λ', default: 0.5 },
    data: { type: 'string', multiple: true, description: 'Text source instead of the shipped texts', valueName: 'path' },
    tokenizer: { type: 'string', description: "Use this tokenizer.json folder instead of training one (overrides the config's tokenizer.path)", valueName: 'path' },
    out: { type: 'string', description: 'Output folder', default: 'out/cosine-reg', valueName: 'dir', short: 'o' },
    steps: { type: 'integer', description: 'Override the config\'s steps' },
    seed: { type: 'integer', description: 'Override the config\'s seed' },
    parallel: { type: 'boolean', description: 'Train both runs at once in child processes (one BLAS thread each)' },
    skipBenchmarks: { type: 'boolean', description: 'cosine-reg: do not score the benchmark table' },
    evalLimit: { type: 'integer', description: 'cosine-reg: first n documents of each benchmark task (default: all)' },
    dataDir: { type: 'string', description: 'Datasets folder of the benchmarks and fine-tuning tasks (default: ../shared/data/datasets)', valueName: 'dir' },
    model: { type: 'string', description: 'finetune-linearity: the pretrained model (HF folder, llama2.c file or hub id)', short: 'm', valueName: 'path' },
    tasks: { type: 'string', description: 'finetune-linearity: tasks', default: 'boolq,cb,multirc,reward-hh', valueName: 'a,b,…' },
    seeds: { type: 'string', description: 'finetune-linearity: training seeds', default: '0,1,2', valueName: 'a,b,…' },
    batchSize: { type: 'integer', description: 'finetune-linearity: examples per step (reward-hh: sequences, pairs = half)', default: 8 },
    lr: { type: 'number', description: 'finetune-linearity: peak learning rate', default: 1e-3 },
    maxLen: { type: 'integer', description: 'finetune-linearity: longest example in tokens (prompts cut from the left)', default: 128 },
    trainExamples: { type: 'integer', description: 'finetune-linearity: training examples (pairs) per task', default: 240 },
    evalExamples: { type: 'integer', description: 'finetune-linearity: held-out examples (pairs) per task, also the linearity data', default: 100 },
    quiet: { type: 'boolean', description: 'No progress output' },
  },
  examples: [
    'linscope experiment cosine-reg --config configs/pretrain-tiny.yaml --out out/cosine-reg --parallel',
    'linscope experiment finetune-linearity -m out/p5m/model --steps 30 --out out/table1',
  ],
});

/** Runs `linscope pretrain` for each variant in its own process and waits for all. */
function childRuns(sources: NamedSource[] | undefined, quiet = false) {
  const bin = fileURLToPath(new URL('../../../bin/linscope.mjs', import.meta.url));
  return async (variants: { name: string; config: PretrainConfig; outDir: string }[]) => {
    await Promise.all(variants.map((v) => new Promise<void>((resolve, reject) => {
      mkdirSync(v.outDir, { recursive: true });
      const cfg = join(v.outDir, 'experiment-config.json');
      writeFileSync(cfg, JSON.stringify(v.config));
      const args = [bin, 'pretrain', '--config', cfg, '--out', v.outDir, '--resume', ...(sources ?? []).flatMap((s) => ['--data', s.path])];
      const child = spawn(process.execPath, args, { env: { ...process.env, LINSCOPE_THREADS: '1' }, stdio: ['ignore', 'ignore', quiet ? 'ignore' : 'inherit'] });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${v.name}: pretrain exited with code ${code}`))));
    })));
  };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseOrExplain(spec, argv);
  if (typeof args === 'number') return args;
  const o = args.options;
  assertWritableDir(o.out, '--out');
  const which = args.positionals[0];
  if (!(EXPERIMENTS as readonly string[]).includes(which)) {
    throw new Error(`unknown experiment "${which}"${didYouMean(which, EXPERIMENTS, '"')} (available: ${EXPERIMENTS.join(', ')})`);
  }
  const datasetsDir = o.dataDir ?? defaultDatasetsDir();
  const log = o.quiet ? undefined : (s: string) => process.stderr.write(`${s}\n`);
  if (which === 'finetune-linearity') {
    if (!o.model) throw new Error('finetune-linearity needs --model (the pretrained model to fine-tune)');
    const tasks = o.tasks.split(',').map((t) => t.trim()).filter((t) => t !== '');
    for (const t of tasks) if (!(FINETUNE_TASKS as readonly string[]).includes(t)) throw new Error(`unknown fine-tuning task "${t}"${didYouMean(t, FINETUNE_TASKS, '"')} (choose from ${FINETUNE_TASKS.join(', ')})`);
    const seeds = o.seeds.split(',').map((x) => x.trim()).filter((x) => x !== '').map((x) => {
      if (!/^\d+$/.test(x)) throw new Error(`--seeds: "${x}" is not a non-negative integer`);
      return Number(x);
    });
    const t = await runTable1({
      outDir: o.out, tasks: tasks as FinetuneTask[], seeds, log,
      run: { model: o.model, tokenizer: o.tokenizer, steps: o.steps ?? 30, batchSize: o.batchSize, lr: o.lr, maxLen: o.maxLen, trainExamples: o.trainExamples, evalExamples: o.evalExamples, datasetsDir },
    });
    console.log(t.markdown);
    console.log(`${o.steps ?? 30} steps × ${o.batchSize} per run, ${seeds.length} seeds, ${t.seconds.toFixed(0)} s; ${o.out}/table1.md`);
    return 0;
  }
  const config = withOverrides(loadPretrainConfig(o.config), o);
  const sources = namedSources(o.data);
  const { runs, reportPath, benchmarks } = await runCosineRegExperiment(config, {
    outDir: o.out, lambda: o.lambda, sources, quiet: o.quiet,
    log: o.quiet ? undefined : (s) => process.stderr.write(`${s}\n`),
    runInParallel: o.parallel ? childRuns(sources, o.quiet) : undefined,
    benchmarks: o.skipBenchmarks ? undefined : { datasetsDir, limit: o.evalLimit, log },
  });
  printTable(runs.map(runSummaryRow));
  if (benchmarks) console.log(`\n${pretrainingTableMarkdown(benchmarks)}`);
  console.log(`\nreport: ${reportPath}`);
  return 0;
}
