/**
 * Dump the few-shot pools of linscope's harness tasks (the split each draws examples from, in HF
 * field layout) as JSON, for bench/eval-prompts-crosscheck.py.
 *
 *   node --import tsx bench/eval-fewshot-pools.ts cb,copa,rte > pools.json
 */
import { resolve } from 'node:path';
import { resolveTasks } from '../src/eval/harness/tasks/index.ts';

const datasetsDir = resolve(process.env.LINSCOPE_DATASETS ?? resolve(import.meta.dirname, '..', '..', 'shared', 'data', 'datasets'));
const out: Record<string, unknown> = {};
for (const t of resolveTasks((process.argv[2] ?? '').split(','))) {
  const f = t.fewshotDocs(datasetsDir);
  if (!('missing' in f)) out[t.name] = f.docs;
}
process.stdout.write(JSON.stringify(out));
