/** Table rows for pruning results (shared by the CLI and the benchmark). */
import type { Row } from '../report/table.ts';
import type { ModelEvaluation } from './evaluate.ts';
import type { PruneStep } from './replace.ts';
import { spanLabel, type RankedSpan } from './types.ts';

/** One row per candidate, in removal order. */
export function rankingRows(ranking: readonly RankedSpan[]): Row[] {
  return ranking.map((s) => ({
    rank: s.rank + 1,
    blocks: spanLabel(s),
    linearity: s.linearity,
    'linearity w/o residual': s.linearityWithoutResidual,
    BI: s.bi,
    angular: s.angular,
    tokens: s.tokens,
  }));
}

/** One row per chosen span with its fit quality. */
export function choiceRows(steps: readonly PruneStep[]): Row[] {
  return steps.flatMap((step, i) =>
    step.chosen.map((span, k) => {
      const fit = step.fits?.[k];
      return {
        step: i + 1,
        removed: spanLabel(span),
        map: fit ? fit.input : 'drop',
        'update explained': fit ? fit.explained : Number.NaN,
        tokens: fit ? fit.tokens : Number.NaN,
      };
    }),
  );
}

/** A before/after row: the model's name, its block count and every metric evaluated. */
export function evaluationRow(name: string, layers: number, ev: ModelEvaluation): Row {
  const row: Record<string, unknown> = { model: name, blocks: layers, 'ppl (chunks)': ev.chunks.perplexity };
  if (ev.sliding) row['ppl (sliding)'] = ev.sliding.perplexity;
  if (ev.kl !== undefined) row['KL to original'] = ev.kl;
  if (ev.factTop1 !== undefined) {
    row['fact top-1 %'] = 100 * ev.factTop1;
    row['fact log-loss'] = ev.factLogLoss;
  }
  return row;
}

/** The protocol sentences of an evaluation (to print under the table). */
export function protocolLines(ev: ModelEvaluation): string[] {
  const lines = [`chunks: ${ev.chunks.protocol}`];
  if (ev.sliding) lines.push(`sliding: ${ev.sliding.protocol}`);
  if (ev.klPositions !== undefined && ev.klPositions > 0) lines.push(`KL: mean KL(p_original ‖ p_model) in nats over ${ev.klPositions} positions of the same non-overlapping chunks`);
  if (ev.factCases !== undefined) lines.push(`facts: top-1 of the first answer token over ${ev.factCases} cases`);
  return lines;
}
