import { createReadStream } from 'node:fs';
import { parse, type CsvError } from 'csv-parse';
import { readHead } from './spool.js';

/** Beyond this a record is not a row with a long field but a file that is not CSV (or a quote never closed): the import stops. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
const HEAD_BYTES = 1024 * 1024;

export interface CsvHeader {
  fields: string[];
  /** Lines the header row spans (1 unless a quoted name holds a line break). */
  lines: number;
  /** Byte offset just past the header row and its line end (a byte-order mark included). */
  end: number;
}

export class CsvStructureError extends Error {}

const OPTIONS = { bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true } as const;

/** Parses the header row from the first MiB of a file; null for an empty file. */
export async function readHeader(path: string): Promise<CsvHeader | null> {
  const head = await readHead(path, HEAD_BYTES);
  if (head.length === 0) return null;
  return new Promise((resolve, reject) => {
    let header: CsvHeader | null = null;
    const parser = parse({ ...OPTIONS, info: true, to: 1 });
    parser.on('data', (r: { record: string[]; info: { lines: number; bytes: number } }) => {
      header ??= { fields: r.record, lines: r.info.lines, end: r.info.bytes };
    });
    parser.on('error', (e: CsvError) =>
      reject(new CsvStructureError(head.length === HEAD_BYTES ? 'the header row is longer than 1 MiB: this is not a CSV file with a header' : `the header row cannot be read: ${e.message}`)),
    );
    parser.on('end', () => {
      if (header && header.end >= HEAD_BYTES) reject(new CsvStructureError('the header row is longer than 1 MiB: this is not a CSV file with a header'));
      else resolve(header);
    });
    parser.end(head);
  });
}

/** One data row: its fields, the line it starts on, and what makes it unreadable, if anything. */
export interface CsvRecord {
  line: number;
  fields: string[];
  problem?: string;
}

const countNewlines = (fields: readonly string[]): number => {
  let n = 0;
  for (const f of fields) for (let i = f.indexOf('\n'); i >= 0; i = f.indexOf('\n', i + 1)) n++;
  return n;
};

/**
 * Every data row of a CSV file after its header, with the line each starts
 * on. Rows with fewer fields than the header, or more non-empty ones, carry
 * a problem instead of failing the file; an unclosed quote or a record past
 * MAX_RECORD_BYTES ends the file with one last problem row, since nothing
 * after it can be read.
 */
export async function* readRecords(path: string, width: number, headerLines: number): AsyncGenerator<CsvRecord> {
  const parser = createReadStream(path, { highWaterMark: 1 << 20 }).pipe(parse({ ...OPTIONS, info: true, from: 2, max_record_size: MAX_RECORD_BYTES }));
  let previousEnd = headerLines;
  try {
    for await (const r of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const end = r.info.lines;
      const line = end === previousEnd + 1 ? end : end - countNewlines(r.record);
      previousEnd = end;
      const fields = r.record;
      if (fields.length < width) {
        yield { line, fields, problem: `expected ${width} fields as in the header, found ${fields.length}` };
      } else if (fields.length > width && fields.slice(width).some((f) => f.trim() !== '')) {
        yield { line, fields, problem: `expected ${width} fields as in the header, found ${fields.length} (a comma inside a value needs the value in double quotes)` };
      } else {
        yield { line, fields: fields.length > width ? fields.slice(0, width) : fields };
      }
    }
  } catch (error) {
    const e = error as CsvError;
    const line = previousEnd + 1;
    const problem =
      e.code === 'CSV_QUOTE_NOT_CLOSED'
        ? `a double quote opens a field on or after line ${line} and is never closed, so the rest of the file (to line ${e.lines}) cannot be read; close the quote or remove it`
        : e.code === 'CSV_MAX_RECORD_SIZE'
          ? `a row longer than ${MAX_RECORD_BYTES / 1024 / 1024} MiB starts here: this is not CSV, or a quote is never closed`
          : `unreadable CSV: ${e.message}`;
    yield { line, fields: [], problem };
  }
}
