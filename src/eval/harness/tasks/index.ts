/** The benchmark tasks linscope runs with lm-evaluation-harness protocols, by harness name. */
import type { TaskDefinition } from '../task.ts';
import { arcChallenge, arcEasy } from './arc.ts';
import { lambadaOpenai } from './lambada.ts';
import { openbookqa } from './openbookqa.ts';
import { piqa } from './piqa.ts';
import { boolq, cb, copa, multirc, rte, sglueRte, wic } from './superglue.ts';
import { truthfulqaMc1, truthfulqaMc2 } from './truthfulqa.ts';
import { winogrande } from './winogrande.ts';
import { xstoryclozeEn } from './xstorycloze.ts';

export const TASKS: readonly TaskDefinition[] = [
  arcEasy, arcChallenge, piqa, winogrande, lambadaOpenai, openbookqa, boolq, cb, copa, rte, sglueRte, wic, multirc, xstoryclozeEn,
  truthfulqaMc1, truthfulqaMc2,
];

export const TASK_NAMES = TASKS.map((t) => t.name);

/** Tasks by name, in the order given; one clear error for an unknown name. */
export function resolveTasks(names: readonly string[]): TaskDefinition[] {
  const seen = new Set<string>();
  const out: TaskDefinition[] = [];
  for (const raw of names) {
    const name = raw.trim();
    if (name === '' || seen.has(name)) continue;
    const t = TASKS.find((x) => x.name === name);
    if (!t) throw new Error(`unknown task "${name}" (known: ${TASK_NAMES.join(', ')})`);
    seen.add(name);
    out.push(t);
  }
  if (out.length === 0) throw new Error('no task given (--tasks a,b,…)');
  return out;
}
