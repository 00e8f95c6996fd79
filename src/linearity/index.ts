/**
 * The `linscope linearity` workflow as a library: probe sets, the per-model analysis, multi-model
 * runs with caching, and the outputs (tables, charts, HTML report).
 *
 *   const run = await runLinearity({ models: ['gpt2'], data: { kind: 'text', path: 'wiki.txt' },
 *                                    sampling: DEFAULT_SAMPLING, analysis: DEFAULT_ANALYSIS });
 *   await writeLinearityOutputs('runs/gpt2', run);
 */
export { analyseModel, checkPartsSupported, pairCount, type AnalysableModel, type AnalyseHooks } from './analyse.ts';
export { batchRows, type BatchRows } from './batch-rows.ts';
export { runCharts, profileChart, mean, type NamedChart } from './charts.ts';
export { FirstRows, WorstTokenKeeper, type TokenMiss } from './collectors.ts';
export { holdsTokenIds, loadProbeSource, probeSequences, randomTokenIds, readTokenIds, type ProbeSequences, type ProbeSource } from './data.ts';
export {
  checkOptions, DEFAULT_ANALYSIS, DEFAULT_SAMPLING,
  type AnalysisOptions, type DataSpec, type ExecutionOptions, type SamplingOptions,
} from './options.ts';
export { writeLinearityOutputs, type OutputOptions } from './outputs.ts';
export { buildReport } from './report.ts';
export type {
  DataInfo, IntrinsicDimensionResult, LinearityRun, ModelInfo, ModelLinearity, PairResult, PairScores, Scores, StateResult, Timings, WorstTokenRecord,
} from './result.ts';
export {
  defaultLabel, resultKey, runLinearity, uniqueLabels, RESULT_VERSION,
  type CacheSettings, type InMemoryModel, type LinearityRequest, type ModelInput, type RunProgress,
} from './run.ts';
export { formatRunTables, hasStateMetrics, pairName, pairRows, stateRows, worstTokenRows } from './tables.ts';
export { tokenInContext, visible, type Decode, type TokenInContext } from './token-context.ts';
