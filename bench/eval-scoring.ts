/**
 * Scoring throughput of `linscope eval`: the shared-context, KV-cached scorer
 * (src/eval/harness/score.ts) against plain forward scoring — one full forward of each request's
 * harness input window (context ++ continuation)[:-1], requests sorted by length (longest first)
 * and right-padded in batches, as lm-evaluation-harness's HF model runs them — on the same
 * requests, interleaved (plain, cached, plain, cached …), with the log-likelihoods checked to agree.
 *
 * Throughput unit: the harness's input tokens per second (Σ over requests of the input window
 * length), i.e. the work a plain scorer must do; both methods are measured in that same unit, so
 * the ratio is the speed-up. Wall and process CPU time are both reported (the machine is shared).
 *
 *   node --import tsx bench/eval-scoring.ts <model> [tasks=arc_easy,winogrande,boolq,truthfulqa_mc2] [limit=100] [batch=16] [rounds=2] [--dump DIR]
 *
 * With `--dump DIR`, each task's requests (input windows, continuation lengths), linscope's
 * log-likelihoods and timings go to DIR/<task>.json, for the PyTorch peer bench/eval-scoring-torch.py.
 * With `--tokenizer MODEL_DIR`, the requests are tokenized with that model's tokenizer (its ids must
 * lie in the scored model's vocabulary): for a model folder without one, e.g. bench/peers' random
 * GPT-2-small weights scored with the 5M model's tokenizer (ids < 4096).
 */
import { buildRequests } from '../src/eval/harness/requests.ts';
import { scoreRequests, scoreRequestsPlain } from '../src/eval/harness/score.ts';
import { resolveTasks } from '../src/eval/harness/tasks/index.ts';
import { encodeRequest, harnessMaxLength } from '../src/eval/harness/tokenize.ts';
import { openModelSource } from '../src/io/model-source.ts';
import { loadModel } from '../src/models/decoder.ts';
import { printTable } from '../src/report/table.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

function timed<T>(f: () => T): { value: T; wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = f();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { value, wall, cpu: (c.user + c.system) / 1e6 };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const dumpAt = argv.indexOf('--dump');
  const dumpDir = dumpAt >= 0 ? argv.splice(dumpAt, 2)[1] : undefined;
  if (dumpDir) mkdirSync(dumpDir, { recursive: true });
  const tokenizerAt = argv.indexOf('--tokenizer');
  const tokenizerDir = tokenizerAt >= 0 ? argv.splice(tokenizerAt, 2)[1] : undefined;
  const [modelPath, taskList = 'arc_easy,winogrande,boolq,truthfulqa_mc2', limitArg = '100', batchArg = '16', roundsArg = '2'] = argv;
  if (!modelPath) throw new Error('usage: bench/eval-scoring.ts <model> [tasks] [limit] [batch] [rounds]');
  const datasetsDir = resolve(process.env.LINSCOPE_DATASETS ?? resolve(import.meta.dirname, '..', '..', 'shared', 'data', 'datasets'));
  const source = await openModelSource(modelPath);
  const tok = await (tokenizerDir ? await openModelSource(tokenizerDir) : source).tokenizer();
  if (!tok) throw new Error(`${tokenizerDir ?? modelPath} has no tokenizer (--tokenizer MODEL_DIR names another model's)`);
  const model = await loadModel(source);
  const maxLength = harnessMaxLength(source.config as Record<string, unknown>);
  const limit = Number(limitArg);
  const batch = Number(batchArg);
  const rounds = Number(roundsArg);
  const rows: Record<string, unknown>[] = [];
  for (const task of resolveTasks(taskList.split(','))) {
    const docs = task.evalDocs(datasetsDir).docs.slice(0, limit);
    const reqs = buildRequests(task, docs, { numFewshot: 0 }).flatMap((d) => d.requests).map((r) => encodeRequest(tok, r.context, r.continuation));
    const vocab = model.config.vocabSize;
    if (reqs.some((r) => [...r.context, ...r.continuation].some((id) => id >= vocab))) throw new Error(`${task.name}: token ids beyond the model's vocabulary of ${vocab}`);
    let plainWall = 0, plainCpu = 0, cachedWall = 0, cachedCpu = 0, maxDiff = 0, harnessTokens = 0, distinct = 0;
    let lls: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const p = timed(() => scoreRequestsPlain(model, reqs, { maxLength, batchSize: batch, padId: 0 }).results.map((r) => r.logLikelihood));
      const c = timed(() => scoreRequests(model, reqs, { maxLength, batchSize: batch, padId: 0 }));
      plainWall += p.wall; plainCpu += p.cpu; cachedWall += c.wall; cachedCpu += c.cpu;
      harnessTokens = c.value.stats.plainTokens;
      distinct = c.value.stats.distinctContexts;
      lls = c.value.results.map((r) => r.logLikelihood);
      c.value.results.forEach((r, i) => { maxDiff = Math.max(maxDiff, Math.abs(r.logLikelihood - p.value[i])); });
    }
    const tokens = harnessTokens * rounds;
    if (dumpDir) {
      const windows = reqs.map((r) => [...r.context, ...r.continuation].slice(-(maxLength + 1)).slice(0, -1));
      writeFileSync(join(dumpDir, `${task.name}.json`), JSON.stringify({
        task: task.name, batch, rounds, inputTokens: harnessTokens, windows, continuationLengths: reqs.map((r) => r.continuation.length),
        continuations: reqs.map((r) => r.continuation), linscopeLogLikelihoods: lls,
        linscope: { plainWall, plainCpu, cachedWall, cachedCpu },
      }));
    }
    rows.push({
      task: task.name, requests: reqs.length, contexts: distinct, 'input tokens': harnessTokens,
      'plain tok/s': Math.round(tokens / plainWall), 'cached tok/s': Math.round(tokens / cachedWall), 'speed-up': (plainWall / cachedWall).toFixed(2),
      'plain tok/CPU-s': Math.round(tokens / plainCpu), 'cached tok/CPU-s': Math.round(tokens / cachedCpu), 'CPU speed-up': (plainCpu / cachedCpu).toFixed(2),
      'max |Δll|': maxDiff.toExponential(1),
    });
  }
  printTable(rows);
  console.log(`\nlinscope peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
}

main().catch((e) => {
  console.error(`eval-scoring: ${(e as Error).message}`);
  process.exit(1);
});
