/**
 * LASER benchmark: time per evaluated intervention on a GPT-2-small-shaped model (random weights,
 * d = 768, 12 layers, vocabulary 50,257) on a fixed fact set (64 cases of 24 prompt tokens and a
 * one-token answer, batches of 16: 64 × 24 tokens in all). An intervention's cost is the SVD
 * (+ reconstruction + write-back) plus the evaluation of the modified model.
 *
 * - SVD, per matrix shape (q: 768 × 768 block of the fused c_attn; in: c_fc, 768 → 3072;
 *   out: c_proj, 3072 → 768), exact float64 vs randomized; the shape, not the layer, sets its cost.
 * - Evaluation at layers 11, 6 and 0 (out:ℓ:0.1 applied), before and after prefix caching:
 *   'full' runs the 12 blocks on every token and the LM head on the answer positions;
 *   'prefix-cached' (src/laser/prefix-cache.ts) runs blocks ℓ…11 from the cached residual stream
 *   entering ℓ. The cache is built once per layer by the first evaluation there (reported as
 *   'first at ℓ'); every further intervention at ℓ costs 'cached'. The cached metrics are checked
 *   against the full forward (max |Δ log-loss| over cases).
 *
 * Each timing is the best of `repeats` runs (default 3; the machine may be shared).
 *
 * Run: LINSCOPE_THREADS=1 node --import tsx -e "import('./bench/laser.ts').then((m) => m.benchLaser())"
 */
import { backend } from '../src/backend/index.ts';
import { evaluateFactualRecall, type FactualRecallResult, type PreparedCases } from '../src/eval/factual-recall.ts';
import type { EvalTokenizer } from '../src/eval/model-api.ts';
import { LaserEditor, type ApplyOptions } from '../src/laser/intervention.ts';
import { PrefixCachedEvaluator } from '../src/laser/prefix-cache.ts';
import type { Intervention } from '../src/laser/types.ts';
import { createModel } from '../src/models/decoder.ts';
import { memorySource } from '../src/models/memory-source.ts';
import { printTable } from '../src/report/table.ts';
import { Rng } from '../src/tensor/random.ts';
import { Tensor } from '../src/tensor/tensor.ts';

export interface LaserSvdRow {
  svd: string;
  intervention: string;
  matrix: string;
  rank: number;
  svdSeconds: number;
}

export interface LaserEvalRow {
  layer: number;
  /** Whole model on every evaluation (before prefix caching). */
  fullSeconds: number;
  /** First evaluation at this layer: builds the cached input of layer ℓ. */
  firstSeconds: number;
  /** Every further evaluation at this layer. */
  cachedSeconds: number;
  speedup: number;
  /** max over cases |log-loss(cached) − log-loss(full)|. */
  maxLogLossDiff: number;
}

export interface LaserInterventionRow {
  svd: string;
  intervention: string;
  beforeSeconds: number;
  afterSeconds: number;
}

export interface LaserBenchResult {
  svd: LaserSvdRow[];
  evaluation: LaserEvalRow[];
  perIntervention: LaserInterventionRow[];
}

/** Random GPT-2-small-shaped weights under Hugging Face names. */
function gpt2Weights(rng: Rng, d: number, layers: number, vocab: number, positions: number): Map<string, Tensor> {
  const w = new Map<string, Tensor>();
  const ones = (n: number) => Tensor.full([n], 1);
  const zeros = (n: number) => Tensor.zeros([n]);
  w.set('transformer.wte.weight', rng.randn([vocab, d], 0.02));
  w.set('transformer.wpe.weight', rng.randn([positions, d], 0.01));
  w.set('transformer.ln_f.weight', ones(d));
  w.set('transformer.ln_f.bias', zeros(d));
  for (let l = 0; l < layers; l++) {
    const p = `transformer.h.${l}.`;
    w.set(p + 'ln_1.weight', ones(d));
    w.set(p + 'ln_1.bias', zeros(d));
    w.set(p + 'attn.c_attn.weight', rng.randn([d, 3 * d], 0.02));
    w.set(p + 'attn.c_attn.bias', zeros(3 * d));
    w.set(p + 'attn.c_proj.weight', rng.randn([d, d], 0.02));
    w.set(p + 'attn.c_proj.bias', zeros(d));
    w.set(p + 'ln_2.weight', ones(d));
    w.set(p + 'ln_2.bias', zeros(d));
    w.set(p + 'mlp.c_fc.weight', rng.randn([d, 4 * d], 0.02));
    w.set(p + 'mlp.c_fc.bias', zeros(4 * d));
    w.set(p + 'mlp.c_proj.weight', rng.randn([4 * d, d], 0.02));
    w.set(p + 'mlp.c_proj.bias', zeros(d));
  }
  return w;
}

async function bestOf<T>(repeats: number, run: () => Promise<T> | T): Promise<{ seconds: number; value: T }> {
  let seconds = Infinity;
  let value!: T;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    value = await run();
    seconds = Math.min(seconds, (performance.now() - t0) / 1000);
  }
  return { seconds, value };
}

export async function benchLaser(options: { cases?: number; promptTokens?: number; batchSize?: number; repeats?: number; layers?: number[]; print?: boolean } = {}): Promise<LaserBenchResult> {
  const repeats = options.repeats ?? 3;
  const d = 768, layers = 12, vocab = 50257;
  const cases = options.cases ?? 64;
  const promptTokens = options.promptTokens ?? 24;
  const evalLayers = options.layers ?? [11, 6, 0];
  const rng = new Rng(0);
  const config = { model_type: 'gpt2', n_embd: d, n_layer: layers, n_head: 12, vocab_size: vocab, n_positions: 1024 };
  const model = createModel(memorySource(config, gpt2Weights(rng, d, layers, vocab, 1024)));
  const laser = model;
  const prepared: PreparedCases = {
    items: Array.from({ length: cases }, (_, i) => ({
      fact: { id: String(i), prompt: '', subject: '', answer: ' x', paraphrases: [] },
      prompt: Array.from({ length: promptTokens }, () => rng.int(vocab)),
      answer: [rng.int(vocab)],
    })),
  };
  const tokenizer: EvalTokenizer = { encode: () => [], decode: (ids) => ids.join(' ') };
  const evalOptions = { batchSize: options.batchSize ?? 16 };
  const evaluateFull = () => evaluateFactualRecall(model, tokenizer, prepared, evalOptions);
  await evaluateFull(); // warm-up: page in weights, JIT
  const editor = new LaserEditor(laser);

  // SVD cost per matrix shape.
  const methods: [string, ApplyOptions][] = [
    ['exact', { method: 'exact' }],
    ['randomized (p=10, q=2)', { method: 'randomized', oversample: 10, powerIterations: 2 }],
  ];
  const svdRows: LaserSvdRow[] = [];
  for (const [label, opts] of methods) {
    for (const type of ['q', 'in', 'out'] as const) {
      const iv: Intervention = { type, layer: 11, rho: 0.1 };
      const { seconds, value: applied } = await bestOf(repeats, () => {
        const [a] = editor.applyAll([iv], opts);
        editor.undo();
        return a;
      });
      svdRows.push({ svd: label, intervention: `${type}:ℓ:0.1`, matrix: `${applied.outDim}×${applied.inDim}`, rank: applied.rank, svdSeconds: seconds });
    }
  }

  // Evaluation cost per layer, full forward vs prefix-cached.
  const evalRows: LaserEvalRow[] = [];
  for (const layer of evalLayers) {
    const iv: Intervention = { type: 'out', layer, rho: 0.1 };
    editor.applyAll([iv]);
    try {
      const full = await bestOf(repeats, evaluateFull);
      const cached = new PrefixCachedEvaluator(model, tokenizer, { validation: prepared }, evalOptions);
      const t0 = performance.now();
      const first = await cached.evaluate('validation', [iv]);
      const firstSeconds = (performance.now() - t0) / 1000;
      const hit = await bestOf(repeats, () => cached.evaluate('validation', [iv]));
      if (cached.stats.prefixComputations !== 1 || cached.stats.cacheHits !== repeats) throw new Error(`bench: unexpected cache use ${JSON.stringify(cached.stats)}`);
      evalRows.push({
        layer, fullSeconds: full.seconds, firstSeconds, cachedSeconds: hit.seconds, speedup: full.seconds / hit.seconds,
        maxLogLossDiff: Math.max(maxDiff(first, full.value), maxDiff(hit.value, full.value)),
      });
    } finally {
      editor.undo();
    }
  }

  const perIntervention: LaserInterventionRow[] = [];
  for (const s of svdRows) {
    for (const e of evalRows) {
      perIntervention.push({ svd: s.svd, intervention: s.intervention.replace('ℓ', String(e.layer)), beforeSeconds: s.svdSeconds + e.fullSeconds, afterSeconds: s.svdSeconds + e.cachedSeconds });
    }
  }

  if (options.print ?? true) {
    const be = backend();
    console.log(`LASER per-intervention time, GPT-2-small shape (random weights), ${cases} cases × ${promptTokens} tokens, batches of ${evalOptions.batchSize}, backend ${be.name} (${be.threads()} threads), best of ${repeats}`);
    console.log('\nSVD + reconstruction + write-back (s):');
    printTable(svdRows as unknown as Record<string, unknown>[], { precision: 3 });
    console.log('\nEvaluation of the modified model (s):');
    printTable(evalRows as unknown as Record<string, unknown>[], { precision: 3 });
    console.log('\nPer intervention, SVD + evaluation (s), before → after prefix caching:');
    printTable(perIntervention as unknown as Record<string, unknown>[], { precision: 3 });
  }
  return { svd: svdRows, evaluation: evalRows, perIntervention };
}

function maxDiff(a: FactualRecallResult, b: FactualRecallResult): number {
  let m = 0;
  a.perCase.forEach((c, i) => (m = Math.max(m, Math.abs(c.logLoss - b.perCase[i].logLoss))));
  return m;
}
