/**
 * Anthropic HH-RLHF helpful-base preference pairs for pairwise reward modelling (the linearity
 * paper's Table 1 "reward modelling" row). Each record is {"chosen", "rejected"}: two whole
 * conversations ("\n\nHuman: … \n\nAssistant: …") that share their beginning and differ in the last
 * assistant turn. Only the test split (2,354 pairs) is shipped (SOURCES.md: the train split is above
 * the snapshot cap), so it is split by a seeded shuffle (harness-finetune-data.ts SPLIT_SEED): the
 * first 20% held out, the rest the training pool.
 */
import { readJsonl } from '../eval/harness/data.ts';
import { SPLIT_SEED, seededHoldout } from './harness-finetune-data.ts';

export interface PreferencePair {
  chosen: string;
  rejected: string;
}

export const HH_FILE = 'hh-rlhf-helpful-base/test.jsonl';

export function loadHHPairs(datasetsDir: string): PreferencePair[] {
  return readJsonl(datasetsDir, HH_FILE).map((r, i) => {
    if (typeof r.chosen !== 'string' || typeof r.rejected !== 'string') throw new Error(`${HH_FILE}:${i + 1}: "chosen" and "rejected" must be strings`);
    return { chosen: r.chosen, rejected: r.rejected };
  });
}

export interface RewardTaskData {
  train: PreferencePair[];
  eval: PreferencePair[];
  description: string;
}

export function hhRewardData(datasetsDir: string, trainExamples: number, evalExamples: number): RewardTaskData {
  const pairs = loadHHPairs(datasetsDir);
  const split = seededHoldout(pairs);
  const train = split.train.slice(0, trainExamples);
  const evalSet = split.eval.slice(0, evalExamples);
  return {
    train, eval: evalSet,
    description: `reward-hh: pairwise reward modelling on HH-RLHF helpful-base, loss −log σ(r_chosen − r_rejected); only its test split is shipped: seeded split (seed ${SPLIT_SEED}) of its ${pairs.length} pairs, ${split.eval.length} held out, ${split.train.length} to train on; ${train.length} training / ${evalSet.length} held-out pairs`,
  };
}
