/**
 * Outputs of a LASER search: the results table (terminal, CSV, JSON), the Δloss heatmap per
 * (layer, matrix, ρ) in the style of the paper's Figure 2 and a companion Δaccuracy heatmap (SVG,
 * PNG, Vega-Lite JSON), and a self-contained HTML report.
 */
import { join } from 'node:path';
import { heatmapChart, saveChart, pngTextRenders, type HeatmapCell, type TopLevelSpec } from '../report/chart.ts';
import { writeHtmlReport } from '../report/html.ts';
import { writeJson } from '../report/json.ts';
import { formatTable, writeCsv, type Column, type Row } from '../report/table.ts';
import type { EvaluationRecord } from './run-log.ts';
import { accuracyOf, type LaserSearchResult } from './search.ts';

const pct = (x: number | undefined) => (x === undefined ? undefined : 100 * x);

/** One row per evaluated configuration (validation), base first. */
function gridRows(result: LaserSearchResult): Row[] {
  const base = result.base.summary;
  const row = (r: EvaluationRecord): Row => {
    const iv = r.interventions;
    const single = iv.length === 1 ? iv[0] : undefined;
    return {
      config: r.key,
      layer: single?.layer ?? (iv.length ? '' : '—'),
      matrix: single?.type ?? '',
      rho: single?.rho ?? '',
      rank: r.ranks.map((x) => `${x.rank}/${Math.min(x.outDim, x.inDim)}`).join(','),
      accuracy: pct(accuracyOf(r.summary, result.metric)),
      top1: pct(r.summary.topK[1]),
      top5: pct(r.summary.topK[5]),
      top10: pct(r.summary.topK[10]),
      genContains: pct(r.summary.generationContains),
      logLoss: r.summary.logLoss,
      dLoss: r.summary.logLoss - base.logLoss,
      dAccuracy: pct(accuracyOf(r.summary, result.metric) - accuracyOf(base, result.metric)),
      svdSeconds: r.svdSeconds,
      evalSeconds: r.evalSeconds,
    };
  };
  return [result.base, ...result.grid, ...result.composition].map(row);
}

const GRID_COLUMNS: Column[] = [
  { key: 'config' }, { key: 'layer' }, { key: 'matrix' }, { key: 'rho', header: 'ρ', format: (v) => String(v) }, { key: 'rank' },
  { key: 'accuracy', header: 'acc %', precision: 2 }, { key: 'dAccuracy', header: 'Δacc', precision: 2 },
  { key: 'logLoss', header: 'log-loss' }, { key: 'dLoss', header: 'Δloss' },
  { key: 'top5', header: 'top5 %', precision: 2 }, { key: 'top10', header: 'top10 %', precision: 2 },
  { key: 'svdSeconds', header: 'svd s', precision: 3 }, { key: 'evalSeconds', header: 'eval s', precision: 2 },
];

/** Base vs chosen on validation and test. */
function summaryRows(result: LaserSearchResult): Row[] {
  const line = (model: string, split: string, r: EvaluationRecord | undefined): Row | undefined =>
    r && {
      model,
      split,
      interventions: r.key,
      cases: r.summary.cases,
      accuracy: pct(accuracyOf(r.summary, result.metric)),
      top1: pct(r.summary.topK[1]),
      top5: pct(r.summary.topK[5]),
      top10: pct(r.summary.topK[10]),
      genStartsWith: pct(r.summary.generationStartsWith),
      genContains: pct(r.summary.generationContains),
      logLoss: r.summary.logLoss,
      answerPerplexity: r.summary.answerPerplexity,
    };
  const composed = result.chosen !== result.best;
  return [
    line('base', 'validation', result.base),
    composed ? line('LASER (best single)', 'validation', result.best) : undefined,
    line(composed ? 'LASER (composed)' : 'LASER', 'validation', result.chosen),
    line('base', 'test', result.baseTest),
    composed ? line('LASER (best single)', 'test', result.bestTest) : undefined,
    line(composed ? 'LASER (composed)' : 'LASER', 'test', result.chosenTest),
  ].filter((r): r is Row => r !== undefined);
}

const SUMMARY_COLUMNS: Column[] = [
  { key: 'model' }, { key: 'split' }, { key: 'interventions' }, { key: 'cases' },
  { key: 'accuracy', header: 'acc %', precision: 2 }, { key: 'top1', header: 'top1 %', precision: 2 },
  { key: 'top5', header: 'top5 %', precision: 2 }, { key: 'top10', header: 'top10 %', precision: 2 },
  { key: 'genContains', header: 'gen ⊇ %', precision: 2 }, { key: 'logLoss', header: 'log-loss' },
  { key: 'answerPerplexity', header: 'answer ppl' },
];

/** Figure 2: Δ validation log-loss vs the base model, one panel per matrix type, ρ × layer. */
function deltaLossHeatmap(result: LaserSearchResult, title = 'LASER: change in validation answer log-loss'): TopLevelSpec {
  const base = result.base.summary.logLoss;
  const cells: HeatmapCell[] = result.grid.map((r) => ({
    row: r.interventions[0].rho,
    col: r.interventions[0].layer,
    facet: r.interventions[0].type,
    value: r.summary.logLoss - base,
  }));
  return heatmapChart(cells, {
    title,
    subtitle: `base log-loss ${base.toFixed(4)}; blue = lower loss than the base model`,
    diverging: true,
    colorScheme: 'blueorange',
    rowLabel: 'kept fraction ρ',
    colLabel: 'layer',
    valueLabel: 'Δ log-loss',
    facetLabel: 'matrix',
  });
}

/** Companion heatmap: Δ validation accuracy (selection metric, percentage points) vs the base model. */
function deltaAccuracyHeatmap(result: LaserSearchResult): TopLevelSpec {
  const base = accuracyOf(result.base.summary, result.metric);
  const cells: HeatmapCell[] = result.grid.map((r) => ({
    row: r.interventions[0].rho,
    col: r.interventions[0].layer,
    facet: r.interventions[0].type,
    value: 100 * (accuracyOf(r.summary, result.metric) - base),
  }));
  return heatmapChart(cells, {
    title: `LASER: change in validation ${result.metric} accuracy`,
    subtitle: `base ${(100 * base).toFixed(2)}%; blue = more accurate than the base model`,
    diverging: true,
    colorScheme: 'redblue',
    rowLabel: 'kept fraction ρ',
    colLabel: 'layer',
    valueLabel: 'Δ accuracy (pp)',
    facetLabel: 'matrix',
  });
}

export interface WrittenOutputs {
  files: string[];
}

/**
 * Write results.csv, results.json, summary.csv, heatmap.{json,svg,png} and report.html into `dir`.
 * PNG is skipped (with a note in the returned list) when no font renders text on this machine.
 */
export async function writeSearchOutputs(dir: string, result: LaserSearchResult, meta: Record<string, string | number>): Promise<WrittenOutputs> {
  const files: string[] = [];
  const grid = gridRows(result);
  const summary = summaryRows(result);
  writeCsv(join(dir, 'results.csv'), grid, GRID_COLUMNS.map((c) => c.key));
  writeCsv(join(dir, 'summary.csv'), summary, SUMMARY_COLUMNS.map((c) => c.key));
  writeJson(join(dir, 'results.json'), { meta, metric: result.metric, summary, best: result.best, chosen: result.chosen, composition: result.composition, base: result.base, baseTest: result.baseTest, chosenTest: result.chosenTest, bestTest: result.bestTest, grid: result.grid, skipped: result.skipped });
  files.push('results.csv', 'summary.csv', 'results.json');
  const spec = deltaLossHeatmap(result);
  const accSpec = deltaAccuracyHeatmap(result);
  const png = pngTextRenders();
  for (const [name, chart] of [['heatmap', spec], ['heatmap-accuracy', accSpec]] as const) {
    for (const ext of png ? ['json', 'svg', 'png'] : ['json', 'svg']) {
      await saveChart(join(dir, `${name}.${ext}`), chart);
      files.push(`${name}.${ext}`);
    }
  }
  await writeHtmlReport(join(dir, 'report.html'), {
    title: 'LASER search',
    subtitle: `chosen: ${result.chosen.key}`,
    meta,
    sections: [
      { title: 'Base model vs LASER', blocks: [{ kind: 'table', rows: summary, columns: SUMMARY_COLUMNS }] },
      { title: 'Δ validation log-loss per (layer, matrix, ρ)', blocks: [{ kind: 'chart', spec }] },
      { title: 'Δ validation accuracy per (layer, matrix, ρ)', blocks: [{ kind: 'chart', spec: accSpec }] },
      { title: 'Every evaluated configuration (validation)', blocks: [{ kind: 'table', rows: grid, columns: GRID_COLUMNS }] },
    ],
    results: { summary, chosen: result.chosen.key },
  });
  files.push('report.html');
  return { files };
}

/** Terminal rendering of the two tables. */
export function formatSearchTables(result: LaserSearchResult, maxGridRows = 25): string {
  const grid = gridRows(result);
  const sorted = [grid[0], ...grid.slice(1).sort((a, b) => (b.accuracy as number) - (a.accuracy as number) || (a.logLoss as number) - (b.logLoss as number))];
  const shown = sorted.slice(0, maxGridRows + 1);
  const lines = [
    formatTable(summaryRows(result), { columns: SUMMARY_COLUMNS }).trimEnd(),
    '',
    `Best ${Math.min(maxGridRows, grid.length - 1)} of ${grid.length - 1} configurations on validation (base first):`,
    formatTable(shown, { columns: GRID_COLUMNS }).trimEnd(),
  ];
  return lines.join('\n');
}
