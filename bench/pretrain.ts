/**
 * Tokens/s of one pretraining step (forward, cross-entropy (+ cosine regulariser), backward, clip,
 * AdamW) of the ~5M-parameter Llama-style model of configs/pretrain-5m.yaml on random tokens, and
 * the split of a step into GEMMs, other forward/backward work and the optimiser. The loss is the
 * fused crossEntropyMean that `linscope pretrain` uses (src/train/train-step.ts); `--loss autograd`
 * takes src/autograd's crossEntropy instead (what this bench measured before 2026-11-23).
 *
 *   node --import tsx bench/pretrain.ts [--small] [--arch gpt2|opt|…] [--steps N] [--reg cosine] [--loss fused|autograd]
 */
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { backend, withBackend, type Backend } from '../src/backend/index.ts';
import { add, backward, clipGradNorm, crossEntropy, isNotMatrix } from '../src/autograd/index.ts';
import { printTable } from '../src/report/table.ts';
import { Rng } from '../src/tensor/random.ts';
import { CheckpointableAdamW } from '../src/autograd/optim/adam.ts';
import { hfConfig, parameterCount, shapeForArch, type ModelShape, type PretrainArch } from '../src/train/model-shape.ts';
import { TrainableModel } from '../src/train/trainable-model.ts';
import { crossEntropyMean } from '../src/autograd/ops/fused.ts';
import { weightedPenalty, type RegularizerKind } from '../src/train/regularizer.ts';

export const SHAPE_5M: ModelShape = { vocabSize: 4096, hiddenSize: 256, intermediateSize: 688, numLayers: 6, numHeads: 4, numKvHeads: 2, maxPositions: 256, tieWordEmbeddings: true };
const SHAPE_SMALL: ModelShape = { vocabSize: 2048, hiddenSize: 96, intermediateSize: 256, numLayers: 4, numHeads: 4, numKvHeads: 2, maxPositions: 128, tieWordEmbeddings: true };

interface StepTimes {
  total: number;
  /** Process CPU time (user + system) of the step: the work done, whatever else the machine runs. */
  cpu: number;
  /** The system part of `cpu` (page faults of fresh memory, mostly). */
  sys: number;
  forward: number;
  backward: number;
  optimiser: number;
  gemm: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function timedBackend(inner: Backend, sink: { ms: number }): Backend {
  return new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'gemm') {
        return (args: Parameters<Backend['gemm']>[0]) => {
          const t = performance.now();
          target.gemm(args);
          sink.ms += performance.now() - t;
        };
      }
      const value = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export type LossKind = 'fused' | 'autograd';

/** Runs `warmup + steps` training steps; returns per-step timings after warm-up. */
export function benchPretrainSteps(shape: ModelShape, batch: number, seqLen: number, steps: number, reg: RegularizerKind = 'none', warmup = 2, lossKind: LossKind = 'fused'): StepTimes[] {
  const rng = new Rng(7);
  const model = TrainableModel.initialize(hfConfig(shape), rng);
  const opt = new CheckpointableAdamW(model.params.values(), { lr: 1e-3, weightDecay: 0.1, betas: [0.9, 0.95], noDecay: isNotMatrix });
  const ids = new Int32Array(batch * seqLen).map(() => rng.int(shape.vocabSize));
  const targets = new Int32Array(batch * seqLen).map(() => rng.int(shape.vocabSize));
  const gemm = { ms: 0 };
  const out: StepTimes[] = [];
  withBackend(timedBackend(backend(), gemm), () => {
    for (let i = 0; i < warmup + steps; i++) {
      gemm.ms = 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      opt.zeroGrad();
      const f = model.forward(ids, batch, seqLen);
      const ce = lossKind === 'fused' ? crossEntropyMean(f.logits, targets) : crossEntropy(f.logits, targets);
      const r = weightedPenalty(f.states, { kind: reg, lambda: 0.5 });
      const loss = r ? add(ce, r.penalty) : ce;
      const t1 = performance.now();
      backward(loss, undefined, { recycleValues: true }); // as src/train/train-step.ts
      clipGradNorm(opt.params, 1);
      const t2 = performance.now();
      opt.step();
      const t3 = performance.now();
      const c = process.cpuUsage(c0);
      if (i >= warmup) out.push({ total: t3 - t0, cpu: (c.user + c.system) / 1000, sys: c.system / 1000, forward: t1 - t0, backward: t2 - t1, optimiser: t3 - t2, gemm: gemm.ms });
    }
  });
  return out;
}

/** Median tokens/s of a training step of the ~5M model (batch 16 × 256 tokens). */
export async function benchPretrain(): Promise<{ ms: number; label: string }> {
  const steps = benchPretrainSteps(SHAPE_5M, 16, 256, 3);
  return { ms: median(steps.map((s) => s.total)), label: `pretrain step, ${parameterCount(SHAPE_5M).toLocaleString('en-US')} params, 16×256 tokens (${backend().name}, ${backend().threads()} threads)` };
}

function main(): void {
  const argv = process.argv.slice(2);
  const small = argv.includes('--small');
  const stepsArg = argv.indexOf('--steps');
  const steps = stepsArg >= 0 ? Number(argv[stepsArg + 1]) : 5;
  const regArg = argv.indexOf('--reg');
  const reg = (regArg >= 0 ? argv[regArg + 1] : 'none') as RegularizerKind;
  const lossArg = argv.indexOf('--loss');
  const loss = (lossArg >= 0 ? argv[lossArg + 1] : 'fused') as LossKind;
  const archArg = argv.indexOf('--arch');
  const arch = (archArg >= 0 ? argv[archArg + 1] : 'llama') as PretrainArch;
  const sized = small ? SHAPE_SMALL : SHAPE_5M;
  // the same sizes in another architecture (without grouped-query heads where it has none; BLOOM's MLP is 4·d)
  const shape: ModelShape = arch === 'llama' ? sized : shapeForArch(sized, arch).shape;
  const [batch, seqLen] = small ? [16, 128] : [16, 256];
  const times = benchPretrainSteps(shape, batch, seqLen, steps, reg, 2, loss);
  const med = (f: (s: StepTimes) => number) => median(times.map(f));
  const total = med((s) => s.total);
  const tokens = batch * seqLen;
  console.log(`pretrain step: ${arch}, ${parameterCount(shape).toLocaleString('en-US')} parameters (d=${shape.hiddenSize}, L=${shape.numLayers}, V=${shape.vocabSize}), batch ${batch}×${seqLen} = ${tokens} tokens, regulariser ${reg}, loss ${loss}`);
  console.log(`backend ${backend().name}, ${backend().threads()} threads; median of ${steps} steps after 2 warm-up\n`);
  printTable([
    { part: 'GEMMs (fwd + bwd)', ms: med((s) => s.gemm) },
    { part: 'forward, non-GEMM', ms: med((s) => s.forward) - med((s) => s.gemm) * (med((s) => s.forward) / (med((s) => s.forward) + med((s) => s.backward))) },
    { part: 'forward (all)', ms: med((s) => s.forward) },
    { part: 'backward + clip (all)', ms: med((s) => s.backward) },
    { part: 'optimiser (AdamW)', ms: med((s) => s.optimiser) },
    { part: 'total step', ms: total },
  ].map((p) => ({ ...p, share: p.ms / total })), {
    columns: ['part', { key: 'ms', precision: 1 }, { key: 'share', precision: 2, format: (v) => `${((v as number) * 100).toFixed(0)}%` }],
  });
  const cpu = med((s) => s.cpu);
  console.log(`\n${Math.round((tokens / total) * 1000)} tokens/s wall (median step ${total.toFixed(0)} ms; min ${Math.min(...times.map((s) => s.total)).toFixed(0)} ms)`);
  console.log(`${Math.round((tokens / cpu) * 1000)} tokens per CPU-second (median CPU time ${cpu.toFixed(0)} ms per step, of which system ${med((s) => s.sys).toFixed(0)} ms; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
