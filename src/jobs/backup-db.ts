/**
 * bin/backup-db: the nightly backup (src/jobs/backup/backup.ts), the restore drill with --verify
 * (src/jobs/backup/drill.ts) and, as "backup-db restore", the restore (src/jobs/backup/restore.ts); what they share
 * (the store, the manifest, pg_dump/pg_restore) is in src/jobs/backup/shared.ts.
 */
import { parseConninfo } from '../config/libpq-conninfo.js';
import { reportBackup, reportDrill, reportRestore } from '../core/reports/backup-db.js';
import { UsageError } from '../errors.js';
import type { JobDefinition } from '../runtime/runner.js';
import { backupDatabase } from './backup/backup.js';
import { verifyBackup } from './backup/drill.js';
import { restoreBackup } from './backup/restore.js';
import { type BackupDbOptions, openStore, type RestoreDbOptions } from './backup/shared.js';

export type { BackupDbOptions, RestoreDbOptions };

export const backupDbJob: JobDefinition<BackupDbOptions> = {
  name: 'backup-db',
  // A drill is not a backup: /status and /readyz judge the nightly backup by backup-db runs alone.
  runName: (o) => (o.mode === 'verify' ? 'backup-db-drill' : 'backup-db'),
  description:
    'Dump the database (pg_dump -Fc) straight into the blob store, ' +
    'check and record it, and delete backups older than --keep-days. ' +
    '--verify restores a backup into a scratch database and compares ' +
    'every table (recorded as backup-db-drill, never as a nightly ' +
    'backup). "backup-db restore --help" for restoring.',
  examples: [
    'bin/backup-db                                   # the daily backup, then retention (7 days)',
    'bin/backup-db --dry-run                         # check pg_dump and the store; list what retention would delete',
    'bin/backup-db --verify                          # restore drill of the latest good backup',
    'bin/backup-db --verify database/leadsmart_20251116T020000Z.dump --scratch-url postgresql://…/scratch',
    'bin/backup-db restore --from latest --target postgresql://leadsmart@db2/leadsmart',
  ],
  writes: true,
  addOptions(cmd) {
    cmd
      .option(
        '--keep-days <n>',
        'delete backups older than this many days after a good new one (default: BACKUP_KEEP_DAYS or 7)',
      )
      .option('--verify [key]', 'restore drill instead of a backup: the latest good backup, or this key')
      .option(
        '--scratch-url <url>',
        'with --verify: restore into this empty database instead of a throwaway local cluster',
      );
  },
  parseOptions(raw, args, { config }) {
    if (args.length > 0)
      throw new UsageError(
        `unexpected argument ${args[0]}; to restore use: bin/backup-db ` +
          `restore --from <key|latest> --target <database URL>`,
      );
    let keepDays = config.backup.keepDays;
    if (raw.keepDays !== undefined) {
      const text = String(raw.keepDays);
      keepDays = Number(text);
      if (!/^\d+$/.test(text) || keepDays < 1 || keepDays > 3650)
        throw new UsageError(`--keep-days ${text}: expected whole days from 1 to 3650`);
    }
    const verify = raw.verify;
    if (raw.scratchUrl !== undefined && verify === undefined) throw new UsageError('--scratch-url goes with --verify');
    if (raw.scratchUrl !== undefined && !/^postgres(ql)?:\/\//.test(String(raw.scratchUrl)))
      // The value is not repeated: a URL typed without its scheme still holds its password.
      throw new UsageError(
        '--scratch-url: expected a postgresql:// or postgres:// URL (the value given is not shown: it may hold a ' +
          'password)',
      );
    return {
      mode: verify === undefined ? 'backup' : 'verify',
      keepDays,
      verifyFrom: typeof verify === 'string' ? verify : 'latest',
      scratchUrl: raw.scratchUrl === undefined ? null : String(raw.scratchUrl),
    };
  },
  async run(ctx) {
    const deps = { ...ctx, store: await openStore(ctx) };
    return ctx.options.mode === 'verify'
      ? reportDrill(await verifyBackup(deps, ctx.options))
      : reportBackup(await backupDatabase(deps, ctx.options));
  },
};

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
    return reportRestore(await restoreBackup({ ...ctx, store: await openStore(ctx) }, ctx.options));
  },
};
