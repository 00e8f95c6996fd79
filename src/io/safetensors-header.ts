/**
 * Parsing and validating a safetensors header, with the rules of the reference implementation
 * (huggingface/safetensors, `SafeTensors::read_metadata` / `Metadata::validate`):
 *   - the header length is at most 100 MB and fits in the file;
 *   - the header is UTF-8 JSON: an object of tensor entries plus an optional `__metadata__`
 *     object of strings;
 *   - every entry has a known dtype, a shape of non-negative integers and `data_offsets` [begin, end];
 *   - sorted by offsets, the tensors tile the data buffer: the first starts at 0, each starts where
 *     the previous ended (no hole, no overlap), and the last ends at the end of the file;
 *   - end − begin = prod(shape) × dtype size, without overflow.
 * Every violation is an `InputError` naming the file and, where there is one, the tensor.
 */
import { InputError } from './input-error.ts';
import { DTYPE_BYTES, isSafetensorsDType, type TensorInfo } from './safetensors-format.ts';

export interface ParsedHeader {
  metadata: Record<string, string>;
  /** Tensors in header order, offsets absolute in the file. */
  infos: Map<string, TensorInfo>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Validate the header bytes of a file of `fileSize` bytes whose header is `headerBytes` long
 * (the data buffer starts at 8 + headerBytes.length).
 */
export function parseSafetensorsHeader(path: string, headerBytes: Uint8Array, fileSize: number): ParsedHeader {
  let text: string;
  try {
    text = utf8.decode(headerBytes);
  } catch {
    throw new InputError(path, 'safetensors header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw new InputError(path, `safetensors header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new InputError(path, 'safetensors header is not a JSON object');
  }

  const dataStart = 8 + headerBytes.length;
  const dataSize = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const infos = new Map<string, TensorInfo>();
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      readMetadata(path, entry, metadata);
      continue;
    }
    infos.set(name, readEntry(path, name, entry, dataStart));
  }
  checkTiling(path, [...infos.values()], dataStart, dataSize);
  return { metadata, infos };
}

function readMetadata(path: string, entry: unknown, into: Record<string, string>): void {
  if (entry === null) return;
  if (typeof entry !== 'object' || Array.isArray(entry)) throw new InputError(path, '"__metadata__" is not an object of strings');
  for (const [k, v] of Object.entries(entry)) {
    if (typeof v !== 'string') throw new InputError(path, `"__metadata__"."${k}" is ${JSON.stringify(v)}, not a string`);
    into[k] = v;
  }
}

function readEntry(path: string, name: string, entry: unknown, dataStart: number): TensorInfo {
  const where = `tensor "${name}"`;
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw new InputError(path, `${where}: header entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (!isSafetensorsDType(dtype)) {
    throw new InputError(path, `${where}: unsupported dtype ${JSON.stringify(dtype)} (linscope reads F64, F32, F16, BF16 and integer tensors)`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new InputError(path, `${where}: invalid shape ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw new InputError(path, `${where}: invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as number[];
  if (begin > end) throw new InputError(path, `${where}: data_offsets [${begin}, ${end}] end before they begin`);
  let numel = 1;
  for (const d of shape as number[]) numel *= d;
  const expected = numel * DTYPE_BYTES[dtype];
  if (!Number.isSafeInteger(expected)) throw new InputError(path, `${where}: shape [${shape.join(', ')}] has too many elements`);
  if (end - begin !== expected) {
    throw new InputError(path, `${where}: data_offsets span ${end - begin} bytes but ${dtype} [${shape.join(', ')}] needs ${expected}`);
  }
  return { name, dtype, shape: shape as number[], begin: dataStart + begin, end: dataStart + end };
}

/** Sorted by offsets, the tensors must cover [0, dataSize) exactly once. */
function checkTiling(path: string, infos: TensorInfo[], dataStart: number, dataSize: number): void {
  const sorted = [...infos].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let previous: string | undefined;
  const after = () => (previous === undefined ? 'at the start of the data buffer' : `after tensor "${previous}"`);
  for (const t of sorted) {
    const begin = t.begin - dataStart;
    const end = t.end - dataStart;
    if (begin < at) {
      throw new InputError(path, `tensor "${t.name}": data_offsets [${begin}, ${end}] overlap tensor "${previous}" (which ends at ${at})`);
    }
    if (begin > at) {
      throw new InputError(path, `tensor "${t.name}": data_offsets [${begin}, ${end}] leave a hole of ${begin - at} bytes ${after()}`);
    }
    if (end > dataSize) {
      throw new InputError(path, `tensor "${t.name}": data_offsets [${begin}, ${end}] fall outside the data buffer of ${dataSize} bytes (truncated file?)`);
    }
    at = end;
    previous = t.name;
  }
  if (at !== dataSize) {
    throw new InputError(path, `the data buffer has ${dataSize - at} bytes after the last tensor (${dataSize} bytes, tensors cover ${at}): not a valid safetensors layout`);
  }
}
