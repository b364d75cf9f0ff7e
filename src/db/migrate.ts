import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import type { DatabaseHandle } from './connect.js';
import { ConfigError } from '../errors.js';

export interface MigrationFile {
  filename: string;
  checksum: string;
  sql: string;
}

const MIGRATION_NAME = /^\d{3,}_[a-z0-9_-]+\.sql$/;

export async function readMigrations(dir: string): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.sql')).sort();
  const bad = names.filter((n) => !MIGRATION_NAME.test(n));
  if (bad.length > 0) {
    throw new ConfigError(`migration files must be named like 001_description.sql: ${bad.join(', ')} in ${dir}`);
  }
  return Promise.all(
    names.map(async (filename) => {
      const sql = await readFile(join(dir, filename), 'utf8');
      return { filename, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  filename text PRIMARY KEY,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

interface Applied {
  filename: string;
  checksum: string;
}

async function appliedMigrations(client: pg.PoolClient | pg.Pool): Promise<Applied[] | null> {
  const exists = await client.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
  if (!exists.rows[0]?.t) return null;
  return (await client.query<Applied>('SELECT filename, checksum FROM schema_migrations ORDER BY filename')).rows;
}

/** Problems that make the applied history disagree with the files: edited or missing files. */
function historyProblems(files: MigrationFile[], applied: Applied[]): string[] {
  const byName = new Map(files.map((f) => [f.filename, f]));
  const problems: string[] = [];
  for (const a of applied) {
    const f = byName.get(a.filename);
    if (!f) {
      problems.push(
        `${a.filename} was applied to this database but is missing from ` +
          `sql/: restore it (applied migrations are never removed)`,
      );
    } else if (f.checksum !== a.checksum) {
      problems.push(
        `${a.filename} was edited after it was applied ` +
          `(checksum ${f.checksum.slice(0, 12)}… is not the ` +
          `applied ${a.checksum.slice(0, 12)}…): restore the original and ` +
          `put the change in a new migration file`,
      );
    }
  }
  return problems;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

/**
 * Applies pending migrations in filename order, each in its own transaction.
 * The caller holds the migrate advisory lock. Refuses to run, changing
 * nothing, when an applied file was edited or removed.
 */
export async function applyMigrations(
  client: pg.PoolClient,
  dir: string,
  options: { dryRun?: boolean; onApplied?: (filename: string, ms: number) => void } = {},
): Promise<MigrateResult> {
  const files = await readMigrations(dir);
  const applied = (await appliedMigrations(client)) ?? [];
  const problems = historyProblems(files, applied);
  if (problems.length > 0) {
    throw new ConfigError(
      `refusing to migrate: ${problems.length} problem${problems.length === 1 ? '' : 's'} with applied migrations`,
      { problems },
    );
  }
  const done = new Set(applied.map((a) => a.filename));
  const pending = files.filter((f) => !done.has(f.filename));
  if (options.dryRun) return { applied: pending.map((f) => f.filename), alreadyApplied: done.size };
  if (applied.length === 0) await client.query(CREATE_TABLE);
  for (const f of pending) {
    const started = Date.now();
    await client.query('BEGIN');
    try {
      await client.query(f.sql);
      await client.query('INSERT INTO schema_migrations (filename, checksum) VALUES ($1, $2)', [
        f.filename,
        f.checksum,
      ]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new ConfigError(`migration ${f.filename} failed and was rolled back: ${(error as Error).message}`, {
        cause: error,
      });
    }
    options.onApplied?.(f.filename, Date.now() - started);
  }
  return { applied: pending.map((f) => f.filename), alreadyApplied: done.size };
}

/** Throws a ConfigError naming the fix when the database schema is not exactly the files in sql/. */
export async function assertSchemaCurrent(pool: pg.Pool, dir: string): Promise<void> {
  const files = await readMigrations(dir);
  const applied = await appliedMigrations(pool);
  if (applied === null) {
    throw new ConfigError(
      'the database has no Leadsmart schema yet: run bin/migrate (or make db for the local database)',
    );
  }
  const problems = historyProblems(files, applied);
  const done = new Set(applied.map((a) => a.filename));
  const pending = files.filter((f) => !done.has(f.filename)).map((f) => f.filename);
  if (pending.length > 0)
    problems.push(`pending migration${pending.length === 1 ? '' : 's'} ${pending.join(', ')}: run bin/migrate`);
  if (problems.length > 0) throw new ConfigError('the database schema does not match sql/', { problems });
}

/** applyMigrations on a connection of its own from `database`, released afterwards. */
export async function migrateDatabase(
  database: DatabaseHandle,
  dir: string,
  options: { dryRun?: boolean; onApplied?: (filename: string, ms: number) => void } = {},
): Promise<MigrateResult> {
  const client = await database.pool.connect();
  try {
    return await applyMigrations(client, dir, options);
  } finally {
    client.release();
  }
}
