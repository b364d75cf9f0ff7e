/**
 * bin/backup-db: the nightly backup (src/jobs/backup/backup.ts), the restore drill with --verify
 * (src/jobs/backup/drill.ts) and, as "backup-db restore", the restore (src/jobs/backup/restore.ts); what they share
 * (the store, the manifest, pg_dump/pg_restore) is in src/jobs/backup/shared.ts.
 */
import { UsageError } from '../errors.js';
import type { JobDefinition } from '../runtime/runner.js';
import { runBackup } from './backup/backup.js';
import { runVerify } from './backup/drill.js';
import type { BackupDbOptions } from './backup/shared.js';

export type { BackupDbOptions, RestoreDbOptions } from './backup/shared.js';
export { restoreDbJob } from './backup/restore.js';

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
      throw new UsageError(`--scratch-url ${String(raw.scratchUrl)}: expected postgresql://…`);
    return {
      mode: verify === undefined ? 'backup' : 'verify',
      keepDays,
      verifyFrom: typeof verify === 'string' ? verify : 'latest',
      scratchUrl: raw.scratchUrl === undefined ? null : String(raw.scratchUrl),
    };
  },
  run(ctx) {
    return ctx.options.mode === 'verify' ? runVerify(ctx) : runBackup(ctx);
  },
};
