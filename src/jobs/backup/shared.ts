import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/tables.js';
import {
  emptyManifest,
  MANIFEST_KEY,
  parseManifest,
  serializeManifest,
  type BackupEntry,
  type Manifest,
} from '../../core/backups/manifest.js';
import type { BlobStore, Encryption } from '../../integrations/storage/blob-store.js';
import type { PgTool } from '../../integrations/pg-dump/pg-tools.js';
import { ConfigError, DataError, UnavailableError } from '../../errors.js';
import type { JobDeps } from '../../runtime/job-deps.js';

/** What backup, drill and restore share: the store, the manifest, pg_dump/pg_restore, a checking connection. */

export interface BackupDbOptions {
  mode: 'backup' | 'verify';
  keepDays: number;
  /** --verify: a key, or 'latest'. */
  verifyFrom: string;
  /** --verify: restore into this (empty) database instead of a throwaway cluster. */
  scratchUrl: string | null;
}

/** JobDeps and the blob store the backups live in (the definition opens it: BLOB_URL). */
export interface BackupDeps extends JobDeps {
  store: BlobStore;
}

export interface RestoreDbOptions {
  from: string;
  target: string;
  force: boolean;
}

export const run = promisify(execFile);
export const MB = 1024 * 1024;

export function describeS3(error: unknown): string {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  return (
    `${e?.name ?? 'Error'}` +
    `${e?.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : ''}: ` +
    `${e?.message ?? String(error)}`
  );
}

/** Blob store calls fail with 69 after the SDK's own retries, naming the store and what was being done. */
export async function storeCall<T>(ctx: JobDeps, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof UnavailableError || error instanceof ConfigError || error instanceof DataError) throw error;
    ctx.throwIfInterrupted();
    throw new UnavailableError(
      `blob store ${ctx.redact(ctx.config.blobUrl)}: ${what} failed ` +
        `after retries (${ctx.redact(describeS3(error))}); no backup was ` +
        `removed. Check BLOB_URL, the network and the credentials, then run again.`,
      { cause: error },
    );
  }
}

export async function openStore(ctx: JobDeps): Promise<BlobStore> {
  const { openBlobStore } = await import('../../integrations/storage/blob-store.js');
  return storeCall(ctx, 'opening', () => openBlobStore(ctx.config.blobUrl));
}

export async function readManifest(ctx: JobDeps, store: BlobStore): Promise<Manifest> {
  if (!(await storeCall(ctx, `reading ${MANIFEST_KEY}`, () => store.exists(MANIFEST_KEY)))) return emptyManifest();
  const text = await storeCall(ctx, `reading ${MANIFEST_KEY}`, async () => {
    const chunks: Buffer[] = [];
    for await (const c of await store.get(MANIFEST_KEY)) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  });
  try {
    return parseManifest(text);
  } catch (error) {
    throw new DataError(
      `${(error as Error).message}; nothing was changed. Restore the ` +
        `manifest from the bucket's versions, or move it aside to start ` +
        `a new one (the backups themselves stay where they are).`,
      { cause: error },
    );
  }
}

export function encryptionFor(ctx: JobDeps, store: BlobStore): Encryption | undefined {
  const b = ctx.config.backup;
  if (b.encryption === 'none' || !store.url.startsWith('s3://')) return undefined;
  return { mode: b.encryption, kmsKeyId: b.kmsKeyId };
}

export async function writeManifest(ctx: JobDeps, store: BlobStore, m: Manifest): Promise<void> {
  await storeCall(ctx, `writing ${MANIFEST_KEY}`, () =>
    store.put(MANIFEST_KEY, serializeManifest(m), {
      contentType: 'application/json',
      encryption: encryptionFor(ctx, store),
    }),
  );
}

export async function sha256Of(store: BlobStore, key: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of await store.get(key)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

export async function pgToolFor(ctx: JobDeps, tool: 'pg_dump' | 'pg_restore', major: number): Promise<PgTool> {
  const { findPgTool, PgToolError } = await import('../../integrations/pg-dump/pg-tools.js');
  try {
    return await findPgTool(tool, major, ctx.config.backup.pgBinDir);
  } catch (error) {
    if (error instanceof PgToolError) throw new UnavailableError(error.message, { cause: error });
    throw error;
  }
}

/**
 * Streams a stored dump into pg_restore (one transaction), checking its
 * SHA-256 on the way: on a mismatch pg_restore is stopped before the end
 * of its input, so nothing of a corrupted dump is committed.
 */
export async function restoreStream(
  ctx: JobDeps,
  store: BlobStore,
  entry: BackupEntry,
  targetUrl: string | undefined,
  clean: boolean,
): Promise<{ ok: true } | { ok: false; problem: string }> {
  const { startPgRestore, verifiedPassThrough } = await import('../../integrations/pg-dump/pg-tools.js');
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
    if (check.sha256() !== null && check.sha256() !== entry.sha256)
      return {
        ok: false,
        problem:
          `checksum mismatch: ${entry.key} has SHA-256 ${check.sha256()}, ` +
          `the manifest records ${entry.sha256}; the object is corrupted ` +
          `(nothing was restored)`,
      };
    if (result.code !== 0)
      return {
        ok: false,
        problem:
          `pg_restore ${result.signal ? `was stopped by ${result.signal}` : `exited with code ${result.code}`}: ` +
          `${result.stderr || feedError?.message || 'no message'} ` +
          `(nothing was restored: one transaction)`,
      };
    if (feedError !== null)
      return { ok: false, problem: `reading ${entry.key} failed: ${ctx.redact(feedError.message)}` };
    return { ok: true };
  } finally {
    ctx.signal.removeEventListener('abort', stop);
  }
}

/** One connection to another database (a drill's scratch cluster), for as long as `fn` runs. */
export async function withDatabase<T>(url: string, fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  const { connectDatabase } = await import('../../db/connect.js');
  const handle = connectDatabase(url, { max: 1, applicationName: 'leadsmart:backup-db:check' });
  try {
    return await fn(handle.db);
  } finally {
    await handle.close().catch(() => undefined);
  }
}
