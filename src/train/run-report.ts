/**
 * Charts and HTML reports of training runs, built from their `metrics.jsonl`: loss curves
 * (training cross-entropy, bucket-averaged, and validation loss), the linearity profile at the
 * last measurement (with and without residual), and summary tables. One run (pretrain) or several
 * side by side (experiments).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart, linearityProfileChart, normalisedDepth, type LineSeries, type TopLevelSpec } from '../report/chart-specs.ts';
import { saveChart } from '../report/chart.ts';
import { writeHtmlReport, type Section } from '../report/html.ts';
import { readMetrics, type EvalRecord, type LinearityRecord, type MetricsRecord, type TrainRecord } from './metrics-log.ts';

export interface RunData {
  name: string;
  records: readonly MetricsRecord[];
}

const trains = (r: RunData) => r.records.filter((x): x is TrainRecord => x.type === 'train');
const evals = (r: RunData) => r.records.filter((x): x is EvalRecord => x.type === 'eval');
const linearities = (r: RunData) => r.records.filter((x): x is LinearityRecord => x.type === 'linearity');

/** Training CE averaged over ≈ `points` equal buckets of steps. */
function bucketed(records: readonly TrainRecord[], points = 200): { x: number; y: number }[] {
  if (records.length === 0) return [];
  const size = Math.max(1, Math.ceil(records.length / points));
  const out: { x: number; y: number }[] = [];
  for (let i = 0; i < records.length; i += size) {
    const chunk = records.slice(i, i + size);
    out.push({ x: chunk[chunk.length - 1].step, y: chunk.reduce((s, r) => s + r.ce, 0) / chunk.length });
  }
  return out;
}

/** Training cross-entropy and validation loss against step, two lines per run. */
export function lossCurveChart(runs: readonly RunData[], title = 'Loss'): TopLevelSpec {
  const series: LineSeries[] = [];
  for (const r of runs) {
    series.push({ name: `${r.name} · train CE`, points: bucketed(trains(r)) });
    series.push({ name: `${r.name} · validation`, points: evals(r).map((e) => ({ x: e.step, y: e.valLoss })) });
  }
  return wideLegend(lineChart(series, { title, subtitle: 'training cross-entropy (bucket means) and validation loss', xLabel: 'step', yLabel: 'cross-entropy (nats/token)', seriesLabel: 'series', points: false }));
}

/** Lets legend labels such as "cosine λ=0.5 · validation" show in full (Vega-Lite cuts at 160 px). */
function wideLegend(spec: TopLevelSpec): TopLevelSpec {
  const color = (spec as { encoding?: { color?: Record<string, unknown> } }).encoding?.color;
  if (color) color.legend = { labelLimit: 400 };
  return spec;
}

/** Mean linearity (with and without residual) over training, one pair of lines per run. */
function linearityOverTrainingChart(runs: readonly RunData[]): TopLevelSpec {
  const series: LineSeries[] = [];
  for (const r of runs) {
    const l = linearities(r);
    series.push({ name: `${r.name} · with residual`, points: l.map((x) => ({ x: x.step, y: x.meanWithResidual })) });
    series.push({ name: `${r.name} · without residual`, points: l.map((x) => ({ x: x.step, y: x.meanWithoutResidual })) });
  }
  return wideLegend(lineChart(series, { title: 'Mean linearity score during training', xLabel: 'step', yLabel: 'linearity score', seriesLabel: 'series' }));
}

/** Per-layer linearity at the last measurement of each run. */
function finalLinearityChart(runs: readonly RunData[]): TopLevelSpec | undefined {
  const series = runs.flatMap((r) => {
    const l = linearities(r).at(-1);
    if (!l) return [];
    return [{ model: r.name, points: l.layers.map((x) => ({ layer: x.block, depth: normalisedDepth(x.block, l.layers.length), score: x.withResidual, scoreNoResidual: x.withoutResidual })) }];
  });
  if (series.length === 0) return undefined;
  return linearityProfileChart(series, { title: 'Linearity profile (last measurement)', subtitle: 'solid: with residual, dashed: without', yLabel: 'linearity score', withResidual: true });
}

/** Headline numbers of one run for tables. */
export function runSummaryRow(r: RunData): Record<string, unknown> {
  const t = trains(r), e = evals(r).at(-1), l = linearities(r).at(-1);
  const last = t.at(-1);
  const tps = t.length ? t.reduce((s, x) => s + x.tokensPerSecond, 0) / t.length : NaN;
  return {
    run: r.name,
    steps: last?.step ?? 0,
    tokens: last?.tokens ?? 0,
    'final val loss': e?.valLoss ?? NaN,
    'val ppl': e?.valPerplexity ?? NaN,
    'val cosine penalty': e?.valCosinePenalty ?? NaN,
    'linearity (with residual)': l?.meanWithResidual ?? NaN,
    'linearity (without residual)': l?.meanWithoutResidual ?? NaN,
    'tokens/s': tps,
  };
}

/** Per-layer linearity table of several runs at their last measurement. */
function linearityTable(runs: readonly RunData[]): Record<string, unknown>[] {
  const last = runs.map((r) => linearities(r).at(-1));
  const layers = Math.max(0, ...last.map((l) => l?.layers.length ?? 0));
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < layers; i++) {
    const row: Record<string, unknown> = { layer: i };
    runs.forEach((r, k) => {
      row[`${r.name} with`] = last[k]?.layers[i]?.withResidual ?? NaN;
      row[`${r.name} without`] = last[k]?.layers[i]?.withoutResidual ?? NaN;
    });
    rows.push(row);
  }
  return rows;
}

/** Sections shared by single-run and comparison reports. */
export function runSections(runs: readonly RunData[]): Section[] {
  const sections: Section[] = [
    { title: 'Summary', blocks: [{ kind: 'table', rows: runs.map(runSummaryRow), precision: 4 }] },
    { title: 'Loss curves', blocks: [{ kind: 'chart', spec: lossCurveChart(runs) }] },
  ];
  const profile = finalLinearityChart(runs);
  if (profile) {
    sections.push({
      title: 'Linearity',
      blocks: [
        { kind: 'chart', spec: profile },
        { kind: 'chart', spec: linearityOverTrainingChart(runs) },
        { kind: 'table', rows: linearityTable(runs), precision: 4, caption: 'Per-layer linearity score (exact solver) at the last measurement' },
      ],
    });
  }
  return sections;
}

/** loss.svg and report.html for the run in `outDir`. */
export async function writeRunReport(outDir: string, label: string): Promise<void> {
  const run: RunData = { name: label, records: readMetrics(join(outDir, 'metrics.jsonl')) };
  await saveChart(join(outDir, 'loss.svg'), lossCurveChart([run], `Loss — ${label}`));
  const summaryPath = join(outDir, 'summary.json');
  const summary = existsSync(summaryPath) ? JSON.parse(readFileSync(summaryPath, 'utf8')) : undefined;
  const configPath = join(outDir, 'pretrain-config.json');
  const config = existsSync(configPath) ? JSON.parse(readFileSync(configPath, 'utf8')) : undefined;
  await writeHtmlReport(join(outDir, 'report.html'), {
    title: `Pretraining — ${label}`,
    meta: summary ? { parameters: summary.parameters, steps: summary.steps, seed: summary.seed, 'tokens/s': Math.round(summary.tokensPerSecond), backend: `${summary.backend} × ${summary.threads}` } : undefined,
    sections: [...runSections([run]), ...(config ? [{ title: 'Config', blocks: [{ kind: 'code' as const, text: JSON.stringify(config, null, 2) }] }] : [])],
    results: summary,
  });
}
