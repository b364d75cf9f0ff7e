import { createReadStream } from 'node:fs';
import { parse, type CsvError } from 'csv-parse';
import { readHead } from './spool.js';

/**
 * Beyond this a record is not a row with a long field but a file that is not CSV (or a quote never closed): the import
 * stops.
 */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** A field or row longer than this is an invalid row (csv-import.md, Large files). */
export const MAX_ROW_BYTES = 1024 * 1024;
const HEAD_BYTES = 1024 * 1024;

export interface CsvHeader {
  fields: string[];
  /** The last line of the header row: 1, unless blank lines precede it or a quoted name holds a line break. */
  lines: number;
  /** Byte offset just past the header row and its line end (a byte-order mark included). */
  end: number;
  /**
   * The rows' line end: that of the first line after the header (a header saved in another editor may end
   * otherwise), the header's when there is no row yet.
   */
  lineEnd: '\r\n' | '\n';
}

export class CsvStructureError extends Error {}

// Either line end on any row: csv-parse would otherwise take the first row's for all, and a CRLF header over LF rows
// would read as one endless row.
const OPTIONS = {
  bom: true,
  relax_column_count: true,
  relax_quotes: true,
  skip_empty_lines: true,
  record_delimiter: ['\r\n', '\n'],
};

/** Parses the header row from the first MiB of a file; null for an empty file. */
export async function readHeader(path: string): Promise<CsvHeader | null> {
  const head = await readHead(path, HEAD_BYTES);
  if (head.length === 0) return null;
  return new Promise((resolve, reject) => {
    let header: CsvHeader | null = null;
    const parser = parse({ ...OPTIONS, info: true, to: 1 });
    parser.on('data', (r: { record: string[]; info: { empty_lines: number; bytes: number } }) => {
      const own = r.info.bytes >= 2 && head[r.info.bytes - 2] === 0x0d ? '\r\n' : '\n';
      const next = head.indexOf(0x0a, r.info.bytes);
      header ??= {
        fields: r.record,
        lines: 1 + r.info.empty_lines + countNewlines(r.record),
        end: r.info.bytes,
        lineEnd: next < 0 ? own : next > 0 && head[next - 1] === 0x0d ? '\r\n' : '\n',
      };
    });
    parser.on('error', (e: CsvError) =>
      reject(
        new CsvStructureError(
          head.length === HEAD_BYTES
            ? 'the header row is longer than 1 MiB: this is not a CSV file with a header'
            : `the header row cannot be read: ${e.message}`,
        ),
      ),
    );
    parser.on('end', () => {
      if (header && header.end >= HEAD_BYTES)
        reject(new CsvStructureError('the header row is longer than 1 MiB: this is not a CSV file with a header'));
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

/** A string of n UTF-16 units holds at most 3n bytes of UTF-8: count bytes only when that could pass the limit. */
function oversized(fields: readonly string[]): string | null {
  let chars = 0;
  for (const f of fields) chars += f.length;
  if (chars * 3 <= MAX_ROW_BYTES) return null;
  const index = fields.findIndex((f) => f.length * 3 > MAX_ROW_BYTES && Buffer.byteLength(f) > MAX_ROW_BYTES);
  if (index >= 0) return `field ${index + 1}: longer than 1 MiB`;
  return fields.reduce((n, f) => n + Buffer.byteLength(f), 0) > MAX_ROW_BYTES ? 'row: longer than 1 MiB' : null;
}

/**
 * Every data row of a CSV file after its header, with the line each starts
 * on. Rows with fewer fields than the header, or more non-empty ones, carry
 * a problem instead of failing the file; an unclosed quote or a record past
 * MAX_RECORD_BYTES ends the file with one last problem row, since nothing
 * after it can be read.
 */
export async function* readRecords(path: string, width: number): AsyncGenerator<CsvRecord> {
  // Lines are counted here, not taken from csv-parse's info.lines, which counts a CRLF inside quotes as two lines.
  const parser = createReadStream(path, { highWaterMark: 1 << 20 }).pipe(
    parse({ ...OPTIONS, info: true, max_record_size: MAX_RECORD_BYTES }),
  );
  let records = 0;
  let newlines = 0;
  let empty = 0;
  try {
    for await (const r of parser as AsyncIterable<{ record: string[]; info: { empty_lines: number } }>) {
      const fields = r.record;
      empty = r.info.empty_lines;
      const line = 1 + empty + records + newlines;
      records++;
      newlines += countNewlines(fields);
      if (records === 1) continue; // the header
      const tooLong = oversized(fields);
      if (tooLong) {
        yield { line, fields: fields.map((f) => (f.length > 200 ? `${f.slice(0, 200)}…` : f)), problem: tooLong };
      } else if (fields.length < width) {
        yield { line, fields, problem: `expected ${width} fields as in the header, found ${fields.length}` };
      } else if (fields.length > width && fields.slice(width).some((f) => f.trim() !== '')) {
        yield {
          line,
          fields,
          problem:
            `expected ${width} fields as in the header, ` +
            `found ${fields.length} (a comma inside a value needs the value ` +
            `in double quotes)`,
        };
      } else {
        yield { line, fields: fields.length > width ? fields.slice(0, width) : fields };
      }
    }
  } catch (error) {
    const e = error as CsvError;
    const line = 1 + empty + records + newlines;
    const problem =
      e.code === 'CSV_QUOTE_NOT_CLOSED'
        ? `a double quote opens a field on or after line ${line} and is ` +
          `never closed, so the rest of the file cannot be read; close the ` +
          `quote or remove it`
        : e.code === 'CSV_MAX_RECORD_SIZE'
          ? `a row longer than ${MAX_RECORD_BYTES / 1024 / 1024} MiB starts ` +
            `here: this is not CSV, or a quote is never closed`
          : `unreadable CSV: ${e.message}`;
    yield { line, fields: [], problem };
  }
}
