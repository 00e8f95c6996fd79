/** What a command prints, for tests that run CLI commands in-process. */

/**
 * Runs `fn` with console.log captured (and console.error too, with `stderr`), restoring both
 * whatever happens; returns fn's result and the printed lines joined with "\n" (each ending in one).
 */
export async function captureConsole<T>(fn: () => Promise<T>, options: { stderr?: boolean } = {}): Promise<{ result: T; out: string }> {
  const [log, error] = [console.log, console.error];
  let out = '';
  const capture = (...a: unknown[]) => void (out += `${a.join(' ')}\n`);
  console.log = capture;
  if (options.stderr) console.error = capture;
  try {
    return { result: await fn(), out };
  } finally {
    [console.log, console.error] = [log, error];
  }
}
