/**
 * Is this file text? A look at its first 64 KiB before a text, JSON or JSONL reader streams it, so
 * that a checkpoint, an archive or a UTF-16 file given as data is refused with its name instead of
 * being analysed as U+FFFD soup. The rules, in order:
 *   - a UTF-16/32 byte-order mark, or a gzip / zip / … signature: named as such;
 *   - any NUL byte: binary (UTF-8 text never holds NUL);
 *   - more than 1% of the decoded characters are invalid UTF-8 sequences: not UTF-8 (Latin-1? binary?);
 *   - a few invalid sequences: read (as U+FFFD), with one warning naming the file.
 */
import { open } from 'node:fs/promises';
import { InputError } from '../io/input-error.ts';

const SNIFF_BYTES = 64 * 1024;
/** Share of invalid UTF-8 sequences among decoded characters above which a file is not text. */
const MAX_INVALID_SHARE = 0.01;

const SIGNATURES: readonly [number[], string][] = [
  [[0x1f, 0x8b], 'a gzip archive (decompress it first)'],
  [[0x50, 0x4b, 0x03, 0x04], 'a zip archive (extract it first)'],
  [[0x28, 0xb5, 0x2f, 0xfd], 'a zstd archive (decompress it first)'],
  [[0x42, 0x5a, 0x68], 'a bzip2 archive (decompress it first)'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'an xz archive (decompress it first)'],
  [[0x50, 0x41, 0x52, 0x31], 'a parquet file (name it *.parquet)'],
];

const startsWith = (bytes: Uint8Array, sig: readonly number[]) => sig.every((b, i) => bytes[i] === b);

/** Why `bytes` (the start of a file) are not UTF-8 text, or undefined when they are. `invalid` gets the count of bad sequences. */
function notTextReason(bytes: Uint8Array, stats: { invalid?: number } = {}): string | undefined {
  if (startsWith(bytes, [0xff, 0xfe]) || startsWith(bytes, [0xfe, 0xff])) return 'UTF-16 (or UTF-32) text, not UTF-8: convert it (iconv -f UTF-16 -t UTF-8)';
  for (const [sig, what] of SIGNATURES) if (startsWith(bytes, sig)) return `not text: ${what}`;
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    let count = 0;
    for (const b of bytes) if (b === 0) count++;
    return `not text: ${count} NUL byte${count === 1 ? '' : 's'} in the first ${bytes.length} bytes (first at byte ${nul}); a binary file?`;
  }
  const decoded = new TextDecoder('utf-8').decode(bytes, { stream: true });
  let replacements = 0;
  for (let i = 0; i < decoded.length; i++) if (decoded.charCodeAt(i) === 0xfffd) replacements++;
  // U+FFFD written in the file itself (EF BF BD) is not an error
  let literal = 0;
  for (let i = 0; i + 2 < bytes.length; i++) if (bytes[i] === 0xef && bytes[i + 1] === 0xbf && bytes[i + 2] === 0xbd) literal++;
  const invalid = Math.max(0, replacements - literal);
  stats.invalid = invalid;
  if (invalid > 0 && invalid > MAX_INVALID_SHARE * decoded.length) {
    return `not UTF-8 text: ${invalid} invalid UTF-8 sequences among the first ${decoded.length} characters (Latin-1? binary?)`;
  }
  return undefined;
}

/** Throw an `InputError` naming `path` when its start is not UTF-8 text; warn about a few bad bytes. */
export async function assertTextFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  let bytes: Uint8Array;
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await fh.read(buf, 0, SNIFF_BYTES, 0);
    bytes = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  const stats: { invalid?: number } = {};
  const reason = notTextReason(bytes, stats);
  if (reason) throw new InputError(path, reason);
  if (stats.invalid) console.warn(`linscope: ${path}: ${stats.invalid} invalid UTF-8 sequence(s) near the start are read as U+FFFD`);
}
