/**
 * `metrics.jsonl`: one JSON record per line — training steps, validation evaluations, linearity
 * profiles — each tagged with its `type` and `step`. Opening the log for a run resumed at step s
 * drops records after s (they belong to the interrupted continuation and will be produced again),
 * so the file always describes one consistent run.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../io/atomic-file.ts';
import type { LinearitySummary } from './linearity-probe.ts';

export interface TrainRecord {
  type: 'train';
  step: number;
  loss: number;
  ce: number;
  reg: number;
  lr: number;
  gradNorm: number;
  tokens: number;
  tokensPerSecond: number;
  elapsedSeconds: number;
}

export interface EvalRecord {
  type: 'eval';
  step: number;
  valLoss: number;
  valPerplexity: number;
  valCosinePenalty: number;
  tokens: number;
}

export interface LinearityRecord extends LinearitySummary {
  type: 'linearity';
  step: number;
}

export type MetricsRecord = TrainRecord | EvalRecord | LinearityRecord;

/** Reads every record of a metrics file ([] when it does not exist; a torn last line is ignored). */
export function readMetrics(path: string): MetricsRecord[] {
  if (!existsSync(path)) return [];
  const out: MetricsRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as MetricsRecord);
    } catch {
      // a line cut short by a kill: the step is redone after resume
    }
  }
  return out;
}

export class MetricsLog {
  constructor(readonly path: string, resumeStep?: number) {
    if (resumeStep === undefined) {
      writeFileAtomicSync(path, '');
    } else {
      const kept = readMetrics(path).filter((r) => r.step <= resumeStep);
      writeFileAtomicSync(path, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
    }
  }

  write(record: MetricsRecord): void {
    appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }
}
