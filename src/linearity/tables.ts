/**
 * A linearity run as table rows: one row per (model, pair) for the scores, one per (model, state)
 * for the companion metrics, one per worst token. The same rows feed the CSV files (every digit),
 * the terminal tables and the HTML report (rounded).
 */
import type { Column, Row } from '../report/table.ts';
import { formatNumber, formatTable } from '../report/table.ts';
import type { LinearityRun, ModelLinearity, PairResult, PairScores } from './result.ts';

/** "3→4", with "+ final norm" when the target state is after the final norm. */
export function pairName(p: PairResult): string {
  return `${p.from}→${p.to}${p.includesFinalNorm ? ' (final norm)' : ''}`;
}

function scoreFields(prefix: string, s: PairScores): Record<string, number> {
  return {
    [`${prefix}exact`]: s.withResidual.exact,
    [`${prefix}robust`]: s.withResidual.robust,
    [`${prefix}no_residual_exact`]: s.withoutResidual.exact,
    [`${prefix}no_residual_robust`]: s.withoutResidual.robust,
  };
}

/** linearity.csv: every score of every pair of every model. */
export function pairRows(run: LinearityRun): Row[] {
  return run.models.flatMap((m) =>
    m.pairs.map((p) => ({
      model: m.model.label,
      block: p.block,
      pair: pairName(p),
      depth: p.depth,
      tokens: m.tokens,
      ...scoreFields('', p.layer),
      rank: p.layer.withResidual.rank,
      ...(p.attention ? scoreFields('attention_', p.attention) : {}),
      ...(p.mlp ? scoreFields('mlp_', p.mlp) : {}),
    })),
  );
}

/** True when any model has any state metric (anisotropy, intrinsic dimension, logit lens). */
export function hasStateMetrics(run: LinearityRun): boolean {
  return run.models.some((m) => m.logitLens !== undefined || m.states.some((s) => s.anisotropy !== undefined || s.intrinsicDimension !== undefined));
}

/**
 * states.csv: per state (hidden state index) anisotropy, mean cosine, intrinsic dimension and the
 * logit lens. The logit lens always reads the last block's output before the final norm.
 */
export function stateRows(run: LinearityRun): Row[] {
  return run.models.flatMap((m) => {
    const count = Math.max(m.states.length, m.logitLens?.length ?? 0);
    return Array.from({ length: count }, (_, i) => {
      const s = m.states[i];
      const lens = m.logitLens?.[i];
      return {
        model: m.model.label,
        state: i,
        depth: count > 1 ? i / (count - 1) : 0,
        ...(s?.anisotropy !== undefined ? { anisotropy: s.anisotropy, mean_cosine: s.meanCosine } : {}),
        ...(s?.intrinsicDimension ? { intrinsic_dimension: s.intrinsicDimension.dimension, intrinsic_dimension_mle: s.intrinsicDimension.maximumLikelihood, id_points: s.intrinsicDimension.points } : {}),
        ...(lens ? { lens_cross_entropy: lens.crossEntropy, lens_top1: lens.top1Accuracy, lens_kl_to_final: lens.klToFinal } : {}),
      };
    });
  });
}

/** worst-tokens.csv: the tokens each pair's linear map fits worst. */
export function worstTokenRows(run: LinearityRun): Row[] {
  return run.models.flatMap((m) =>
    (m.worstTokens ?? []).flatMap((list, k) =>
      list.map((w, rank) => ({
        model: m.model.label,
        pair: pairName(m.pairs[k]),
        rank: rank + 1,
        sequence: w.sequence,
        position: w.position,
        token_id: w.token,
        token: w.text,
        residual: w.residual,
        relative: w.relative,
        context: w.context,
      })),
    ),
  );
}

/** A column of fractions, always with 4 decimals (even when every value happens to be 0 or 1). */
const score = (key: string, header: string): Column => ({ key, header, format: (v) => (typeof v === 'number' ? formatNumber(v, 4) : '') });

/** Columns of the terminal/HTML score table of one model. */
export function pairColumns(m: ModelLinearity): Column[] {
  const cols: Column[] = [
    { key: 'pair', header: 'pair' },
    { key: 'depth', header: 'depth', precision: 2 },
    score('exact', 'linearity'),
    score('robust', 'robust'),
    score('no_residual_exact', 'w/o residual'),
    score('no_residual_robust', 'w/o res. robust'),
  ];
  if (m.pairs.some((p) => p.attention)) cols.push(score('attention_exact', 'attention'), score('mlp_exact', 'mlp'));
  return cols;
}

/** The terminal output: one score table per model, then the state metrics when measured. */
export function formatRunTables(run: LinearityRun): string {
  const parts: string[] = [];
  const pairs = pairRows(run);
  const states = hasStateMetrics(run) ? stateRows(run) : [];
  for (const m of run.models) {
    const note = m.cached ? ', cached' : `, ${m.timings.total.toFixed(1)} s`;
    parts.push(`${m.model.label}: ${m.model.modelType}, ${m.model.layers} blocks, d = ${m.model.hiddenSize}; ${m.tokens} tokens in ${m.sequences} sequences${note}`);
    parts.push(formatTable(pairs.filter((r) => r.model === m.model.label), { columns: pairColumns(m) }));
    const own = states.filter((r) => r.model === m.model.label);
    if (own.length > 0) {
      const keys = new Set(own.flatMap((r) => Object.keys(r)));
      const cols: Column[] = [{ key: 'state', header: 'state' }];
      if (keys.has('anisotropy')) cols.push(score('anisotropy', 'anisotropy'), score('mean_cosine', 'mean cos'));
      if (keys.has('intrinsic_dimension')) cols.push({ key: 'intrinsic_dimension', header: 'intrinsic dim', precision: 2 });
      if (keys.has('lens_cross_entropy')) cols.push({ key: 'lens_cross_entropy', header: 'lens CE', precision: 3 }, score('lens_top1', 'lens top-1'), { key: 'lens_kl_to_final', header: 'lens KL', precision: 3 });
      parts.push(formatTable(own, { columns: cols }));
    }
  }
  return parts.join('\n');
}
