/**
 * Ctrl-C (SIGINT) and SIGTERM in long commands: instead of dying silently with exit code 130, say
 * what was saved and how to continue.
 *
 * A command calls `handleInterrupts({ command, status, graceful })` while it works:
 *   - `graceful` (pretrain): the first signal only raises a flag; the training loop checks it at
 *     the next step boundary (`interruptRequested()`), saves a checkpoint, and throws an
 *     `InterruptedError` with how to resume. A second signal exits at once.
 *   - otherwise (laser search, linearity, prune): the process prints `status()` (what is saved, e.g.
 *     "12 results in runs.jsonl; rerun the same command to continue") and exits 130 at once. Their
 *     results are written as they are made, so nothing half-done is left behind.
 * Signal handlers run on the event loop, so a long synchronous loop must offer it a turn now and
 * then: `await yieldToSignals()` (a setImmediate, microseconds) between steps or batches.
 */

/** Exit code of a process ended by SIGINT (128 + 2), as shells report it. */
const INTERRUPTED_EXIT_CODE = 130;

/** Thrown by a command that stopped on Ctrl-C after saving its work; the message says how to continue. */
export class InterruptedError extends Error {
  readonly exitCode = INTERRUPTED_EXIT_CODE;
  constructor(message: string) {
    super(message);
    this.name = 'InterruptedError';
  }
}

export interface InterruptOptions {
  /** The command name for messages, e.g. "laser search". */
  command: string;
  /** What has been saved so far and how to continue (called when the signal arrives). */
  status?: () => string;
  /** Raise a flag on the first signal instead of exiting (the command stops at a safe point). */
  graceful?: boolean;
}

let requested = false;

/** True once Ctrl-C was pressed under a graceful handler. */
export function interruptRequested(): boolean {
  return requested;
}

/** Lets pending signal handlers run (one event-loop turn). */
export function yieldToSignals(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Installs the handlers; returns a function that removes them. */
export function handleInterrupts(options: InterruptOptions): () => void {
  requested = false;
  const say = (s: string) => process.stderr.write(`\nlinscope ${options.command}: ${s}\n`);
  const status = () => {
    try {
      return options.status?.() ?? '';
    } catch {
      return ''; // describing the state must never stop the exit
    }
  };
  const exitNow = (signal: NodeJS.Signals) => {
    const s = status();
    say(`interrupted (${signal})${s ? `. ${s}` : ''}`);
    process.exit(INTERRUPTED_EXIT_CODE);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (options.graceful && !requested) {
      requested = true;
      say(`interrupted (${signal}): stopping at the end of this step to save a checkpoint (press Ctrl-C again to quit at once, losing it)`);
      return;
    }
    if (options.graceful) {
      const s = status();
      say(`interrupted again: quitting without saving${s ? `. ${s}` : ''}`);
      process.exit(INTERRUPTED_EXIT_CODE);
    }
    exitNow(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    requested = false;
  };
}
