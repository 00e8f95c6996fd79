/**
 * The paper's regularised-pretraining experiment: the same model, data, seed, steps and schedule
 * trained twice — without a regulariser and with the cosine regulariser (λ = 0.5 by default) —
 * then one HTML report: loss curves, final validation loss, linearity profiles side by side, and
 * a table. Equal compute: both runs see exactly the same batches (the batch of a step depends only
 * on the seed), so the only difference is the loss term.
 *
 * A run whose folder already holds a finished run of the same config is reused, so the report can
 * be rebuilt (or an interrupted experiment completed) without training again.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeHtmlReport } from '../report/html.ts';
import { stableHash } from '../report/cache.ts';
import { readMetrics } from './metrics-log.ts';
import type { PretrainConfig } from './pretrain-config.ts';
import { runPretraining, type PretrainOptions } from './pretrain.ts';
import { runSections, runSummaryRow, type RunData } from './run-report.ts';
import type { NamedSource } from './shipped-data.ts';

export interface CosineRegExperimentOptions {
  outDir: string;
  lambda?: number;
  sources?: NamedSource[];
  quiet?: boolean;
  log?: (line: string) => void;
  /** Train the two runs in child processes at the same time (one BLAS thread each). */
  runInParallel?: (variants: { name: string; config: PretrainConfig; outDir: string }[]) => Promise<void>;
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

export async function runCosineRegExperiment(base: PretrainConfig, o: CosineRegExperimentOptions): Promise<{ runs: RunData[]; reportPath: string }> {
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
      { title: 'Config (baseline)', blocks: [{ kind: 'code', text: JSON.stringify(variants[0].config, null, 2) }] },
    ],
    results: { runs: runs.map(runSummaryRow), lambda, config: base },
  });
  return { runs, reportPath };
}
