/**
 * Progress reporting on stderr (stdout stays clean for results):
 * - a live bar with rate and ETA (cli-progress) when stderr is a terminal;
 * - an occasional plain line ("label: 40/100 batch (40.0%) | 12.3 batch/s | ETA 5s") when it is
 *   not (CI logs, files), so logs show liveness without thousands of carriage returns;
 * - nothing at all with `quiet`.
 */
import cliProgress from 'cli-progress';

export interface ProgressOptions {
  /** Shown before the bar / at the start of each log line, e.g. 'linearity gpt2'. */
  label: string;
  /** Number of steps; omit or 0 when unknown (then only count, rate and elapsed time are shown). */
  total?: number;
  /** Unit of one step in messages (default 'it'). */
  unit?: string;
  /** Print nothing (e.g. `--quiet`). */
  quiet?: boolean;
  /** Output stream (default process.stderr). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Force terminal (bar) or log-line mode; default: the stream's isTTY. */
  tty?: boolean;
  /** In log-line mode, minimum milliseconds between lines (default 10000). */
  logEveryMs?: number;
  /** Clock in milliseconds (default Date.now); injectable for tests. */
  now?: () => number;
}

export interface Progress {
  /** Advances by `n` steps (default 1). */
  tick(n?: number): void;
  /** Sets the absolute number of completed steps. */
  update(value: number): void;
  /** Changes the total once it becomes known. */
  setTotal(total: number): void;
  /** Prints a message line without breaking the bar. */
  log(message: string): void;
  /** Finishes: removes the live bar and prints a one-line summary (not in quiet mode). */
  stop(): void;
  readonly value: number;
}

/** Compact human duration: 0.4s, 12s, 3m05s, 2h07m. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Rate with about three significant digits: 1234, 56.7, 8.91, 0.123. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '?';
  if (perSecond >= 100) return String(Math.round(perSecond));
  if (perSecond >= 10) return perSecond.toFixed(1);
  if (perSecond >= 1) return perSecond.toFixed(2);
  return perSecond.toPrecision(3);
}

interface Snapshot {
  value: number;
  total: number;
  unit: string;
  elapsedMs: number;
}

/** Status text shared by the bar and the log lines: count, percentage, rate and ETA (elapsed time when `final`). */
export function describeProgress({ value, total, unit, elapsedMs }: Snapshot, final = false): string {
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? value / seconds : NaN;
  const parts: string[] = [];
  if (total > 0) {
    parts.push(`${value}/${total} ${unit} (${((100 * value) / total).toFixed(1)}%)`);
  } else {
    parts.push(`${value} ${unit}`);
  }
  if (value > 0 && seconds > 0) parts.push(`${formatRate(rate)} ${unit}/s`);
  if (!final && total > 0 && value > 0 && value < total && seconds > 0) parts.push(`ETA ${formatDuration((total - value) / rate)}`);
  else parts.push(`${formatDuration(seconds)} elapsed`);
  return parts.join(' | ');
}

const REDRAW_MS = 125;

const SILENT: Progress = {
  tick() {},
  update() {},
  setTotal() {},
  log() {},
  stop() {},
  value: 0,
};

/** Creates a progress reporter; see the module comment for the three modes. */
export function createProgress(options: ProgressOptions): Progress {
  if (options.quiet) return { ...SILENT };
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? Boolean(stream.isTTY);
  const now = options.now ?? Date.now;
  const unit = options.unit ?? 'it';
  const start = now();
  let value = 0;
  let total = options.total ?? 0;
  let stopped = false;
  const snapshot = (): Snapshot => ({ value, total, unit, elapsedMs: now() - start });
  const summary = () => {
    const finished = total <= 0 || value >= total;
    return `${options.label}: ${finished ? 'done' : 'stopped'}, ${describeProgress(snapshot(), true)}\n`;
  };

  if (tty) {
    const multi = new cliProgress.MultiBar({
      stream,
      format: (_opts, params) => {
        const bar = total > 0 ? `[${barString(params.progress, 24)}] ` : '';
        return `${options.label} ${bar}${describeProgress(snapshot())}`;
      },
      hideCursor: false,
      gracefulExit: false,
      clearOnComplete: true,
      fps: 8,
      emptyOnZero: true,
      // cli-progress checks isTTY itself; honour a forced terminal mode on other streams too.
      noTTYOutput: !stream.isTTY,
    });
    const bar = multi.create(total, 0);
    // cli-progress redraws on a timer, which never fires while a synchronous compute loop holds
    // the event loop; so redraw from the update itself, at most every `REDRAW_MS`.
    let lastDraw = -Infinity;
    const redraw = () => {
      bar.update(value);
      const t = now();
      if (t - lastDraw >= REDRAW_MS) {
        lastDraw = t;
        multi.update();
      }
    };
    return {
      tick(n = 1) {
        value += n;
        redraw();
      },
      update(v) {
        value = v;
        redraw();
      },
      setTotal(t) {
        total = t;
        bar.setTotal(t);
      },
      log(message) {
        multi.log(message.endsWith('\n') ? message : message + '\n');
      },
      stop() {
        if (stopped) return;
        stopped = true;
        multi.stop();
        stream.write(summary());
      },
      get value() {
        return value;
      },
    };
  }

  // Log-line mode: a line when enough time has passed since the last one, and a summary at the end.
  const every = options.logEveryMs ?? 10_000;
  let lastLine = start;
  const maybeLog = () => {
    const t = now();
    if (t - lastLine >= every) {
      lastLine = t;
      stream.write(`${options.label}: ${describeProgress(snapshot())}\n`);
    }
  };
  return {
    tick(n = 1) {
      value += n;
      maybeLog();
    },
    update(v) {
      value = v;
      maybeLog();
    },
    setTotal(t) {
      total = t;
    },
    log(message) {
      stream.write(message.endsWith('\n') ? message : message + '\n');
    },
    stop() {
      if (stopped) return;
      stopped = true;
      stream.write(summary());
    },
    get value() {
      return value;
    },
  };
}

function barString(fraction: number, width: number): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/**
 * Iterates over `items` while reporting progress (total taken from arrays), stopping the
 * reporter when the loop ends, breaks or throws.
 */
export function* withProgress<T>(items: Iterable<T>, options: ProgressOptions): Generator<T> {
  const total = options.total ?? (Array.isArray(items) ? items.length : undefined);
  const progress = createProgress({ ...options, total });
  try {
    for (const item of items) {
      yield item;
      progress.tick();
    }
  } finally {
    progress.stop();
  }
}
