import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareCounts, findBackup, MANIFEST_KEY, type VerifyResult } from '../../core/backups/manifest.js';
import { UnavailableError, UsageError } from '../../errors.js';
import { PROJECT_ROOT } from '../../runtime/paths.js';
import type { DrillResult } from '../../core/reports/backup-db.js';
import type { JobDeps } from '../../runtime/job-deps.js';
import {
  readManifest,
  restoreStream,
  run,
  withDatabase,
  writeManifest,
  type BackupDbOptions,
  type BackupDeps,
} from './shared.js';

/** The restore drill (--verify): a backup restored into a scratch database and compared table by table. */

const SCRATCH_PREFIX = 'leadsmart-verify-';

/** The file in a scratch folder naming the process that made it. */
const OWNER = 'owner.pid';

/** Whether the process is running (a zombie is not; neither is one this user may not signal, which is not ours). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return true;
}

/**
 * What killed drills left in TMPDIR: their scratch server (still running, its parent gone) and its files, hundreds
 * of MB. Only folders whose maker has ended are touched (another database's drill may be running on this machine):
 * each is stopped and removed. A folder another user owns is left as it is.
 */
async function sweepKilledDrills(ctx: JobDeps, script: string): Promise<void> {
  const { baseToolEnvironment } = await import('../../integrations/pg-dump/pg-tools.js');
  const names = (await readdir(tmpdir()).catch(() => [] as string[])).filter((n) => n.startsWith(SCRATCH_PREFIX));
  for (const name of names) {
    const dir = join(tmpdir(), name);
    const owner = Number((await readFile(join(dir, OWNER), 'utf8').catch(() => '')).trim());
    if (!Number.isSafeInteger(owner) || owner <= 0 || processAlive(owner)) continue;
    await run(script, ['stop', dir], { env: baseToolEnvironment() }).catch(() => undefined);
    try {
      await rm(dir, { recursive: true });
      ctx.logger.info(`removed ${dir}, a restore drill's scratch cluster a killed run left behind`);
    } catch {
      // Not ours to remove.
    }
  }
}

/** A throwaway PostgreSQL cluster for the restore drill (scripts/pg-cluster.sh), stopped and removed after. */
export async function withScratchDatabase<T>(
  ctx: JobDeps & { options: BackupDbOptions },
  fn: (url: string) => Promise<T>,
): Promise<T> {
  if (ctx.options.scratchUrl !== null) return fn(ctx.options.scratchUrl);
  const script = join(PROJECT_ROOT, 'scripts', 'pg-cluster.sh');
  await sweepKilledDrills(ctx, script);
  const dir = await mkdtemp(join(tmpdir(), SCRATCH_PREFIX));
  try {
    // The scratch cluster's scripts get the locale and PATH, never this process's secrets.
    const { baseToolEnvironment } = await import('../../integrations/pg-dump/pg-tools.js');
    await run(script, ['start', dir, '--fast'], {
      env: {
        ...baseToolEnvironment(),
        ...(ctx.config.backup.pgBinDir ? { PG_BINDIR: ctx.config.backup.pgBinDir } : {}),
      },
    });
    // Written once the cluster is there (the script wants an empty folder): a folder without it is never swept.
    await writeFile(join(dir, OWNER), `${process.pid}\n`);
  } catch (error) {
    throw new UnavailableError(
      `cannot start a scratch PostgreSQL cluster for the restore drill ` +
        `(${((error as { stderr?: string }).stderr ?? (error as Error).message).trim()}); ` +
        `install the PostgreSQL server binaries, or pass --scratch-url ` +
        `with an empty database`,
      { cause: error },
    );
  }
  try {
    // Every setting spelled out: the operator's PGPORT, PGSSLMODE or PGUSER (meant for production) must not point the
    // drill elsewhere. The scratch server listens on its own socket, at the default port, without SSL.
    return await fn(
      `postgresql://postgres@/postgres?host=${encodeURIComponent(join(dir, 'run'))}&port=5432&sslmode=disable`,
    );
  } finally {
    const { baseToolEnvironment } = await import('../../integrations/pg-dump/pg-tools.js');
    await run(script, ['stop', dir], { env: baseToolEnvironment() }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * The restore drill: the backup downloaded, its checksum checked, restored
 * into an empty scratch database, and every table's row count compared
 * with the counts taken at dump time. The result goes into the manifest
 * and the backups table (the status service shows it).
 */
export async function verifyBackup(deps: BackupDeps, options: BackupDbOptions): Promise<DrillResult> {
  const ctx = { ...deps, options };
  const { countRows, isEmptyDatabase, recordVerify } = await import('../../db/repositories/backups.repository.js');
  const { store } = deps;
  const manifest = await readManifest(ctx, store);
  const entry = findBackup(manifest, ctx.options.verifyFrom);
  if (entry === null) {
    throw new UsageError(
      `--verify ${ctx.options.verifyFrom}: no such backup in ${MANIFEST_KEY} ` +
        `(${manifest.backups.length} recorded` +
        (manifest.backups.length > 0 ? `, the latest ${manifest.backups.at(-1)!.key})` : ')'),
    );
  }
  const t0 = Date.now();
  const result = await withScratchDatabase(ctx, async (url): Promise<VerifyResult> => {
    const before = await withDatabase(url, (db) => isEmptyDatabase(db));
    if (!before.empty)
      throw new UsageError(
        `--scratch-url: the database is not empty ` +
          `(${before.tables.slice(0, 5).join(', ')}${before.tables.length > 5 ? ', …' : ''}); ` +
          `the drill restores into an empty database only`,
      );
    const restored = await restoreStream(ctx, store, entry, url, false);
    const problems = restored.ok
      ? compareCounts(entry.tableCounts, await withDatabase(url, (db) => countRows(db)))
      : [restored.problem];
    return { at: ctx.clock.now().toISOString(), ok: problems.length === 0, method: 'restore', problems };
  });
  const ms = Date.now() - t0;
  if (!ctx.dryRun) {
    const updated = manifest.backups.map((b) =>
      b.key === entry.key ? { ...b, verify: result, drills: [...(b.drills ?? []), result].slice(-12) } : b,
    );
    await writeManifest(ctx, store, { ...manifest, backups: updated });
    await recordVerify(ctx.db, entry, result);
  }
  const tables = Object.keys(entry.tableCounts).length;
  if (!result.ok) ctx.logger.error(`${entry.key} FAILED verification: ${result.problems.join('; ')}`);
  return { key: entry.key, ok: result.ok, problems: result.problems, tables, ms };
}
