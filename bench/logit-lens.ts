/**
 * Time of the linearity job with the logit lens (`linscope linearity --logit-lens`) on the peer
 * folder's random-weight GPT-2-small (bench/peers/make-inputs.ts): 2 sequences × 256 tokens of its
 * linearity ids, every layer decoded through the final norm and the 50,257-way unembedding.
 * Prints seconds, the process's peak RSS and the first layers' lens values (to compare trees).
 *
 *   node --import tsx bench/logit-lens.ts [peer dir = /tmp/linscope-peers] [tokens per sequence = 256]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openModelSource } from '../src/io/model-source.ts';
import { analyseModel } from '../src/linearity/analyse.ts';
import { DEFAULT_ANALYSIS } from '../src/linearity/options.ts';
import { createModel } from '../src/models/decoder.ts';
import { DEFAULT_DIR, makeInputs, type PeerInputs } from './peers/make-inputs.ts';

const [dir = DEFAULT_DIR, lengthArg = '256'] = process.argv.slice(2);
makeInputs(dir);
const inputs = JSON.parse(readFileSync(join(dir, 'inputs.json'), 'utf8')) as PeerInputs;
const model = createModel(await openModelSource(join(dir, 'gpt2')));
const info = { spec: 'gpt2-peer', label: 'gpt2-peer', modelType: 'gpt2', layers: 12, hiddenSize: 768, vocabSize: 50257, parallelResidual: false, identity: null };
const sequences = inputs.linearity.slice(0, 2).map((s) => s.slice(0, Number(lengthArg)));
const t0 = performance.now();
const r = analyseModel(model, info, sequences, { ...DEFAULT_ANALYSIS, batchSize: 2, logitLens: true });
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ seconds, maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024), lens: r.logitLens?.slice(0, 2) }));
