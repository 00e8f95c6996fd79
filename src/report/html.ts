/**
 * Self-contained HTML reports: one file with text, tables, key numbers and charts (inline SVG),
 * plus the raw results as JSON in a collapsed <details>. No scripts, no stylesheets or fonts from
 * elsewhere, no network: the file opens anywhere and can be attached or archived as is.
 */
import type { TopLevelSpec } from './chart-specs.ts';
import { renderSvg } from './chart.ts';
import { writeFileAtomic } from '../io/atomic-file.ts';
import { toPrettyJson } from './json.ts';
import { formatCells, formatNumber, type Column, type Row } from './table.ts';

/** Paragraphs of text; blank lines separate paragraphs, `code` and **bold** are recognised. */
export interface TextBlock {
  kind: 'text';
  text: string;
}

export interface TableBlock {
  kind: 'table';
  rows: readonly Row[];
  columns?: readonly (string | Column)[];
  /** Digits after the decimal point (default 4). */
  precision?: number;
  caption?: string;
}

/** A chart from a Vega-Lite spec (rendered to SVG when the report is built) or ready SVG. */
export type ChartBlock = { kind: 'chart'; caption?: string } & ({ spec: TopLevelSpec } | { svg: string });

/** Headline numbers shown as cards (e.g. mean linearity, Δloss at best ρ). */
export interface MetricsBlock {
  kind: 'metrics';
  items: readonly { label: string; value: string | number; note?: string }[];
  precision?: number;
}

export interface ListBlock {
  kind: 'list';
  items: readonly string[];
}

/** Preformatted text, e.g. the command line that produced the report. */
export interface CodeBlock {
  kind: 'code';
  text: string;
}

export type Block = TextBlock | TableBlock | ChartBlock | MetricsBlock | ListBlock | CodeBlock;

export interface Section {
  title: string;
  blocks: readonly Block[];
}

export interface Report {
  title: string;
  subtitle?: string;
  /** Facts shown under the title: model, data, command, … */
  meta?: Readonly<Record<string, string | number>>;
  sections: readonly Section[];
  /** Raw results, embedded as pretty JSON in a collapsed block at the end. */
  results?: unknown;
  /** Footer attribution (default 'linscope'). */
  generator?: string;
  /** Timestamp in the footer (default now, ISO 8601). */
  generatedAt?: string;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Escaped text with `code` and **bold** spans. */
function inline(text: string): string {
  return escapeHtml(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
}

function slug(text: string, used: Set<string>): string {
  const base = text.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'section';
  let id = base;
  for (let i = 2; used.has(id); i++) id = `${base}-${i}`;
  used.add(id);
  return id;
}

/**
 * Prepares an SVG document for inlining in HTML: drops the XML prolog and namespace declarations
 * (implied inside HTML), prefixes every id and its references (`url(#…)`, `href="#…"`) so several
 * charts on one page cannot capture each other's gradients or clip paths, and lets the chart
 * shrink to the page width.
 */
export function embedSvg(svg: string, idPrefix: string): string {
  let out = svg.replace(/<\?xml[^>]*\?>\s*/, '').replace(/<!DOCTYPE[^>]*>\s*/i, '');
  out = out.replace(/\s+xmlns(:\w+)?="[^"]*"/g, '');
  const ids = new Set<string>();
  for (const m of out.matchAll(/\sid="([^"]+)"/g)) ids.add(m[1]);
  if (ids.size > 0) {
    out = out
      .replace(/(\sid=")([^"]+)(")/g, (all, a: string, id: string, b: string) => (ids.has(id) ? `${a}${idPrefix}${id}${b}` : all))
      .replace(/url\(#([^)]+)\)/g, (all, id: string) => (ids.has(id) ? `url(#${idPrefix}${id})` : all))
      .replace(/(href=")#([^"]+)(")/g, (all, a: string, id: string, b: string) => (ids.has(id) ? `${a}#${idPrefix}${id}${b}` : all));
  }
  return out.replace(/^<svg\b/, '<svg role="img" preserveAspectRatio="xMinYMin meet"');
}

function renderTable(block: TableBlock): string {
  const { headers, cells, aligns } = formatCells(block.rows, { columns: block.columns, precision: block.precision });
  const cls = (c: number) => (aligns[c] === 'right' ? ' class="num"' : '');
  const head = headers.map((h, c) => `<th${cls(c)}>${escapeHtml(h)}</th>`).join('');
  const body = cells.map((row) => `<tr>${row.map((cell, c) => `<td${cls(c)}>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('\n');
  const caption = block.caption ? `<caption>${inline(block.caption)}</caption>` : '';
  return `<div class="table-wrap"><table>${caption}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>`;
}

function renderMetrics(block: MetricsBlock): string {
  const cards = block.items.map((item) => {
    const value = typeof item.value === 'number' ? (Number.isInteger(item.value) ? String(item.value) : formatNumber(item.value, block.precision ?? 4)) : item.value;
    const note = item.note ? `<div class="metric-note">${inline(item.note)}</div>` : '';
    return `<div class="metric"><div class="metric-label">${inline(item.label)}</div><div class="metric-value">${escapeHtml(value)}</div>${note}</div>`;
  });
  return `<div class="metrics">${cards.join('')}</div>`;
}

async function renderBlock(block: Block, chartIndex: () => number): Promise<string> {
  switch (block.kind) {
    case 'text':
      return block.text
        .split(/\n\s*\n/)
        .map((p) => p.trim())
        .filter(Boolean)
        .map((p) => `<p>${inline(p)}</p>`)
        .join('\n');
    case 'table':
      return renderTable(block);
    case 'chart': {
      const svg = 'spec' in block ? await renderSvg(block.spec) : block.svg;
      const caption = block.caption ? `<figcaption>${inline(block.caption)}</figcaption>` : '';
      return `<figure class="chart">${embedSvg(svg, `c${chartIndex()}-`)}${caption}</figure>`;
    }
    case 'metrics':
      return renderMetrics(block);
    case 'list':
      return `<ul>${block.items.map((i) => `<li>${inline(i)}</li>`).join('')}</ul>`;
    case 'code':
      return `<pre class="code">${escapeHtml(block.text)}</pre>`;
  }
}

const STYLE = `
:root { --fg: #1d2330; --muted: #5b6474; --line: #e3e6eb; --accent: #2f6fb3; --bg-soft: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff; font: 15px/1.55 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Roboto, sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 32px 24px 48px; }
header { border-bottom: 1px solid var(--line); padding-bottom: 16px; margin-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
.subtitle { color: var(--muted); margin: 0 0 12px; font-size: 16px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; font-size: 13px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; overflow-wrap: anywhere; }
nav.toc { font-size: 14px; margin: 16px 0 0; color: var(--muted); }
nav.toc a { color: var(--accent); text-decoration: none; margin-right: 14px; }
section { margin-top: 36px; }
h2 { font-size: 20px; margin: 0 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
p { margin: 0 0 12px; max-width: 78ch; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 13px; }
code { background: var(--bg-soft); padding: 1px 4px; border-radius: 3px; }
pre.code { background: var(--bg-soft); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; overflow-x: auto; }
.table-wrap { overflow-x: auto; margin: 0 0 16px; }
table { border-collapse: collapse; font-size: 14px; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; color: var(--muted); font-size: 13px; padding-bottom: 6px; }
th, td { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { font-weight: 600; border-bottom: 2px solid #cfd4db; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num, th.num { text-align: right; }
figure.chart { margin: 8px 0 20px; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 6px; max-width: 78ch; }
.metrics { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 12px; margin: 0 0 16px; }
.metric { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; background: var(--bg-soft); }
.metric-label { color: var(--muted); font-size: 13px; }
.metric-value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.metric-note { color: var(--muted); font-size: 12px; }
details.results { margin-top: 36px; border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
details.results summary { cursor: pointer; font-weight: 600; }
details.results pre { max-height: 480px; overflow: auto; margin: 10px 0 0; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
`;

/** Builds the complete HTML document of a report (charts given as specs are rendered here). */
export async function renderHtmlReport(report: Report): Promise<string> {
  let charts = 0;
  const nextChart = () => ++charts;
  const used = new Set<string>();
  const sections: string[] = [];
  const toc: string[] = [];
  for (const section of report.sections) {
    const id = slug(section.title, used);
    toc.push(`<a href="#${id}">${escapeHtml(section.title)}</a>`);
    const blocks: string[] = [];
    for (const block of section.blocks) blocks.push(await renderBlock(block, nextChart));
    sections.push(`<section id="${id}">\n<h2>${escapeHtml(section.title)}</h2>\n${blocks.join('\n')}\n</section>`);
  }
  const meta = report.meta
    ? `<dl class="meta">${Object.entries(report.meta)
        .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(String(v))}</dd>`)
        .join('')}</dl>`
    : '';
  const results =
    report.results !== undefined
      ? `<details class="results"><summary>Raw results (JSON)</summary><pre>${escapeHtml(toPrettyJson(report.results))}</pre></details>`
      : '';
  const generatedAt = report.generatedAt ?? new Date().toISOString();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${escapeHtml(report.generator ?? 'linscope')}">
<title>${escapeHtml(report.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
<h1>${escapeHtml(report.title)}</h1>
${report.subtitle ? `<p class="subtitle">${inline(report.subtitle)}</p>` : ''}
${meta}
${toc.length > 2 ? `<nav class="toc">${toc.join('')}</nav>` : ''}
</header>
${sections.join('\n')}
${results}
<footer>Generated by ${escapeHtml(report.generator ?? 'linscope')} · ${escapeHtml(generatedAt)}</footer>
</main>
</body>
</html>
`;
}

/** Renders a report and writes it to `path` atomically (directories created as needed). */
export async function writeHtmlReport(path: string, report: Report): Promise<void> {
  await writeFileAtomic(path, await renderHtmlReport(report));
}
