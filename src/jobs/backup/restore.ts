import { parseConninfo } from '../../config/libpq-conninfo.js';
import { compareCounts, findBackup, MANIFEST_KEY } from '../../core/backups/manifest.js';
import { DataError, ExitCode, UsageError } from '../../errors.js';
import type { JobDefinition } from '../../runtime/runner.js';
import { MB, openStore, readManifest, restoreStream, type RestoreDbOptions } from './shared.js';

/**
 * `bin/backup-db restore`: a stored backup into a database. It runs
 * against the target (its own connection, lock and checks), not
 * DATABASE_URL, so it works when the usual database is the one lost.
 */
export const restoreDbJob: JobDefinition<RestoreDbOptions> = {
  name: 'backup-db',
  description:
    'Restore a backup from the blob store (BLOB_URL) into --target, ' +
    'in one transaction, after checking its SHA-256. Refuses a ' +
    'database that has tables unless --force (which drops and ' +
    'recreates what the dump contains).',
  examples: [
    'bin/backup-db restore --from latest --target postgresql://leadsmart@db2:5432/leadsmart',
    'bin/backup-db restore --from database/leadsmart_20251116T020000Z.dump --target postgresql://…/leadsmart --force',
  ],
  writes: false,
  // The target may be empty: no schema check, no job_runs row in it.
  bookkeeping: false,
  databaseOption: 'target',
  addOptions(cmd) {
    cmd
      .argument('<restore>', 'the word "restore"')
      .requiredOption('--from <key|latest>', 'the backup: its key (database/…dump) or latest (the newest good one)')
      .requiredOption('--target <url>', 'the database to restore into (it must exist; create it with createdb)')
      .option(
        '--force',
        'restore into a database that already has tables: what the dump contains is dropped and recreated',
      );
  },
  parseOptions(raw) {
    const target = String(raw.target);
    // The value may hold a password: messages never echo it.
    if (!/^postgres(ql)?:\/\//.test(target))
      throw new UsageError(
        '--target: expected a URL, ' +
          'postgresql://user:password@host:port/database (or ' +
          'postgresql://user:password@/database?host=/socket/dir)',
      );
    try {
      parseConninfo(target);
    } catch (error) {
      throw new UsageError(
        `--target: not a connection URL libpq reads ` +
          `(${(error as Error).message}); expected ` +
          `postgresql://user:password@host:port/database`,
      );
    }
    return { from: String(raw.from), target, force: raw.force === true };
  },
  async run(ctx) {
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
    const store = await openStore(ctx);
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
    const text = [
      `Restored ${entry.key} ` +
        `(${entry.createdAt}, ${(entry.size / MB).toFixed(1)} MB, ` +
        `checksum checked) into the target in ${(ms / 1000).toFixed(1)} s.`,
      problems.length === 0
        ? `Row counts of all ${Object.keys(entry.tableCounts).length} tables match the dump.`
        : `Row counts differ from the dump:\n${problems.map((p) => `  ${p}`).join('\n')}`,
      'Next: bin/migrate against it, if this code is newer than the backup.',
    ].join('\n');
    return {
      exitCode: problems.length === 0 ? 0 : ExitCode.DATA_ERR,
      counts: { restored: 1, restore_ms: ms },
      summary: { key: entry.key, ms, problems },
      text,
    };
  },
};
