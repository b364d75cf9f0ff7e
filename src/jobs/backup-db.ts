import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import type pg from 'pg';
import { parseConninfo } from '../config/libpq-conninfo.js';
import {
  backupKey,
  compareCounts,
  emptyManifest,
  findBackup,
  MANIFEST_KEY,
  parseManifest,
  planRetention,
  serializeManifest,
  type BackupEntry,
  type Manifest,
  type RetentionPlan,
  type VerifyResult,
} from '../core/backups/manifest.js';
import type { BlobStore, Encryption } from '../integrations/storage/blob-store.js';
import type { PgTool } from '../integrations/pg-dump/pg-tools.js';
import { ConfigError, DataError, ExitCode, UnavailableError, UsageError } from '../errors.js';
import { PROJECT_ROOT } from '../runtime/paths.js';
import type { JobContext, JobDefinition, JobOutcome } from '../runtime/runner.js';

export interface BackupDbOptions {
  mode: 'backup' | 'verify';
  keepDays: number;
  /** --verify: a key, or 'latest'. */
  verifyFrom: string;
  /** --verify: restore into this (empty) database instead of a throwaway cluster. */
  scratchUrl: string | null;
}

export interface RestoreDbOptions {
  from: string;
  target: string;
  force: boolean;
}

const run = promisify(execFile);
const MB = 1024 * 1024;

function describeS3(error: unknown): string {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  return `${e?.name ?? 'Error'}${e?.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : ''}: ${e?.message ?? String(error)}`;
}

/** Blob store calls fail with 69 after the SDK's own retries, naming the store and what was being done. */
async function storeCall<T>(ctx: JobContext<unknown>, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof UnavailableError || error instanceof ConfigError || error instanceof DataError) throw error;
    ctx.throwIfInterrupted();
    throw new UnavailableError(`blob store ${ctx.redact(ctx.config.blobUrl)}: ${what} failed after retries (${ctx.redact(describeS3(error))}); no backup was removed. Check BLOB_URL, the network and the credentials, then run again.`, { cause: error });
  }
}

async function openStore(ctx: JobContext<unknown>): Promise<BlobStore> {
  const { openBlobStore } = await import('../integrations/storage/blob-store.js');
  return storeCall(ctx, 'opening', () => openBlobStore(ctx.config.blobUrl));
}

async function readManifest(ctx: JobContext<unknown>, store: BlobStore): Promise<Manifest> {
  if (!(await storeCall(ctx, `reading ${MANIFEST_KEY}`, () => store.exists(MANIFEST_KEY)))) return emptyManifest();
  const text = await storeCall(ctx, `reading ${MANIFEST_KEY}`, async () => {
    const chunks: Buffer[] = [];
    for await (const c of await store.get(MANIFEST_KEY)) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  });
  try {
    return parseManifest(text);
  } catch (error) {
    throw new DataError(`${(error as Error).message}; nothing was changed. Restore the manifest from the bucket's versions, or move it aside to start a new one (the backups themselves stay where they are).`, { cause: error });
  }
}

function encryptionFor(ctx: JobContext<unknown>, store: BlobStore): Encryption | undefined {
  const b = ctx.config.backup;
  if (b.encryption === 'none' || !store.url.startsWith('s3://')) return undefined;
  return { mode: b.encryption, kmsKeyId: b.kmsKeyId };
}

async function writeManifest(ctx: JobContext<unknown>, store: BlobStore, m: Manifest): Promise<void> {
  await storeCall(ctx, `writing ${MANIFEST_KEY}`, () => store.put(MANIFEST_KEY, serializeManifest(m), { contentType: 'application/json', encryption: encryptionFor(ctx, store) }));
}

async function sha256Of(store: BlobStore, key: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of await store.get(key)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

async function pgToolFor(ctx: JobContext<unknown>, tool: 'pg_dump' | 'pg_restore', major: number): Promise<PgTool> {
  const { findPgTool, PgToolError } = await import('../integrations/pg-dump/pg-tools.js');
  try {
    return await findPgTool(tool, major, ctx.config.backup.pgBinDir);
  } catch (error) {
    if (error instanceof PgToolError) throw new UnavailableError(error.message, { cause: error });
    throw error;
  }
}

function describeRetention(plan: RetentionPlan, verb: string): string[] {
  return [
    ...plan.delete.map((b) => `${verb} ${b.key} (${b.createdAt.slice(0, 10)}, ${(b.size / MB).toFixed(1)} MB)`),
    ...plan.orphans.map((k) => `${verb} ${k} (not in the manifest: a run stopped before recording it)`),
    ...plan.kept.map((k) => `kept ${k.key}: ${k.why}`),
  ];
}

async function applyRetention(ctx: JobContext<BackupDbOptions>, store: BlobStore, manifest: Manifest): Promise<RetentionPlan> {
  const objects = await storeCall(ctx, 'listing database/', () => store.list('database/'));
  const plan = planRetention(manifest, objects, ctx.clock.now(), ctx.options.keepDays);
  if (ctx.dryRun) return plan;
  const { markBackupsDeleted } = await import('../db/repositories/backups.repository.js');
  // The manifest forgets a backup before its object goes: a crash in between leaves an orphan (removed next time), never an entry without its object.
  const doomed = new Set(plan.delete.map((b) => b.key));
  if (doomed.size > 0) await writeManifest(ctx, store, { ...manifest, backups: manifest.backups.filter((b) => !doomed.has(b.key)) });
  for (const key of [...doomed, ...plan.orphans]) await storeCall(ctx, `deleting ${key}`, () => store.delete(key));
  await markBackupsDeleted(ctx.db, [...doomed, ...plan.orphans]);
  // What a killed run left behind in a folder store (database/*.dump.partial-*), once it is a day old: never a
  // partial file of a backup running now.
  const leftovers = await storeCall(ctx, 'removing leftover partial files', () => store.sweepPartials('database/', new Date(Date.now() - 86_400_000)));
  if (leftovers.length > 0) ctx.logger.info(`removed ${leftovers.length} partial file(s) a killed run left behind: ${leftovers.join(', ')}`);
  return plan;
}

/**
 * The daily backup: pg_dump -Fc at an exported snapshot, streamed into the
 * blob store (S3 multipart: nothing appears under the key until the dump
 * succeeded), checked (size, encryption, read back and hashed), recorded
 * in the manifest with the row count of every table at that snapshot; then
 * retention.
 */
async function runBackup(ctx: JobContext<BackupDbOptions>): Promise<JobOutcome> {
  const { endsWhenToolSucceeds, startPgDump } = await import('../integrations/pg-dump/pg-tools.js');
  const { exportSnapshot, readServerInfo, recordBackup } = await import('../db/repositories/backups.repository.js');
  const settings = ctx.config.backup;
  const store = await openStore(ctx);
  if (!store.url.startsWith('s3://') && settings.encryptionExplicit && settings.encryption !== 'none') {
    throw new ConfigError(`BACKUP_SSE=${settings.encryption} cannot be applied: BLOB_URL is a local folder (${store.url}), not S3. Use an s3:// BLOB_URL, or set BACKUP_SSE=none for a local store.`);
  }
  const manifest = await readManifest(ctx, store);
  const server = await readServerInfo(ctx.db);
  const pgDump = await pgToolFor(ctx, 'pg_dump', server.major);

  if (ctx.dryRun) {
    const plan = await applyRetention(ctx, store, manifest);
    const lines = [`Would dump ${server.database} (PostgreSQL ${server.version}) with ${pgDump.version} into ${store.url} as ${backupKey(settings.prefix, ctx.clock.now())}.`, ...describeRetention(plan, 'would delete')];
    return { counts: { backups_deleted: 0 }, summary: { dry_run: true, would_delete: [...plan.delete.map((b) => b.key), ...plan.orphans], kept: plan.kept }, text: lines.join('\n') };
  }

  const started = ctx.clock.now();
  const key = backupKey(settings.prefix, started);
  const encryption = encryptionFor(ctx, store);
  const snapshot = await exportSnapshot(ctx.pool);
  let uploaded = false;
  let put: { size: number; sha256: string };
  let tableCounts: Record<string, number>;
  const t0 = Date.now();
  try {
    const dump = startPgDump(pgDump, ctx.config.databaseUrl, snapshot.id);
    const stop = (): void => void dump.child.kill('SIGTERM');
    ctx.signal.addEventListener('abort', stop, { once: true });
    // Counting rows runs beside the dump, in the same snapshot.
    const counting = snapshot.countRows();
    counting.catch(() => undefined);
    try {
      const body = dump.stdout.pipe(endsWhenToolSucceeds(dump, 'pg_dump'));
      // The store reads the body and reports its failure; once the store has failed, nobody reads it, and the
      // stopped pg_dump's "exited by SIGTERM" must not surface as an unhandled 'error' (exit 1 after job_runs said 69).
      body.on('error', () => undefined);
      put = await store.put(key, body, {
        contentType: 'application/vnd.postgresql.custom-dump',
        metadata: { 'leadsmart-format': 'pg_dump-custom', 'pg-server-version': server.version, 'pg-dump-version': pgDump.version, 'created-at': started.toISOString() },
        encryption,
        partSize: settings.partSizeMb * MB,
      });
      uploaded = true;
    } catch (error) {
      dump.child.kill('SIGTERM');
      ctx.throwIfInterrupted();
      const { PgToolError } = await import('../integrations/pg-dump/pg-tools.js');
      if (error instanceof PgToolError) throw new UnavailableError(`${error.message}; nothing was stored and no backup was removed`, { cause: error });
      throw new UnavailableError(`uploading ${key} to ${ctx.redact(store.url)} failed after retries (${ctx.redact(describeS3(error))}); the upload was aborted, nothing partial is kept, no backup was removed`, { cause: error });
    } finally {
      ctx.signal.removeEventListener('abort', stop);
    }
    tableCounts = await counting;
  } finally {
    await snapshot.close();
  }
  const dumpMs = Date.now() - t0;
  ctx.throwIfInterrupted();

  // The object exists now; any check that fails removes it, so nothing unchecked is ever counted as a backup.
  const discard = async (why: string): Promise<void> => {
    if (uploaded) await store.delete(key).catch(() => undefined);
    ctx.logger.error(`${key} removed: ${why}`);
  };
  const head = await storeCall(ctx, `checking ${key}`, () => store.head(key));
  if (head === null || head.size !== put.size) {
    await discard(`the store reports ${head === null ? 'no object' : `${head.size} bytes`}, ${put.size} were sent`);
    throw new UnavailableError(`${key}: the stored object does not match what was uploaded (${head === null ? 'missing' : `${head.size} of ${put.size} bytes`}); no backup was removed; run again`);
  }
  if (encryption !== undefined && head.encryption !== encryption.mode) {
    await discard(`encryption ${encryption.mode} was asked for, the store reports ${head.encryption}`);
    throw new ConfigError(
      `BACKUP_SSE=${encryption.mode} was requested but ${store.url} stored ${key} with encryption "${head.encryption}"; the object was deleted, never kept unencrypted. Check the bucket's encryption settings and policy${encryption.mode === 'aws:kms' ? ' and the KMS key permissions (kms:GenerateDataKey)' : ''}.`,
    );
  }
  const metadataSet = await storeCall(ctx, `setting the metadata of ${key}`, () =>
    store.replaceMetadata(key, { ...head.metadata, sha256: put.sha256, size: String(put.size) }, encryption),
  );
  const readback = await storeCall(ctx, `reading ${key} back`, () => sha256Of(store, key));
  const problems = readback.sha256 === put.sha256 && readback.size === put.size ? [] : [`read back ${readback.size} bytes with SHA-256 ${readback.sha256}; ${put.size} bytes with ${put.sha256} were uploaded`];
  if (problems.length > 0) {
    await discard(problems[0]!);
    throw new UnavailableError(`${key}: ${problems[0]}; the object was deleted and no backup was removed; run again`);
  }
  const totalMs = Date.now() - t0;

  const entry: BackupEntry = {
    key,
    createdAt: started.toISOString(),
    size: put.size,
    sha256: put.sha256,
    format: 'custom',
    serverVersion: server.version,
    pgDumpVersion: pgDump.version,
    database: server.database,
    tableCounts,
    encryption: head.encryption,
    verify: { at: ctx.clock.now().toISOString(), ok: true, method: 'readback', problems: [] },
  };
  manifest.backups.push(entry);
  await writeManifest(ctx, store, manifest);
  await recordBackup(ctx.db, entry, ctx.runId);
  ctx.logger.info(`stored ${key}`, { bytes: put.size, sha256: put.sha256, dump_ms: dumpMs, total_ms: totalMs, tables: Object.keys(tableCounts).length });

  const plan = await applyRetention(ctx, store, manifest);
  const lines = [
    `Backed up ${server.database} (PostgreSQL ${server.version}) to ${store.url} as ${key}: ${(put.size / MB).toFixed(1)} MB, SHA-256 ${put.sha256}, ${Object.keys(tableCounts).length} tables, encryption ${head.encryption}, read back and checked, ${(totalMs / 1000).toFixed(1)} s.`,
    ...(metadataSet || !store.url.startsWith('s3://') ? [] : [`The object is over 5 GiB (one S3 copy cannot rewrite its metadata): its SHA-256 and size are in ${MANIFEST_KEY} only.`]),
    ...describeRetention(plan, 'deleted'),
  ];
  return {
    counts: { backup_bytes: put.size, backups_deleted: plan.delete.length + plan.orphans.length, tables: Object.keys(tableCounts).length, dump_ms: dumpMs },
    summary: { key, size: put.size, sha256: put.sha256, server_version: server.version, pg_dump: pgDump.version, encryption: head.encryption, table_counts: tableCounts, deleted: [...plan.delete.map((b) => b.key), ...plan.orphans], kept: plan.kept, ms: totalMs },
    text: lines.join('\n'),
  };
}

/**
 * Streams a stored dump into pg_restore (one transaction), checking its
 * SHA-256 on the way: on a mismatch pg_restore is stopped before the end
 * of its input, so nothing of a corrupted dump is committed.
 */
async function restoreStream(ctx: JobContext<unknown>, store: BlobStore, entry: BackupEntry, targetUrl: string | undefined, clean: boolean): Promise<{ ok: true } | { ok: false; problem: string }> {
  const { startPgRestore, verifiedPassThrough } = await import('../integrations/pg-dump/pg-tools.js');
  const major = Number(entry.serverVersion.split('.')[0]) || 0;
  const tool = await pgToolFor(ctx, 'pg_restore', major);
  const restore = startPgRestore(tool, targetUrl, clean);
  const check = verifiedPassThrough(entry.sha256, () => restore.child.kill('SIGKILL'));
  const stop = (): void => void restore.child.kill('SIGTERM');
  ctx.signal.addEventListener('abort', stop, { once: true });
  try {
    const source = await storeCall(ctx, `reading ${entry.key}`, () => store.get(entry.key));
    const feeding = pipeline(source, check, restore.stdin).then(
      () => null,
      (error: Error) => error,
    );
    const [feedError, result] = await Promise.all([feeding, restore.done]);
    ctx.throwIfInterrupted();
    if (check.sha256() !== null && check.sha256() !== entry.sha256) return { ok: false, problem: `checksum mismatch: ${entry.key} has SHA-256 ${check.sha256()}, the manifest records ${entry.sha256}; the object is corrupted (nothing was restored)` };
    if (result.code !== 0) return { ok: false, problem: `pg_restore ${result.signal ? `was stopped by ${result.signal}` : `exited with code ${result.code}`}: ${result.stderr || feedError?.message || 'no message'} (nothing was restored: one transaction)` };
    if (feedError !== null) return { ok: false, problem: `reading ${entry.key} failed: ${ctx.redact(feedError.message)}` };
    return { ok: true };
  } finally {
    ctx.signal.removeEventListener('abort', stop);
  }
}

/** A throwaway PostgreSQL cluster for the restore drill (scripts/pg-cluster.sh), stopped and removed after. */
async function withScratchDatabase<T>(ctx: JobContext<BackupDbOptions>, fn: (url: string) => Promise<T>): Promise<T> {
  if (ctx.options.scratchUrl !== null) return fn(ctx.options.scratchUrl);
  const dir = await mkdtemp(join(tmpdir(), 'leadsmart-verify-'));
  const script = join(PROJECT_ROOT, 'scripts', 'pg-cluster.sh');
  try {
    // The scratch cluster's scripts get the locale and PATH, never this process's secrets.
    const { baseToolEnvironment } = await import('../integrations/pg-dump/pg-tools.js');
    await run(script, ['start', dir, '--fast'], { env: { ...baseToolEnvironment(), ...(ctx.config.backup.pgBinDir ? { PG_BINDIR: ctx.config.backup.pgBinDir } : {}) } });
  } catch (error) {
    throw new UnavailableError(`cannot start a scratch PostgreSQL cluster for the restore drill (${((error as { stderr?: string }).stderr ?? (error as Error).message).trim()}); install the PostgreSQL server binaries, or pass --scratch-url with an empty database`, { cause: error });
  }
  try {
    return await fn(`postgresql://postgres@/postgres?host=${encodeURIComponent(join(dir, 'run'))}`);
  } finally {
    const { baseToolEnvironment } = await import('../integrations/pg-dump/pg-tools.js');
    await run(script, ['stop', dir], { env: baseToolEnvironment() }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const { default: pgModule } = await import('pg');
  const client = new pgModule.Client({ connectionString: url, application_name: 'leadsmart:backup-db:check' });
  // A lost server is reported by the query in flight, not as an unhandled 'error' that ends the process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The restore drill: the backup downloaded, its checksum checked, restored
 * into an empty scratch database, and every table's row count compared
 * with the counts taken at dump time. The result goes into the manifest
 * and the backups table (the status service shows it).
 */
async function runVerify(ctx: JobContext<BackupDbOptions>): Promise<JobOutcome> {
  const { countRows, isEmptyDatabase, recordVerify } = await import('../db/repositories/backups.repository.js');
  const store = await openStore(ctx);
  const manifest = await readManifest(ctx, store);
  const entry = findBackup(manifest, ctx.options.verifyFrom);
  if (entry === null) {
    throw new UsageError(`--verify ${ctx.options.verifyFrom}: no such backup in ${MANIFEST_KEY} (${manifest.backups.length} recorded${manifest.backups.length > 0 ? `, the latest ${manifest.backups[manifest.backups.length - 1]!.key}` : ''})`);
  }
  const t0 = Date.now();
  const result = await withScratchDatabase(ctx, async (url): Promise<VerifyResult> => {
    const before = await withClient(url, (c) => isEmptyDatabase(c));
    if (!before.empty) throw new UsageError(`--scratch-url: the database is not empty (${before.tables.slice(0, 5).join(', ')}${before.tables.length > 5 ? ', …' : ''}); the drill restores into an empty database only`);
    const restored = await restoreStream(ctx, store, entry, url, false);
    const problems = restored.ok ? compareCounts(entry.tableCounts, await withClient(url, (c) => countRows(c))) : [restored.problem];
    return { at: ctx.clock.now().toISOString(), ok: problems.length === 0, method: 'restore', problems };
  });
  const ms = Date.now() - t0;
  if (!ctx.dryRun) {
    const updated = manifest.backups.map((b) => (b.key === entry.key ? { ...b, verify: result, drills: [...(b.drills ?? []), result].slice(-12) } : b));
    await writeManifest(ctx, store, { ...manifest, backups: updated });
    await recordVerify(ctx.db, entry, result);
  }
  const tables = Object.keys(entry.tableCounts).length;
  const summary = { key: entry.key, ok: result.ok, problems: result.problems, tables, ms };
  if (!result.ok) {
    const text = `${entry.key} FAILED verification:\n${result.problems.map((p) => `  ${p}`).join('\n')}`;
    ctx.logger.error(text);
    return { exitCode: ExitCode.DATA_ERR, counts: { verified: 0, verify_failed: 1 }, summary, text: `${text}\nIt is no longer counted as a good backup; restore --from latest skips it.` };
  }
  return {
    counts: { verified: 1, verify_failed: 0, verify_ms: ms },
    summary,
    text: `${entry.key}: checksum matches, restored into a scratch database, row counts of all ${tables} tables match the dump (${(ms / 1000).toFixed(1)} s).`,
  };
}

export const backupDbJob: JobDefinition<BackupDbOptions> = {
  name: 'backup-db',
  // A drill is not a backup: /status and /readyz judge the nightly backup by backup-db runs alone.
  runName: (o) => (o.mode === 'verify' ? 'backup-db-drill' : 'backup-db'),
  description:
    'Dump the database (pg_dump -Fc) straight into the blob store, check and record it, and delete backups older than --keep-days. --verify restores a backup into a scratch database and compares every table (recorded as backup-db-drill, never as a nightly backup). "backup-db restore --help" for restoring.',
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
      .option('--keep-days <n>', 'delete backups older than this many days after a good new one (default: BACKUP_KEEP_DAYS or 7)')
      .option('--verify [key]', 'restore drill instead of a backup: the latest good backup, or this key')
      .option('--scratch-url <url>', 'with --verify: restore into this empty database instead of a throwaway local cluster');
  },
  parseOptions(raw, args, { config }) {
    if (args.length > 0) throw new UsageError(`unexpected argument ${args[0]}; to restore use: bin/backup-db restore --from <key|latest> --target <database URL>`);
    let keepDays = config.backup.keepDays;
    if (raw.keepDays !== undefined) {
      const text = String(raw.keepDays);
      keepDays = Number(text);
      if (!/^\d+$/.test(text) || keepDays < 1 || keepDays > 3650) throw new UsageError(`--keep-days ${text}: expected whole days from 1 to 3650`);
    }
    const verify = raw.verify;
    if (raw.scratchUrl !== undefined && verify === undefined) throw new UsageError('--scratch-url goes with --verify');
    if (raw.scratchUrl !== undefined && !/^postgres(ql)?:\/\//.test(String(raw.scratchUrl))) throw new UsageError(`--scratch-url ${String(raw.scratchUrl)}: expected postgresql://…`);
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

/**
 * `bin/backup-db restore`: a stored backup into a database. It runs
 * against the target (its own connection, lock and checks), not
 * DATABASE_URL, so it works when the usual database is the one lost.
 */
export const restoreDbJob: JobDefinition<RestoreDbOptions> = {
  name: 'backup-db',
  description:
    'Restore a backup from the blob store (BLOB_URL) into --target, in one transaction, after checking its SHA-256. Refuses a database that has tables unless --force (which drops and recreates what the dump contains).',
  examples: ['bin/backup-db restore --from latest --target postgresql://leadsmart@db2:5432/leadsmart', 'bin/backup-db restore --from database/leadsmart_20251116T020000Z.dump --target postgresql://…/leadsmart --force'],
  writes: false,
  // The target may be empty: no schema check, no job_runs row in it.
  bookkeeping: false,
  databaseOption: 'target',
  addOptions(cmd) {
    cmd
      .argument('<restore>', 'the word "restore"')
      .requiredOption('--from <key|latest>', 'the backup: its key (database/…dump) or latest (the newest good one)')
      .requiredOption('--target <url>', 'the database to restore into (it must exist; create it with createdb)')
      .option('--force', 'restore into a database that already has tables: what the dump contains is dropped and recreated');
  },
  parseOptions(raw) {
    const target = String(raw.target);
    // The value may hold a password: messages never echo it.
    if (!/^postgres(ql)?:\/\//.test(target)) throw new UsageError('--target: expected a URL, postgresql://user:password@host:port/database (or postgresql://user:password@/database?host=/socket/dir)');
    try {
      parseConninfo(target);
    } catch (error) {
      throw new UsageError(`--target: not a connection URL libpq reads (${(error as Error).message}); expected postgresql://user:password@host:port/database`);
    }
    return { from: String(raw.from), target, force: raw.force === true };
  },
  async run(ctx) {
    const { countRows, isEmptyDatabase } = await import('../db/repositories/backups.repository.js');
    const client = await ctx.pool.connect();
    let tables: string[];
    try {
      tables = (await isEmptyDatabase(client)).tables;
    } finally {
      client.release();
    }
    if (tables.length > 0 && !ctx.options.force) {
      throw new UsageError(`the target database is not empty (${tables.length} tables: ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''}); nothing was changed. Restore into an empty database (createdb), or pass --force to drop and recreate what the dump contains.`);
    }
    const store = await openStore(ctx);
    const manifest = await readManifest(ctx, store);
    const entry = findBackup(manifest, ctx.options.from);
    if (entry === null) {
      const known = manifest.backups.slice(-5).map((b) => `${b.key}${b.verify.ok ? '' : ' (failed its last check)'}`);
      throw new UsageError(`--from ${ctx.options.from}: no such ${ctx.options.from === 'latest' ? 'good backup' : 'backup'} in ${MANIFEST_KEY} of ${ctx.redact(store.url)}${known.length ? ` (latest: ${known.join(', ')})` : ' (it records none)'}`);
    }
    const t0 = Date.now();
    const restored = await restoreStream(ctx, store, entry, ctx.config.databaseUrl, tables.length > 0);
    if (!restored.ok) throw new DataError(`restoring ${entry.key}: ${restored.problem}`);
    const check = await ctx.pool.connect();
    let problems: string[];
    try {
      problems = compareCounts(entry.tableCounts, await countRows(check));
    } finally {
      check.release();
    }
    const ms = Date.now() - t0;
    const text = [
      `Restored ${entry.key} (${entry.createdAt}, ${(entry.size / MB).toFixed(1)} MB, checksum checked) into the target in ${(ms / 1000).toFixed(1)} s.`,
      problems.length === 0 ? `Row counts of all ${Object.keys(entry.tableCounts).length} tables match the dump.` : `Row counts differ from the dump:\n${problems.map((p) => `  ${p}`).join('\n')}`,
      'Next: bin/migrate against it, if this code is newer than the backup.',
    ].join('\n');
    return { exitCode: problems.length === 0 ? 0 : ExitCode.DATA_ERR, counts: { restored: 1, restore_ms: ms }, summary: { key: entry.key, ms, problems }, text };
  },
};
