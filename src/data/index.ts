/** The data layer: text sources, slices and windows, evaluation sets, calibration batches. */
export { withLeadingSpace, type FactCase, type Tokenizer } from './types.ts';
export { loadTexts, collectTexts, type LoadTextsOptions, type TextFormat, type TextSourceSpec } from './text-source.ts';
export { readParquetTexts, parquetColumnNames, type ParquetTextOptions } from './parquet-texts.ts';
export { sampleCharSlices, chunkTokens, slidingWindows, type CharSliceOptions, type ScoredWindow } from './slices.ts';
export { loadCounterFact, counterFactFromRecords, loadKnownFacts } from './counterfact.ts';
export { loadParaRel, paraRelPrompt, type ParaRelOptions } from './pararel.ts';
export { loadFever, feverFromSplits, feverPrompt, TRUE_FALSE_CHOICES } from './fever.ts';
export { loadHotpotQA, hotpotPrompt, HOTPOT_MAX_ANSWER_TOKENS, type HotpotOptions } from './hotpotqa.ts';
export { loadTruthfulQA, truthfulQAPrompt } from './truthfulqa.ts';
export { loadBigBenchQAWikidata } from './bigbench-qa-wikidata.ts';
export { splitCases, type Split, type SplitOptions } from './split.ts';
export { buildClozeCases, loadTinyStoriesCloze, splitStories, clozeCandidates, type ClozeCandidate, type ClozeOptions } from './cloze.ts';
export {
  tokenizeTexts,
  makeBatches,
  buildCalibrationBatches,
  type TokenizeOptions,
  type TokenizedTexts,
  type TokenBatch,
  type BatchOptions,
  type CalibrationOptions,
  type CalibrationSet,
} from './calibration.ts';
