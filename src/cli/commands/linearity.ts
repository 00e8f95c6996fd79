/**
 * `linscope linearity`: the layer-to-layer linearity profile of one or more models
 * ("Your Transformer is Secretly Linear", Razzhigaev et al., 2024), with companion metrics,
 * written as JSON, CSV, charts (SVG + PNG) and a self-contained HTML report.
 */
import { defineCommand, parseOrExplain } from '../args.ts';
import { handleInterrupts } from '../../util/interrupt.ts';
import { applyThreads, offlineOption, quietOptions, threadsOptions, tokenizerOptions } from '../options.ts';
import { createProgress, type Progress } from '../../report/progress.ts';
import { assertWritableDir } from '../../io/writable.ts';
import { holdsTokenIds } from '../../linearity/data.ts';
import { defaultCacheDir } from '../../report/cache.ts';
import { DEFAULT_ANALYSIS, DEFAULT_SAMPLING, type AnalysisOptions, type DataSpec, type SamplingOptions } from '../../linearity/options.ts';
import { writeLinearityOutputs } from '../../linearity/outputs.ts';
import { parseByteSize } from '../../util/memory-budget.ts';
import { runLinearity, type RunProgress } from '../../linearity/run.ts';
import { formatRunTables } from '../../linearity/tables.ts';

const spec = defineCommand({
  name: 'linearity',
  summary: 'Linearity profile across depth, with anisotropy, intrinsic dimension and logit lens',
  description:
    'For every pair of consecutive hidden states, the share of the next state explained by the best linear map of the previous one ' +
    '(with the residual stream, and without it: the block\'s update alone), by the exact pseudo-inverse solver and a robust ridge solver. ' +
    'Defaults follow the paper: 128 random slices of 512 characters of --data, seed 0, BOS prepended. Pad tokens never enter a statistic. ' +
    'Results are cached by model, exact token sequences and options; outputs go to --out.',
  options: {
    model: { type: 'string', description: 'Model folder, hub id or llama2.c checkpoint', required: true, multiple: true, short: 'm', valueName: 'path' },
    ...offlineOption,
    ...tokenizerOptions,
    label: { type: 'string', description: 'Name of the model in charts and tables, one per --model (default: folder name)', multiple: true },
    data: { type: 'string', description: 'Texts (file, folder, JSONL, JSON, parquet) or token ids (JSON/JSONL of id arrays)', short: 'd', valueName: 'path' },
    dataFormat: { type: 'string', description: 'What --data holds', default: 'auto', choices: ['auto', 'text', 'ids'] },
    field: { type: 'string', description: 'JSON/JSONL field holding the text (default "text")' },
    column: { type: 'string', description: 'Parquet column holding the text (default "text")' },
    split: { type: 'string', description: 'Parquet dataset split to read (e.g. train)' },
    randomTokens: { type: 'integer', description: 'Instead of --data: --samples sequences of N uniform random token ids', valueName: 'N' },
    samples: { type: 'integer', description: 'Number of text slices / random sequences', default: DEFAULT_SAMPLING.samples },
    chars: { type: 'integer', description: 'Characters per text slice', default: DEFAULT_SAMPLING.chars },
    seed: { type: 'integer', description: 'Seed of the slices / random ids', default: DEFAULT_SAMPLING.seed },
    maxTokens: { type: 'integer', description: 'Truncate sequences to N tokens (default: the model context)', valueName: 'N' },
    bos: { type: 'boolean', description: "Prepend the tokenizer's BOS token to text slices (--no-bos: don't)", default: true },
    batchSize: { type: 'integer', description: 'Sequences per forward', default: DEFAULT_ANALYSIS.batchSize, short: 'b' },
    padding: { type: 'string', description: 'Side of the padding in a batch (masked either way)', default: DEFAULT_ANALYSIS.padding, choices: ['right', 'left'] },
    lastPair: {
      type: 'string',
      description: "Last block's output: before the final norm, after it (HF's hidden_states), or skip the last pair (authors' notebook)",
      default: DEFAULT_ANALYSIS.lastPair,
      choices: ['preFinalNorm', 'finalNorm', 'skip'],
    },
    parts: { type: 'boolean', default: false, description: "Also score each block's attention and MLP parts" },
    anisotropy: { type: 'boolean', default: false, description: 'Anisotropy and mean cosine similarity of every state' },
    intrinsicDim: { type: 'boolean', default: false, description: 'TwoNN intrinsic dimension of every state' },
    idTokens: { type: 'integer', description: 'Tokens per state for the intrinsic dimension (the first ones)', default: DEFAULT_ANALYSIS.idTokens },
    logitLens: { type: 'boolean', default: false, description: 'Logit lens: next-token cross-entropy, top-1 and KL to the final layer per state' },
    perToken: { type: 'integer', description: 'Show the K tokens each linear map fits worst, with context (a second pass)', default: 0, valueName: 'K' },
    perTokenVariant: { type: 'string', description: 'Map the per-token residuals come from', default: 'with-residual', choices: ['with-residual', 'without-residual'] },
    all: { type: 'boolean', default: false, description: 'Shorthand for --parts --anisotropy --intrinsic-dim --logit-lens' },
    ridge: { type: 'number', description: 'Relative ridge of the robust solver (default 1e-8)' },
    rcond: { type: 'number', description: 'Eigenvalue cutoff of the exact solver (default max(N, d)·ε)' },
    dtype: { type: 'string', description: 'Compute dtype of the model', default: 'float32', choices: ['float32', 'float64'] },
    streaming: { type: 'boolean', description: 'Load one block at a time (models larger than RAM): each weight is read once' },
    maxMemory: { type: 'string', description: 'Memory budget; the residual stream of all tokens spills to disk above it (default 80% of the available memory)', valueName: 'SIZE' },
    out: { type: 'string', description: 'Output folder', required: true, short: 'o', valueName: 'dir' },
    cache: { type: 'boolean', description: 'Use the result cache (--no-cache: always compute, store nothing)', default: true },
    refresh: { type: 'boolean', description: 'Recompute and overwrite cached results' },
    cacheDir: { type: 'string', description: 'Cache folder (default $LINSCOPE_CACHE or .cache/linscope)', valueName: 'dir' },
    png: { type: 'boolean', description: 'Also write PNG charts', default: true },
    ...threadsOptions,
    ...quietOptions,
  },
  examples: [
    'linscope linearity -m stories260K -d tinystories_val.txt -o runs/lin-s260k',
    'linscope linearity -m gpt2 -m gpt2-medium -d wikitext-2/test.txt --anisotropy --per-token 5 -o runs/gpt2',
    'linscope linearity -m fixtures/llama --random-tokens 64 --samples 16 --all -o runs/llama',
  ],
});

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

async function dataSpec(o: { data?: string; dataFormat: string; field?: string; column?: string; split?: string; randomTokens?: number }): Promise<DataSpec> {
  if (o.randomTokens !== undefined) {
    if (o.data) throw new Error('give either --data or --random-tokens, not both');
    if (!(o.randomTokens >= 2)) throw new Error(`--random-tokens must be at least 2, got ${o.randomTokens}`);
    return { kind: 'random', length: o.randomTokens };
  }
  if (!o.data) throw new Error('no probe data: pass --data (texts or token ids) or --random-tokens N');
  const ids = o.dataFormat === 'ids' || (o.dataFormat === 'auto' && (await holdsTokenIds(o.data).catch(() => false)));
  return ids ? { kind: 'ids', path: o.data } : { kind: 'text', path: o.data, field: o.field, column: o.column, split: o.split };
}

/** Entry point: `linscope linearity …`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseOrExplain(spec, argv);
  if (typeof parsed === 'number') return parsed;
  const o = parsed.options;
  applyThreads(o);
  if (o.label.length > o.model.length) throw new Error(`${o.label.length} --label values for ${o.model.length} --model values`);
  assertWritableDir(o.out, '--out');
  if (o.cache && process.env.LINSCOPE_CACHE !== 'off') assertWritableDir(o.cacheDir ?? defaultCacheDir(), o.cacheDir ? '--cache-dir' : 'the result cache');
  const sampling: SamplingOptions = { samples: o.samples, chars: o.chars, seed: o.seed, bos: o.bos, ...(o.maxTokens !== undefined ? { maxTokens: o.maxTokens } : {}) };
  const analysis: AnalysisOptions = {
    lastPair: o.lastPair,
    parts: o.parts || o.all,
    anisotropy: o.anisotropy || o.all,
    intrinsicDim: o.intrinsicDim || o.all,
    idTokens: o.idTokens,
    logitLens: o.logitLens || o.all,
    perToken: o.perToken,
    perTokenVariant: o.perTokenVariant === 'with-residual' ? 'withResidual' : 'withoutResidual',
    batchSize: o.batchSize,
    padding: o.padding,
    dtype: o.dtype,
    ...(o.ridge !== undefined ? { ridge: o.ridge } : {}),
    ...(o.rcond !== undefined ? { rcond: o.rcond } : {}),
  };
  let bar: Progress | undefined;
  let computed = 0;
  let current: string | undefined;
  const progress: RunProgress = {
    start: (label, total) => {
      current = label;
      bar = createProgress({ label: `linearity ${label}`, total, unit: 'batch', quiet: o.quiet });
    },
    batch: (done) => bar?.update(done),
    end: () => {
      bar?.stop();
      computed++;
      current = undefined;
    },
  };
  // a model's result is cached when it is done; the outputs are written at the end
  const cached = o.cache && process.env.LINSCOPE_CACHE !== 'off';
  const stopHandling = handleInterrupts({
    command: 'linearity',
    status: () =>
      `${computed} model(s) finished in this run${computed > 0 ? (cached ? ' and are in the result cache' : ', not kept (--no-cache)') : ''}` +
      `${current ? `; the analysis of ${current} was lost` : ''}; nothing was written to ${o.out} yet. ` +
      (cached ? 'Rerun the same command: finished models come from the cache.' : 'Rerun the command to start over.'),
  });
  let result: Awaited<ReturnType<typeof runLinearity>>;
  try {
    result = await runLinearity({
      models: o.model,
      tokenizer: o.tokenizer,
      labels: o.label,
      data: await dataSpec(o),
      sampling,
      analysis,
      execution: { streaming: o.streaming, ...(o.maxMemory !== undefined ? { maxMemory: parseByteSize(o.maxMemory) } : {}) },
      cache: { enabled: o.cache, refresh: o.refresh, dir: o.cacheDir },
      command: ['linscope', 'linearity', ...argv].map(quote).join(' '),
      progress,
      offline: o.offline,
      log: o.quiet ? undefined : (m) => process.stderr.write(`${m}\n`),
    });
  } finally {
    stopHandling();
  }
  process.stdout.write(formatRunTables(result));
  const files = await writeLinearityOutputs(o.out, result, { png: o.png });
  process.stdout.write(`\nwrote ${files.length} files to ${o.out}: ${files.join(', ')}\n`);
  return 0;
}
