/**
 * Chart builders: pure functions from analysis results to Vega-Lite specs. They do no rendering
 * (see chart.ts), so they are cheap to call and easy to test and to save as JSON next to results.
 */
import type { TopLevelSpec } from 'vega-lite';

export type { TopLevelSpec };

/** Size and look shared by every chart. */
export interface ChartFrame {
  title: string;
  /** Plot width in pixels (default 480; per panel for faceted heatmaps). */
  width?: number;
  /** Plot height in pixels (default 300; per panel for faceted heatmaps). */
  height?: number;
  subtitle?: string;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Look shared by all charts: white background, sans-serif text, readable sizes. */
const BASE_CONFIG = {
  background: 'white',
  font: 'sans-serif',
  title: { fontSize: 15, anchor: 'start', subtitleFontSize: 12, subtitleColor: '#555' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
} as const;

function titleOf(frame: ChartFrame) {
  return frame.subtitle ? { text: frame.title, subtitle: frame.subtitle } : frame.title;
}

/** The top of a single-view chart: schema, title, size (the frame's, else `size`), shared look, data. */
function frame(options: ChartFrame, values: unknown[], size = { width: 480, height: 300 }) {
  return {
    $schema: SCHEMA, title: titleOf(options), width: options.width ?? size.width, height: options.height ?? size.height,
    config: BASE_CONFIG, data: { values },
  };
}

/** Drops points with non-finite coordinates: Vega-Lite would silently skip them anyway. */
function finite(...xs: number[]): boolean {
  return xs.every(Number.isFinite);
}

// ---------------------------------------------------------------------------------------------
// Linearity profile (paper Figure 1)

/** One point of a linearity profile: the score of the transform from layer `layer` to the next. */
export interface LinearityPoint {
  layer: number;
  /** Normalised depth layer / (L − 1), in [0, 1]; see {@link normalisedDepth}. */
  depth: number;
  /** Linearity score of the layer transform including the residual stream. */
  score: number;
  /** Linearity score with the residual component removed (only drawn when `withResidual`). */
  scoreNoResidual?: number;
}

export interface LinearitySeries {
  model: string;
  points: LinearityPoint[];
}

export interface LinearityChartOptions extends ChartFrame {
  yLabel: string;
  /** X-axis title (default 'normalised depth'). */
  xLabel?: string;
  /**
   * Compare the score with the residual stream (`score`, solid) against the score of the
   * residual-removed transform (`scoreNoResidual`, dashed), one pair of lines per model.
   */
  withResidual?: boolean;
  /** Fixed y range, e.g. [0, 1]; default fits the data. */
  yDomain?: [number, number];
}

/** Normalised depth of a layer in a stack of `numLayers` points: layer / (L − 1) (0 when L = 1). */
export function normalisedDepth(layer: number, numLayers: number): number {
  return numLayers > 1 ? layer / (numLayers - 1) : 0;
}

/**
 * The paper's Figure 1: linearity score against normalised depth, one line per model with its
 * points marked, so models of different depth share one x axis.
 */
export function linearityProfileChart(series: readonly LinearitySeries[], options: LinearityChartOptions): TopLevelSpec {
  const withResidual = options.withResidual ?? false;
  const values: Record<string, unknown>[] = [];
  for (const s of series) {
    for (const p of s.points) {
      if (finite(p.depth, p.score)) {
        values.push({ model: s.model, layer: p.layer, depth: p.depth, score: p.score, residual: 'with residual' });
      }
      if (withResidual && p.scoreNoResidual !== undefined && finite(p.depth, p.scoreNoResidual)) {
        values.push({ model: s.model, layer: p.layer, depth: p.depth, score: p.scoreNoResidual, residual: 'without residual' });
      }
    }
  }
  return {
    ...frame(options, values),
    // Lines and points are separate layers so the dash legend shows line strokes, not dots.
    encoding: {
      x: {
        field: 'depth',
        type: 'quantitative',
        title: options.xLabel ?? 'normalised depth',
        scale: { domain: [0, 1] },
        axis: { format: '.1f' },
      },
      y: {
        field: 'score',
        type: 'quantitative',
        title: options.yLabel,
        scale: options.yDomain ? { domain: options.yDomain } : { zero: false },
      },
      color: { field: 'model', type: 'nominal', title: 'model', sort: series.map((s) => s.model) },
      ...(withResidual ? { detail: { field: 'residual', type: 'nominal' } } : {}),
    },
    layer: [
      {
        mark: { type: 'line', strokeWidth: 2 },
        encoding: {
          order: { field: 'depth', type: 'quantitative' },
          ...(withResidual
            ? {
                strokeDash: {
                  field: 'residual',
                  type: 'nominal',
                  title: null,
                  sort: ['with residual', 'without residual'],
                  legend: { symbolStrokeColor: '#444', symbolSize: 400 },
                },
              }
            : {}),
        },
      },
      {
        mark: { type: 'point', filled: true, size: 36, opacity: 1 },
        encoding: {
          tooltip: [
            { field: 'model', type: 'nominal' },
            { field: 'layer', type: 'quantitative' },
            ...(withResidual ? [{ field: 'residual', type: 'nominal' }] : []),
            { field: 'score', type: 'quantitative', format: '.4f' },
          ],
        },
      },
    ],
  } as unknown as TopLevelSpec;
}

// ---------------------------------------------------------------------------------------------
// Line chart (loss curves)

export interface LineSeries {
  name: string;
  points: readonly { x: number; y: number }[];
}

export interface LineChartOptions extends ChartFrame {
  xLabel: string;
  yLabel: string;
  /** Log-scale y axis (non-positive values are dropped). */
  logY?: boolean;
  logX?: boolean;
  /** Mark each point (default: only when a series has ≤ 60 points). */
  points?: boolean;
  /** Legend title (default 'run'). */
  seriesLabel?: string;
  yDomain?: [number, number];
}

/** Generic multi-series line chart, e.g. training loss (step vs loss), one line per run. */
export function lineChart(series: readonly LineSeries[], options: LineChartOptions): TopLevelSpec {
  const values: Record<string, unknown>[] = [];
  for (const s of series) {
    for (const p of s.points) {
      if (!finite(p.x, p.y)) continue;
      if (options.logY && p.y <= 0) continue;
      if (options.logX && p.x <= 0) continue;
      values.push({ series: s.name, x: p.x, y: p.y });
    }
  }
  const showPoints = options.points ?? series.every((s) => s.points.length <= 60);
  const yScale: Record<string, unknown> = options.logY ? { type: 'log' } : { zero: false };
  if (options.yDomain) yScale.domain = options.yDomain;
  const seriesLabel = options.seriesLabel ?? 'run';
  return {
    ...frame(options, values),
    mark: showPoints ? { type: 'line', point: { filled: true, size: 24 }, strokeWidth: 1.5 } : { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: options.xLabel, scale: options.logX ? { type: 'log' } : { zero: false } },
      y: { field: 'y', type: 'quantitative', title: options.yLabel, scale: yScale },
      color: { field: 'series', type: 'nominal', title: seriesLabel, sort: series.map((s) => s.name) },
      order: { field: 'x', type: 'quantitative' },
      tooltip: [
        { field: 'series', type: 'nominal', title: seriesLabel },
        { field: 'x', type: 'quantitative', title: options.xLabel },
        { field: 'y', type: 'quantitative', title: options.yLabel, format: '.4f' },
      ],
    },
  } as TopLevelSpec;
}

// ---------------------------------------------------------------------------------------------
// Heatmap (LASER Figure 2)

export interface HeatmapCell {
  row: string | number;
  col: string | number;
  value: number;
  /** Optional panel: one small heatmap per distinct facet value (e.g. the matrix type). */
  facet?: string | number;
}

export interface HeatmapChartOptions extends ChartFrame {
  /** Vega colour scheme name (default 'blueorange' when diverging, 'viridis' otherwise). */
  colorScheme?: string;
  /** Centre the colour scale on 0 with a symmetric range (for Δloss: improvement vs harm). */
  diverging?: boolean;
  rowLabel?: string;
  colLabel?: string;
  valueLabel?: string;
  facetLabel?: string;
  /** Panels per row when faceted (default 3). */
  columns?: number;
  /** Print each cell's value inside it (d3-format string, e.g. '.2f'); off by default. */
  valueFormat?: string;
}

/** Distinct values in a stable order: numeric ascending when all are numbers, else first appearance. */
function categoryOrder(values: readonly (string | number)[]): (string | number)[] {
  const unique = [...new Set(values)];
  return unique.every((v) => typeof v === 'number') ? (unique as number[]).sort((a, b) => a - b) : unique;
}

/**
 * LASER Figure 2 style heatmap: one coloured cell per (row, col), e.g. Δloss per (ρ, layer),
 * optionally one panel per facet (matrix type). With `diverging`, 0 sits at the centre colour and
 * the range is symmetric, so the sign of a change is read from the hue. Missing cells stay blank.
 */
export function heatmapChart(cells: readonly HeatmapCell[], options: HeatmapChartOptions): TopLevelSpec {
  const values = cells.map((c) => ({
    row: c.row,
    col: c.col,
    value: Number.isFinite(c.value) ? c.value : null,
    ...(c.facet !== undefined ? { facet: c.facet } : {}),
  }));
  const rowOrder = categoryOrder(cells.map((c) => c.row));
  const colOrder = categoryOrder(cells.map((c) => c.col));
  const faceted = cells.some((c) => c.facet !== undefined);
  const valueLabel = options.valueLabel ?? 'value';
  const colorScale: Record<string, unknown> = {};
  if (options.diverging) {
    const extent = Math.max(0, ...cells.map((c) => Math.abs(c.value)).filter(Number.isFinite));
    colorScale.scheme = options.colorScheme ?? 'blueorange';
    colorScale.domain = extent > 0 ? [-extent, extent] : [-1, 1];
    colorScale.domainMid = 0;
  } else {
    colorScale.scheme = options.colorScheme ?? 'viridis';
  }
  // Cells size from the number of categories so panels stay square-ish and legible.
  const cellWidth = options.valueFormat ? 44 : 24;
  const width = options.width ?? Math.min(720, Math.max(120, colOrder.length * cellWidth));
  const height = options.height ?? Math.min(360, Math.max(80, rowOrder.length * (options.valueFormat ? 20 : 24)));
  const shortColLabels = colOrder.every((c) => String(c).length <= 4);
  const encoding = {
    x: { field: 'col', type: 'ordinal', title: options.colLabel ?? null, sort: colOrder, axis: shortColLabels ? { labelAngle: 0 } : {} },
    y: { field: 'row', type: 'ordinal', title: options.rowLabel ?? null, sort: rowOrder },
  };
  const rect = {
    mark: { type: 'rect' },
    encoding: {
      color: { field: 'value', type: 'quantitative', title: valueLabel, scale: colorScale },
      tooltip: [
        { field: 'row', type: 'ordinal', title: options.rowLabel ?? 'row' },
        { field: 'col', type: 'ordinal', title: options.colLabel ?? 'col' },
        { field: 'value', type: 'quantitative', title: valueLabel, format: '.4f' },
      ],
    },
  };
  const layers: Record<string, unknown>[] = [rect];
  if (options.valueFormat) {
    layers.push({
      mark: { type: 'text', fontSize: 9, color: '#222' },
      encoding: { text: { field: 'value', type: 'quantitative', format: options.valueFormat } },
    });
  }
  // Position channels are shared by the cells and their value labels (one scale for both layers).
  const unit = { width, height, encoding, layer: layers };
  const top = { $schema: SCHEMA, title: titleOf(options), config: { ...BASE_CONFIG, view: { stroke: null } }, data: { values } };
  if (!faceted) return { ...top, ...unit } as unknown as TopLevelSpec;
  return {
    ...top,
    facet: { field: 'facet', type: 'nominal', title: options.facetLabel ?? null, sort: categoryOrder(cells.flatMap((c) => (c.facet === undefined ? [] : [c.facet]))) },
    columns: options.columns ?? 3,
    resolve: { scale: { color: 'shared' } },
    spec: unit,
  } as unknown as TopLevelSpec;
}

// ---------------------------------------------------------------------------------------------
// Bar chart

export interface Bar {
  label: string;
  value: number;
  /** Optional group: bars of the same label are placed side by side, coloured by group. */
  group?: string;
}

export interface BarChartOptions extends ChartFrame {
  xLabel?: string;
  yLabel?: string;
  /** Horizontal bars (labels on the y axis); better for long labels. */
  horizontal?: boolean;
  /** Order bars by value, largest first (default: input order). */
  sortByValue?: boolean;
  /** Print each bar's value at its end (d3-format string, e.g. '.3f'). */
  valueFormat?: string;
}

/** Bar chart of labelled values, optionally grouped (side-by-side bars coloured by group). */
export function barChart(bars: readonly Bar[], options: BarChartOptions): TopLevelSpec {
  const values = bars.map((b) => ({ label: b.label, value: Number.isFinite(b.value) ? b.value : null, group: b.group ?? '' }));
  const grouped = bars.some((b) => b.group !== undefined);
  const labelOrder = [...new Set(bars.map((b) => b.label))];
  if (options.sortByValue) {
    // Largest first, by the label's total over groups; computed here so every layer shares it.
    const total = new Map<string, number>();
    for (const b of bars) if (Number.isFinite(b.value)) total.set(b.label, (total.get(b.label) ?? 0) + b.value);
    labelOrder.sort((p, q) => (total.get(q) ?? -Infinity) - (total.get(p) ?? -Infinity));
  }
  const category = { field: 'label', type: 'nominal', title: options.xLabel ?? null, sort: labelOrder };
  const groupOrder = [...new Set(bars.map((b) => b.group ?? ''))];
  const offset = { field: 'group', type: 'nominal', sort: groupOrder };
  // With value labels, pad the value axis so labels beyond the longest bars stay inside the plot.
  const measure = { field: 'value', type: 'quantitative', title: options.yLabel ?? null, ...(options.valueFormat ? { scale: { padding: 28 } } : {}) };
  const [catChannel, valChannel] = options.horizontal ? ['y', 'x'] : ['x', 'y'];
  // Position channels are shared by the bars and their value labels (one scale for both layers).
  const encoding: Record<string, unknown> = {
    [catChannel]: options.horizontal ? { ...category, axis: { labelLimit: 240 } } : { ...category, axis: { labelAngle: -30, labelLimit: 160 } },
    [valChannel]: measure,
    ...(grouped ? { [`${catChannel}Offset`]: offset } : {}),
  };
  const barLayer = {
    mark: { type: 'bar' },
    encoding: {
      color: grouped ? { field: 'group', type: 'nominal', title: null, sort: groupOrder } : { value: '#4c78a8' },
      tooltip: [
        { field: 'label', type: 'nominal' },
        ...(grouped ? [{ field: 'group', type: 'nominal' }] : []),
        { field: 'value', type: 'quantitative', format: '.4f' },
      ],
    },
  };
  const layers: Record<string, unknown>[] = [barLayer];
  if (options.valueFormat) {
    layers.push({
      // Labels sit just beyond the end of the bar, on whichever side the bar grows.
      mark: options.horizontal
        ? { type: 'text', fontSize: 10, align: { expr: "datum.value < 0 ? 'right' : 'left'" }, dx: { expr: 'datum.value < 0 ? -3 : 3' } }
        : { type: 'text', fontSize: 10, baseline: { expr: "datum.value < 0 ? 'top' : 'bottom'" }, dy: { expr: 'datum.value < 0 ? 2 : -2' } },
      encoding: { text: { field: 'value', type: 'quantitative', format: options.valueFormat } },
    });
  }
  const n = new Set(bars.map((b) => b.label)).size;
  return {
    ...frame(options, values, {
      width: options.horizontal ? 420 : Math.max(240, Math.min(720, n * (grouped ? 48 : 32))),
      height: options.horizontal ? Math.max(120, Math.min(600, n * (grouped ? 36 : 22))) : 300,
    }),
    encoding,
    layer: layers,
  } as unknown as TopLevelSpec;
}
