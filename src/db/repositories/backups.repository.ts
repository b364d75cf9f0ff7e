import { sql, type Kysely } from 'kysely';
import type { BackupEntry, VerifyResult } from '../../core/backups/manifest.js';
import { type DatabaseHandle, kyselyOnClient } from '../connect.js';
import type { Database } from '../tables.js';

export interface ServerInfo {
  /** server_version, for example "15.18 (Debian 15.18-0+deb12u1)" trimmed to "15.18". */
  version: string;
  major: number;
  database: string;
}

export async function readServerInfo(db: Kysely<Database>): Promise<ServerInfo> {
  const r = await sql<{
    v: string;
    n: string;
    d: string;
  }>`SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n, current_database() AS
    d`.execute(db);
  const row = r.rows[0]!;
  return { version: row.v.split(' ')[0]!, major: Math.floor(Number(row.n) / 10000), database: row.d };
}

/** Every ordinary and partitioned table outside the system schemas (partitions are counted through their parent). */
const TABLES = `
  SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
     AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
   ORDER BY 1`;

/** Exact row counts of every table, as this connection's transaction sees them. */
export async function countRows(db: Kysely<Database>): Promise<Record<string, number>> {
  const tables = await sql.raw<{ name: string }>(TABLES).execute(db);
  const counts: Record<string, number> = {};
  for (const { name } of tables.rows) {
    // Names come from quote_ident above: safe to put in the statement.
    const r = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.raw(name)}`.execute(db);
    counts[name] = Number(r.rows[0]!.n);
  }
  return counts;
}

/** True when the database has no table outside the system schemas. */
export async function isEmptyDatabase(db: Kysely<Database>): Promise<{ empty: boolean; tables: string[] }> {
  const r = await sql.raw<{ name: string }>(TABLES).execute(db);
  return { empty: r.rows.length === 0, tables: r.rows.map((x) => x.name) };
}

/**
 * A read-only repeatable-read transaction whose snapshot pg_dump imports
 * (--snapshot), so the row counts taken here are exactly the dump's. It
 * must stay open until pg_dump has started; close() ends it.
 */
export async function exportSnapshot(
  database: DatabaseHandle,
): Promise<{ id: string; countRows(): Promise<Record<string, number>>; close(): Promise<void> }> {
  const client = await database.pool.connect();
  const db = kyselyOnClient(client);
  try {
    await sql`BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY`.execute(db);
    const r = await sql<{ id: string }>`SELECT pg_export_snapshot() AS id`.execute(db);
    return {
      id: r.rows[0]!.id,
      countRows: () => countRows(db),
      async close() {
        await sql`ROLLBACK`.execute(db).catch(() => undefined);
        client.release();
      },
    };
  } catch (error) {
    client.release();
    throw error;
  }
}

export async function recordBackup(db: Kysely<Database>, entry: BackupEntry, runId: string | null): Promise<void> {
  await db
    .insertInto('backups')
    .values({
      key: entry.key,
      created_at: entry.createdAt,
      size: entry.size,
      sha256: entry.sha256,
      server_version: entry.serverVersion,
      encryption: entry.encryption,
      run_id: runId,
      verified_at: entry.verify.at,
      verify_method: entry.verify.method,
      verify_ok: entry.verify.ok,
      verify_problems: JSON.stringify(entry.verify.problems),
    })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        verified_at: entry.verify.at,
        verify_method: entry.verify.method,
        verify_ok: entry.verify.ok,
        verify_problems: JSON.stringify(entry.verify.problems),
        deleted_at: null,
      }),
    )
    .execute();
}

/** Records a --verify result; the row is created from the manifest entry when an older backup has none. */
export async function recordVerify(db: Kysely<Database>, entry: BackupEntry, result: VerifyResult): Promise<void> {
  await recordBackup(db, { ...entry, verify: result }, null);
}

export async function markBackupsDeleted(db: Kysely<Database>, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await db
    .updateTable('backups')
    .set({ deleted_at: sql`now()` })
    .where('key', 'in', [...keys])
    .execute();
}
