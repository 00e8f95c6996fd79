/**
 * The self-contained HTML report of a linearity run: headline numbers, the profile chart (the
 * paper's Figure 1) and tables, block parts, companion metrics, the worst-fitted tokens, and how
 * the run was made (options, timings, the raw JSON).
 */
import type { Block, Report, Section } from '../report/html.ts';
import type { Column } from '../report/table.ts';
import { mean, runCharts, type NamedChart } from './charts.ts';
import type { LinearityRun } from './result.ts';
import { pairColumns, pairName, pairRows, stateRows, worstTokenRows } from './tables.ts';

const DEFINITION =
  'For consecutive hidden states X (layer i) and Y (layer i + 1) over all probe tokens, each centred and scaled to unit Frobenius norm, ' +
  'the **linearity score** is 1 − min_A ‖X A − Y‖², the share of Y explained by the best linear map (Razzhigaev et al., 2024). ' +
  '**Without residual** replaces Y by the block\'s update Y − X. The `exact` solver is the minimum-norm least-squares (pseudo-inverse) ' +
  'solution, the paper\'s definition; `robust` adds a tiny ridge and is insensitive to near-null directions of X. Pad tokens are never counted.';

function chartBlock(chart: NamedChart | undefined): Block[] {
  return chart ? [{ kind: 'chart', spec: chart.spec, caption: chart.caption }] : [];
}

/** The report's structure (rendered by `writeHtmlReport`). */
export function buildReport(run: LinearityRun): Report {
  const charts = new Map(runCharts(run).map((c) => [c.name, c]));
  const sections: Section[] = [];
  const pairs = pairRows(run);

  sections.push({
    title: 'Summary',
    blocks: [
      {
        kind: 'metrics',
        items: run.models.flatMap((m) => [
          { label: `${m.model.label}: mean linearity`, value: mean(m.pairs.map((p) => p.layer.withResidual.exact)), note: `${m.pairs.length} pairs, ${m.tokens} tokens` },
          { label: `${m.model.label}: without residual`, value: mean(m.pairs.map((p) => p.layer.withoutResidual.exact)) },
        ]),
      },
      { kind: 'text', text: DEFINITION },
      ...run.models.flatMap((m): Block[] => (m.warnings ?? []).map((w) => ({ kind: 'text', text: `Warning, ${m.model.label}: ${w}.` }))),
    ],
  });

  sections.push({
    title: 'Linearity profile',
    blocks: [
      ...chartBlock(charts.get('profile')),
      ...chartBlock(charts.get('mean-linearity')),
      ...run.models.map((m): Block => ({
        kind: 'table',
        caption: `${m.model.label} (${m.model.modelType}, ${m.model.layers} blocks, d = ${m.model.hiddenSize}; exact rank of X in the CSV)`,
        rows: pairs.filter((r) => r.model === m.model.label),
        columns: pairColumns(m),
      })),
    ],
  });

  if (charts.has('parts')) {
    sections.push({
      title: 'Attention and MLP parts',
      blocks: [
        {
          kind: 'text',
          text: 'Each block split in two maps on the residual stream: attention x → x + attn(x), and MLP h → h + mlp(h) with h = x + attn(x) ' +
            '(h = x for blocks whose attention and MLP run in parallel).',
        },
        ...chartBlock(charts.get('parts')),
      ],
    });
  }

  const states = stateRows(run);
  const companion = ['anisotropy', 'mean-cosine', 'intrinsic-dimension', 'logit-lens'].filter((n) => charts.has(n));
  if (companion.length > 0) {
    const keys = new Set(states.flatMap((r) => Object.keys(r)));
    const cols: Column[] = [{ key: 'model' }, { key: 'state' }, { key: 'depth', precision: 2 }];
    if (keys.has('anisotropy')) cols.push({ key: 'anisotropy' }, { key: 'mean_cosine', header: 'mean cosine' });
    if (keys.has('intrinsic_dimension')) cols.push({ key: 'intrinsic_dimension', header: 'intrinsic dim', precision: 2 }, { key: 'intrinsic_dimension_mle', header: 'ID (MLE)', precision: 2 });
    if (keys.has('lens_cross_entropy')) cols.push({ key: 'lens_cross_entropy', header: 'lens CE', precision: 3 }, { key: 'lens_top1', header: 'lens top-1' }, { key: 'lens_kl_to_final', header: 'lens KL', precision: 3 });
    sections.push({
      title: 'Companion metrics',
      blocks: [
        {
          kind: 'text',
          text: 'State 0 is the embedding output; state i the output of block i − 1. Intrinsic dimension is NaN where duplicated vectors ' +
            '(e.g. repeated tokens in the embedding layer) leave TwoNN too few distinct neighbours. The logit lens decodes the last block\'s output before the final norm as the last state.',
        },
        ...companion.flatMap((n) => chartBlock(charts.get(n))),
        { kind: 'table', rows: states, columns: cols },
      ],
    });
  }

  const worst = worstTokenRows(run);
  if (worst.length > 0) {
    const variant = run.options.perTokenVariant === 'withResidual' ? 'with the residual stream' : 'without the residual (the block\'s update)';
    sections.push({
      title: 'Where the linear map fails',
      blocks: [
        {
          kind: 'text',
          text: `For each pair, the ${run.options.perToken} tokens with the largest residual ‖x_n A − y_n‖² under the fitted exact map (${variant}); ` +
            'residuals over all tokens sum to 1 − score. `relative` is the residual over the token\'s own target energy (1 = no better than the mean).',
        },
        ...run.models.flatMap((m): Block[] =>
          (m.worstTokens ?? []).map((list, k) => ({
            kind: 'table',
            caption: `${m.model.label}, pair ${pairName(m.pairs[k])}`,
            rows: worst.filter((r) => r.model === m.model.label && r.pair === pairName(m.pairs[k])),
            columns: [{ key: 'rank' }, { key: 'token' }, { key: 'residual', precision: 6 }, { key: 'relative', precision: 3 }, { key: 'sequence' }, { key: 'position' }, { key: 'context' }],
          })),
        ),
      ],
    });
  }

  sections.push({
    title: 'Run',
    blocks: [
      ...(run.command ? [{ kind: 'code', text: run.command } as Block] : []),
      {
        kind: 'table',
        caption: 'Seconds per stage (cached results show the timings of the run that computed them)',
        rows: run.models.map((m) => ({
          model: m.model.label,
          cached: m.cached ? 'yes' : 'no',
          forward: m.timings.forward,
          statistics: m.timings.statistics,
          solve: m.timings.solve,
          'intrinsic dim': m.timings.intrinsicDimension,
          'logit lens': m.timings.logitLens,
          'per token': m.timings.perToken,
          total: m.timings.total,
        })),
        precision: 2,
      },
      {
        kind: 'list',
        items: [
          `last pair: \`${run.options.lastPair}\`; batch size ${run.options.batchSize}, ${run.options.padding} padding; dtype ${run.options.dtype}`,
          `sampling: ${run.sampling.samples} samples, ${run.sampling.chars} characters, seed ${run.sampling.seed}, BOS ${run.sampling.bos ? 'prepended' : 'not prepended'}` +
            (run.sampling.maxTokens ? `, at most ${run.sampling.maxTokens} tokens` : ''),
          `solvers: exact rcond ${run.options.rcond ?? 'max(N, d)·ε'}, robust ridge ${run.options.ridge ?? '1e-8'} (relative)`,
        ],
      },
    ],
  });

  return {
    title: 'Linearity analysis',
    subtitle: 'Your Transformer is Secretly Linear (Razzhigaev et al., 2024)',
    meta: {
      models: run.models.map((m) => `${m.model.label} (${m.model.spec})`).join(', '),
      data: run.data.description,
      created: run.createdAt,
      linscope: run.version,
    },
    sections,
    results: run,
  };
}
