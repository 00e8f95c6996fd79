/**
 * Greedy decoding with the KV cache, step by step: the peer job's model and prompt
 * (bench/peers/make-inputs.ts: GPT-2-small random weights, a 24-token prompt; with batch > 1, that
 * many sequences, the prompt's ids shifted by the row number), the prefill and then
 * `steps` decode steps, at 1 and 2 threads in alternating rounds in one process. Prints the median
 * step, the sum of the steps, and what the garbage collector did meanwhile (full mark-compacts and
 * scavenges, from node:perf_hooks): a decode step should allocate almost nothing, or V8 runs a full
 * collection every step or two whose marking threads take the core OpenBLAS's second thread needs.
 *
 *   node --import tsx bench/generate-steps.ts [dir] [steps=64] [rounds=3] [batch=1]
 *
 * Memory-bound: each step reads every weight once (GPT-2-small: 0.5 GB of float32).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { backend } from '../src/backend/index.ts';
import { openModelSource } from '../src/io/model-source.ts';
import { createModel } from '../src/models/decoder.ts';
import { DEFAULT_DIR, makeInputs, type PeerInputs } from './peers/make-inputs.ts';

const [dir = DEFAULT_DIR, stepsArg = '64', roundsArg = '3', batchArg = '1'] = process.argv.slice(2);
makeInputs(dir);
const inputs = JSON.parse(readFileSync(join(dir, 'inputs.json'), 'utf8')) as PeerInputs;
const model = createModel(await openModelSource(join(dir, 'gpt2')));
const batch = Number(batchArg);
const prompts = Array.from({ length: batch }, (_, b) => inputs.generate.prompt.map((id) => (id + b) % model.config.vocabSize));
const steps = Number(stepsArg);

const gc = { major: 0, minor: 0, ms: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
    else gc.minor++;
    gc.ms += e.duration;
  }
}).observe({ entryTypes: ['gc'] });

/** The prefill and `steps` decode steps; returns each step's milliseconds. */
function decode(): number[] {
  let out = model.forward(prompts, { cache: true, lastTokenLogitsOnly: true });
  const times: number[] = [];
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    out = model.forward(prompts.map(() => [100 + s]), { cache: out.cache, lastTokenLogitsOnly: true, attentionMask: prompts.map(() => [1]) });
    times.push(performance.now() - t0);
  }
  return times;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const be = backend();
decode(); // warm-up
console.log(`GPT-2-small decode steps of ${batch} sequence(s) after ${prompts[0].length}-token prompts; median ms per step, sum of the ${steps} steps, GC meanwhile`);
for (let round = 0; round < Number(roundsArg); round++) {
  for (const threads of [1, 2]) {
    be.setThreads(threads);
    await new Promise((r) => setTimeout(r, 50)); // let pending GC entries arrive before counting
    Object.assign(gc, { major: 0, minor: 0, ms: 0 });
    const times = decode();
    await new Promise((r) => setTimeout(r, 50));
    const sum = times.reduce((a, b) => a + b, 0);
    console.log(`${threads} thread(s): median ${median(times).toFixed(2)} ms, sum ${sum.toFixed(0)} ms; ${gc.major} mark-compact(s), ${gc.minor} other collection(s), ${gc.ms.toFixed(0)} ms paused`);
  }
}
console.log(`peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
