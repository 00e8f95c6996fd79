/**
 * `linscope laser search|apply|eval|higher-order`: LASER (Sharma et al., 2023) from the command line.
 *
 *   search        grid over (matrix type τ, layer ℓ, kept fraction ρ) on a validation split, pick the
 *                 best, report it on the test split next to the base model; resumable.
 *   apply         apply interventions and write the model as a Hugging Face folder.
 *   eval          factual-recall metrics (and optionally perplexity) of a model, with or without
 *                 interventions.
 *   higher-order  what the smallest singular directions of one matrix predict.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { taskSummary } from '../../eval/harness/selection.ts';
import { resolveTasks } from '../../eval/harness/tasks/index.ts';
import { harnessMaxLength } from '../../eval/harness/tokenize.ts';
import { defineCommand, defineCommandGroup, defineOptions, parseSubcommandOrExplain, type OptionsOf, type ParsedOptions } from '../args.ts';
import { applyThreads, modelOptions, openModel, quietOptions, threadsOptions, tokenizerOptions } from '../options.ts';
import { handleInterrupts, yieldToSignals } from '../../util/interrupt.ts';
import { createProgress } from '../../report/progress.ts';
import { splitCases } from '../../data/split.ts';
import { collectTexts } from '../../data/text-source.ts';
import type { FactCase } from '../../data/types.ts';
import { contentFingerprint, type ContentFingerprint } from '../../io/fingerprint.ts';
import { acquireLock } from '../../io/lock-file.ts';
import type { ModelSource } from '../../io/model-source.ts';
import { assertWritableDir } from '../../io/writable.ts';
import { resolveTokenizer } from '../../io/tokenizer-override.ts';
import { loadModel, type DecoderModel } from '../../models/decoder.ts';
import { evaluateFactualRecall, prepareCases, type FactualRecallOptions, type PreparedCases } from '../../eval/factual-recall.ts';
import { FACT_SET_KINDS, loadFactSet } from '../../eval/fact-sets.ts';
import type { EvalTokenizer } from '../../eval/model-api.ts';
import { cachedGreedy } from '../../eval/greedy.ts';
import { textPerplexity } from '../../eval/perplexity.ts';
import { formatTable, writeCsv } from '../../report/table.ts';
import { writeJson } from '../../report/json.ts';
import { exportModel } from '../../laser/export.ts';
import { checkpointDtype } from '../../io/stored-tensor.ts';
import type { FloatStorage } from '../../io/safetensors.ts';
import { checkExportTarget } from '../../export/hf-folder.ts';
import { checkpointMaps, checkpointPrefix } from '../../export/model-parts.ts';
import { higherOrderStudy } from '../../laser/higher-order.ts';
import { describeApplied, LaserEditor, type AppliedIntervention, type ApplyOptions } from '../../laser/intervention.ts';
import { parseIntervention, parseInterventions, parseLayers, parseRhos, parseTypes } from '../../laser/parse.ts';
import { PrefixCachedEvaluator } from '../../laser/prefix-cache.ts';
import { RunLog } from '../../laser/run-log.ts';
import { laserSearch, modelMatrixTypes, SELECTION_METRICS, type SelectionMetric, type SplitEvaluator } from '../../laser/search.ts';
import type { MatrixType } from '../../models/matrices.ts';
import { formatSearchTables, writeSearchOutputs } from '../../laser/search-report.ts';
import { formatInterventions, PAPER_RHOS } from '../../laser/types.ts';
import { benchmarkDatasetsDir } from '../../train/shipped-data.ts';
import { NUMERICS_VERSION } from '../../tensor/numerics.ts';

const laserModelOptions = defineOptions({ ...modelOptions, ...tokenizerOptions, ...threadsOptions });

const svdOptions = defineOptions({
  svd: { type: 'string', description: 'SVD: exact (float64 LAPACK) or randomized (seeded)', default: 'exact', choices: ['exact', 'randomized'] },
  svdSeed: { type: 'integer', description: 'Randomized SVD seed', default: 0 },
  oversample: { type: 'integer', description: 'Randomized SVD oversampling (0 + 2 power iterations = torch.svd_lowrank as the authors used it)', default: 10 },
  powerIterations: { type: 'integer', description: 'Randomized SVD power iterations', default: 2 },
  rankRounding: { type: 'string', description: "ρ → rank: exact ⌊ρ·min(m,n)⌋, or 'authors' float arithmetic", default: 'exact', choices: ['exact', 'authors'] },
});

const factoredOptions = defineOptions({
  factored: {
    type: 'boolean',
    description:
      'Hold each reduced matrix as its factors U·Σ and Vᵀ (two thin GEMMs, r·(m+n) parameters) instead of dense; whole tensors only ' +
      '(a q/k/v block of a fused QKV tensor stays dense). apply: the export stores the factors with a modeling file; transformers loads it only with trust_remote_code=True (the default dense export loads as is)',
  },
});

const dataOptions = defineOptions({
  dataset: {
    type: 'string', choices: FACT_SET_KINDS, default: 'counterfact',
    description:
      'Fact set kind. LASER\'s other sets, built as in the authors\' scripts: fever (claim → true or false; NOT ENOUGH INFO left out), ' +
      'truthfulqa (every mc2 candidate as a true/false statement, LASER\'s pointwise protocol; not the harness\'s truthfulqa_mc1/mc2 of ' +
      '`linscope eval`, which compare the candidates\' log-likelihoods after a few-shot QA prompt), hotpotqa (question only, closed book: ' +
      'the shipped dev questions have no contexts), bigbench_qa_wikidata. fever/truthfulqa add "choice acc" (answer more likely than the other)',
  },
  data: { type: 'string', description: 'Path of the fact set (file or folder: CounterFact files, fever/ with fever_labelled_dev.json + paper_dev.jsonl, hotpot_dev_v1_simplified.json, mc_task.json, bigbench_qa_wikidata.jsonl; TinyStories text for cloze)', valueName: 'path' },
  maxCases: { type: 'integer', description: 'Use only the first N cases' },
  clozeKind: { type: 'string', description: 'Cloze answers: character names, objects, or both', default: 'name', choices: ['name', 'word', 'any'] },
  valFraction: { type: 'number', description: 'Validation share (the paper: 0.2, the first cases)', default: 0.2 },
  splitMode: { type: 'string', description: 'Validation = the first cases, or a seeded random subset', default: 'first', choices: ['first', 'random'] },
  seed: { type: 'integer', description: 'Seed for random splits and cloze construction', default: 0 },
  batchSize: { type: 'integer', description: 'Sequences per forward pass', default: 16 },
  generate: { type: 'boolean', description: 'Also measure greedy generation accuracy (slower)' },
  extraTokens: { type: 'integer', description: 'Generation budget beyond the answer length', default: 2 },
  topkMatch: { type: 'string', description: "Top-k hit: first answer token id, or the authors' decoded-string rule", default: 'token', choices: ['token', 'string'] },
  ...quietOptions,
});

const splitOption = defineOptions({
  split: { type: 'string', description: 'Which cases', default: 'all', choices: ['all', 'validation', 'test'] },
});

const searchSpec = defineCommand({
  name: 'laser search', summary: 'Grid search over (matrix, layer, ρ) on a validation split; report the best on the test split',
  description:
    'Evaluates every single intervention (τ, ℓ, ρ) on the validation split, layers from last to first, picks the best validation accuracy ' +
    '(ties: lower answer log-loss, then grid order), optionally composes greedily, and evaluates base and chosen on the test split. ' +
    'Each result is appended to <out>/runs.jsonl as it is measured; rerunning the same command resumes ' +
    '(refused, naming the change, when the model files, the data or the settings differ from the logged run: --restart starts over).',
  options: {
    ...laserModelOptions, ...dataOptions, ...svdOptions,
    out: { type: 'string', description: 'Output folder (log, tables, heatmap, report)', required: true, short: 'o', valueName: 'dir' },
    types: { type: 'string', description: 'Matrix types, comma-separated (default: all the model has)' },
    layers: { type: 'string', description: 'Layers: all | last:N | a-b | comma list', default: 'all' },
    rhos: { type: 'string', description: 'Kept fractions ρ', default: PAPER_RHOS.join(',') },
    metric: { type: 'string', description: 'Selection accuracy (default: choice for fever and truthfulqa, top1 otherwise)', choices: SELECTION_METRICS },
    compose: { type: 'boolean', description: 'Greedily add further interventions while validation improves' },
    maxCompose: { type: 'integer', description: 'Most interventions added by composition', default: 8 },
    test: { type: 'boolean', description: 'Evaluate base and chosen on the test split', default: true },
    restart: { type: 'boolean', description: 'Discard the results already in <out>/runs.jsonl and start over (needed after the model, data or settings changed)' },
    task: { type: 'string', description: 'Select on a benchmark task instead of a fact set (linscope eval names, e.g. arc_easy; its documents are split by --val-fraction); --metric top1 = the task accuracy', valueName: 'name' },
    dataDir: { type: 'string', description: 'Datasets folder for --task (default: $LINSCOPE_DATASETS or ../shared/data/datasets)', valueName: 'dir' },
    prefixCache: {
      type: 'boolean', default: true,
      description: 'Compute the hidden states entering layer ℓ once and run only blocks ℓ…L−1 per intervention (teacher-forced metrics; same results)',
    },
  },
  examples: [
    'linscope laser search -m gpt2 --dataset counterfact --data counterfact.json -o runs/gpt2-cf',
    'linscope laser search -m stories260K --dataset cloze --data tinystories_val.txt --layers last:3 --rhos 0.5,0.1,0.01 -o runs/s260k',
  ],
});

const applySpec = defineCommand({
  name: 'laser apply', summary: 'Apply interventions and write the model as a Hugging Face folder',
  description: 'Interventions are applied in the order given, each on the current weights. Writes config.json, model.safetensors, the tokenizer files and laser.json ' +
    '(with --factored also modeling_linscope.py: transformers then needs trust_remote_code=True), as one folder that appears complete or not at all.',
  options: {
    ...modelOptions, ...threadsOptions, ...svdOptions, ...factoredOptions,
    interventions: { type: 'string', description: 'type:layer:rho[,…], e.g. out:5:0.01,in:3:0.1', required: true, short: 'i' },
    out: { type: 'string', description: 'Output folder', required: true, short: 'o', valueName: 'dir' },
    dtype: { type: 'string', description: "Storage dtype (default: the checkpoint's: BF16 or F16 when all its weights are, else F32)", choices: ['F32', 'F16', 'BF16'] },
    quiet: { type: 'boolean', description: 'Less output', short: 'q' },
  },
  examples: [
    'linscope laser apply -m gpt2 -i out:11:0.01 -o gpt2-laser',
    'linscope laser apply -m gpt2 -i out:11:0.01,in:11:0.01 --factored -o gpt2-laser-factored   # transformers: trust_remote_code=True',
  ],
});

const evalSpec = defineCommand({
  name: 'laser eval', summary: 'Factual-recall metrics (and perplexity) of a model, optionally with interventions',
  options: {
    ...laserModelOptions, ...dataOptions, ...svdOptions, ...factoredOptions, ...splitOption,
    interventions: { type: 'string', description: 'Apply these first: type:layer:rho[,…]', short: 'i' },
    perplexity: { type: 'string', description: 'Also measure perplexity on this text source (file, folder, JSONL, parquet)', valueName: 'path' },
    maxLength: { type: 'integer', description: 'Perplexity window / chunk length (default: model context, at most 1024)' },
    stride: { type: 'integer', description: 'Sliding-window stride (enables the sliding protocol)' },
    maxWindows: { type: 'integer', description: 'Score only the first N perplexity windows' },
    out: { type: 'string', description: 'Write per-case CSV and summary JSON here', short: 'o', valueName: 'dir' },
    streaming: { type: 'boolean', description: "Hold one block's weights at a time, read from the checkpoint on every forward (models larger than RAM)" },
  },
});

const higherOrderSpec = defineCommand({
  name: 'laser higher-order', summary: "What a matrix's smallest singular directions predict (the paper's higher-order study)",
  description:
    'Compares the base model, LASER (top-r components) and the model whose matrix keeps only its higher-order components ' +
    '(by default exactly those LASER removes; --bottom-k for the k smallest), grouped by whether LASER fixed or broke each case.',
  options: {
    ...laserModelOptions, ...dataOptions, ...splitOption,
    intervention: { type: 'string', description: 'type:layer:rho', required: true, short: 'i' },
    bottomK: { type: 'integer', description: 'Use the k smallest singular directions instead of all removed ones' },
    rankRounding: svdOptions.rankRounding,
    out: { type: 'string', description: 'Write cases.csv and result.json here', short: 'o', valueName: 'dir' },
  },
});

const laser = defineCommandGroup({
  name: 'laser',
  summary: 'LASER: layer-selective rank reduction (Sharma et al., 2023).',
  subcommands: { search: searchSpec, apply: applySpec, eval: evalSpec, 'higher-order': higherOrderSpec },
});

/** Entry point: `linscope laser …`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseSubcommandOrExplain(laser, argv);
  if (typeof parsed === 'number') return parsed;
  applyThreads(parsed.options);
  switch (parsed.subcommand) {
    case 'search':
      return runSearch(parsed.options);
    case 'apply':
      return runApply(parsed.options);
    case 'eval':
      return runEval(parsed.options);
    case 'higher-order':
      return runHigherOrder(parsed.options);
  }
}

// ---------------------------------------------------------------------------------------------

type ModelArgs = OptionsOf<typeof modelOptions>;
type DataArgs = OptionsOf<typeof dataOptions>;
type SvdArgs = OptionsOf<typeof svdOptions> & Partial<OptionsOf<typeof factoredOptions>>;

interface Loaded {
  source: ModelSource;
  model: DecoderModel;
  tokenizer: EvalTokenizer;
}

async function loadModelOnly(o: ModelArgs & { streaming?: boolean }): Promise<{ source: ModelSource; model: DecoderModel }> {
  const source = await openModel(o);
  return { source, model: await loadModel(source, { streaming: o.streaming ?? false }) };
}

async function loadAll(o: OptionsOf<typeof laserModelOptions> & { streaming?: boolean }): Promise<Loaded> {
  const { source, model } = await loadModelOnly(o);
  return { source, model, tokenizer: await resolveTokenizer(source, o.tokenizer) };
}

function applyOptions(o: SvdArgs): ApplyOptions {
  return {
    method: o.svd,
    seed: o.svdSeed,
    oversample: o.oversample,
    powerIterations: o.powerIterations,
    rounding: o.rankRounding,
    factored: o.factored ?? false,
  };
}

/** Parameter counts of the reduced matrices as the model now holds them. */
function parameterSummary(applied: readonly AppliedIntervention[]): string {
  const dense = applied.reduce((s, a) => s + a.denseParams, 0);
  const factorable = applied.reduce((s, a) => s + a.factoredParams, 0);
  const held = applied.reduce((s, a) => s + (a.storage === 'factored' ? a.factoredParams : a.denseParams), 0);
  const nFactored = applied.filter((a) => a.storage === 'factored').length;
  return `reduced matrices: ${dense} parameters dense, ${factorable} in factored form (×${(dense / factorable).toFixed(2)} fewer); ` +
    `the model holds ${held} (${nFactored} of ${applied.length} factored)`;
}

/** `tokenizer`: the evaluated model's, for HotpotQA's answer-length filter. */
async function loadCases(o: DataArgs, tokenizer?: EvalTokenizer): Promise<FactCase[]> {
  const path = o.data;
  if (!path) throw new Error('--data is required: the path of the fact set');
  if (!existsSync(path)) throw new Error(`--data: ${path} does not exist`);
  return loadFactSet(o.dataset, path, { maxCases: o.maxCases, clozeKind: o.clozeKind, seed: o.seed, tokenizer });
}


function split(o: DataArgs, cases: FactCase[]) {
  return splitCases(cases, { fraction: o.valFraction, mode: o.splitMode, seed: o.seed });
}

/** The cases `--split` names. */
function selectCases(o: DataArgs & OptionsOf<typeof splitOption>, all: FactCase[]): FactCase[] {
  const parts = split(o, all);
  return o.split === 'validation' ? parts.validation : o.split === 'test' ? parts.test : all;
}

function recallOptions(o: DataArgs, model: DecoderModel): FactualRecallOptions {
  return {
    batchSize: o.batchSize,
    generation: o.generate ?? false,
    extraTokens: o.extraTokens,
    topKMatch: o.topkMatch,
    generate: o.generate ? cachedGreedy(model) : undefined,
  };
}

function pct(x: number | undefined): string {
  return x === undefined ? '' : (100 * x).toFixed(2);
}

// ---------------------------------------------------------------------------------------------

async function runSearch(o: ParsedOptions<typeof searchSpec>): Promise<number> {
  const outDir = o.out;
  assertWritableDir(outDir, '--out');
  // one search per output folder at a time: two would append the same results to one log
  const lock = acquireLock(join(outDir, '.linscope.lock'), { what: `the output folder ${outDir}`, onMessage: (m) => console.error(m) });
  try {
    return await search(o, outDir);
  } finally {
    lock.release();
  }
}

async function search(o: ParsedOptions<typeof searchSpec>, outDir: string): Promise<number> {
  if (o.task !== undefined) return runTaskSearch(o, outDir);
  const { source, model, tokenizer } = await loadAll(o);
  const cases = await loadCases(o, tokenizer);
  const { validation, test } = split(o, cases);
  if (validation.length === 0) throw new Error(`the validation split is empty (${cases.length} cases × ${o.valFraction})`);
  // Classification sets (cases with choices: fever, truthfulqa) select on choice accuracy, as LASER does.
  const classification = cases.every((c) => c.choices !== undefined);
  const metric = o.metric ?? (classification ? 'choice' : 'top1');
  if (metric === 'choice' && !classification) throw new Error(`--metric choice needs a classification set (fever, truthfulqa), not ${o.dataset}`);
  if (metric.startsWith('generation') && !o.generate) throw new Error(`--metric ${metric} needs --generate`);
  const { types, layers, rhos } = gridAxes(o, model);
  mkdirSync(outDir, { recursive: true });

  const settings = {
    dataset: o.dataset, maxCases: o.maxCases ?? null, clozeKind: o.dataset === 'cloze' ? o.clozeKind : null,
    cases: cases.length, validation: validation.length, test: test.length, valFraction: o.valFraction, splitMode: o.splitMode, seed: o.seed,
    generate: o.generate ?? false, extraTokens: o.extraTokens, topkMatch: o.topkMatch,
    ...svdSettings(o),
  };
  // results are keyed on what the model and data files hold, not on their paths
  const inputs = {
    model: contentFingerprint(source.dir, { depth: 1 }),
    data: contentFingerprint(o.data!),
    ...(o.tokenizer ? { tokenizer: contentFingerprint(o.tokenizer, { depth: 1 }) } : {}),
  };
  const log = openRunLog(o, outDir, settings, inputs, { data: o.data });
  const prepared: Record<'validation' | 'test', PreparedCases> = {
    validation: prepareCases(validation, tokenizer),
    test: prepareCases(test, tokenizer),
  };
  const evalOpts = recallOptions(o, model);
  const cached = o.prefixCache ? new PrefixCachedEvaluator(model, tokenizer, prepared, evalOpts) : undefined;
  const header = `LASER search: ${cases.length} cases (${validation.length} validation, ${test.length} test), ` +
    `${types.length} types × ${layers.length} layers × ${rhos.length} ρ = ${layers.length * types.length * rhos.length} interventions`;
  return runGrid(o, outDir, {
    model, log, types, layers, rhos, metric, header, logBase: true,
    evaluate: async (which, ivs) => (cached ? await cached.evaluate(which, ivs) : await evaluateFactualRecall(model, tokenizer, prepared[which], evalOpts)).summary,
    test: test.length > 0,
    meta: {
      model: o.model, dataset: `${o.dataset} (${o.data})`, cases: cases.length,
      split: `${validation.length} validation / ${test.length} test (${o.splitMode})`, metric,
    },
  });
}

/** The grid of a search: matrix types (default: all the model has), layers and ρ. */
function gridAxes(o: ParsedOptions<typeof searchSpec>, model: DecoderModel): { types: MatrixType[]; layers: number[]; rhos: number[] } {
  return { types: o.types ? parseTypes(o.types) : modelMatrixTypes(model), layers: parseLayers(o.layers, model.numLayers), rhos: parseRhos(o.rhos) };
}

/** The SVD settings a search's results depend on (logged: a resumed run must use the same). */
function svdSettings(o: ParsedOptions<typeof searchSpec>) {
  const randomized = o.svd === 'randomized';
  return {
    svd: o.svd, svdSeed: randomized ? o.svdSeed : null, oversample: randomized ? o.oversample : null,
    powerIterations: randomized ? o.powerIterations : null, rankRounding: o.rankRounding,
  };
}

/** The search's resumable log in `outDir` (--restart discards an earlier one). */
function openRunLog(o: ParsedOptions<typeof searchSpec>, outDir: string, settings: Record<string, unknown>, inputs: Record<string, ContentFingerprint>, info: Record<string, unknown>): RunLog {
  // a resumed search reuses results only from the same float32 arithmetic (src/tensor/numerics.ts)
  const log = new RunLog(join(outDir, 'runs.jsonl'), { ...settings, numerics: NUMERICS_VERSION }, {
    inputs, restart: o.restart ?? false, info: { model: o.model, ...info, tokenizer: o.tokenizer },
  });
  if (log.discarded > 0) console.error(`--restart: discarded ${log.discarded} results of the earlier run in ${log.path}`);
  return log;
}

/** What `laser search` (fact sets) and `laser search --task` (benchmark tasks) search on. */
interface GridInputs {
  model: DecoderModel;
  log: RunLog;
  types: MatrixType[];
  layers: number[];
  rhos: number[];
  metric: SelectionMetric;
  evaluate: SplitEvaluator;
  /** The line printed (stderr) before the search. */
  header: string;
  /** Also print the base model's log-loss (fact sets). */
  logBase?: boolean;
  /** Whether the test split has cases. */
  test: boolean;
  /** Written with the results (search-report.ts); the svd and grid lines are added. */
  meta: Record<string, string | number>;
  /** After the chosen key on stdout (default: the composition size, if any). */
  chosenNote?: string;
}

/** The search over the grid (progress, Ctrl-C, resumable log), its tables on stdout and files in `outDir`. */
async function runGrid(o: ParsedOptions<typeof searchSpec>, outDir: string, g: GridInputs): Promise<number> {
  const { log, types, layers, rhos } = g;
  const grid = layers.length * types.length * rhos.length;
  const quiet = o.quiet ?? false;
  if (!quiet) console.error(g.header + (log.resumed ? `; resuming with ${log.resumed} results from ${log.path}` : ''));
  const progress = createProgress({ label: 'laser search', total: grid + 1, unit: 'config', quiet });
  // every result is in runs.jsonl as soon as it is measured, so Ctrl-C can exit at once
  const stopHandling = handleInterrupts({
    command: 'laser search',
    status: () => `${log.all().length} results are saved in ${log.path}; rerun the same command to continue where it stopped`,
  });
  let result: Awaited<ReturnType<typeof laserSearch>>;
  try {
    result = await laserSearch({
      model: g.model,
      evaluate: async (which, ivs) => {
        await yieldToSignals();
        return g.evaluate(which, ivs);
      },
      log, types, layers, rhos, metric: g.metric,
      apply: applyOptions(o),
      compose: o.compose ?? false,
      maxCompose: o.maxCompose,
      test: o.test && g.test,
      onStep: (step) => {
        if (step.index > 0) progress.update(step.index);
        else if (g.logBase && !step.resumed) progress.log(`${step.record.split} ${step.record.key}: log-loss ${step.record.summary.logLoss.toFixed(4)}`);
      },
    });
  } finally {
    progress.stop();
    stopHandling();
  }
  if (result.skipped.length > 0 && !quiet) console.error(`skipped ${result.skipped.length} cells whose matrix the architecture lacks`);

  console.log(formatSearchTables(result));
  const note = g.chosenNote ?? (result.composition.length ? `composition of ${result.chosen.interventions.length}` : undefined);
  console.log(`\nchosen: ${result.chosen.key}` + (note ? ` (${note})` : ''));
  const meta = { ...g.meta, svd: o.svd, grid: `${types.join(',')} × layers ${layers.join(',')} × ρ ${rhos.join(',')}` };
  const written = await writeSearchOutputs(outDir, result, meta);
  console.log(`wrote ${written.files.map((f) => join(outDir, f)).join(', ')} and ${log.path}`);
  return 0;
}

/** `laser search --task T`: the same search, selecting on a benchmark task's accuracy (src/eval/harness/selection.ts). */
async function runTaskSearch(o: ParsedOptions<typeof searchSpec>, outDir: string): Promise<number> {
  const [task] = resolveTasks([o.task!]);
  if (o.metric !== undefined && o.metric !== 'top1') throw new Error(`--task selects on the task accuracy: --metric must be top1, got ${o.metric}`);
  if (o.generate) throw new Error('--task does not generate: drop --generate');
  const { source, model, tokenizer } = await loadAll(o);
  const datasetsDir = resolve(o.dataDir ?? benchmarkDatasetsDir());
  const all = task.evalDocs(datasetsDir).docs;
  const docs = o.maxCases !== undefined ? all.slice(0, o.maxCases) : all;
  const { validation, test } = splitCases(docs, { fraction: o.valFraction, mode: o.splitMode, seed: o.seed });
  if (validation.length === 0) throw new Error(`the validation split is empty (${docs.length} documents × ${o.valFraction})`);
  const { types, layers, rhos } = gridAxes(o, model);
  mkdirSync(outDir, { recursive: true });
  const settings = {
    model: o.model, task: task.name, harness: 'lm-evaluation-harness 4e7e0d47 definitions, 0-shot', datasetsDir, maxCases: o.maxCases ?? null,
    documents: docs.length, validation: validation.length, test: test.length, valFraction: o.valFraction, splitMode: o.splitMode, seed: o.seed,
    ...svdSettings(o),
  };
  // results are keyed on what the model (and tokenizer) hold; the task's documents are named in the settings
  const inputs = {
    model: contentFingerprint(source.dir, { depth: 1 }),
    ...(o.tokenizer ? { tokenizer: contentFingerprint(o.tokenizer, { depth: 1 }) } : {}),
  };
  const log = openRunLog(o, outDir, settings, inputs, { datasetsDir });
  const evalOpts = {
    datasetsDir, batchSize: o.batchSize, maxLength: harnessMaxLength(source.config as Record<string, unknown>),
    padId: tokenizer.padId ?? tokenizer.eosId ?? 0, bootstrapIters: 0,
  };
  const splits = { validation, test };
  return runGrid(o, outDir, {
    model, log, types, layers, rhos, metric: 'top1',
    header: `LASER search on ${task.name}: ${docs.length} documents (${validation.length} validation, ${test.length} test), ${layers.length * types.length * rhos.length} interventions`,
    evaluate: async (which) => taskSummary(model, tokenizer, task, splits[which], evalOpts),
    test: test.length > 0,
    meta: {
      model: o.model, dataset: `${task.name} (lm-evaluation-harness definition)`, cases: docs.length,
      split: `${validation.length} validation / ${test.length} test (${o.splitMode})`, metric: 'top1',
    },
    chosenNote: `top1 = ${task.name} acc`,
  });
}

async function runApply(o: ParsedOptions<typeof applySpec>): Promise<number> {
  assertWritableDir(o.out, '--out');
  checkExportTarget(o.out); // before any work: never compute for an output that cannot be written
  // no forward runs here: the model streams, so only the matrices being reduced are held (one SVD at a
  // time, in float32) and the export reads every other weight from the checkpoint as it writes it
  const source = await openModel(o);
  const model = await loadModel(source, { streaming: true });
  const ivs = parseInterventions(o.interventions, model.numLayers);
  if (ivs.length === 0) throw new Error('--interventions is empty');
  const editor = new LaserEditor(model);
  const applied = editor.applyAll(ivs, applyOptions(o));
  if (!o.quiet) for (const a of applied) console.log(describeApplied(a));
  console.log(parameterSummary(applied) + (o.factored ? '; the export stores the factored ones as factors (transformers: trust_remote_code=True)' : '; the export stores them dense'));
  const res = exportModel(o.out, {
    config: source.config, weightNames: () => model.weightNames(), getWeight: (n) => model.getWeight(n), streamed: model, dir: source.dir,
    vocabSize: model.config.vocabSize, linearMaps: checkpointMaps(model), prefix: checkpointPrefix(model),
  }, {
    dtype: (o.dtype as FloatStorage | undefined) ?? checkpointDtype(source, model.weightNames()),
    factored: o.factored ?? false,
    applied,
    provenance: { source: o.model, svd: o.svd, rankRounding: o.rankRounding, command: `linscope laser apply -m ${o.model} -i ${formatInterventions(ivs)}${o.factored ? ' --factored' : ''}` },
  });
  console.log(`wrote ${res.dir}: ${[...res.weightFiles, 'config.json', 'laser.json', ...res.copied].join(', ')}` +
    (res.customCode ? ' and modeling_linscope.py (load in transformers with trust_remote_code=True)' : ''));
  return 0;
}

async function runEval(o: ParsedOptions<typeof evalSpec>): Promise<number> {
  if (o.out) assertWritableDir(o.out, '--out');
  const { model, tokenizer } = await loadAll(o);
  const ivs = o.interventions ? parseInterventions(o.interventions, model.numLayers) : [];
  if (ivs.length) {
    const applied = new LaserEditor(model).applyAll(ivs, applyOptions(o));
    for (const a of applied) console.error(describeApplied(a));
    console.error(parameterSummary(applied));
  }
  const rows: Record<string, unknown>[] = [];
  if (o.data) {
    const cases = selectCases(o, await loadCases(o, tokenizer));
    const progress = createProgress({ label: 'factual recall', total: cases.length * (o.generate ? 2 : 1), unit: 'sequence', quiet: o.quiet });
    const opts = recallOptions(o, model);
    const { summary, perCase } = await evaluateFactualRecall(model, tokenizer, cases, {
      ...opts,
      onProgress: (d, t) => {
        progress.setTotal(t);
        progress.update(d);
      },
    });
    progress.stop();
    rows.push({
      model: o.model, interventions: formatInterventions(ivs) || 'base', split: o.split, cases: summary.cases,
      ...(summary.choiceAccuracy !== undefined ? { 'choice acc %': pct(summary.choiceAccuracy) } : {}),
      'top1 %': pct(summary.topK[1]), 'top5 %': pct(summary.topK[5]), 'top10 %': pct(summary.topK[10]),
      'gen starts %': pct(summary.generationStartsWith), 'gen contains %': pct(summary.generationContains),
      'log-loss': summary.logLoss, 'answer ppl': summary.answerPerplexity,
    });
    console.log(formatTable(rows).trimEnd());
    if (o.out) {
      mkdirSync(o.out, { recursive: true });
      writeJson(join(o.out, 'summary.json'), { interventions: formatInterventions(ivs), summary });
      writeCsv(join(o.out, 'cases.csv'), perCase.map((c) => ({
        id: c.id, promptTokens: c.promptTokens, answerTokens: c.answerTokens.length, logLoss: c.logLoss, firstTokenRank: c.firstTokenRank,
        top1: c.topK[1], top5: c.topK[5], top10: c.topK[10], choiceCorrect: c.choiceCorrect ?? '', generated: c.generated ?? '', generationContains: c.generationContains ?? '',
      })));
    }
  }
  if (o.perplexity) {
    const texts = await collectTexts(o.perplexity);
    const context = model.config.maxPositions ?? 1024;
    const maxLength = o.maxLength ?? Math.min(1024, context);
    const progress = createProgress({ label: 'perplexity', unit: 'window', quiet: o.quiet });
    const r = await textPerplexity(model, tokenizer, texts, {
      maxLength,
      mode: o.stride ? 'sliding' : 'chunks',
      stride: o.stride,
      batchSize: Math.max(1, Math.floor(o.batchSize / 4)),
      maxWindows: o.maxWindows,
      onProgress: (d, t) => {
        progress.setTotal(t);
        progress.update(d);
      },
    });
    progress.stop();
    console.log(r.protocol);
  }
  if (!o.data && !o.perplexity) throw new Error('nothing to evaluate: give --data (fact set) and/or --perplexity (text)');
  return 0;
}

async function runHigherOrder(o: ParsedOptions<typeof higherOrderSpec>): Promise<number> {
  if (o.out) assertWritableDir(o.out, '--out');
  const { model, tokenizer } = await loadAll(o);
  const iv = parseIntervention(o.intervention, model.numLayers);
  const cases = selectCases(o, await loadCases(o, tokenizer));
  const res = await higherOrderStudy(model, tokenizer, cases, iv, {
    eval: { batchSize: o.batchSize },
    bottomK: o.bottomK,
    apply: { rounding: o.rankRounding },
  });
  console.log(
    `${formatInterventions([iv])} on ${res.tensorName}: LASER keeps the top ${res.laserRank} of ${res.fullRank} components; ` +
      `the higher-order model keeps ${res.higherOrderKeep === 'residual' ? `the other ${res.higherOrderComponents}` : `the smallest ${res.higherOrderComponents}`}.\n`,
  );
  console.log(formatTable((['base', 'laser', 'higherOrder'] as const).map((k) => ({
    model: k, 'top1 %': pct(res.summaries[k].topK[1]), 'top10 %': pct(res.summaries[k].topK[10]), 'log-loss': res.summaries[k].logLoss,
  }))).trimEnd());
  console.log('');
  console.log(formatTable(res.groups.map((g) => ({
    group: g.group, cases: g.cases, 'higher-order = answer %': pct(g.higherOrderCorrect), '= base top-1 %': pct(g.higherOrderAgreesWithBase),
    '= LASER top-1 %': pct(g.higherOrderAgreesWithLaser), 'most frequent higher-order predictions': g.topPredictions.slice(0, 6).map((p) => `${JSON.stringify(p.token)}×${p.count}`).join(' '),
  }))).trimEnd());
  if (o.out) {
    mkdirSync(o.out, { recursive: true });
    writeJson(join(o.out, 'result.json'), res);
    writeCsv(join(o.out, 'cases.csv'), res.cases.map((c) => ({ ...c })));
  }
  return 0;
}
