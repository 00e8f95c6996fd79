/**
 * A harness task as LASER's selection criterion (`laser search --task T`): the task's documents are
 * split into validation and test like fact sets (src/data/split.ts), and each split's evaluation
 * is summarised in the fields the search compares — top-1 accuracy = the task's "acc" (for
 * truthfulqa_mc2 its probability mass, for lambada the greedy last word), and the log-loss used to
 * break ties = the mean over documents of the gold continuation's NLL per token.
 */
import type { FactualRecallSummary } from '../factual-recall.ts';
import { evaluateTask, type EvalOptions } from './evaluate.ts';
import type { CachedLM } from './score.ts';
import type { Doc, TaskDefinition } from './task.ts';
import type { HarnessTokenizer } from './tokenize.ts';

export function taskSummary(model: CachedLM, tokenizer: HarnessTokenizer, task: TaskDefinition, docs: Doc[], opts: Omit<EvalOptions, 'docs'>): FactualRecallSummary {
  const r = evaluateTask(model, tokenizer, task, { ...opts, docs, bootstrapIters: 0 });
  const acc = r.aggregates.find((a) => a.metric === 'acc')!.value;
  let perToken = 0;
  let nll = 0;
  let tokens = 0;
  for (const s of r.samples) {
    // The gold request: the single one (loglikelihood), else the gold choice (or mc2's first true answer).
    const gold = task.outputType === 'loglikelihood' ? 0 : Math.max(0, s.docRequests.gold);
    const g = s.responses[gold];
    perToken += -g.logLikelihood / g.tokens;
    nll += -g.logLikelihood;
    tokens += g.tokens;
  }
  return { cases: r.samples.length, logLoss: perToken / r.samples.length, answerPerplexity: Math.exp(nll / tokens), answerTokens: tokens, topK: { 1: acc } };
}
