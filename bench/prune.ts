/**
 * Depth-pruning benchmark: perplexity (and KL to the original) against the number of removed
 * blocks k = 0 … maxK, for dropping the blocks, replacing them by the least-squares linear map
 * (one-shot and sequential), and replacement + distillation; plus the block ranking by every
 * criterion. Works on any model folder (HF or llama2.c) with a text file.
 *
 * Run:
 *   node --import tsx bench/prune.ts [--model DIR] [--data TEXT] [--max-k 3] [--criterion linearity]
 *        [--distill-steps 384] [--eval-data TEXT] [--doc-separator newline|eos] [--distill-inputs original|pruned] [--write bench/RESULTS-prune.md]
 * Defaults: stories260K and the TinyStories validation subset from ../shared/data.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { backend } from '../src/backend/index.ts';
import { openModelSource } from '../src/io/model-source.ts';
import { loadModel } from '../src/models/decoder.ts';
import { loadPruneData, type DocumentSeparator } from '../src/prune/data.ts';
import { distillMaps } from '../src/prune/distill.ts';
import { evaluateModel, type EvalSettings, type ModelEvaluation } from '../src/prune/evaluate.ts';
import { PrunedModel } from '../src/prune/pruned-model.ts';
import { measureSpans, rankSpans } from '../src/prune/rank.ts';
import { pruneModel, type PruneOptions } from '../src/prune/replace.ts';
import { rankingRows } from '../src/prune/report.ts';
import { spanLabel, type Criterion } from '../src/prune/types.ts';
import { formatCells, type Row } from '../src/report/table.ts';

const shared = resolve(import.meta.dirname, '..', '..', 'shared', 'data');
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: join(shared, 'models', 'stories260K') },
    data: { type: 'string', default: join(shared, 'datasets', 'tinystories-valid-subset', 'tinystories_val.txt') },
    'eval-data': { type: 'string' },
    'doc-separator': { type: 'string', default: 'newline' },
    'max-k': { type: 'string', default: '3' },
    criterion: { type: 'string', default: 'linearity' },
    'calibration-docs': { type: 'string', default: '256' },
    'eval-docs': { type: 'string', default: '300' },
    'max-length': { type: 'string', default: '256' },
    'distill-steps': { type: 'string', default: '384' },
    'distill-loss': { type: 'string', default: 'cosine' },
    'distill-lr': { type: 'string', default: '1e-4' },
    'distill-inputs': { type: 'string', default: 'original' },
    write: { type: 'string' },
  },
});

/** A markdown table from rows (numbers with 4 significant decimals). */
function markdown(rows: readonly Row[]): string {
  const { headers, cells } = formatCells(rows);
  const line = (xs: readonly string[]) => `| ${xs.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...cells.map(line)].join('\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  const maxK = Number(values['max-k']);
  const criterion = values.criterion as Criterion;
  const distillSteps = Number(values['distill-steps']);
  const source = await openModelSource(values.model!);
  const model = await loadModel(source);
  const tokenizer = await source.tokenizer();
  if (!tokenizer) throw new Error(`${values.model} has no tokenizer`);
  const data = await loadPruneData(values.data!, tokenizer, {
    calibrationDocs: Number(values['calibration-docs']), evalDocs: Number(values['eval-docs']), calibrationLength: 256, batchSize: 8, evalPath: values['eval-data'], separator: values['doc-separator'] as DocumentSeparator,
  });
  const maxLength = Number(values['max-length']);
  const settings: EvalSettings = { ids: data.evalIds, maxLength, stride: maxLength / 2, batchSize: 4 };
  const original = new PrunedModel(model);
  const log = (s: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)}s] ${s}\n`);

  // ranking by every criterion on the original model
  const scores = measureSpans(original, data.batches, {});
  const lastToken = measureSpans(original, data.batches, { linearity: false, angularTokens: 'last' });
  const rankingTable = rankingRows(rankSpans(scores, criterion)).map((r) => ({
    ...r, 'angular (last token)': lastToken.find((s) => spanLabel(s) === r.blocks)!.angular,
  }));
  const orders = (['linearity', 'bi', 'angular'] as const).map((c) => ({ criterion: c, order: rankSpans(scores, c).map((s) => spanLabel(s)).join(' > ') }));
  log('ranked');

  const base = await evaluateModel(original, settings, original);
  log('original evaluated');
  const common: Omit<PruneOptions, 'k' | 'method'> = { criterion };
  type Cell = { blocks: string; ev: ModelEvaluation };
  const grid: Record<string, Cell[]> = { drop: [], linear: [], 'linear sequential': [], 'linear + distil': [] };
  const distillLog: Row[] = [];
  for (let k = 1; k <= maxK; k++) {
    const drop = pruneModel(model, data.batches, { ...common, k, method: 'drop' });
    grid.drop.push({ blocks: removedLabel(drop.model), ev: await evaluateModel(drop.model, settings, original) });
    const linear = pruneModel(model, data.batches, { ...common, k, method: 'linear' });
    grid.linear.push({ blocks: removedLabel(linear.model), ev: await evaluateModel(linear.model, settings, original) });
    const sequential = pruneModel(model, data.batches, { ...common, k, method: 'linear', sequential: true });
    grid['linear sequential'].push({ blocks: removedLabel(sequential.model), ev: await evaluateModel(sequential.model, settings, original) });
    const distilled = distillMaps(linear.model, data.batches, {
      steps: distillSteps, loss: values['distill-loss'] as 'mse' | 'cosine' | 'mse+cosine', lr: Number(values['distill-lr']), inputs: values['distill-inputs'] as 'original' | 'pruned', seed: 0,
    });
    grid['linear + distil'].push({ blocks: removedLabel(distilled.model), ev: await evaluateModel(distilled.model, settings, original) });
    const epochs = distilled.epochs;
    distillLog.push({ k, maps: distilled.trained.join(', '), 'loss epoch 1': epochs[0]?.loss, [`loss epoch ${epochs.length}`]: epochs[epochs.length - 1]?.loss });
    log(`k = ${k} done`);
  }

  const pplRows: Row[] = [{ k: 0, ...Object.fromEntries(Object.keys(grid).map((m) => [m, base.chunks.perplexity])) }];
  const klRows: Row[] = [{ k: 0, ...Object.fromEntries(Object.keys(grid).map((m) => [m, 0])) }];
  const slidingRows: Row[] = [{ k: 0, ...Object.fromEntries(Object.keys(grid).map((m) => [m, base.sliding!.perplexity])) }];
  const blockRows: Row[] = [];
  for (let k = 1; k <= maxK; k++) {
    const pick = (f: (c: Cell) => unknown) => Object.fromEntries(Object.entries(grid).map(([m, cells]) => [m, f(cells[k - 1])]));
    pplRows.push({ k, ...pick((c) => c.ev.chunks.perplexity) });
    slidingRows.push({ k, ...pick((c) => c.ev.sliding!.perplexity) });
    klRows.push({ k, ...pick((c) => c.ev.kl) });
    blockRows.push({ k, ...pick((c) => c.blocks) });
  }
  const seconds = (Date.now() - started) / 1000;
  const md = [
    '# Depth pruning: perplexity vs removed blocks',
    '',
    `Produced by \`node --import tsx bench/prune.ts${values.write ? ` --write ${values.write}` : ''}\` on ${new Date().toISOString().slice(0, 10)}, ` +
      `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), backend ${backend().name}; ${seconds.toFixed(0)} s in total.`,
    '',
    `- model: \`${values.model}\` (${model.config.modelType}, ${model.numLayers} blocks, d = ${model.config.hiddenSize})`,
    `- data: \`${values.data}\`; calibration = the first ${data.calibrationDocs} documents (paragraphs), ${data.calibrationTokens} tokens ` +
      `(BOS + ≤256 tokens each); evaluation = ${values['eval-data'] ? `the first ${data.evalDocs} documents of \`${values['eval-data']}\`` : `the next ${data.evalDocs} documents`}, ${data.evalIds.length} tokens, disjoint from calibration, documents joined with ${values['doc-separator'] === 'eos' ? 'EOS (as in pretraining)' : '"\\n\\n"'}`,
    `- ranking criterion: ${criterion}; one-shot removes the top-k single blocks (neighbours merged into one span with one map); ` +
      'sequential removes one block, re-ranks and re-fits on the pruned model, k times',
    '- linear map: closed-form least squares h_out ≈ h_in·A + b on the calibration tokens (float64, ridge 1e-6 toward the identity)',
    `- distillation: the one-shot maps trained ${distillSteps} AdamW steps (lr ${values['distill-lr']}, loss ${values['distill-loss']}, ${values['distill-inputs'] === 'pruned' ? 'inputs from the pruned model (later maps correct earlier ones)' : 'original-model inputs'}, seed 0)`,
    `- perplexity protocol: ${base.chunks.protocol.replace(/^perplexity [0-9.]+ = /, '')}`,
    `- sliding protocol: ${base.sliding!.protocol.replace(/^perplexity [0-9.]+ = /, '')}`,
    `- KL: mean KL(p_original ‖ p_pruned) in nats over ${grid.drop[0]?.ev.klPositions ?? 0} positions of the same chunks`,
    '',
    '## Perplexity (non-overlapping chunks)',
    '',
    markdown(pplRows),
    '',
    '## Perplexity (sliding windows)',
    '',
    markdown(slidingRows),
    '',
    '## Mean KL divergence to the original (nats/token)',
    '',
    markdown(klRows),
    '',
    '## Blocks removed',
    '',
    markdown(blockRows),
    '',
    '## Distillation losses',
    '',
    markdown(distillLog),
    '',
    `## Ranking of single blocks on the original model (removal order by ${criterion})`,
    '',
    markdown(rankingTable),
    '',
    ...orders.map((o) => `- ${o.criterion}: ${o.order}`),
    '',
  ].join('\n');
  console.log(md);
  if (values.write) writeFileSync(values.write, md);
}

function removedLabel(m: PrunedModel): string {
  return m.replacements.map((r) => `${spanLabel(r)}${r.map ? '' : ' (drop)'}`).join(', ');
}

await main();
