import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './tables.js';

const DATE_OID = 1082;

/**
 * Type parsers for our connections: DATE stays a `YYYY-MM-DD` string (pg's
 * default turns it into a local-time JS Date, which shifts days); numeric and
 * bigint stay exact strings (pg's default).
 */
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === DATE_OID) return (value: string) => value;
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

/** One connection checked out of the pool (for a transaction, a lock, a snapshot): released by its taker. */
export type PooledConnection = pg.PoolClient;

export interface DatabaseHandle {
  db: Kysely<Database>;
  pool: pg.Pool;
  close(): Promise<void>;
}

/**
 * A pool and its Kysely instance. `connectionString` undefined means "use the
 * standard PG* environment variables", as libpq does.
 */
export function connectDatabase(
  connectionString: string | undefined,
  options: {
    max?: number;
    applicationName?: string;
    workMem?: string;
    readOnly?: boolean;
    statementTimeoutMs?: number;
  } = {},
): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 4,
    types: typeParsers,
    application_name: options.applicationName ?? 'leadsmart',
    connectionTimeoutMillis: 10_000,
    // JIT compilation costs ~200 ms per query on PostgreSQL 15 and our aggregate queries finish in less.
    // The scoring aggregate hashes one row per campaign: at 100,000 campaigns the default 4 MB
    // work_mem spills it and its sort to disk (measured 5.2 s instead of 4.0 s).
    options: [
      '-c jit=off',
      `-c work_mem=${options.workMem ?? '128MB'}`,
      // Belt and braces for the status service: its role cannot write, and its sessions refuse to.
      ...(options.readOnly ? ['-c default_transaction_read_only=on'] : []),
      ...(options.statementTimeoutMs ? [`-c statement_timeout=${options.statementTimeoutMs}`] : []),
    ].join(' '),
  });
  // A client that loses its server emits 'error': with no listener that crashes the process (exit 1, no EMF
  // line, temporary files left behind). The pool listens only while a client is idle; every client gets a listener
  // of its own for the time it is checked out, and the query in flight (or the next one) reports the loss, which the
  // runner classifies as a lost connection (exit 69).
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    async close() {
      // Kysely ends the pool only if it ran a query itself; end it here in every case.
      await db.destroy();
      if (!pool.ended) await pool.end();
    },
  };
}

/**
 * How many connections named `applicationName` the server still has, asked from a connection of its own; -1 when
 * the server cannot be reached (an outage, not one connection ended).
 */
export async function countConnections(handle: DatabaseHandle, applicationName: string): Promise<number> {
  const client = new pg.Client({
    ...handle.pool.options,
    application_name: 'leadsmart:probe',
    connectionTimeoutMillis: 5000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const r = await client.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM pg_stat_activity WHERE application_name = $1',
      [applicationName],
    );
    return Number(r.rows[0]!.n);
  } catch {
    return -1;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Cancels the running statements of every connection named `applicationName`, from a connection of its own (the
 * pool's may all be busy, waiting in the very statements to cancel). Best effort: a failure is ignored.
 */
export async function cancelStatements(handle: DatabaseHandle, applicationName: string): Promise<void> {
  const client = new pg.Client({ ...handle.pool.options, application_name: 'leadsmart:cancel' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
      applicationName,
    ]);
  } catch {
    // The statements end by themselves, or with their connections.
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A Kysely instance bound to one checked-out client, so that a job's
 * transaction and its COPY streams run on the same connection.
 */
export function kyselyOnClient(client: pg.PoolClient): Kysely<Database> {
  const single = {
    // Kysely releases after every query; this connection is released by its owner instead.
    connect: async () => ({ query: client.query.bind(client), release: () => undefined }),
    end: async () => undefined,
  };
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: single as unknown as pg.Pool }) });
}

export type { Transaction };
