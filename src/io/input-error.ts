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

/** True when `err` is an `InputError` about `file` (its message names it). */
export function isInputErrorAbout(err: unknown, file: string): boolean {
  return err instanceof InputError && err.message.startsWith(`${err.file}: `) && (err.file === file || err.file.startsWith(file) || file.startsWith(err.file));
}
