/**
 * Text column of a parquet file (the form Hugging Face datasets are published in), read with
 * hyparquet one row group at a time so only one group's worth of rows is in memory.
 */
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import type { Compressors, FileMetaData } from 'hyparquet';
import { InputError } from '../io/input-error.ts';

/** Codecs hyparquet decodes without extra packages. */
const BUILT_IN_CODECS = new Set(['UNCOMPRESSED', 'SNAPPY']);

export interface ParquetTextOptions {
  /** Column holding the text (default "text"). */
  column?: string;
  /** Extra decompressors (e.g. from `hyparquet-compressors`) for codecs other than snappy. */
  compressors?: Compressors;
}

/** Top-level column names of a parquet file. */
function parquetColumnNames(metadata: FileMetaData): string[] {
  return parquetSchema(metadata).children.map((c) => c.element.name);
}

/**
 * Yield the string values of one column of a parquet file, in row order, row group by row group.
 * Null values are skipped; any other non-string value is an error.
 */
export async function* readParquetTexts(path: string, opts: ParquetTextOptions = {}): AsyncGenerator<string> {
  const column = opts.column ?? 'text';
  const damaged = (what: string) => (err: unknown) => {
    if (err instanceof InputError) throw err;
    throw new InputError(path, `${what} (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  };
  const file = await asyncBufferFromFile(path).catch(damaged('cannot open the parquet file'));
  let metadata: FileMetaData;
  let names: string[];
  try {
    metadata = await parquetMetadataAsync(file);
    names = parquetColumnNames(metadata);
  } catch (err) {
    damaged('not a readable parquet file')(err);
    throw err; // unreachable: damaged() throws
  }
  if (!names.includes(column)) {
    throw new InputError(path, `no column "${column}"; columns are ${names.map((n) => `"${n}"`).join(', ')}`);
  }
  try {
    checkCodecs(path, metadata, column, opts.compressors);
  } catch (err) {
    damaged('not a readable parquet file')(err);
  }

  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const rows = await parquetReadObjects({
      file,
      metadata,
      columns: [column],
      rowStart,
      rowEnd,
      compressors: opts.compressors,
    }).catch(damaged(`row group at rows ${rowStart}…${rowEnd - 1} cannot be read: the parquet file is damaged`));
    for (let i = 0; i < rows.length; i++) {
      const value = rows[i][column];
      if (value === null || value === undefined) continue;
      if (typeof value !== 'string') {
        throw new InputError(path, `row ${rowStart + i} of column "${column}" is ${describe(value)}, not text`);
      }
      yield value;
    }
    rowStart = rowEnd;
  }
}

function checkCodecs(path: string, metadata: FileMetaData, column: string, compressors?: Compressors): void {
  for (const group of metadata.row_groups) {
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (!meta || meta.path_in_schema[0] !== column) continue;
      if (!BUILT_IN_CODECS.has(meta.codec) && !compressors?.[meta.codec]) {
        throw new InputError(
          path,
          `column "${column}" is ${meta.codec}-compressed; hyparquet reads only snappy and ` +
            `uncompressed data by itself. Install hyparquet-compressors and pass its \`compressors\`.`,
        );
      }
    }
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Uint8Array) return 'binary data';
  return `a ${typeof value}`;
}
