/**
 * One peer job in linscope, timed in this process: `reps` timed runs after one warm-up (the
 * warm-up's outputs go to <dir>/out/<job>-linscope.* for bench/peers/torch_peers.py to check).
 * Prints one JSON line: {tool, job, threads, seconds: [...], cpuSeconds: [...], maxRssMB, blasCore, blasThreading} (CPU time
 * of the process, user + system: comparable on a loaded machine, where wall seconds are not).
 *
 *   node --import tsx bench/peers/linscope-job.ts <forward|linearity|train|laser|perplexity|generate> [dir] [reps]
 *
 * forward    GPT-2-small, 1024 tokens, all hidden states and logits at every position
 * linearity  the linearity job on 4 × 512 tokens: forwards, float64 statistics, pair solves
 * train      one training step of the 5M config (forward, backward, clip, AdamW) on its batch
 * laser      one LASER intervention (out:11:0.1, exact SVD) + factual-recall evaluation of 64 cases
 * perplexity GPT-2-small on 2048 tokens in sliding windows (1024 every 512; `linscope perplexity
 *            --mode sliding`, its default 4 windows per forward)
 * generate   GPT-2-small, greedy continuation of a 24-token prompt by 64 tokens with the KV cache
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backend } from '../../src/backend/index.ts';
import { OpenBlasBackend } from '../../src/backend/openblas.ts';
import { evaluateFactualRecall, type PreparedCases } from '../../src/eval/factual-recall.ts';
import type { EvalTokenizer } from '../../src/eval/model-api.ts';
import { tokenPerplexity } from '../../src/eval/perplexity.ts';
import { openModelSource } from '../../src/io/model-source.ts';
import { LaserEditor } from '../../src/laser/intervention.ts';
import { analyseModel } from '../../src/linearity/analyse.ts';
import { DEFAULT_ANALYSIS } from '../../src/linearity/options.ts';
import { createModel } from '../../src/models/decoder.ts';
import { generate } from '../../src/models/generate.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { CheckpointableAdamW } from '../../src/autograd/optim/adam.ts';
import { isNotMatrix } from '../../src/autograd/index.ts';
import { trainStep } from '../../src/train/train-step.ts';
import { TrainableModel } from '../../src/train/trainable-model.ts';
import { DEFAULT_DIR, peerTrainBatch, type PeerInputs } from './make-inputs.ts';

const [job, dir = DEFAULT_DIR, repsArg = '1'] = process.argv.slice(2);
const reps = Number(repsArg);
const inputs = JSON.parse(readFileSync(join(dir, 'inputs.json'), 'utf8')) as PeerInputs;
const outDir = join(dir, 'out');
mkdirSync(outDir, { recursive: true });
const out = (name: string) => join(outDir, `${job}-linscope.${name}`);

function writeF32(path: string, tensors: readonly Tensor[]): void {
  const total = tensors.reduce((s, t) => s + t.size, 0);
  const all = new Float32Array(total);
  let at = 0;
  for (const t of tensors) {
    all.set(t.data, at);
    at += t.size;
  }
  writeFileSync(path, all);
}

/** Builds the job: returns `run(first)`; `first` is true for the warm-up run, whose outputs are written. */
async function prepare(): Promise<(first: boolean) => void | Promise<void>> {
  if (job === 'forward' || job === 'linearity' || job === 'laser' || job === 'perplexity' || job === 'generate') {
    const model = createModel(await openModelSource(join(dir, 'gpt2')));
    if (job === 'forward') {
      const ids = [inputs.forward];
      return (first) => {
        const r = model.forward(ids, { outputHiddenStates: true });
        if (first) writeF32(out('f32'), [...r.hiddenStates!, r.logits]);
      };
    }
    if (job === 'linearity') {
      const info = { spec: 'gpt2-peer', label: 'gpt2-peer', modelType: 'gpt2', layers: 12, hiddenSize: 768, vocabSize: 50257, parallelResidual: false, identity: null };
      return (first) => {
        const r = analyseModel(model, info, inputs.linearity, { ...DEFAULT_ANALYSIS, batchSize: 4 });
        if (first) {
          const scores = r.pairs.map((p) => [p.layer.withResidual.exact, p.layer.withResidual.robust, p.layer.withoutResidual.exact, p.layer.withoutResidual.robust]);
          writeFileSync(out('json'), JSON.stringify({ scores, tokens: r.tokens }));
        }
      };
    }
    if (job === 'generate') {
      const { prompt, newTokens } = inputs.generate;
      return (first) => {
        const r = generate(model, [prompt], { maxNewTokens: newTokens, eosTokenIds: [] });
        if (first) writeFileSync(out('json'), JSON.stringify({ tokens: r.tokens[0] }));
      };
    }
    if (job === 'perplexity') {
      const { ids, maxLength, stride } = inputs.perplexity;
      return async (first) => {
        const r = await tokenPerplexity(model, ids, { maxLength, stride, mode: 'sliding' });
        if (first) writeFileSync(out('json'), JSON.stringify({ meanNll: r.meanNll, scoredTokens: r.scoredTokens }));
      };
    }
    const prepared: PreparedCases = {
      items: inputs.laser.map((c, i) => ({
        fact: { id: String(i), prompt: '', subject: '', answer: ' x', paraphrases: [] },
        prompt: c.prompt,
        answer: [c.answer],
      })),
    };
    const tokenizer: EvalTokenizer = { encode: () => [], decode: (ids) => ids.join(' ') };
    const editor = new LaserEditor(model);
    const { type, layer, rho } = inputs.intervention;
    return async (first) => {
      editor.apply({ type, layer, rho });
      const r = await evaluateFactualRecall(model, tokenizer, prepared, { batchSize: 16 });
      editor.undo();
      if (first) writeFileSync(out('json'), JSON.stringify({ logLoss: r.perCase.map((c) => c.logLoss), rank: r.perCase.map((c) => c.firstTokenRank) }));
    };
  }
  if (job === 'train') {
    const source = await openModelSource(join(dir, 'p5m'));
    const model = TrainableModel.fromSource(source);
    const t = inputs.train;
    const c = inputs.trainConfig;
    const opt = new CheckpointableAdamW(model.params.values(), { lr: c.lr, betas: c.betas, eps: c.eps, weightDecay: c.weightDecay, noDecay: isNotMatrix });
    const batch = peerTrainBatch(t);
    return (first) => {
      const r = trainStep(model, opt, batch, { regularizer: { kind: 'none', lambda: 0 }, lr: c.lr, gradClip: c.gradClip });
      if (first) writeFileSync(out('json'), JSON.stringify({ loss: r.loss, gradNorm: r.gradNorm }));
    };
  }
  throw new Error(`unknown job ${job} (forward, linearity, train, laser, perplexity, generate)`);
}

/** Warm-up runs beyond the first, per job, as in torch_peers.py (training: measured in its steady state). */
const EXTRA_WARMUPS: Record<string, number> = { train: 2 };

const run = await prepare();
await run(true);
for (let w = 0; w < (EXTRA_WARMUPS[job] ?? 0); w++) await run(false);
const seconds: number[] = [];
const cpuSeconds: number[] = [];
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
for (let r = 0; r < reps; r++) {
  const t0 = performance.now();
  const c0 = cpu();
  await run(false);
  seconds.push((performance.now() - t0) / 1000);
  cpuSeconds.push(cpu() - c0);
}
const be = backend();
const blasCore = be instanceof OpenBlasBackend ? be.core : be.name;
/** How the OpenBLAS loaded is threaded (openblas_get_parallel; torch_peers.py reports the same for torch). */
const blasThreading = be instanceof OpenBlasBackend ? be.threading : be.name;
console.log(JSON.stringify({ tool: 'linscope', job, threads: be.threads(), seconds, cpuSeconds, maxRssMB: process.resourceUsage().maxRSS / 1024, blasCore, blasThreading }));
