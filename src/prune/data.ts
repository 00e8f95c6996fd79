/**
 * Calibration and evaluation data for pruning, from one text source: the first documents become
 * calibration batches (BOS + tokens, truncated, padded), the following ones — disjoint — the
 * evaluation stream, either
 * - 'newline' (default): joined with "\n\n" and tokenized once with the tokenizer's default special
 *   tokens, as src/eval's perplexity does; or
 * - 'eos': each document tokenized alone and followed by EOS (after a leading BOS when the tokenizer
 *   has one), the layout of `linscope pretrain`'s streams and of GPT-style pretraining. A model
 *   trained that way has never seen "\n\n" between documents and scores it as very unlikely, which
 *   alone can move its perplexity by tens of percent.
 */
import { buildCalibrationBatches, type TokenBatch } from '../data/calibration.ts';
import { eosJoinedIds } from '../data/eos-stream.ts';
import { loadTexts, type LoadTextsOptions } from '../data/text-source.ts';
import type { EvalTokenizer } from '../eval/model-api.ts';

export interface PruneDataOptions {
  /** Calibration documents (default 64). */
  calibrationDocs?: number;
  /** Tokens per calibration sequence, BOS included (default 256). */
  calibrationLength?: number;
  /** Sequences per calibration batch (default 8). */
  batchSize?: number;
  /** Evaluation documents taken after the calibration ones (default 200). */
  evalDocs?: number;
  /** A separate evaluation source (then its first `evalDocs` documents are used). */
  evalPath?: string;
  /** How text files become documents (default: paragraphs). */
  texts?: LoadTextsOptions;
  /** How evaluation documents are joined into one stream (default 'newline'; see the module comment). */
  separator?: DocumentSeparator;
}

export type DocumentSeparator = 'newline' | 'eos';

export interface PruneData {
  batches: TokenBatch[];
  calibrationTokens: number;
  evalIds: number[];
  calibrationDocs: number;
  evalDocs: number;
}

/** Load calibration batches and the evaluation token stream (see the module comment). */
export async function loadPruneData(path: string, tokenizer: EvalTokenizer, options: PruneDataOptions = {}): Promise<PruneData> {
  const nCal = options.calibrationDocs ?? 64;
  const nEval = options.evalDocs ?? 200;
  const docs: string[] = [];
  const wanted = options.evalPath ? nCal : nCal + nEval;
  for await (const doc of loadTexts(path, { ...options.texts, limit: wanted })) docs.push(doc);
  if (docs.length < nCal + (options.evalPath ? 0 : 1)) {
    throw new Error(`${path}: ${docs.length} documents, need ${nCal} for calibration${options.evalPath ? '' : ' and at least 1 for evaluation'}`);
  }
  const calibration = docs.slice(0, nCal);
  const evaluation = options.evalPath ? [] : docs.slice(nCal);
  if (options.evalPath) for await (const doc of loadTexts(options.evalPath, { ...options.texts, limit: nEval })) evaluation.push(doc);
  const set = buildCalibrationBatches(calibration, { encode: (t, o) => tokenizer.encode(t, o), decode: (ids) => tokenizer.decode(ids), bosId: tokenizer.bosId }, {
    prependBos: tokenizer.bosId !== undefined,
    maxLength: options.calibrationLength ?? 256,
    batchSize: options.batchSize ?? 8,
    sortByLength: true,
  });
  return {
    batches: set.batches,
    calibrationTokens: set.lengths.reduce((a, b) => a + b, 0),
    evalIds: evaluationStream(evaluation, tokenizer, options.separator ?? 'newline'),
    calibrationDocs: calibration.length,
    evalDocs: evaluation.length,
  };
}

/** The evaluation documents as one token stream (see the module comment). */
export function evaluationStream(docs: readonly string[], tokenizer: EvalTokenizer, separator: DocumentSeparator): number[] {
  if (separator === 'newline') return tokenizer.encode(docs.join('\n\n'));
  const eos = tokenizer.eosId;
  if (eos === undefined) throw new Error('document separator "eos": the tokenizer has no EOS token');
  return eosJoinedIds(docs, tokenizer, eos, tokenizer.bosId !== undefined ? [tokenizer.bosId] : []);
}
