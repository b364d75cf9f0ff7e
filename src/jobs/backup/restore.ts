import { compareCounts, findBackup, MANIFEST_KEY } from '../../core/backups/manifest.js';
import { DataError, UsageError } from '../../errors.js';
import type { RestoreResult } from '../../core/reports/backup-db.js';
import { type BackupDeps, readManifest, restoreStream, type RestoreDbOptions } from './shared.js';

/**
 * Restores a stored backup (options.from: its key, or the newest good one) into the database deps.db is connected
 * to, in one transaction, after checking its SHA-256; refuses a database with tables unless options.force. Then
 * compares every table's row count with the dump's.
 */
export async function restoreBackup(deps: BackupDeps, options: RestoreDbOptions): Promise<RestoreResult> {
  const ctx = { ...deps, options };
  const { countRows, isEmptyDatabase } = await import('../../db/repositories/backups.repository.js');
  const tables = (await isEmptyDatabase(ctx.db)).tables;
  if (tables.length > 0 && !ctx.options.force) {
    throw new UsageError(
      `the target database is not empty (${tables.length} ` +
        `tables: ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''}); ` +
        `nothing was changed. Restore into an empty database (createdb), ` +
        `or pass --force to drop and recreate what the dump contains.`,
    );
  }
  const { store } = deps;
  const manifest = await readManifest(ctx, store);
  const entry = findBackup(manifest, ctx.options.from);
  if (entry === null) {
    const known = manifest.backups.slice(-5).map((b) => `${b.key}${b.verify.ok ? '' : ' (failed its last check)'}`);
    throw new UsageError(
      `--from ${ctx.options.from}: no ` +
        `such ${ctx.options.from === 'latest' ? 'good backup' : 'backup'} ` +
        `in ${MANIFEST_KEY} ` +
        `of ${ctx.redact(store.url)}${known.length ? ` (latest: ${known.join(', ')})` : ' (it records none)'}`,
    );
  }
  const t0 = Date.now();
  const restored = await restoreStream(ctx, store, entry, ctx.config.databaseUrl, tables.length > 0);
  if (!restored.ok) throw new DataError(`restoring ${entry.key}: ${restored.problem}`);
  const problems = compareCounts(entry.tableCounts, await countRows(ctx.db));
  const ms = Date.now() - t0;
  return {
    key: entry.key,
    createdAt: entry.createdAt,
    size: entry.size,
    tables: Object.keys(entry.tableCounts).length,
    problems,
    ms,
  };
}
