/**
 * Writes a linearity run into a folder: linearity.json (everything), linearity.csv (scores),
 * states.csv and worst-tokens.csv when measured, every chart as SVG and PNG, and report.html.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { saveChart } from '../report/chart.ts';
import { writeHtmlReport } from '../report/html.ts';
import { writeJson } from '../report/json.ts';
import { writeCsv } from '../report/table.ts';
import { runCharts } from './charts.ts';
import { buildReport } from './report.ts';
import type { LinearityRun } from './result.ts';
import { hasStateMetrics, pairRows, stateRows, worstTokenRows } from './tables.ts';

export interface OutputOptions {
  /** Also rasterise every chart to PNG (default true). */
  png?: boolean;
  /** Write report.html (default true). */
  html?: boolean;
}

/** Writes every output file; returns their names (relative to `dir`). */
export async function writeLinearityOutputs(dir: string, run: LinearityRun, options: OutputOptions = {}): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const put = (name: string) => {
    files.push(name);
    return join(dir, name);
  };
  writeJson(put('linearity.json'), run);
  writeCsv(put('linearity.csv'), pairRows(run));
  if (hasStateMetrics(run)) writeCsv(put('states.csv'), stateRows(run));
  const worst = worstTokenRows(run);
  if (worst.length > 0) writeCsv(put('worst-tokens.csv'), worst);
  for (const chart of runCharts(run)) {
    await saveChart(put(`${chart.name}.svg`), chart.spec);
    if (options.png ?? true) await saveChart(put(`${chart.name}.png`), chart.spec);
  }
  if (options.html ?? true) await writeHtmlReport(put('report.html'), buildReport(run));
  return files;
}
