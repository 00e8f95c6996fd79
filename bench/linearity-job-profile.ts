/**
 * Where the linearity peer job (bench/peers/linscope-job.ts `linearity`: GPT-2-small random weights,
 * 4 × 512 tokens, DEFAULT_ANALYSIS with batch size 4, 12 pairs) spends its time: every backend call
 * (GEMMs by shape, syrk, potrf, potri, trsm, attention, …) timed with the process's CPU time, and the
 * rest (JavaScript loops, native non-GEMM kernels, garbage collection) as the remainder. CPU time
 * (user + system), so the split stays comparable on a loaded machine. One warm-up run, then `runs`
 * timed runs: totals are medians of the plain runs (no timers), the split is from the last run.
 *
 *   OPENBLAS_NUM_THREADS=1 node --import tsx bench/linearity-job-profile.ts [dir] [runs]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { backend, withBackend, type Backend } from '../src/backend/index.ts';
import { openModelSource } from '../src/io/model-source.ts';
import { analyseModel } from '../src/linearity/analyse.ts';
import { DEFAULT_ANALYSIS } from '../src/linearity/options.ts';
import { createModel } from '../src/models/decoder.ts';
import { nativeKernelsStatus } from '../src/tensor/native-kernels.ts';
import { DEFAULT_DIR, type PeerInputs } from './peers/make-inputs.ts';

const [dir = DEFAULT_DIR, runsArg = '3'] = process.argv.slice(2);
const runs = Number(runsArg);
const inputs = JSON.parse(readFileSync(join(dir, 'inputs.json'), 'utf8')) as PeerInputs;
const model = createModel(await openModelSource(join(dir, 'gpt2')));
const info = { spec: 'gpt2-peer', label: 'gpt2-peer', modelType: 'gpt2', layers: 12, hiddenSize: 768, vocabSize: 50257, parallelResidual: false, identity: null };
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const job = () => analyseModel(model, info, inputs.linearity, { ...DEFAULT_ANALYSIS, batchSize: 4 });

const stats = new Map<string, { ms: number; calls: number; flops: number }>();
const timed: Backend = new Proxy(backend(), {
  get(target, key, receiver) {
    const value = Reflect.get(target, key, receiver);
    if (typeof value !== 'function') return value;
    return (...args: unknown[]) => {
      const t0 = cpu();
      const r = value.apply(target, args);
      const ms = cpu() - t0;
      let name = String(key);
      let flops = 0;
      if (key === 'gemm') {
        const a = args[0] as { c: Float32Array | Float64Array; m: number; n: number; k: number };
        name = `${a.c instanceof Float64Array ? 'd' : 's'}gemm ${a.m}×${a.n}×${a.k}`;
        flops = 2 * a.m * a.n * a.k;
      }
      const s = stats.get(name) ?? stats.set(name, { ms: 0, calls: 0, flops: 0 }).get(name)!;
      s.ms += ms;
      s.calls++;
      s.flops += flops;
      return r;
    };
  },
});

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
job();
const cpuMs: number[] = [];
const wallMs: number[] = [];
for (let r = 0; r < runs; r++) {
  const c0 = cpu();
  const w0 = performance.now();
  job();
  cpuMs.push(cpu() - c0);
  wallMs.push(performance.now() - w0);
}
stats.clear();
const c0 = cpu();
withBackend(timed, job);
const profiled = cpu() - c0;
console.log(`kernels: ${nativeKernelsStatus()}; BLAS threads ${backend().threads()}`);
console.log(`plain runs: CPU ${cpuMs.map((v) => v.toFixed(0)).join(', ')} ms (median ${median(cpuMs).toFixed(0)}), wall ${wallMs.map((v) => v.toFixed(0)).join(', ')} ms (median ${median(wallMs).toFixed(0)})`);
console.log(`profiled run: CPU ${profiled.toFixed(0)} ms`);
let sum = 0;
for (const [k, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms)) {
  sum += s.ms;
  console.log(`  ${k.padEnd(28)} ${String(s.calls).padStart(5)} ${s.ms.toFixed(0).padStart(7)} ms ${s.flops ? `${(s.flops / s.ms / 1e6).toFixed(1)} GF/s` : ''}`);
}
console.log(`  backend calls ${sum.toFixed(0)} ms; the rest (JS, native non-GEMM kernels, GC) ${(profiled - sum).toFixed(0)} ms`);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
