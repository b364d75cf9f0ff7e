import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.js';
import { openBlobStore } from '../../src/integrations/storage/blob-store.js';
import { backupDatabase } from '../../src/jobs/backup/backup.js';
import { verifyBackup } from '../../src/jobs/backup/drill.js';
import { restoreBackup } from '../../src/jobs/backup/restore.js';
import type { BackupDbOptions } from '../../src/jobs/backup/shared.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { testJobDeps } from '../helpers/job-deps.js';
import { loadSample } from '../helpers/run-job.js';

// backupDatabase, verifyBackup and restoreBackup called as functions with the blob store passed in: one backup of
// the sample, its drill into an empty database, and its restore into another. The processes (flags, S3, signals,
// exit codes) are tested in backup-db.test.ts.
let source: TestDatabase;
let scratch: TestDatabase;
let target: TestDatabase;
let blobs: string;
const options = (over: Partial<BackupDbOptions> = {}): BackupDbOptions => ({
  mode: 'backup',
  keepDays: 7,
  verifyFrom: 'latest',
  scratchUrl: null,
  ...over,
});
const store = () => openBlobStore(`file://${blobs}`);

beforeAll(async () => {
  source = await createTestDatabase();
  scratch = await createTestDatabase({ migrated: false });
  target = await createTestDatabase({ migrated: false });
  blobs = mkdtempSync(join(tmpdir(), 'leadsmart-backup-fn-'));
  await loadSample(source.url);
});
afterAll(async () => {
  await Promise.all([source.drop(), scratch.drop(), target.drop()]);
  rmSync(blobs, { recursive: true, force: true });
});

describe('backup-db as functions', () => {
  // One backup for the three tests, made before any of them: each test depends on it alone (any order).
  let backup: Awaited<ReturnType<typeof backupDatabase>>;
  beforeAll(async () => {
    const deps = await testJobDeps(source, { env: { BLOB_URL: `file://${blobs}` } });
    backup = await backupDatabase({ ...deps, store: await store() }, options());
  });
  const keyOf = () => {
    if (backup.kind !== 'stored') throw new Error(`expected a stored backup, got ${backup.kind}`);
    return backup.key;
  };

  test('backupDatabase stores a dump with the row count of every table, read back and checked', async () => {
    if (backup.kind !== 'stored') throw new Error(`expected a stored backup, got ${backup.kind}`);
    expect(backup.key).toMatch(/^database\/leadsmart_\d{8}T\d{6}Z\.dump$/);
    expect(backup.sha256).toMatch(/^[0-9a-f]{64}$/);
    const campaigns = await source.db.selectFrom('campaigns').select('campaign_id').execute();
    expect(backup.tableCounts['public.campaigns']).toBe(campaigns.length);
  });

  test('verifyBackup restores it into the empty database given and finds every count equal', async () => {
    const deps = await testJobDeps(source, { env: { BLOB_URL: `file://${blobs}` } });
    const drill = await verifyBackup(
      { ...deps, store: await store() },
      options({ mode: 'verify', scratchUrl: scratch.url }),
    );
    expect(drill).toMatchObject({ key: keyOf(), ok: true, problems: [] });
    expect(drill.tables).toBeGreaterThan(10);
  });

  test('restoreBackup puts it into an empty target; a second restore without force is refused', async () => {
    const deps = await testJobDeps(target, { env: { BLOB_URL: `file://${blobs}` } });
    const restored = await restoreBackup(
      { ...deps, store: await store() },
      { from: 'latest', target: target.url, force: false },
    );
    expect(restored).toMatchObject({ key: keyOf(), problems: [] });
    const campaigns = await target.db.selectFrom('campaigns').select('campaign_id').execute();
    expect(campaigns.length).toBeGreaterThan(0);
    await expect(
      restoreBackup({ ...deps, store: await store() }, { from: 'latest', target: target.url, force: false }),
    ).rejects.toBeInstanceOf(UsageError);
  });
});
