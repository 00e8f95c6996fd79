/**
 * The higher-order component study (LASER §5.1, "what do the higher-order components store?").
 *
 * For one matrix (τ, ℓ) and kept fraction ρ (r = keptRank(ρ)) we compare three models on the same
 * fact cases:
 *   base           W unchanged;
 *   LASER          W_r = the top-r components (what LASER keeps);
 *   higher-order   W replaced by its SMALLEST singular directions only: by default the
 *                  components LASER removes (W − W_r, all but the top r, `keep: 'residual'`), or
 *                  with `bottomK` the k smallest ones (`keep: 'bottom'`).
 * and read the top-1 next-token prediction of each after every prompt. Cases are grouped by what
 * LASER did (fixed: base wrong → LASER right; broke: base right → LASER wrong; both right; both
 * wrong), and for each group we report how often the higher-order-only model predicts the correct
 * answer, how often it predicts what the base model predicted, and its most frequent predictions
 * (the paper finds generic high-frequency words and plausible-but-wrong answers there).
 */
import type { FactCase } from '../data/types.ts';
import { evaluateFactualRecall, prepareCases, type FactualRecallOptions, type FactualRecallSummary, type PreparedCases } from '../eval/factual-recall.ts';
import type { CausalLM, EvalTokenizer } from '../eval/model-api.ts';
import { LaserEditor, type ApplyOptions } from './intervention.ts';
import type { MatrixModel } from '../models/matrices.ts';
import { keptRank } from './rank.ts';
import { locateMatrix } from '../models/matrices.ts';
import type { Intervention } from './types.ts';

export interface HigherOrderOptions {
  /** Batch size etc. for the evaluations (top-k tokens are always kept). */
  eval?: Omit<FactualRecallOptions, 'keepTopTokens' | 'generation'>;
  /** Use the k smallest components instead of all the removed ones. */
  bottomK?: number;
  apply?: Pick<ApplyOptions, 'rounding'>;
  /** How many most frequent predictions to list per group (default 10). */
  topPredictions?: number;
}

export type CaseGroup = 'fixed' | 'broke' | 'bothRight' | 'bothWrong';
const CASE_GROUPS: readonly CaseGroup[] = ['fixed', 'broke', 'bothRight', 'bothWrong'];

export interface HigherOrderCase {
  id: string;
  answer: string;
  group: CaseGroup;
  base: string;
  laser: string;
  higherOrder: string;
}

export interface GroupStats {
  group: CaseGroup;
  cases: number;
  /** Fraction of the group where the higher-order-only model's top-1 is the first answer token. */
  higherOrderCorrect: number;
  /** … equals the base model's top-1. */
  higherOrderAgreesWithBase: number;
  /** … equals LASER's top-1. */
  higherOrderAgreesWithLaser: number;
  /** Most frequent higher-order predictions: decoded token and count. */
  topPredictions: { token: string; count: number }[];
}

export interface HigherOrderResult {
  intervention: Intervention;
  tensorName: string;
  /** Components: kept by LASER (r) and used by the higher-order model (count), out of min(m, n). */
  laserRank: number;
  higherOrderComponents: number;
  fullRank: number;
  higherOrderKeep: 'residual' | 'bottom';
  summaries: { base: FactualRecallSummary; laser: FactualRecallSummary; higherOrder: FactualRecallSummary };
  groups: GroupStats[];
  cases: HigherOrderCase[];
}

/** Run the study on `cases`; the model is left as it was. */
export async function higherOrderStudy(
  model: MatrixModel & CausalLM,
  tokenizer: EvalTokenizer,
  cases: readonly FactCase[] | PreparedCases,
  intervention: Intervention,
  opts: HigherOrderOptions = {},
): Promise<HigherOrderResult> {
  const prepared = 'items' in cases ? cases : prepareCases(cases as readonly FactCase[], tokenizer, opts.eval?.addSpecialTokens);
  const evalOpts: FactualRecallOptions = { ...opts.eval, keepTopTokens: true };
  const loc = locateMatrix(model, intervention.type, intervention.layer);
  const m = loc.rows.length;
  const n = loc.cols.length;
  const full = Math.min(m, n);
  const r = keptRank(intervention.rho, m, n, opts.apply?.rounding);
  const editor = new LaserEditor(model);

  const base = await evaluateFactualRecall(model, tokenizer, prepared, evalOpts);
  let laser, higher;
  try {
    editor.apply(intervention, { rounding: opts.apply?.rounding });
    laser = await evaluateFactualRecall(model, tokenizer, prepared, evalOpts);
    editor.undo();
    if (opts.bottomK !== undefined) {
      if (!(Number.isInteger(opts.bottomK) && opts.bottomK >= 1 && opts.bottomK <= full)) throw new Error(`higher-order: bottom k must be in 1…${full}, got ${opts.bottomK}`);
      editor.apply(intervention, { keep: 'bottom', rank: opts.bottomK });
    } else {
      if (r >= full) throw new Error(`higher-order: ρ = ${intervention.rho} keeps every component (r = ${r}); nothing is removed`);
      editor.apply(intervention, { keep: 'residual', rounding: opts.apply?.rounding });
    }
    higher = await evaluateFactualRecall(model, tokenizer, prepared, evalOpts);
  } finally {
    editor.undo();
  }

  const decode = (id: number) => tokenizer.decode([id]);
  const ids = prepared.items.map((it, i) => ({
    correct: it.answer[0],
    base: base.perCase[i].topTokens![0],
    laser: laser.perCase[i].topTokens![0],
    higher: higher.perCase[i].topTokens![0],
  }));
  const groupOf = (x: (typeof ids)[number]): CaseGroup =>
    x.base === x.correct ? (x.laser === x.correct ? 'bothRight' : 'broke') : x.laser === x.correct ? 'fixed' : 'bothWrong';
  const perCase: HigherOrderCase[] = prepared.items.map((it, i) => ({
    id: it.fact.id,
    answer: it.fact.answer,
    group: groupOf(ids[i]),
    base: decode(ids[i].base),
    laser: decode(ids[i].laser),
    higherOrder: decode(ids[i].higher),
  }));

  const topN = opts.topPredictions ?? 10;
  const groups: GroupStats[] = CASE_GROUPS.map((group) => {
    const members = ids.map((x, i) => ({ x, c: perCase[i] })).filter(({ c }) => c.group === group);
    const count = members.length;
    const frac = (f: (x: (typeof ids)[number]) => boolean) => (count ? members.filter(({ x }) => f(x)).length / count : NaN);
    const counts = new Map<string, number>();
    for (const { c } of members) counts.set(c.higherOrder, (counts.get(c.higherOrder) ?? 0) + 1);
    return {
      group,
      cases: count,
      higherOrderCorrect: frac((x) => x.higher === x.correct),
      higherOrderAgreesWithBase: frac((x) => x.higher === x.base),
      higherOrderAgreesWithLaser: frac((x) => x.higher === x.laser),
      topPredictions: [...counts]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, topN)
        .map(([token, n]) => ({ token, count: n })),
    };
  });

  const usedComponents = opts.bottomK ?? full - r;
  return {
    intervention,
    tensorName: loc.tensorName,
    laserRank: r,
    higherOrderComponents: usedComponents,
    fullRank: full,
    higherOrderKeep: opts.bottomK !== undefined ? 'bottom' : 'residual',
    summaries: { base: base.summary, laser: laser.summary, higherOrder: higher.summary },
    groups,
    cases: perCase,
  };
}
