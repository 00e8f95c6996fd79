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

const EXPERIMENTS = ['cosine-reg'] as const;

const spec = defineCommand({
  name: 'experiment',
  summary: 'Run a whole experiment (e.g. cosine-reg: baseline vs regularised pretraining)',
  description:
    'cosine-reg: pretrains the config twice with the same data, seed and steps — without a regulariser and with the ' +
    'paper\'s cosine regulariser — and writes DIR/report.html (loss curves, final validation loss, linearity profiles, ' +
    'table). Finished runs in DIR are reused; interrupted ones resume.',
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
    quiet: { type: 'boolean', description: 'No progress output' },
  },
  examples: ['linscope experiment cosine-reg --config configs/pretrain-tiny.yaml --out out/cosine-reg --parallel'],
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
  const config = withOverrides(loadPretrainConfig(o.config), o);
  const sources = namedSources(o.data);
  const { runs, reportPath } = await runCosineRegExperiment(config, {
    outDir: o.out, lambda: o.lambda, sources, quiet: o.quiet,
    log: o.quiet ? undefined : (s) => process.stderr.write(`${s}\n`),
    runInParallel: o.parallel ? childRuns(sources, o.quiet) : undefined,
  });
  printTable(runs.map(runSummaryRow));
  console.log(`\nreport: ${reportPath}`);
  return 0;
}
