/**
 * Reward-export cross-check, step 1 (linscope side): loads a `finetune --task reward-hh` export as
 * every linscope command does (TrainableModel + its `score.weight` head + its tokenizer), scores the
 * first N held-out HH-RLHF pairs (the same seeded split as the fine-tuning) as ONE right-padded batch
 * (the way finetune evaluates), and writes DIR/reward-expected.json: the token ids of every sequence,
 * linscope's reward of each, the export's pad_token_id, and the texts. Step 2,
 * bench/reward-hf-crosscheck.py, loads the folder with transformers'
 * AutoModelForSequenceClassification and compares. Not run by the test suite.
 *
 * Run: node --import tsx bench/reward-hf-crosscheck.ts EXPORT_DIR [N=8] [MAX_LEN=96]
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { noGrad } from '../src/autograd/index.ts';
import { openModelSource } from '../src/io/model-source.ts';
import { resolveTokenizer } from '../src/io/tokenizer-override.ts';
import { hhRewardData } from '../src/train/reward-data.ts';
import { loadRewardHead, pairBatch, rewards, rewardTokens } from '../src/train/reward-model.ts';
import { datasetsDir } from '../src/train/shipped-data.ts';
import { TrainableModel } from '../src/train/trainable-model.ts';

const dir = resolve(process.argv[2] ?? '');
const n = Number(process.argv[3] ?? 8);
const maxLen = Number(process.argv[4] ?? 96);
const source = await openModelSource(dir);
const tokenizer = await resolveTokenizer(source);
const model = TrainableModel.fromSource(source);
const head = loadRewardHead(source, model);
if (!head) throw new Error(`${dir} has no score.weight: not a reward-model export`);
const padId = source.config.pad_token_id;
if (typeof padId !== 'number') throw new Error(`${dir}: config.json has no pad_token_id`);
const data = hhRewardData(datasetsDir(), 0, n);
const texts = data.eval.flatMap((p) => [p.chosen, p.rejected]);
const pairs = data.eval.map((p) => ({ chosen: rewardTokens(tokenizer, p.chosen, maxLen), rejected: rewardTokens(tokenizer, p.rejected, maxLen) }));
const batch = pairBatch(pairs, padId);
const r = noGrad(() => Array.from(rewards(model, head, batch).rewards.value.data));
const ids = pairs.flatMap((p) => [p.chosen, p.rejected]);
const padInText = ids.filter((s) => s.includes(padId)).length;
writeFileSync(join(dir, 'reward-expected.json'), `${JSON.stringify({ pad_token_id: padId, max_len: maxLen, input_ids: ids, rewards: r, texts }, null, 1)}\n`);
process.stdout.write(`${dir}: ${ids.length} sequences (${n} pairs, ${Math.min(...ids.map((s) => s.length))}–${Math.max(...ids.map((s) => s.length))} tokens), pad_token_id ${padId} (inside ${padInText} of them), rewards ${r.slice(0, 4).map((x) => x.toFixed(4)).join(', ')}, …\n`);
