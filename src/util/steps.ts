/**
 * Long loops written as generators that pause (`yield`) after each unit of work (a batch, a step),
 * run either straight through or with an event-loop turn at every pause so that signal handlers
 * (Ctrl-C, src/util/interrupt.ts) can run during an otherwise synchronous computation. Both give
 * the same result.
 */
import { yieldToSignals } from './interrupt.ts';

/** Runs `steps` to the end synchronously and returns its result. */
export function runSteps<T>(steps: Generator<void, T, void>): T {
  let r = steps.next();
  while (!r.done) r = steps.next();
  return r.value;
}

/** Runs `steps` to the end, giving the event loop a turn (a setImmediate, microseconds) at every pause. */
export async function runStepsYielding<T>(steps: Generator<void, T, void>): Promise<T> {
  let r = steps.next();
  while (!r.done) {
    await yieldToSignals();
    r = steps.next();
  }
  return r.value;
}
