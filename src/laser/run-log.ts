/**
 * The resumable record of a LASER search: a JSONL file, one evaluated configuration per line,
 * appended (and flushed) as soon as it is measured. The first line is a header describing the run
 * (settings: split, metric…; and the content fingerprints of the model and data, see
 * src/io/fingerprint.ts); a rerun whose settings differ, or whose model or data changed on disk
 * since, refuses to mix results and names the difference (`restart` discards the old log instead).
 * A torn last line (the process died mid-write) is cut off when the log is reopened.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FactualRecallSummary } from '../eval/factual-recall.ts';
import { describeFingerprintChange, type ContentFingerprint } from '../io/fingerprint.ts';
import type { Intervention } from './types.ts';

export interface RunHeader {
  kind: 'header';
  /** Settings that must match for results to be reused (model, data, split sizes, metric…). */
  settings: Record<string, unknown>;
  /** Content fingerprints of the inputs (e.g. model, data): must be unchanged for results to be reused. */
  inputs?: Record<string, ContentFingerprint>;
  /** For the reader only, not compared (e.g. the paths the inputs were given as). */
  info?: Record<string, unknown>;
}

export interface RunLogOptions {
  /** Content fingerprints of the inputs, by what they are ("model", "data"…). */
  inputs?: Record<string, ContentFingerprint>;
  /** Stored in the header for the reader, not compared. */
  info?: Record<string, unknown>;
  /** Discard an existing log and start over. */
  restart?: boolean;
  /** How the user asks for a restart, for the refusal message (default "--restart"). */
  restartHint?: string;
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
  /** Records of an earlier run thrown away because `restart` was asked. */
  readonly discarded: number = 0;

  /**
   * Open (or create) the log at `path`. Throws when an existing log was written with different
   * settings.
   */
  constructor(
    readonly path: string,
    readonly settings: Record<string, unknown>,
    options: RunLogOptions = {},
  ) {
    let resumed = 0;
    const header: RunHeader = { kind: 'header', settings, ...(options.inputs ? { inputs: options.inputs } : {}), ...(options.info ? { info: options.info } : {}) };
    const restartHint = options.restartHint ?? '--restart';
    if (options.restart && existsSync(path)) {
      this.discarded = readFileSync(path, 'utf8').split('\n').filter((l) => l.includes('"kind":"evaluation"')).length;
      rmSync(path);
    }
    if (existsSync(path)) {
      const bytes = readFileSync(path);
      // A run killed mid-write leaves a torn last line: cut it off so new records start clean.
      const complete = bytes.lastIndexOf(0x0a) + 1;
      if (complete < bytes.length) truncateSync(path, complete);
      const lines = bytes.subarray(0, complete).toString('utf8').split('\n');
      let logged: RunHeader | undefined;
      lines.forEach((raw, i) => {
        if (raw.trim() === '') return;
        let line: Line;
        try {
          line = JSON.parse(raw) as Line;
        } catch {
          throw new Error(`${path}:${i + 1}: not valid JSON; the log is damaged (move it away to start over)`);
        }
        if (line.kind === 'header') logged = line;
        else if (line.kind === 'evaluation') {
          this.records.set(recordId(line.split, line.key), line);
          resumed++;
        }
      });
      if (logged) {
        const before = JSON.stringify(logged.settings);
        const now = JSON.stringify(settings);
        if (before !== now) {
          throw new Error(
            `${path} was written by a run with different settings, so its results cannot be reused.\n` +
              `  logged:  ${before}\n  current: ${now}\n` +
              `Pass ${restartHint} to discard them and start over, or use another output folder.`,
          );
        }
        for (const [what, fingerprint] of Object.entries(options.inputs ?? {})) {
          const change = describeFingerprintChange(logged.inputs?.[what], fingerprint);
          if (change !== undefined) {
            throw new Error(
              `the ${what} changed since ${path} was written (${change}), so its ${resumed} results cannot be reused. ` +
                `Pass ${restartHint} to discard them and start over, or use another output folder.`,
            );
          }
        }
      } else if (resumed === 0) {
        this.writeLine(header);
      }
    } else {
      mkdirSync(dirname(path), { recursive: true });
      this.writeLine(header);
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
