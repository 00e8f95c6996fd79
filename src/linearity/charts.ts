/**
 * The charts of a linearity run as Vega-Lite specs: the paper's Figure 1 (score against normalised
 * depth, one line per model, with and without the residual stream) and the companion metrics.
 */
import { barChart, lineChart, linearityProfileChart, type LineSeries, type TopLevelSpec } from '../report/chart-specs.ts';
import type { LinearityRun, ModelLinearity, StateResult } from './result.ts';

export interface NamedChart {
  /** File name without extension. */
  name: string;
  caption: string;
  spec: TopLevelSpec;
}

const PART_NAMES = { layer: 'block', attention: 'attn', mlp: 'mlp' } as const;

function solverNote(run: LinearityRun): string {
  const tokens = run.models.map((m) => m.tokens);
  const range = Math.min(...tokens) === Math.max(...tokens) ? `${tokens[0]}` : `${Math.min(...tokens)}–${Math.max(...tokens)}`;
  return `exact solver, ${range} tokens`;
}

/** Figure 1: linearity score vs normalised depth, solid with residual, dashed without. */
export function profileChart(run: LinearityRun): TopLevelSpec {
  return linearityProfileChart(
    run.models.map((m) => ({
      model: m.model.label,
      points: m.pairs.map((p) => ({ layer: p.block, depth: p.depth, score: p.layer.withResidual.exact, scoreNoResidual: p.layer.withoutResidual.exact })),
    })),
    { title: 'Linearity score across depth', subtitle: solverNote(run), yLabel: 'linearity score', withResidual: true, yDomain: [0, 1] },
  );
}

function stateSeries(models: readonly ModelLinearity[], value: (s: StateResult, m: ModelLinearity) => number | undefined): LineSeries[] {
  return models
    .map((m) => ({ name: m.model.label, points: m.states.flatMap((s) => { const y = value(s, m); return y === undefined ? [] : [{ x: s.depth, y }]; }) }))
    .filter((s) => s.points.length > 0);
}

/** Every chart the run's options produced (the profile first). */
export function runCharts(run: LinearityRun): NamedChart[] {
  const charts: NamedChart[] = [
    {
      name: 'profile',
      caption: 'Linearity score of each block (states i → i + 1) against normalised depth; solid: with the residual stream, dashed: the residual removed (the block\'s update alone).',
      spec: profileChart(run),
    },
  ];
  const models = run.models;
  if (models.some((m) => m.pairs.some((p) => p.attention))) {
    const series: LineSeries[] = models.flatMap((m) =>
      (['layer', 'attention', 'mlp'] as const).map((part) => ({
        name: models.length > 1 ? `${m.model.label} · ${PART_NAMES[part]}` : PART_NAMES[part],
        points: m.pairs.flatMap((p) => (p[part] ? [{ x: p.depth, y: p[part]!.withResidual.exact }] : [])),
      })),
    );
    charts.push({
      name: 'parts',
      caption: 'Linearity of each whole block, its attention part (x → x + attn) and its MLP part (h → h + mlp), with the residual stream.',
      spec: lineChart(series, { title: 'Linearity of attention and MLP parts', xLabel: 'normalised depth', yLabel: 'linearity score', seriesLabel: models.length > 1 ? 'model · part' : 'part' }),
    });
  }
  const anisotropy = stateSeries(models, (s) => s.anisotropy);
  if (anisotropy.length > 0) {
    charts.push({
      name: 'anisotropy',
      caption: 'Anisotropy of each hidden state: the share of variance along its first principal direction (1/d when isotropic).',
      spec: lineChart(anisotropy, { title: 'Anisotropy across depth', xLabel: 'normalised depth', yLabel: 'top eigenvalue share', seriesLabel: 'model' }),
    });
    charts.push({
      name: 'mean-cosine',
      caption: 'Mean cosine similarity between distinct token vectors of each hidden state (uncentred).',
      spec: lineChart(stateSeries(models, (s) => s.meanCosine), { title: 'Mean cosine similarity across depth', xLabel: 'normalised depth', yLabel: 'mean cosine', seriesLabel: 'model' }),
    });
  }
  const id = stateSeries(models, (s) => s.intrinsicDimension?.dimension);
  if (id.length > 0) {
    charts.push({
      name: 'intrinsic-dimension',
      caption: 'TwoNN intrinsic dimension of each hidden state on its first tokens (authors\' variant: line fit on the lowest fifth of the distance ratios).',
      spec: lineChart(id, { title: 'Intrinsic dimension across depth', xLabel: 'normalised depth', yLabel: 'TwoNN dimension', seriesLabel: 'model' }),
    });
  }
  const lensModels = models.filter((m) => m.logitLens);
  if (lensModels.length > 0) {
    const series = lensModels.map((m) => ({ name: m.model.label, points: m.logitLens!.map((l, i, all) => ({ x: all.length > 1 ? i / (all.length - 1) : 0, y: l.crossEntropy })) }));
    charts.push({
      name: 'logit-lens',
      caption: 'Logit lens: cross-entropy of the true next token when each hidden state is decoded with the model\'s final norm and unembedding.',
      spec: lineChart(series, { title: 'Logit lens across depth', xLabel: 'normalised depth', yLabel: 'next-token cross-entropy (nats)', seriesLabel: 'model' }),
    });
  }
  if (models.length > 1) {
    const bars = models.flatMap((m) => [
      { label: m.model.label, group: 'with residual', value: mean(m.pairs.map((p) => p.layer.withResidual.exact)) },
      { label: m.model.label, group: 'without residual', value: mean(m.pairs.map((p) => p.layer.withoutResidual.exact)) },
    ]);
    charts.push({
      name: 'mean-linearity',
      caption: 'Mean linearity score over all pairs of each model.',
      spec: barChart(bars, { title: 'Mean linearity per model', yLabel: 'mean linearity score', valueFormat: '.3f' }),
    });
  }
  return charts;
}

/** Mean of the finite values (NaN when there are none). */
export function mean(xs: readonly number[]): number {
  const ok = xs.filter(Number.isFinite);
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : Number.NaN;
}
