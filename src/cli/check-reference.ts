/**
 * `linscope check-reference --model DIR --reference FILE [--tolerance 1e-4]`: run our forward pass
 * on the inputs stored in a reference .safetensors file (input_ids, optional attention_mask and
 * position_ids) and compare logits, hidden_states.{i} and pre_final_norm with the stored ones.
 * Only positions whose attention mask is 1 are compared (outputs at padding are meaningless).
 */
import { loadSafetensors } from '../io/safetensors.ts';
import type { IntegerArray } from '../io/safetensors-format.ts';
import { loadModel, type DecoderModel } from '../models/decoder.ts';
import { Tensor } from '../tensor/tensor.ts';
import { defineCommand, parseOrExplain } from './args.ts';
import { applyThreads, modelOptions, openModel, threadsOptions } from './options.ts';

export interface CheckReferenceOptions {
  /** Model folder / file / hub id, or a loaded model. */
  model: string | DecoderModel;
  /** Never contact the hub (default: $HF_HUB_OFFLINE). */
  offline?: boolean;
  /** Path of the reference .safetensors file. */
  reference: string;
  /** Largest allowed max-abs difference (default 1e-4). */
  tolerance?: number;
  /** Where the report lines go (default console.log; pass () => {} to silence). */
  log?: (line: string) => void;
}

export interface TensorComparison {
  name: string;
  maxAbsDiff: number;
  pass: boolean;
}

export interface CheckReferenceResult {
  pass: boolean;
  tolerance: number;
  comparisons: TensorComparison[];
}

function toRows(a: IntegerArray, what: string): number[][] {
  if (a.shape.length !== 2) throw new Error(`reference: "${what}" should be 2-D [batch, seq], got [${a.shape.join(', ')}]`);
  const [B, T] = a.shape;
  return Array.from({ length: B }, (_, b) => a.data.slice(b * T, (b + 1) * T));
}

/** max |a − b| over the [b, t, :] rows whose mask is 1. */
function maskedMaxAbsDiff(ours: Tensor, ref: Tensor, mask: number[][] | undefined): number {
  if (ours.size !== ref.size) {
    throw new Error(`shape mismatch: ours [${ours.shape.join(', ')}] vs reference [${ref.shape.join(', ')}]`);
  }
  const [B, T] = ref.shape;
  const width = ref.size / (B * T);
  let worst = 0;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      if (mask && mask[b][t] === 0) continue;
      const off = (b * T + t) * width;
      for (let j = 0; j < width; j++) {
        const d = Math.abs(ours.data[off + j] - ref.data[off + j]);
        if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
      }
    }
  }
  return worst;
}

/** Compare our forward pass with a reference file; prints one line per tensor. */
export async function checkReference(options: CheckReferenceOptions): Promise<CheckReferenceResult> {
  const tolerance = options.tolerance ?? 1e-4;
  const log = options.log ?? ((line: string) => console.log(line));
  const model = typeof options.model === 'string' ? await loadModel(await openModel({ model: options.model, offline: options.offline })) : options.model;
  const ref = loadSafetensors(options.reference);
  const ints = (name: string): IntegerArray | undefined => {
    const v = ref[name];
    if (v === undefined) return undefined;
    if (v instanceof Tensor) throw new Error(`reference: "${name}" should be an integer tensor`);
    return v;
  };
  const floats = (name: string): Tensor | undefined => {
    const v = ref[name];
    return v instanceof Tensor ? v : undefined;
  };
  const idsRaw = ints('input_ids');
  if (!idsRaw) throw new Error(`${options.reference}: no "input_ids" tensor`);
  const inputIds = toRows(idsRaw, 'input_ids');
  const maskRaw = ints('attention_mask');
  const mask = maskRaw ? toRows(maskRaw, 'attention_mask') : undefined;
  const posRaw = ints('position_ids');
  const positionIds = posRaw ? toRows(posRaw, 'position_ids') : undefined;

  const out = model.forward(inputIds, { attentionMask: mask, positionIds, outputHiddenStates: true });
  const pairs: Array<[string, Tensor | undefined]> = [['logits', out.logits]];
  for (let i = 0; i < (out.hiddenStates?.length ?? 0); i++) pairs.push([`hidden_states.${i}`, out.hiddenStates![i]]);
  pairs.push(['pre_final_norm', out.preFinalNorm]);

  const comparisons: TensorComparison[] = [];
  for (const [name, ours] of pairs) {
    const theirs = floats(name);
    if (!theirs || !ours) continue;
    const d = maskedMaxAbsDiff(ours, theirs, mask);
    comparisons.push({ name, maxAbsDiff: d, pass: d <= tolerance });
  }
  const extra = Object.keys(ref).filter((k) => /^hidden_states\.\d+$/.test(k) && !comparisons.some((c) => c.name === k));
  if (extra.length > 0) {
    throw new Error(`reference has ${extra.join(', ')}, but the model returns ${out.hiddenStates?.length ?? 0} hidden states (layer count mismatch?)`);
  }
  if (comparisons.length === 0) throw new Error(`${options.reference}: holds none of logits, hidden_states.*, pre_final_norm`);

  const width = Math.max(...comparisons.map((c) => c.name.length));
  log(`${model.config.modelType} vs ${options.reference}${mask ? ' (mask==1 positions only)' : ''}, tolerance ${tolerance}`);
  for (const c of comparisons) log(`  ${c.name.padEnd(width)}  max |Δ| = ${c.maxAbsDiff.toExponential(3)}  ${c.pass ? 'ok' : 'FAIL'}`);
  const pass = comparisons.every((c) => c.pass);
  log(pass ? 'PASS' : 'FAIL');
  return { pass, tolerance, comparisons };
}

const checkReferenceSpec = defineCommand({
  name: 'check-reference',
  summary: 'Compare our logits and hidden states with a reference .safetensors file',
  description: 'Runs the model on the reference inputs (input_ids, attention_mask, position_ids) and prints the largest absolute difference of logits, hidden_states.{i} and pre_final_norm over real (mask == 1) positions. Exits non-zero above the tolerance.',
  options: {
    ...modelOptions,
    ...threadsOptions,
    reference: { type: 'string', description: 'Reference .safetensors file', required: true, valueName: 'file' },
    tolerance: { type: 'number', description: 'Largest allowed max-abs difference', default: 1e-4 },
  },
  examples: ['linscope check-reference --model ./gpt2 --reference ./gpt2/reference.safetensors'],
});

/** Command entry: returns the exit code (0 pass, 1 above tolerance, 2 bad arguments). */
export async function runCheckReference(argv: string[]): Promise<number> {
  const args = parseOrExplain(checkReferenceSpec, argv);
  if (typeof args === 'number') return args;
  applyThreads(args.options);
  const { model, offline, reference, tolerance } = args.options;
  const result = await checkReference({ model, offline, reference, tolerance });
  return result.pass ? 0 : 1;
}
