/**
 * The case that opened the export work: `linscope prune` on stories260K with the default linear
 * map (k = 1). Step 1 (this script) runs the command, then writes the evaluation token stream it
 * used (same data options) to OUT/eval-ids.json, with the perplexities linscope reported and that
 * linscope's reload of the export gives. Step 2: bench/export-ppl-hf.py computes the same
 * perplexity (non-overlapping chunks) with transformers on the exported folder.
 *
 * Run: node --import tsx bench/export-ppl.ts [OUT]     (default /tmp/linscope-export-ppl)
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run as prune } from '../src/cli/commands/prune.ts';
import { openModelSource } from '../src/io/model-source.ts';
import { loadModel } from '../src/models/decoder.ts';
import { loadPruneData } from '../src/prune/data.ts';
import { tokenPerplexity } from '../src/eval/perplexity.ts';
import { datasetsDir, stories260KDir } from '../test/helpers/paths.ts';

const out = resolve(process.argv[2] ?? '/tmp/linscope-export-ppl');
rmSync(out, { recursive: true, force: true });
const data = join(datasetsDir, 'tinystories-valid-subset', 'tinystories_val.txt');
const args = ['-m', stories260KDir, '-d', data, '--k', '1', '-q', '-o', out];
await prune(args);
const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
const source = await openModelSource(stories260KDir);
const tokenizer = (await source.tokenizer())!;
const prepared = await loadPruneData(data, tokenizer, { calibrationDocs: 64, calibrationLength: 256, batchSize: 8, evalDocs: 200 });
const exported = await loadModel(join(out, 'model'));
const reload = await tokenPerplexity(exported, prepared.evalIds, { mode: 'chunks', maxLength: 256 });
const reported = results.evaluations.map((e: { name: string; chunks: { perplexity: number } }) => ({ name: e.name, chunks: e.chunks.perplexity }));
writeFileSync(join(out, 'eval-ids.json'), JSON.stringify({ ids: prepared.evalIds, maxLength: 256, reported, linscopeReload: reload.perplexity }));
console.log(`linscope prune ${args.join(' ')}`);
for (const r of reported) console.log(`  reported ${r.name}: perplexity (chunks of 256) ${r.chunks.toFixed(4)}`);
console.log(`  linscope reload of ${join(out, 'model')}: ${reload.perplexity.toFixed(4)} (${reload.scoredTokens} tokens)`);
