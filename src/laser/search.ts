/**
 * LASER's search (Sharma et al., 2023, §4): evaluate every single intervention (τ, ℓ, ρ) of a grid
 * on a validation split, choose the one with the best validation accuracy (ties broken by the lower
 * validation answer log-loss, then by grid order), and report it on the test split next to the
 * unmodified model. The authors' scripts select the same way (strictly higher accuracy, or equal
 * accuracy and strictly lower log-loss, scanning layers from the last one down).
 *
 * Grid order: layers from the last to the first; within a layer the matrix types in the order
 * given; within a type the kept fractions in the order given (default the paper's
 * 0.9, 0.8, 0.6, 0.4, 0.2, 0.1, 0.05, 0.01, 0.005).
 *
 * Optional greedy composition: starting from the best single intervention, try the remaining
 * single interventions in order of their own validation score (skipping ones that hit a matrix
 * already reduced) and keep adding while the composition's validation score improves; stop at the
 * first one that does not (or after `maxCompose` steps).
 *
 * Every evaluation is appended to a JSONL `RunLog` as soon as it is measured; a restarted search
 * reuses logged results and only evaluates what is missing.
 */
import type { FactualRecallSummary } from '../eval/factual-recall.ts';
import { LaserEditor, type ApplyOptions } from './intervention.ts';
import type { MatrixModel } from '../models/matrices.ts';
import type { EvaluationRecord, RunLog } from './run-log.ts';
import { formatInterventions, MATRIX_TYPES, PAPER_RHOS, type Intervention, type MatrixType } from './types.ts';

/** Which accuracy decides the search. */
export type SelectionMetric = 'top1' | 'top5' | 'top10' | 'generationStartsWith' | 'generationContains' | 'choice';
export const SELECTION_METRICS: readonly SelectionMetric[] = ['top1', 'top5', 'top10', 'generationStartsWith', 'generationContains', 'choice'];

/**
 * Evaluates the model as it currently is on one split; `interventions` says what is applied to the
 * base model (in order), which lets an evaluator reuse work across calls (prefix-cache.ts).
 */
export type SplitEvaluator = (split: 'validation' | 'test', interventions: readonly Intervention[]) => Promise<FactualRecallSummary>;

export interface LaserSearchOptions {
  model: MatrixModel;
  evaluate: SplitEvaluator;
  log: RunLog;
  /** Matrix types to try (default: every type layer 0 of the model has, in τ order q,k,v,o,in,up,out). */
  types?: readonly MatrixType[];
  /** Layers to try, in order (default: last to first). */
  layers?: readonly number[];
  /** Kept fractions to try, in order (default the paper's grid). */
  rhos?: readonly number[];
  /** Selection accuracy (default 'top1'). */
  metric?: SelectionMetric;
  apply?: ApplyOptions;
  /** Greedy composition after the single-intervention search (default false). */
  compose?: boolean;
  /** Most interventions added by composition (default 8). */
  maxCompose?: number;
  /** Evaluate base and chosen on the test split (default true). */
  test?: boolean;
  /** Called after every configuration (evaluated or resumed). */
  onStep?: (step: SearchStep) => void;
}

export interface SearchStep {
  record: EvaluationRecord;
  /** True when the result came from the log. */
  resumed: boolean;
  /** Position in the planned grid (1-based) and its size; compose/test steps report 0. */
  index: number;
  total: number;
}

export interface LaserSearchResult {
  metric: SelectionMetric;
  base: EvaluationRecord;
  /** Validation records of the single interventions, in grid order. */
  grid: EvaluationRecord[];
  /** Best single intervention on validation. */
  best: EvaluationRecord;
  /** Accepted composition steps (each a longer composition), in order. */
  composition: EvaluationRecord[];
  /** What the search chose: the last accepted composition, else `best`. */
  chosen: EvaluationRecord;
  /** Test-split records of the base model and of `chosen` (when `test`). */
  baseTest?: EvaluationRecord;
  chosenTest?: EvaluationRecord;
  /** Test record of the best single intervention, when composition chose something longer. */
  bestTest?: EvaluationRecord;
  /** Grid cells skipped because the architecture lacks that matrix type in that layer. */
  skipped: Intervention[];
}

/** The accuracy a record is selected by. */
export function accuracyOf(summary: FactualRecallSummary, metric: SelectionMetric): number {
  switch (metric) {
    case 'top1':
      return summary.topK[1];
    case 'top5':
      return summary.topK[5];
    case 'top10':
      return summary.topK[10];
    case 'generationStartsWith':
    case 'generationContains': {
      const v = summary[metric];
      if (v === undefined) throw new Error(`selection metric ${metric} needs generation to be evaluated`);
      return v;
    }
    case 'choice':
      if (summary.choiceAccuracy === undefined) throw new Error('selection metric choice needs a classification set (fever, truthfulqa)');
      return summary.choiceAccuracy;
  }
}

/** a strictly better than b: higher accuracy, or equal accuracy and lower log-loss. */
export function isBetter(a: FactualRecallSummary, b: FactualRecallSummary, metric: SelectionMetric): boolean {
  const accA = accuracyOf(a, metric);
  const accB = accuracyOf(b, metric);
  return accA > accB || (accA === accB && a.logLoss < b.logLoss);
}

/** The planned grid, in search order. */
export function searchGrid(types: readonly MatrixType[], layers: readonly number[], rhos: readonly number[]): Intervention[] {
  const grid: Intervention[] = [];
  for (const layer of layers) for (const type of types) for (const rho of rhos) grid.push({ type, layer, rho });
  return grid;
}

/** Default matrix types: those the model has in its first layer, in the canonical order. */
export function modelMatrixTypes(model: MatrixModel): MatrixType[] {
  const table = model.matrices(0);
  return MATRIX_TYPES.filter((t) => table[t] !== undefined);
}

/** Run the search (see the module comment). The model is left unmodified. */
export async function laserSearch(opts: LaserSearchOptions): Promise<LaserSearchResult> {
  const { model, evaluate, log } = opts;
  const metric = opts.metric ?? 'top1';
  const types = opts.types ?? modelMatrixTypes(model);
  const layers = opts.layers ?? Array.from({ length: model.numLayers }, (_, i) => model.numLayers - 1 - i);
  const rhos = opts.rhos ?? PAPER_RHOS;
  const editor = new LaserEditor(model);

  const measure = async (split: 'validation' | 'test', ivs: Intervention[], phase: EvaluationRecord['phase'], index: number, total: number): Promise<EvaluationRecord> => {
    const key = ivs.length === 0 ? 'base' : formatInterventions(ivs);
    const logged = log.get(split, key);
    if (logged) {
      opts.onStep?.({ record: logged, resumed: true, index, total });
      return logged;
    }
    try {
      const applied = editor.applyAll(ivs, opts.apply);
      const t0 = performance.now();
      const summary = await evaluate(split, ivs);
      const evalSeconds = (performance.now() - t0) / 1000;
      const record = log.add({
        split, key, phase, interventions: ivs, summary,
        ranks: applied.map((a) => ({ tensorName: a.tensorName, outDim: a.outDim, inDim: a.inDim, rank: a.rank })),
        svdSeconds: applied.reduce((s, a) => s + a.svdSeconds, 0),
        evalSeconds,
      });
      opts.onStep?.({ record, resumed: false, index, total });
      return record;
    } finally {
      editor.undo();
    }
  };

  const planned = searchGrid(types, layers, rhos);
  const present = (iv: Intervention) => model.matrices(iv.layer)[iv.type] !== undefined;
  const cells = planned.filter(present);
  const skipped = planned.filter((iv) => !present(iv));
  if (cells.length === 0) throw new Error(`LASER search: none of the matrix types ${types.join(', ')} exists in the chosen layers`);
  const total = cells.length + 1;

  const base = await measure('validation', [], 'base', 1, total);
  const grid: EvaluationRecord[] = [];
  for (let i = 0; i < cells.length; i++) grid.push(await measure('validation', [cells[i]], 'grid', i + 2, total));

  // Best single intervention: scan in grid order, replace only when strictly better.
  let best = grid[0];
  for (const r of grid.slice(1)) if (isBetter(r.summary, best.summary, metric)) best = r;

  const composition: EvaluationRecord[] = [];
  let chosen = best;
  if (opts.compose) {
    const ranked = grid
      .map((r, i) => ({ r, i }))
      .sort((a, b) => (isBetter(a.r.summary, b.r.summary, metric) ? -1 : isBetter(b.r.summary, a.r.summary, metric) ? 1 : a.i - b.i))
      .map(({ r }) => r.interventions[0]);
    const maxCompose = opts.maxCompose ?? 8;
    const matrixKey = (iv: Intervention) => `${iv.type}:${iv.layer}`;
    for (const candidate of ranked) {
      if (composition.length >= maxCompose) break;
      if (chosen.interventions.some((iv) => matrixKey(iv) === matrixKey(candidate))) continue;
      const trial = await measure('validation', [...chosen.interventions, candidate], 'compose', 0, 0);
      if (!isBetter(trial.summary, chosen.summary, metric)) break;
      composition.push(trial);
      chosen = trial;
    }
  }

  const result: LaserSearchResult = { metric, base, grid, best, composition, chosen, skipped };
  if (opts.test ?? true) {
    result.baseTest = await measure('test', [], 'base', 0, 0);
    result.chosenTest = await measure('test', chosen.interventions, 'chosen', 0, 0);
    if (chosen !== best) result.bestTest = await measure('test', best.interventions, 'chosen', 0, 0);
  }
  return result;
}
