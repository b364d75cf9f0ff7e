import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Transaction } from 'kysely';
import type pg from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';
import { kyselyOnClient } from './connect.js';
import type { Database } from './tables.js';

/**
 * One transaction as a job's repositories see it: Kysely for every query, and COPY … FROM STDIN on the same
 * connection for bulk loads. This module is the only place COPY runs; jobs never see a `pg` client.
 */
export interface UnitOfWork {
  readonly trx: Transaction<Database>;
  /**
   * Runs `statement` (COPY … FROM STDIN) and streams `body` into it: COPY text or CSV, as the statement says.
   * pg-copy-streams sends each chunk as one protocol message: yield chunks of a few hundred KiB, not rows.
   * Returns the rows PostgreSQL copied.
   */
  copyFrom(
    statement: string,
    body: AsyncIterable<string | Buffer> | Iterable<string | Buffer> | Readable,
    ...transforms: ((source: AsyncIterable<Buffer>) => AsyncIterable<Buffer>)[]
  ): Promise<number>;
}

/**
 * Runs `fn` in one transaction on a connection of its own (taken with `connect`, so the caller can retry it):
 * committed when `fn` resolves, rolled back when it throws.
 */
export async function runInTransaction<T>(
  connect: () => Promise<pg.PoolClient>,
  fn: (work: UnitOfWork) => Promise<T>,
): Promise<T> {
  const client = await connect();
  try {
    return await kyselyOnClient(client)
      .transaction()
      .execute((trx) => fn(unitOfWork(trx, client)));
  } finally {
    client.release();
  }
}

function unitOfWork(trx: Transaction<Database>, client: pg.PoolClient): UnitOfWork {
  return {
    trx,
    async copyFrom(statement, body, ...transforms) {
      const stream = client.query(copyFromStdin(statement));
      const source = body instanceof Readable ? body : Readable.from(body);
      await (pipeline as (...streams: unknown[]) => Promise<void>)(source, ...transforms, stream as Writable);
      return Number(stream.rowCount);
    },
  };
}

/**
 * A value as a field of COPY's text format: backslash, tab, CR and LF escaped; null and undefined are `\N`.
 */
export function copyText(value: string | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'))
    : value;
}

/**
 * copyText for JSON.stringify output: it never holds a raw tab or line break (JSON writes them as \t and \n), so
 * only backslashes need doubling, and includes() scans 160 MB of details far faster than a regular expression.
 */
export function copyJson(json: string): string {
  return json.includes('\\') ? json.replaceAll('\\', '\\\\') : json;
}
