/**
 * JSON output for result files: pretty-printed, stable, and explicit about values that plain
 * JSON.stringify would silently mangle (NaN/±Infinity become null there, typed arrays become
 * index-keyed objects, bigint throws).
 */
import { writeFileAtomicSync } from '../io/atomic-file.ts';

/** Converts a value into plain JSON data: typed arrays to arrays, non-finite numbers to strings. */
function toJsonData(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>, toJsonData);
  }
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : toJsonData(v)));
  if (value instanceof Map) return toJsonData(Object.fromEntries(value));
  if (value instanceof Set) return toJsonData([...value]);
  if (value instanceof Date) return value.toISOString();
  const toJSON = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof toJSON === 'function') return toJsonData(toJSON.call(value));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== undefined && typeof v !== 'function') out[k] = toJsonData(v);
  }
  return out;
}

function isPrimitive(v: unknown): boolean {
  return v === null || typeof v !== 'object';
}

function render(value: unknown, indent: string, step: string): string {
  if (isPrimitive(value)) return JSON.stringify(value);
  const inner = indent + step;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    // Arrays of scalars (per-layer scores, losses) stay on one line: far easier to read.
    if (value.every(isPrimitive)) return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
    return `[\n${value.map((v) => inner + render(v, inner, step)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  const body = entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${render(v, inner, step)}`);
  return `{\n${body.join(',\n')}\n${indent}}`;
}

/**
 * Pretty JSON text (2-space indent, arrays of scalars kept on one line, trailing newline).
 * Numbers are printed with JavaScript's shortest round-trip form, so they parse back exactly.
 */
export function toPrettyJson(value: unknown): string {
  return render(toJsonData(value), '', '  ') + '\n';
}

/** Writes `value` as pretty JSON to `path` atomically (temp file + rename), creating directories. */
export function writeJson(path: string, value: unknown): void {
  writeFileAtomicSync(path, toPrettyJson(value));
}
