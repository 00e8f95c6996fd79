/**
 * Tabular output: aligned terminal tables, CSV files (RFC 4180 quoting) and JSON result files.
 *
 * Terminal tables round numbers to a precision for reading; CSV and JSON keep every digit
 * (JavaScript's shortest round-trip form) because they are what other tools compute with.
 */
import { writeFileAtomicSync } from '../io/atomic-file.ts';

/** A row of a table: column key → value. */
export type Row = Readonly<Record<string, unknown>>;

/** How one column is shown. */
export interface Column {
  /** Property of the row that holds the value. */
  key: string;
  /** Header text (default: the key). */
  header?: string;
  /** Digits after the decimal point for non-integer numbers (default: the table's precision). */
  precision?: number;
  /** Alignment (default: right for numeric columns, left otherwise). */
  align?: 'left' | 'right';
  /** Custom formatter; overrides number formatting. */
  format?: (value: unknown, row: Row) => string;
}

export interface TableOptions {
  /** Columns to show, in order; plain strings are keys. Default: every key, in order of first appearance. */
  columns?: readonly (string | Column)[];
  /** Digits after the decimal point for non-integer numbers (default 4). */
  precision?: number;
  /** Spaces between columns (default 2). */
  gap?: number;
  /** Text shown for null/undefined cells (default ''). */
  missing?: string;
}

/**
 * Formats a number with `precision` digits after the decimal point. Values too small to show a
 * significant digit that way (|x| < 10^-precision, non-zero) or very large (|x| ≥ 1e9) switch to
 * exponent notation, so a tiny non-zero Δ never prints as 0.0000.
 */
export function formatNumber(x: number, precision = 4): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  const a = Math.abs(x);
  if (a !== 0 && (a < 10 ** -precision || a >= 1e9)) return x.toExponential(Math.max(precision - 1, 1));
  return (Object.is(x, -0) ? 0 : x).toFixed(precision);
}

function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function pad(s: string, width: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, width - codePointLength(s)));
  return align === 'left' ? s + fill : fill + s;
}

/** Columns to show: explicit ones, or every key in order of first appearance. */
function resolveColumns(rows: readonly Row[], columns?: readonly (string | Column)[]): Column[] {
  if (columns) return columns.map((c) => (typeof c === 'string' ? { key: c } : c));
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    for (const k of Object.keys(row)) {
      if (!seen.has(k)) {
        seen.add(k);
        keys.push(k);
      }
    }
  }
  return keys.map((key) => ({ key }));
}

/** Table cells rendered as text, ready for any output (terminal, HTML, Markdown). */
export interface FormattedTable {
  headers: string[];
  /** One array of cell strings per row. */
  cells: string[][];
  /** Alignment per column: right for numeric columns unless the column says otherwise. */
  aligns: ('left' | 'right')[];
}

/**
 * Formats every cell of a table. A column whose numbers are all integers shows them without
 * decimals; otherwise every number in it gets the same number of decimals so the points line up.
 */
export function formatCells(rows: readonly Row[], options: TableOptions = {}): FormattedTable {
  const columns = resolveColumns(rows, options.columns);
  const missing = options.missing ?? '';
  const aligns: ('left' | 'right')[] = [];
  const byColumn = columns.map((col) => {
    const values = rows.map((r) => r[col.key]);
    const numbers = values.filter((v): v is number => typeof v === 'number');
    const numeric = numbers.length > 0 && values.every((v) => v == null || typeof v === 'number' || typeof v === 'bigint');
    const allIntegers = numbers.every((v) => Number.isInteger(v) && Math.abs(v) < 1e15);
    const precision = col.precision ?? options.precision ?? 4;
    aligns.push(col.align ?? (numeric ? 'right' : 'left'));
    return rows.map((row) => {
      const v = row[col.key];
      if (col.format) return col.format(v, row);
      if (v == null) return missing;
      if (typeof v === 'number') return allIntegers ? String(v) : formatNumber(v, precision);
      return String(v);
    });
  });
  const cells = rows.map((_, r) => columns.map((_, c) => byColumn[c][r]));
  return { headers: columns.map((c) => c.header ?? c.key), cells, aligns };
}

/** Renders rows as an aligned plain-text table with a header and a dashed rule (see {@link formatCells}). */
export function formatTable(rows: readonly Row[], options: TableOptions = {}): string {
  const { headers, cells, aligns } = formatCells(rows, options);
  const gap = ' '.repeat(options.gap ?? 2);
  const widths = headers.map((h, c) => Math.max(codePointLength(h), ...cells.map((row) => codePointLength(row[c]))));
  const join = (line: string[]) =>
    line.map((cell, c) => pad(cell, widths[c], aligns[c])).join(gap).replace(/\s+$/, '');
  const rule = widths.map((w) => '-'.repeat(w)).join(gap);
  return [join(headers), rule, ...cells.map(join)].join('\n') + '\n';
}

/** Prints {@link formatTable} output to a stream (default stdout). */
export function printTable(rows: readonly Row[], options: TableOptions = {}, stream: NodeJS.WritableStream = process.stdout): void {
  stream.write(formatTable(rows, options));
}

/** One CSV field: quoted when it holds a comma, quote, line break or edge whitespace; quotes doubled. */
export function csvField(value: unknown): string {
  let s: string;
  if (value == null) s = '';
  else if (typeof value === 'number') s = String(value); // shortest round-trip form: full precision
  else if (typeof value === 'object') s = JSON.stringify(value);
  else s = String(value);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Renders rows as CSV text with a header line (RFC 4180 quoting, '\n' line ends). */
export function toCsv(rows: readonly Row[], columns?: readonly (string | Column)[]): string {
  const cols = resolveColumns(rows, columns);
  const lines = [cols.map((c) => csvField(c.header ?? c.key)).join(',')];
  for (const row of rows) lines.push(cols.map((c) => csvField(row[c.key])).join(','));
  return lines.join('\n') + '\n';
}

/** Writes rows as CSV to `path` atomically (temp file + rename), creating directories. */
export function writeCsv(path: string, rows: readonly Row[], columns?: readonly (string | Column)[]): void {
  writeFileAtomicSync(path, toCsv(rows, columns));
}

/** Parses CSV text produced by {@link toCsv} (or any RFC 4180 CSV) into string cells. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (ch === '"') { quoted = false; i++; continue; }
      field += ch; i++; continue;
    }
    if (ch === '"') { quoted = true; i++; continue; }
    if (ch === ',') { record.push(field); field = ''; i++; continue; }
    if (ch === '\r' && text[i + 1] === '\n') i++;
    if (ch === '\n' || ch === '\r') {
      record.push(field); records.push(record); record = []; field = ''; i++; continue;
    }
    field += ch; i++;
  }
  if (field !== '' || record.length > 0) { record.push(field); records.push(record); }
  return records;
}
