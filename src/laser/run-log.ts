/**
 * The resumable record of a LASER search: a JSONL file, one evaluated configuration per line,
 * appended (and flushed) as soon as it is measured. The first line is a header describing the run
 * (model, data, split, metric…); a restart with a different header refuses to mix results.
 * A torn last line (the process died mid-write) is cut off when the log is reopened.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FactualRecallSummary } from '../eval/factual-recall.ts';
import type { Intervention } from './types.ts';

export interface RunHeader {
  kind: 'header';
  /** Settings that must match for results to be reused (model, data, split sizes, metric…). */
  settings: Record<string, unknown>;
}

export interface EvaluationRecord {
  kind: 'evaluation';
  /** 'validation' or 'test'. */
  split: 'validation' | 'test';
  /** Canonical key: "base" or the comma-joined interventions, e.g. "out:5:0.01,in:3:0.1". */
  key: string;
  phase: 'base' | 'grid' | 'compose' | 'chosen';
  interventions: Intervention[];
  summary: FactualRecallSummary;
  /** Kept ranks and matrix shapes, one per intervention. */
  ranks: { tensorName: string; outDim: number; inDim: number; rank: number }[];
  svdSeconds: number;
  evalSeconds: number;
  /** ISO time of the measurement. */
  at: string;
}

type Line = RunHeader | EvaluationRecord;

export class RunLog {
  private readonly records = new Map<string, EvaluationRecord>();
  /** Records loaded from an earlier run. */
  readonly resumed: number;

  /**
   * Open (or create) the log at `path`. Throws when an existing log was written with different
   * settings.
   */
  constructor(
    readonly path: string,
    readonly settings: Record<string, unknown>,
  ) {
    let resumed = 0;
    if (existsSync(path)) {
      const bytes = readFileSync(path);
      // A run killed mid-write leaves a torn last line: cut it off so new records start clean.
      const complete = bytes.lastIndexOf(0x0a) + 1;
      if (complete < bytes.length) truncateSync(path, complete);
      const lines = bytes.subarray(0, complete).toString('utf8').split('\n');
      let header: RunHeader | undefined;
      lines.forEach((raw, i) => {
        if (raw.trim() === '') return;
        let line: Line;
        try {
          line = JSON.parse(raw) as Line;
        } catch {
          throw new Error(`${path}:${i + 1}: not valid JSON; the log is damaged (move it away to start over)`);
        }
        if (line.kind === 'header') header = line;
        else if (line.kind === 'evaluation') {
          this.records.set(recordId(line.split, line.key), line);
          resumed++;
        }
      });
      if (header) {
        const before = JSON.stringify(header.settings);
        const now = JSON.stringify(settings);
        if (before !== now) {
          throw new Error(
            `${path} was written by a run with different settings, so its results cannot be reused.\n` +
              `  logged:  ${before}\n  current: ${now}\n` +
              `Use another output folder, or delete the log to start over.`,
          );
        }
      } else if (resumed === 0) {
        this.writeLine({ kind: 'header', settings });
      }
    } else {
      mkdirSync(dirname(path), { recursive: true });
      this.writeLine({ kind: 'header', settings });
    }
    this.resumed = resumed;
  }

  get(split: 'validation' | 'test', key: string): EvaluationRecord | undefined {
    return this.records.get(recordId(split, key));
  }

  add(record: Omit<EvaluationRecord, 'kind' | 'at'>): EvaluationRecord {
    const full: EvaluationRecord = { kind: 'evaluation', ...record, at: new Date().toISOString() };
    this.records.set(recordId(full.split, full.key), full);
    this.writeLine(full);
    return full;
  }

  all(): EvaluationRecord[] {
    return [...this.records.values()];
  }

  private writeLine(line: Line): void {
    appendFileSync(this.path, JSON.stringify(line) + '\n');
  }
}

function recordId(split: string, key: string): string {
  return `${split}|${key}`;
}
