import {
  backupKey,
  planRetention,
  type BackupEntry,
  type Manifest,
  type RetentionPlan,
} from '../../core/backups/manifest.js';
import type { BlobStore } from '../../integrations/storage/blob-store.js';
import { ConfigError, UnavailableError } from '../../errors.js';
import type { BackupResult } from '../../core/reports/backup-db.js';
import {
  describeS3,
  encryptionFor,
  MB,
  pgToolFor,
  readManifest,
  sha256Of,
  storeCall,
  writeManifest,
  type BackupDbOptions,
  type BackupDeps,
} from './shared.js';

type BackupContext = BackupDeps & { options: BackupDbOptions };

/** The nightly backup: dump, check, record, retention. */

export async function applyRetention(ctx: BackupContext, store: BlobStore, manifest: Manifest): Promise<RetentionPlan> {
  const objects = await storeCall(ctx, 'listing database/', () => store.list('database/'));
  const plan = planRetention(manifest, objects, ctx.clock.now(), ctx.options.keepDays);
  if (ctx.dryRun) return plan;
  const { markBackupsDeleted } = await import('../../db/repositories/backups.repository.js');
  // The manifest forgets a backup before its object goes: a crash in between leaves an orphan (removed next time),
  // never an entry without its object.
  const doomed = new Set(plan.delete.map((b) => b.key));
  if (doomed.size > 0)
    await writeManifest(ctx, store, { ...manifest, backups: manifest.backups.filter((b) => !doomed.has(b.key)) });
  for (const key of [...doomed, ...plan.orphans]) await storeCall(ctx, `deleting ${key}`, () => store.delete(key));
  await markBackupsDeleted(ctx.db, [...doomed, ...plan.orphans]);
  // What killed runs left behind in a folder store (database/*.dump.partial-*), whatever their age: this run holds
  // backup-db's lock and has written its own dump whole, so no partial file there is a backup still being written.
  const leftovers = await storeCall(ctx, 'removing leftover partial files', () =>
    // Compared with the files' own times: the file system's clock, not the run's (which a test may fix).
    store.sweepPartials('database/', new Date()),
  );
  if (leftovers.length > 0)
    ctx.logger.info(`removed ${leftovers.length} partial file(s) a killed run left behind: ${leftovers.join(', ')}`);
  return plan;
}

/**
 * The daily backup: pg_dump -Fc at an exported snapshot, streamed into the
 * blob store (S3 multipart: nothing appears under the key until the dump
 * succeeded), checked (size, encryption, read back and hashed), recorded
 * in the manifest with the row count of every table at that snapshot; then
 * retention.
 */
export async function backupDatabase(deps: BackupDeps, options: BackupDbOptions): Promise<BackupResult> {
  const ctx: BackupContext = { ...deps, options };
  const { endsWhenToolSucceeds, startPgDump } = await import('../../integrations/pg-dump/pg-tools.js');
  const { exportSnapshot, readServerInfo, recordBackup } = await import('../../db/repositories/backups.repository.js');
  const settings = ctx.config.backup;
  const { store } = deps;
  if (!store.url.startsWith('s3://') && settings.encryptionExplicit && settings.encryption !== 'none') {
    throw new ConfigError(
      `BACKUP_SSE=${settings.encryption} cannot be applied: BLOB_URL ` +
        `is a local folder (${store.url}), not S3. Use an s3:// ` +
        `BLOB_URL, or set BACKUP_SSE=none for a local store.`,
    );
  }
  const manifest = await readManifest(ctx, store);
  const server = await readServerInfo(ctx.db);
  const pgDump = await pgToolFor(ctx, 'pg_dump', server.major);

  if (ctx.dryRun) {
    return {
      kind: 'dry-run',
      database: server.database,
      serverVersion: server.version,
      pgDump: pgDump.version,
      storeUrl: store.url,
      key: backupKey(settings.prefix, ctx.clock.now()),
      retention: await applyRetention(ctx, store, manifest),
    };
  }

  const started = ctx.clock.now();
  const key = backupKey(settings.prefix, started);
  const encryption = encryptionFor(ctx, store);
  const snapshot = await exportSnapshot(ctx.database);
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
        metadata: {
          'leadsmart-format': 'pg_dump-custom',
          'pg-server-version': server.version,
          'pg-dump-version': pgDump.version,
          'created-at': started.toISOString(),
        },
        encryption,
        partSize: settings.partSizeMb * MB,
      });
      uploaded = true;
    } catch (error) {
      dump.child.kill('SIGTERM');
      ctx.throwIfInterrupted();
      const { PgToolError } = await import('../../integrations/pg-dump/pg-tools.js');
      if (error instanceof PgToolError)
        throw new UnavailableError(`${error.message}; nothing was stored and no backup was removed`, { cause: error });
      throw new UnavailableError(
        `uploading ${key} to ${ctx.redact(store.url)} failed after ` +
          `retries (${ctx.redact(describeS3(error))}); the upload was ` +
          `aborted, nothing partial is kept, no backup was removed`,
        { cause: error },
      );
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
    throw new UnavailableError(
      `${key}: the stored object does not match what was uploaded ` +
        `(${head === null ? 'missing' : `${head.size} of ${put.size} bytes`}); ` +
        `no backup was removed; run again`,
    );
  }
  if (encryption !== undefined && head.encryption !== encryption.mode) {
    await discard(`encryption ${encryption.mode} was asked for, the store reports ${head.encryption}`);
    throw new ConfigError(
      `BACKUP_SSE=${encryption.mode} was requested but ${store.url} ` +
        `stored ${key} with encryption "${head.encryption}"; the object ` +
        `was deleted, never kept unencrypted. Check the bucket's ` +
        `encryption settings and ` +
        `policy${encryption.mode === 'aws:kms' ? ' and the KMS key permissions (kms:GenerateDataKey)' : ''}.`,
    );
  }
  const metadataSet = await storeCall(ctx, `setting the metadata of ${key}`, () =>
    store.replaceMetadata(key, { ...head.metadata, sha256: put.sha256, size: String(put.size) }, encryption),
  );
  const readback = await storeCall(ctx, `reading ${key} back`, () => sha256Of(store, key));
  const problems =
    readback.sha256 === put.sha256 && readback.size === put.size
      ? []
      : [
          `read back ${readback.size} bytes with ` +
            `SHA-256 ${readback.sha256}; ${put.size} bytes ` +
            `with ${put.sha256} were uploaded`,
        ];
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
  ctx.logger.info(`stored ${key}`, {
    bytes: put.size,
    sha256: put.sha256,
    dump_ms: dumpMs,
    total_ms: totalMs,
    tables: Object.keys(tableCounts).length,
  });

  return {
    kind: 'stored',
    database: server.database,
    serverVersion: server.version,
    pgDump: pgDump.version,
    storeUrl: store.url,
    key,
    size: put.size,
    sha256: put.sha256,
    encryption: head.encryption,
    tableCounts,
    dumpMs,
    totalMs,
    metadataSet,
    retention: await applyRetention(ctx, store, manifest),
  };
}
