/**
 * The error every reader of a user file throws when the file is unusable: one line naming the file
 * and what is wrong with it, e.g. `model.safetensors: tensor "wte.weight": data_offsets [0, 12]
 * overlap the previous tensor`. The CLI prints it as it is (no stack trace).
 *
 * This is what "a clear error" means for linscope's parsers, and what the fuzz tests
 * (test/fuzz/) accept: an `InputError` whose message starts with the path of the file at fault.
 * Anything else escaping a parser (a TypeError or RangeError from deep inside, a non-Error) is a bug.
 */
export class InputError extends Error {
  /** The file (or folder) at fault. */
  readonly file: string;

  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
    this.name = 'InputError';
    this.file = file;
  }
}

/**
 * What a clear error about `file` is: an `InputError` naming it, or a plain `Error` (not one of
 * JavaScript's own TypeError, RangeError, SyntaxError…) whose message names it — by path, or by file
 * name for the config readers that say "config.json: …". The fuzz tests hold every parser to this.
 */
export function isClearInputError(err: unknown, file: string): boolean {
  if (!(err instanceof Error)) return false;
  if (!(err instanceof InputError) && Object.getPrototypeOf(err) !== Error.prototype) return false;
  const name = file.slice(file.lastIndexOf('/') + 1);
  return err.message.includes(file) || err.message.includes(`${name}:`) || err.message.includes(`${name} `);
}
