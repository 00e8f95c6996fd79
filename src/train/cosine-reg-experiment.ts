/**
 * The paper's regularised-pretraining experiment: the same model, data, seed, steps and schedule
 * trained twice — without a regulariser and with the cosine regulariser (λ = 0.5 by default) —
 * then one HTML report: loss curves, final validation loss, linearity profiles side by side, and
 * a table. Equal compute: both runs see exactly the same batches (the batch of a step depends only
 * on the seed), so the only difference is the loss term.
 *
 * With `benchmarks`, both final models are also scored on the paper's pretraining table (SuperGLUE
 * + xStoryCloze-en, pretraining-benchmarks.ts), written to benchmarks.md / benchmarks.json and the report.
 *
 * A run whose folder already holds a finished run of the same config is reused, so the report can
 * be rebuilt (or an interrupted experiment completed) without training again.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeHtmlReport } from '../report/html.ts';
import { stableHash } from '../report/cache.ts';
import { readMetrics } from './metrics-log.ts';
import type { PretrainConfig } from './pretrain-config.ts';
import { runPretraining, type PretrainOptions } from './pretrain.ts';
import { runSections, runSummaryRow, type RunData } from './run-report.ts';
import type { NamedSource } from './shipped-data.ts';
import { pretrainingTable, pretrainingTableMarkdown, type PretrainingTable, type PretrainingTableOptions } from './pretraining-benchmarks.ts';

export interface CosineRegExperimentOptions {
  outDir: string;
  lambda?: number;
  sources?: NamedSource[];
  quiet?: boolean;
  log?: (line: string) => void;
  /** Train the two runs in child processes at the same time (one BLAS thread each). */
  runInParallel?: (variants: { name: string; config: PretrainConfig; outDir: string }[]) => Promise<void>;
  /** Also score both final models on the paper's benchmark tasks (pretraining-benchmarks.ts). */
  benchmarks?: PretrainingTableOptions;
}

export interface ExperimentRun {
  name: string;
  outDir: string;
  config: PretrainConfig;
}

/** The two configs: identical except for the regulariser kind (the baseline keeps the config's unused λ). */
function experimentVariants(base: PretrainConfig, lambda: number, outDir: string): ExperimentRun[] {
  return [
    { name: 'baseline', outDir: join(outDir, 'baseline'), config: { ...base, regularizer: { kind: 'none', lambda: base.regularizer.lambda } } },
    { name: `cosine λ=${lambda}`, outDir: join(outDir, 'cosine'), config: { ...base, regularizer: { kind: 'cosine', lambda } } },
  ];
}

/** True when `dir` holds a finished run of exactly `config`. */
function isFinishedRun(dir: string, config: PretrainConfig): boolean {
  const summary = join(dir, 'summary.json'), saved = join(dir, 'pretrain-config.json');
  if (!existsSync(summary) || !existsSync(saved)) return false;
  const s = JSON.parse(readFileSync(summary, 'utf8')) as { finished?: boolean };
  return s.finished === true && stableHash(JSON.parse(readFileSync(saved, 'utf8'))) === stableHash(config);
}

export async function runCosineRegExperiment(base: PretrainConfig, o: CosineRegExperimentOptions): Promise<{ runs: RunData[]; reportPath: string; benchmarks?: PretrainingTable }> {
  const lambda = o.lambda ?? 0.5;
  const variants = experimentVariants(base, lambda, o.outDir);
  const todo = variants.filter((v) => !isFinishedRun(v.outDir, v.config));
  for (const v of variants) if (!todo.includes(v)) o.log?.(`${v.name}: reusing the finished run in ${v.outDir}`);
  if (o.runInParallel && todo.length > 1) {
    await o.runInParallel(todo);
  } else {
    for (const v of todo) {
      const opts: PretrainOptions = { outDir: v.outDir, sources: o.sources, quiet: o.quiet, log: o.log, label: v.name, resume: existsSync(join(v.outDir, 'checkpoints', 'latest.json')) };
      await runPretraining(v.config, opts);
    }
  }
  const runs: RunData[] = variants.map((v) => ({ name: v.name, records: readMetrics(join(v.outDir, 'metrics.jsonl')) }));
  const [baseRow, regRow] = runs.map(runSummaryRow);
  const delta = (k: string) => (regRow[k] as number) - (baseRow[k] as number);
  let benchmarks: PretrainingTable | undefined;
  if (o.benchmarks) {
    benchmarks = await pretrainingTable(variants.map((v) => ({ name: v.name, model: join(v.outDir, 'model') })), o.benchmarks);
    writeFileSync(join(o.outDir, 'benchmarks.md'), pretrainingTableMarkdown(benchmarks));
    writeFileSync(join(o.outDir, 'benchmarks.json'), `${JSON.stringify(benchmarks, null, 2)}\n`);
  }
  const reportPath = join(o.outDir, 'report.html');
  await writeHtmlReport(reportPath, {
    title: 'Cosine-regularised pretraining vs baseline',
    subtitle: `Same model, data, seed (${base.seed}), ${base.steps} steps × ${base.batchSize}·${base.seqLen} tokens; the regularised run adds λ·Σᵢ mean_t (1 − cos(hᵢ, hᵢ₊₁)) with λ = ${lambda}.`,
    meta: {
      model: `d=${base.model.hiddenSize}, L=${base.model.numLayers}, heads ${base.model.numHeads}/${base.model.numKvHeads ?? base.model.numHeads}, MLP ${base.model.intermediateSize}`,
      'tokens per run': base.steps * base.batchSize * base.seqLen,
      seed: base.seed,
    },
    sections: [
      {
        title: 'Headline',
        blocks: [{
          kind: 'metrics',
          items: [
            { label: 'Δ final validation loss (cosine − baseline)', value: delta('final val loss') },
            { label: 'Δ mean linearity, with residual', value: delta('linearity (with residual)') },
            { label: 'Δ mean linearity, without residual', value: delta('linearity (without residual)') },
          ],
        }],
      },
      ...runSections(runs),
      ...(benchmarks
        ? [{
          title: 'Benchmarks (the paper\'s pretraining table)',
          blocks: [{
            kind: 'table' as const,
            rows: benchmarks.runs.map((r) => ({ run: r.name, ...Object.fromEntries(benchmarks!.tasks.map((t, i) => [`${t}${benchmarks!.atChance[i] ? ' †' : ''}`, r.scores[i].acc])), mean: r.mean })),
            caption: `acc, 0-shot, lm-evaluation-harness definitions; † every run within 2 standard errors of chance. ${benchmarks.note}.`,
          }],
        }]
        : []),
      { title: 'Config (baseline)', blocks: [{ kind: 'code', text: JSON.stringify(variants[0].config, null, 2) }] },
    ],
    results: { runs: runs.map(runSummaryRow), lambda, config: base, ...(benchmarks ? { benchmarks } : {}) },
  });
  return { runs, reportPath, benchmarks };
}
