/**
 * `linscope prune`: depth pruning. Ranks blocks (or spans) on calibration text by linearity,
 * ShortGPT block influence or angular distance, removes k of them — dropped, or replaced by the
 * least-squares linear map, optionally distilled (maps, or all parameters) and healed by fine-tuning — evaluates before/after (perplexity with both
 * protocols, KL to the original, optional fact accuracy), writes JSON/CSV and exports the model.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { compareOnTasks, type ModelVariant } from '../../eval/harness/retained.ts';
import { resolveTasks } from '../../eval/harness/tasks/index.ts';
import { harnessMaxLength } from '../../eval/harness/tokenize.ts';
import type { EvalTokenizer } from '../../eval/model-api.ts';
import { loadFactSet, FACT_SET_KINDS } from '../../eval/fact-sets.ts';
import { resolveTokenizer } from '../../io/tokenizer-override.ts';
import { assertWritableDir } from '../../io/writable.ts';
import { minLinearityTokens } from '../../analysis/sample-size.ts';
import { handleInterrupts } from '../../util/interrupt.ts';
import { loadModel } from '../../models/decoder.ts';
import { formatTable, writeCsv, type Row } from '../../report/table.ts';
import { writeJson } from '../../report/json.ts';
import { loadPruneData } from '../../prune/data.ts';
import { distillMapsAsync } from '../../prune/distill.ts';
import { distillAll } from '../../prune/distill-all.ts';
import { healPruned } from '../../prune/heal.ts';
import { evaluateModel, prepareFacts, type EvalSettings, type ModelEvaluation } from '../../prune/evaluate.ts';
import { exportPrunedModel } from '../../prune/export.ts';
import { checkpointDtype } from '../../io/stored-tensor.ts';
import { checkExportTarget } from '../../export/hf-folder.ts';
import { PrunedModel } from '../../prune/pruned-model.ts';
import { pruneModelAsync } from '../../prune/replace.ts';
import { choiceRows, evaluationRow, protocolLines, rankingRows } from '../../prune/report.ts';
import { CRITERIA } from '../../prune/types.ts';
import { defineCommand, parseOrExplain } from '../args.ts';
import { applyThreads, modelOptions, openModel, quietOptions, threadsOptions, tokenizerOptions } from '../options.ts';
import { createProgress } from '../../report/progress.ts';
import { benchmarkDatasetsDir } from '../../train/shipped-data.ts';

export const spec = defineCommand({
  name: 'prune',
  summary: 'Depth pruning: replace the most linear blocks by linear maps, distil, export',
  description:
    'Calibration: the first --calibration-docs documents of --data; evaluation: the next --eval-docs documents (or --eval-data). ' +
    'One-shot removes the k best-ranked blocks (neighbours merged into one map); --span removes the best run of k consecutive blocks; ' +
    '--sequential removes one block at a time and re-measures. Linear maps are fitted in closed form (float64, ridge toward the identity). ' +
    'Export (<out>/model): transformers loads --method drop and folded --map-input mlp exports as they are; exports with maps between blocks ' +
    'carry modeling_linscope.py and load with AutoModelForCausalLM.from_pretrained(dir, trust_remote_code=True) (without it transformers refuses them). ' +
    'Every linscope command runs the export with its maps.',
  options: {
    ...modelOptions,
    ...tokenizerOptions,
    data: { type: 'string', description: 'Calibration (and evaluation) text: file, folder, JSONL or parquet', required: true, short: 'd', valueName: 'path' },
    evalData: { type: 'string', description: 'Separate evaluation text', valueName: 'path' },
    docSeparator: { type: 'string', description: 'Join evaluation documents with "\\n\\n" or with EOS (as linscope pretrain streams are)', default: 'newline', choices: ['newline', 'eos'] },
    k: { type: 'integer', description: 'Blocks to remove', default: 1 },
    method: { type: 'string', description: 'Drop the blocks or replace them by a linear map', default: 'linear', choices: ['linear', 'drop'] },
    criterion: { type: 'string', description: 'Ranking score', default: 'linearity', choices: CRITERIA },
    span: { type: 'boolean', description: 'Remove one run of k consecutive blocks' },
    sequential: { type: 'boolean', description: 'Remove one block at a time, re-measuring after each' },
    linearityVariant: { type: 'string', description: 'Linearity score ranked on', default: 'withResidual', choices: ['withResidual', 'withoutResidual'] },
    angularTokens: { type: 'string', description: 'Tokens the angular distance averages over (Gromov et al.: last)', default: 'all', choices: ['all', 'last'] },
    mapInput: {
      type: 'string', default: 'residual', choices: ['residual', 'mlp'],
      description: "What the map reads: the residual stream (export: the maps ship with modeling_linscope.py, transformers needs trust_remote_code=True), " +
        "or (ReplaceMe) the previous block's MLP output (folded into that block's output projection where exact: a vanilla checkpoint transformers loads as is)",
    },
    bias: {
      type: 'boolean', default: false,
      description: 'Fit a bias b in the map h ↦ h·A + b (--bias / --bias=true; default no, so an mlp map folds into any MLP output projection)',
    },
    ridge: { type: 'number', description: 'Relative ridge of the map fit', default: 1e-6 },
    distillSteps: { type: 'integer', description: 'AdamW distillation steps (0: none)', default: 0 },
    distill: { type: 'string', description: 'What distillation trains: the maps alone, or all parameters of the pruned model (blocks, embeddings, head, maps) to match the original\'s states', default: 'maps', choices: ['maps', 'all'] },
    distillLoss: { type: 'string', description: 'Distillation loss', default: 'mse', choices: ['mse', 'cosine', 'mse+cosine'] },
    distillInputs: { type: 'string', description: "Map inputs during distillation: the original model's or the pruned model's", default: 'original', choices: ['original', 'pruned'] },
    distillLr: { type: 'number', description: 'AdamW learning rate', default: 1e-4 },
    healSteps: { type: 'integer', description: 'Fine-tune the pruned model for this many AdamW steps on the calibration text (next-token loss; 0: none)', default: 0 },
    healScope: { type: 'string', description: 'What healing trains: all parameters, or the kept blocks next to each removed span (and the maps)', default: 'all', choices: ['all', 'adjacent'] },
    healLr: { type: 'number', description: 'Healing AdamW learning rate', default: 1e-4 },
    seed: { type: 'integer', description: 'Seed (distillation batch order, cloze construction)', default: 0 },
    calibrationDocs: { type: 'integer', description: 'Calibration documents', default: 64 },
    calibrationLength: { type: 'integer', description: 'Tokens per calibration sequence', default: 256 },
    batchSize: { type: 'integer', description: 'Calibration sequences per forward', default: 8 },
    evalDocs: { type: 'integer', description: 'Evaluation documents', default: 200 },
    maxLength: { type: 'integer', description: 'Perplexity window / chunk length', default: 256 },
    stride: { type: 'integer', description: 'Sliding-window stride (default maxLength/2; 0 = chunks only)' },
    maxWindows: { type: 'integer', description: 'Evaluate at most this many windows' },
    facts: { type: 'string', description: 'Fact set for accuracy (cloze: TinyStories text)', valueName: 'path' },
    factsKind: { type: 'string', description: 'Fact set kind', default: 'cloze', choices: FACT_SET_KINDS },
    maxFacts: { type: 'integer', description: 'Use at most this many fact cases', default: 200 },
    out: { type: 'string', description: 'Output folder: ranking.csv, results.csv, results.json, model/', required: true, short: 'o', valueName: 'dir' },
    export: { type: 'boolean', description: 'Write the pruned model to <out>/model', default: true },
    streaming: { type: 'boolean', description: "Hold one block's weights at a time, read from the checkpoint on every forward (models larger than RAM; the export is written block by block)" },
    evalTasks: { type: 'string', description: 'Also score benchmark tasks (linscope eval names, comma-separated) before/after, with retained performance', valueName: 'a,b,…' },
    evalLimit: { type: 'integer', description: 'Documents per benchmark task (--eval-tasks)', default: 200 },
    dataDir: { type: 'string', description: 'Datasets folder for --eval-tasks (default: $LINSCOPE_DATASETS or ../shared/data/datasets)', valueName: 'dir' },
    ...threadsOptions,
    ...quietOptions,
  },
  examples: [
    'linscope prune -m stories260K -d tinystories_val.txt --k 2 --method linear --criterion linearity -o runs/prune',
    'linscope prune -m gpt2 -d wiki.txt --k 3 --criterion angular --span --method drop -o runs/gpt2-drop',
    'linscope prune -m model --data text.txt --k 2 --map-input mlp --distill-steps 200 --distill-loss cosine -o runs/replaceme',
    'linscope prune -m model --data text.txt --k 2 --distill all --distill-steps 100 --heal-steps 100 --heal-scope adjacent -o runs/heal',
  ],
});

/** --eval-tasks: each task's acc before/after, chance level and retained performance (pruned / original). */
function benchmarkTable(o: { evalTasks?: string; evalLimit: number; dataDir?: string }, tokenizer: EvalTokenizer, maxLength: number, variants: ModelVariant[], say: (s: string) => void) {
  const tasks = resolveTasks(o.evalTasks!.split(','));
  const datasetsDir = o.dataDir ?? benchmarkDatasetsDir();
  const { rows, meanRetained } = compareOnTasks(variants, tokenizer, tasks, {
    datasetsDir, limit: o.evalLimit, batchSize: 8, maxLength, padId: tokenizer.padId ?? tokenizer.eosId ?? 0, bootstrapIters: 100000,
  });
  const table: Row[] = rows.map((r) => ({
    task: r.task, docs: r.docs, chance: r.chance === undefined ? '—' : r.chance.toFixed(3),
    ...Object.fromEntries(variants.flatMap((v, i) => [[`${v.name} acc`, r.acc[i].toFixed(3)], ...(i > 0 ? [[`${v.name} retained`, r.retained[i]?.toFixed(3) ?? '—']] : [])])),
  }));
  say(`\nbenchmarks (lm-evaluation-harness definitions, first ${o.evalLimit} documents, 0-shot; retained = acc / original acc):`);
  say(formatTable(table).trimEnd());
  say(`mean retained (tasks where the original scores > 0): ${variants.slice(1).map((v, i) => `${v.name} ${meanRetained[i + 1]?.toFixed(3) ?? '—'}`).join(', ')}` +
    (rows.some((r) => r.chance !== undefined && Math.abs(r.acc[0] - r.chance) < 0.05) ? ' (tasks where the original sits within 0.05 of chance make this ratio mostly noise)' : ''));
  return { limit: o.evalLimit, variants: variants.map((v) => v.name), rows, meanRetained };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseOrExplain(spec, argv);
  if (typeof args === 'number') return args;
  const o = args.options;
  applyThreads(o);
  // prune writes its outputs only when it is done, so an interrupted run leaves nothing half-written
  const stopHandling = handleInterrupts({
    command: 'prune',
    status: () => `nothing was written to ${o.out} (prune writes its outputs when it finishes); rerun the same command to start again`,
  });
  try {
    const quiet = o.quiet ?? false;
    const say = (s: string) => console.log(s);
    assertWritableDir(o.out, '--out');
    if (o.export) checkExportTarget(join(o.out, 'model')); // before any work
    if (o.evalTasks) resolveTasks(o.evalTasks.split(',')); // a typo fails before the pruning work
    const source = await openModel(o);
    const model = await loadModel(source, { streaming: o.streaming ?? false });
    const tokenizer = await resolveTokenizer(source, o.tokenizer);
    const data = await loadPruneData(o.data, tokenizer, {
      calibrationDocs: o.calibrationDocs, calibrationLength: o.calibrationLength, batchSize: o.batchSize,
      evalDocs: o.evalDocs, evalPath: o.evalData, separator: o.docSeparator,
    });
    say(`${o.model}: ${model.numLayers} blocks, d = ${model.config.hiddenSize}`);
    say(`calibration: ${data.calibrationDocs} documents, ${data.calibrationTokens} tokens in ${data.batches.length} batches; evaluation: ${data.evalDocs} documents, ${data.evalIds.length} tokens`);
    const needed = minLinearityTokens(model.config.hiddenSize);
    if (o.criterion === 'linearity' && data.calibrationTokens < needed) {
      // with N ≤ d + 1 tokens every block scores ≈ 1 and the ranking would be arbitrary
      throw new Error(
        `ranking by linearity needs at least ${needed} calibration tokens (hidden size ${model.config.hiddenSize}); got ${data.calibrationTokens}. ` +
          'Raise --calibration-docs or --calibration-length (several times the hidden size gives a stable ranking), or rank by --criterion bi or angular.',
      );
    }

    const progress = createProgress({ label: 'prune', unit: 'batch', quiet });
    let phase = '';
    const result = await pruneModelAsync(model, data.batches, {
      k: o.k, method: o.method, criterion: o.criterion, span: o.span, sequential: o.sequential,
      mapInput: o.mapInput, bias: o.bias, ridge: o.ridge, linearityVariant: o.linearityVariant, angularTokens: o.angularTokens,
      onProgress: (p, done, total) => {
        if (p !== phase) {
          phase = p;
          progress.log(p);
        }
        progress.setTotal(total);
        progress.update(done);
      },
    });
    progress.stop();
    const first = result.steps[0];
    if (first) {
      say(`\nranking by ${o.criterion} (removal order${o.sequential ? ', first step' : ''}):`);
      say(formatTable(rankingRows(first.ranking)).trimEnd());
      say('\nremoved:');
      say(formatTable(choiceRows(result.steps)).trimEnd());
    }
    let pruned = result.model;
    let distilled: PrunedModel | undefined;
    let epochs: { epoch: number; loss: number }[] = [];
    if (o.distillSteps > 0 && o.distill === 'all') {
      const d = distillAll(pruned, data.batches, { steps: o.distillSteps, loss: o.distillLoss, lr: o.distillLr, seed: o.seed });
      distilled = d.model;
      epochs = d.epochs;
      say(`\ndistillation of all parameters (${o.distillLoss}, ${o.distillSteps} steps, ${d.parameters.toLocaleString('en-US')} parameters):`);
      say(formatTable(d.epochs.map((e) => ({ epoch: e.epoch, steps: e.steps, loss: e.loss }))).trimEnd());
    } else if (o.distillSteps > 0 && o.method === 'linear') {
      const d = await distillMapsAsync(pruned, data.batches, {
        steps: o.distillSteps, loss: o.distillLoss, inputs: o.distillInputs, lr: o.distillLr, seed: o.seed,
      });
      distilled = d.model;
      epochs = d.epochs;
      say(`\ndistillation (${o.distillLoss}, ${o.distillInputs} inputs, ${o.distillSteps} steps, maps ${d.trained.join(', ')}):`);
      say(formatTable(d.epochs.map((e) => ({ epoch: e.epoch, steps: e.steps, loss: e.loss }))).trimEnd());
    }
    let healed: PrunedModel | undefined;
    let healLosses: number[] = [];
    if (o.healSteps > 0) {
      const h = healPruned(distilled ?? pruned, data.batches, { steps: o.healSteps, scope: o.healScope, lr: o.healLr, seed: o.seed });
      healed = h.model;
      healLosses = h.losses;
      const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
      const n = Math.max(1, Math.min(10, Math.floor(h.losses.length / 2)));
      say(`\nhealing (${h.scope} parameters: ${h.parameters.toLocaleString('en-US')}, ${o.healSteps} steps): calibration loss ${mean(h.losses.slice(0, n)).toFixed(4)} (first ${n} steps) → ${mean(h.losses.slice(-n)).toFixed(4)} (last ${n})`);
    }

    const stride = o.stride === 0 ? undefined : (o.stride ?? Math.max(1, Math.floor(o.maxLength / 2)));
    const settings: EvalSettings = { ids: data.evalIds, maxLength: o.maxLength, stride, maxWindows: o.maxWindows };
    if (o.facts) {
      const cases = await loadFactSet(o.factsKind, o.facts, { maxCases: o.maxFacts, seed: o.seed });
      settings.facts = { cases: prepareFacts(cases, tokenizer), tokenizer };
    }
    const original = new PrunedModel(model);
    const evaluations: { name: string; layers: number; ev: ModelEvaluation }[] = [];
    evaluations.push({ name: 'original', layers: model.numLayers, ev: await evaluateModel(original, settings, original) });
    evaluations.push({ name: `${o.method} k=${o.k}`, layers: pruned.numLayers, ev: await evaluateModel(pruned, settings, original) });
    const distilName = `${o.method} k=${o.k} + distil${o.distill === 'all' ? ' all' : ''}`;
    if (distilled) evaluations.push({ name: distilName, layers: distilled.numLayers, ev: await evaluateModel(distilled, settings, original) });
    if (healed) evaluations.push({ name: `${distilled ? distilName : `${o.method} k=${o.k}`} + heal${o.healScope === 'adjacent' ? ' adjacent' : ''}`, layers: healed.numLayers, ev: await evaluateModel(healed, settings, original) });
    const rows: Row[] = evaluations.map((e) => evaluationRow(e.name, e.layers, e.ev));
    say('\nbefore / after:');
    say(formatTable(rows).trimEnd());
    for (const line of protocolLines(evaluations[evaluations.length - 1].ev)) say(`  ${line}`);

    const variants = [pruned, distilled, healed].filter((m): m is PrunedModel => m !== undefined);
    const benchmarks = o.evalTasks ? benchmarkTable(o, tokenizer, harnessMaxLength(source.config as Record<string, unknown>), [
      { name: 'original', model: original, scoring: 'plain' as const },
      ...evaluations.slice(1).map((e, i) => ({ name: e.name, model: variants[i], scoring: 'plain' as const })),
    ], say) : undefined;

    stopHandling(); // from here on outputs are written: a Ctrl-C ends the process as usual
    mkdirSync(o.out, { recursive: true });
    if (first) writeCsv(join(o.out, 'ranking.csv'), rankingRows(first.ranking));
    writeCsv(join(o.out, 'results.csv'), rows);
    const final = healed ?? distilled ?? pruned;
    const record = {
      command: ['linscope', 'prune', ...argv].join(' '),
      model: o.model,
      options: o,
      data: { calibrationDocs: data.calibrationDocs, calibrationTokens: data.calibrationTokens, evalDocs: data.evalDocs, evalTokens: data.evalIds.length },
      steps: result.steps.map((s) => ({ ranking: s.ranking, chosen: s.chosen, fits: s.fits })),
      distillation: epochs,
      healing: healLosses,
      evaluations: evaluations.map((e) => ({ name: e.name, blocks: e.layers, ...e.ev })),
      keptBlocks: final.keptBlocks(),
      ...(benchmarks ? { benchmarks } : {}),
    };
    writeJson(join(o.out, 'results.json'), record);
    if (o.export) {
      const ex = exportPrunedModel(join(o.out, 'model'), final, { dtype: checkpointDtype(source, model.weightNames()), provenance: { command: record.command, criterion: o.criterion, method: o.method } });
      say(`\nexported ${ex.numLayers} blocks (kept ${ex.keptBlocks.join(', ')}) to ${ex.dir}` +
        (ex.folded.length ? `; folded ${ex.folded.map((f) => `${f.span} → ${f.tensor}`).join(', ')}` : '') +
        (ex.stored.length ? `; ${ex.stored.length} map(s) stored with the weights: transformers loads it with trust_remote_code=True (modeling_linscope.py), linscope as is` : ''));
    }
    say(`results: ${join(o.out, 'results.json')}, results.csv, ranking.csv`);
    return 0;
  } finally {
    stopHandling();
  }
}
