/**
 * LASER benchmark: time per evaluated intervention on a GPT-2-small-shaped model (random weights,
 * d = 768, 12 layers, vocabulary 50,257), split into the SVD (+ reconstruction + write-back) and the
 * evaluation of the modified model on a fixed fact set (64 cases of 24 prompt tokens and a
 * one-token answer, batches of 16: one forward of 64 × 24 tokens in all), for the exact float64
 * SVD and the randomized one. One intervention per matrix shape: q (768 × 768 block of the fused
 * c_attn), in (c_fc, 768 → 3072) and out (c_proj, 3072 → 768), at layer 11 with ρ = 0.1. Each
 * part is the best of `repeats` runs (default 3). SVD time includes reading the block, the float64
 * factorisation, the reconstruction and `setWeight`; evaluation runs the 12 blocks on every token
 * and the LM head on the answer positions only.
 *
 * Run: node --import tsx -e "import('./bench/laser.ts').then((m) => m.benchLaser())"
 */
import { backend } from '../src/backend/index.ts';
import { evaluateFactualRecall, type PreparedCases } from '../src/eval/factual-recall.ts';
import type { EvalTokenizer } from '../src/eval/model-api.ts';
import { asLaserModel } from '../src/laser/adapt.ts';
import { LaserEditor, type ApplyOptions } from '../src/laser/intervention.ts';
import type { Intervention } from '../src/laser/types.ts';
import { createModel } from '../src/models/decoder.ts';
import { memorySource } from '../src/models/memory-source.ts';
import { printTable } from '../src/report/table.ts';
import { Rng } from '../src/tensor/random.ts';
import { Tensor } from '../src/tensor/tensor.ts';

export interface LaserBenchRow {
  svd: string;
  intervention: string;
  matrix: string;
  rank: number;
  svdSeconds: number;
  evalSeconds: number;
  totalSeconds: number;
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

export async function benchLaser(options: { cases?: number; promptTokens?: number; batchSize?: number; repeats?: number; print?: boolean } = {}): Promise<LaserBenchRow[]> {
  const repeats = options.repeats ?? 3;
  const d = 768, layers = 12, vocab = 50257;
  const cases = options.cases ?? 64;
  const promptTokens = options.promptTokens ?? 24;
  const rng = new Rng(0);
  const config = { model_type: 'gpt2', n_embd: d, n_layer: layers, n_head: 12, vocab_size: vocab, n_positions: 1024 };
  const model = createModel(memorySource(config, gpt2Weights(rng, d, layers, vocab, 1024)));
  const laser = asLaserModel(model);
  const prepared: PreparedCases = {
    items: Array.from({ length: cases }, (_, i) => ({
      fact: { id: String(i), prompt: '', subject: '', answer: ' x', paraphrases: [] },
      prompt: Array.from({ length: promptTokens }, () => rng.int(vocab)),
      answer: [rng.int(vocab)],
    })),
  };
  const tokenizer: EvalTokenizer = { encode: () => [], decode: (ids) => ids.join(' ') };
  const evaluate = () => evaluateFactualRecall(model, tokenizer, prepared, { batchSize: options.batchSize ?? 16 });
  await evaluate(); // warm-up: page in weights, JIT

  const interventions: Intervention[] = [
    { type: 'q', layer: 11, rho: 0.1 },
    { type: 'in', layer: 11, rho: 0.1 },
    { type: 'out', layer: 11, rho: 0.1 },
  ];
  const methods: [string, ApplyOptions][] = [
    ['exact', { method: 'exact' }],
    ['randomized (p=10, q=2)', { method: 'randomized', oversample: 10, powerIterations: 2 }],
  ];
  const rows: LaserBenchRow[] = [];
  const editor = new LaserEditor(laser);
  for (const [label, opts] of methods) {
    for (const iv of interventions) {
      // best of `repeats` for each part (the machine may be shared)
      let svd = Infinity, ev = Infinity, matrix = '', rank = 0;
      for (let r = 0; r < repeats; r++) {
        const t0 = performance.now();
        const [applied] = editor.applyAll([iv], opts);
        const t1 = performance.now();
        await evaluate();
        const t2 = performance.now();
        editor.undo();
        svd = Math.min(svd, (t1 - t0) / 1000);
        ev = Math.min(ev, (t2 - t1) / 1000);
        matrix = `${applied.outDim}×${applied.inDim}`;
        rank = applied.rank;
      }
      rows.push({ svd: label, intervention: `${iv.type}:${iv.layer}:${iv.rho}`, matrix, rank, svdSeconds: svd, evalSeconds: ev, totalSeconds: svd + ev });
    }
  }
  if (options.print ?? true) {
    const be = backend();
    console.log(`LASER per-intervention time, GPT-2-small shape (random weights), ${cases} cases × ${promptTokens} tokens, backend ${be.name} (${be.threads()} threads)`);
    printTable(rows as unknown as Record<string, unknown>[], { precision: 3 });
  }
  return rows;
}
