import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  statSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { parseManifest, serializeManifest, type BackupEntry } from '../../src/core/backups/manifest.js';
import { backupDbJob, restoreDbJob } from '../../src/jobs/backup-db.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startFakeS3 } from '../helpers/fake-s3.js';
import { loadSample, ROOT, runAsFunction, runProcess, spawnProcess } from '../helpers/run-job.js';
import { S3Proxy } from '../helpers/s3-proxy.js';

// The source database: the sample dataset plus a filler table of about 10 MB compressed, so
// that a dump spans several 5 MiB multipart parts. S3 is s3rver behind S3Proxy (encryption,
// AbortMultipartUpload, injected faults). TEST_NOW is 2025-11-16 09:00 UTC.
const BUCKET = 'backups';
const BLOB_URL = `s3://${BUCKET}/prod`;
const NOW = '2025-11-16T09:00:00Z';

let t: TestDatabase;
let s3: Awaited<ReturnType<typeof startFakeS3>>;
let proxy: S3Proxy;
let client: S3Client;
let work: string;

const env = (extra: Record<string, string> = {}) => ({
  DATABASE_URL: t.url,
  BLOB_URL,
  BACKUP_PART_SIZE_MB: '5',
  ...extra,
});
const backup = (argv: string[] = [], extra: Record<string, string> = {}, now = NOW) =>
  runAsFunction(backupDbJob, ['--json', ...argv], env(extra), { now });
const restore = (argv: string[], extra: Record<string, string> = {}) =>
  runAsFunction(restoreDbJob, ['restore', ...argv], { BLOB_URL, ...extra });

async function objectKeys(): Promise<string[]> {
  const r = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'prod/' }));
  return (r.Contents ?? []).map((o) => o.Key!.slice('prod/'.length)).sort();
}

async function readObject(key: string): Promise<Buffer> {
  const r = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `prod/${key}` }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

async function manifest() {
  return parseManifest((await readObject('database/manifest.json')).toString('utf8'));
}

async function tableDigest(db: TestDatabase, table: string): Promise<string> {
  const r = await sql<{
    d: string;
  }>`SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS d FROM ${sql.table(table)} t`.execute(db.db);
  return r.rows[0]!.d;
}

async function clearBucket(): Promise<void> {
  const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
  for (const k of await objectKeys()) await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `prod/${k}` }));
  await sql`TRUNCATE backups`.execute(t.db);
}

beforeAll(async () => {
  t = await createTestDatabase();
  work = mkdtempSync(join(tmpdir(), 'leadsmart-backup-'));
  await loadSample(t.url);
  await sql`CREATE TABLE filler AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS payload FROM
    generate_series(1, 300000) g`.execute(t.db);
  s3 = await startFakeS3(BUCKET);
  proxy = await new S3Proxy(s3.endpoint).start();
  client = new S3Client({ ...s3.s3Config, endpoint: s3.endpoint });
  // The AWS SDK reads its settings from the environment, as in production.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: proxy.url,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    AWS_MAX_ATTEMPTS: '3',
  });
}, 60_000);

afterAll(async () => {
  client?.destroy();
  await proxy?.stop();
  await s3?.stop();
  await t?.drop();
  rmSync(work, { recursive: true, force: true });
});

beforeEach(async () => {
  proxy.reset();
  await clearBucket();
});

describe('backup to S3 (s3rver)', () => {
  test(
    'streams the dump by multipart upload, encrypted, with its ' +
      'checksum, size and versions as metadata, and records it in the manifest',
    async () => {
      const r = await backup();
      expect(r.code).toBe(0);
      const key = 'database/leadsmart_20251116T090000Z.dump';
      expect(await objectKeys()).toEqual([key, 'database/manifest.json']);
      const completed = [...proxy.uploads.values()].filter((u) => u.state === 'completed');
      expect(completed.map((u) => u.key)).toEqual([`/${BUCKET}/prod/${key}`]);
      expect(
        proxy.requests.filter((q) => q.method === 'PUT' && q.query.includes('partNumber')).length,
      ).toBeGreaterThanOrEqual(2);

      const dump = await readObject(key);
      expect(dump.subarray(0, 5).toString()).toBe('PGDMP');
      const { createHash } = await import('node:crypto');
      const sha = createHash('sha256').update(dump).digest('hex');
      const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `prod/${key}` }));
      expect(head.Metadata).toMatchObject({
        sha256: sha,
        size: String(dump.length),
        'leadsmart-format': 'pg_dump-custom',
        'pg-server-version': expect.stringMatching(/^\d+\.\d+/),
      });
      expect(head.Metadata?.['pg-dump-version']).toMatch(/^pg_dump \(PostgreSQL\) \d+/);

      const m = await manifest();
      expect(m.backups).toHaveLength(1);
      expect(m.backups[0]).toMatchObject({
        key,
        size: dump.length,
        sha256: sha,
        format: 'custom',
        encryption: 'AES256',
        verify: { ok: true, method: 'readback' },
      });
      expect(m.backups[0]!.tableCounts['public.filler']).toBe(300000);
      expect(m.backups[0]!.tableCounts['public.campaign_metrics']).toBeGreaterThan(1000);
      const row = await sql<{ sha256: string; verify_ok: boolean }>`SELECT sha256, verify_ok FROM backups`.execute(
        t.db,
      );
      expect(row.rows).toEqual([{ sha256: sha, verify_ok: true }]);
      expect(JSON.parse(r.stdout)).toMatchObject({ key, sha256: sha, encryption: 'AES256' });
    },
  );

  test('round trip: back up, restore into an empty database, same rows in every table', async () => {
    expect((await backup()).code).toBe(0);
    const target = await createTestDatabase({ migrated: false });
    try {
      const r = await restore(['--from', 'latest', '--target', target.url]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Row counts of all');
      for (const table of ['campaign_metrics', 'campaign_leads', 'clients', 'filler', 'schema_migrations']) {
        expect(await tableDigest(target, table)).toBe(await tableDigest(t, table));
      }
    } finally {
      await target.drop();
    }
  });

  test('restore refuses a database that has tables unless --force, which replaces what the dump holds', async () => {
    expect((await backup()).code).toBe(0);
    const target = await createTestDatabase();
    try {
      const refused = await restore(['--from', 'latest', '--target', target.url]);
      expect(refused.code).toBe(64);
      expect(refused.stderr).toContain('the target database is not empty');
      expect(refused.stderr).toContain('pass --force');
      const forced = await restore(['--from', 'latest', '--target', target.url, '--force']);
      expect(forced.code).toBe(0);
      expect(await tableDigest(target, 'campaign_metrics')).toBe(await tableDigest(t, 'campaign_metrics'));
    } finally {
      await target.drop();
    }
  });

  test('BACKUP_SSE=aws:kms asks S3 for KMS encryption with the given key and records it', async () => {
    const r = await backup([], {
      BACKUP_SSE: 'aws:kms',
      BACKUP_KMS_KEY_ID: 'arn:aws:kms:us-east-1:111122223333:key/backup-key',
    });
    expect(r.code).toBe(0);
    const head = await new S3Client({ ...s3.s3Config, endpoint: proxy.url }).send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: 'prod/database/leadsmart_20251116T090000Z.dump' }),
    );
    expect([head.ServerSideEncryption, head.SSEKMSKeyId]).toEqual([
      'aws:kms',
      'arn:aws:kms:us-east-1:111122223333:key/backup-key',
    ]);
    expect((await manifest()).backups[0]!.encryption).toBe('aws:kms');
  });

  test(
    'a requested encryption the store does not apply is fatal (78) ' + 'and the unencrypted object is deleted',
    async () => {
      proxy.honourEncryption = false;
      const r = await backup();
      expect(r.code).toBe(78);
      expect(r.stderr).toContain('BACKUP_SSE=AES256 was requested but');
      expect(r.stderr).toContain('the object was deleted, never kept unencrypted');
      expect(await objectKeys()).toEqual([]);
    },
  );

  test(
    'S3 failing every try of a part aborts the upload: exit 69, no ' +
      'object, no open multipart upload, old backups untouched',
    async () => {
      expect((await backup([], {}, '2025-11-15T02:00:00Z')).code).toBe(0);
      const before = await objectKeys();
      proxy.fail('part', 503, 'SlowDown', 50);
      const r = await backup();
      expect(r.code).toBe(69);
      expect(r.stderr).toContain('the upload was aborted, nothing partial is kept, no backup was removed');
      expect(await objectKeys()).toEqual(before);
      expect(proxy.openUploads()).toEqual([]);
      expect((await manifest()).backups.map((b) => b.key)).toEqual(['database/leadsmart_20251115T020000Z.dump']);
    },
  );

  test(
    'as a process, a store that refuses every part (403) exits 69 as ' +
      'job_runs records it, not 1 when the stopped pg_dump ends its output',
    async () => {
      proxy.fail('part', 403, 'AccessDenied', 1000);
      const r = await runProcess('backup-db', [], { ...env(), ...awsEnv() });
      expect(r.stderr).not.toMatch(/Unhandled|uncaught/i);
      expect(r.code).toBe(69);
      const run = await t.db
        .selectFrom('job_runs')
        .select(['status', 'exit_code'])
        .where('job', '=', 'backup-db')
        .orderBy('run_id', 'desc')
        .executeTakeFirstOrThrow();
      expect(run).toEqual({ status: 'failed', exit_code: 69 });
      expect(proxy.openUploads()).toEqual([]);
    },
  );

  test('an unreachable S3 exits 69 with a message naming the store', async () => {
    const r = await runProcess('backup-db', [], {
      ...env(),
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      AWS_MAX_ATTEMPTS: '2',
    });
    expect(r.code).toBe(69);
    expect(r.stderr).toContain('blob store s3://backups/prod: reading database/manifest.json failed after retries');
  });

  test(
    'SIGTERM mid-upload aborts the multipart upload: exit 143, ' + 'nothing under the key, the manifest as it was',
    async () => {
      proxy.partDelayMs = 300;
      const child = spawnProcess('backup-db', [], { ...env(), ...awsEnv() });
      await new Promise<void>((resolve) => (proxy.onPart = () => resolve()));
      child.kill('SIGTERM');
      const code = await new Promise((r) => child.on('close', r));
      expect(code).toBe(143);
      await waitFor(() => proxy.openUploads().length === 0);
      expect(proxy.openUploads()).toEqual([]);
      expect(await objectKeys()).toEqual([]);
    },
  );

  test(
    'a database connection lost mid-dump exits 69 with the reason ' +
      'and the EMF line, not 1; nothing is kept under the key',
    async () => {
      proxy.partDelayMs = 300;
      const child = spawnProcess('backup-db', [], { ...env(), ...awsEnv() });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      await new Promise<void>((resolve) => (proxy.onPart = () => resolve()));
      await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
               WHERE application_name LIKE ${`leadsmart:backup-db:${child.pid}%`} OR application_name =
                 'pg_dump'`.execute(t.db);
      const code = await closed;
      expect(stderr).not.toMatch(/Unhandled 'error' event/);
      expect(code).toBe(69);
      expect(stderr).toMatch(/"ExitCode":69/);
      await waitFor(() => proxy.openUploads().length === 0);
      expect(await objectKeys()).toEqual([]);
    },
  );

  test(
    'SIGKILL mid-upload leaves no object under the final name and no ' + 'manifest entry; the next run completes',
    async () => {
      // Nothing can abort the multipart upload of a killed process: its parts wait for the bucket's
      // lifecycle rule (AbortIncompleteMultipartUpload, README), never under the backup's name.
      proxy.partDelayMs = 300;
      const child = spawnProcess('backup-db', [], { ...env(), ...awsEnv() });
      await new Promise<void>((resolve) => (proxy.onPart = () => resolve()));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('close', r));
      expect(await objectKeys()).toEqual([]);
      proxy.reset();
      const r = await backup();
      expect(r.code).toBe(0);
      expect((await manifest()).backups).toHaveLength(1);
    },
  );
});

describe('retention', () => {
  async function seed(days: number[]): Promise<void> {
    const entries: BackupEntry[] = [];
    for (const d of days) {
      const at = new Date(Date.parse(NOW) - d * 86_400_000);
      const key = `database/leadsmart_${at
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}Z$/, 'Z')}.dump`;
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `prod/${key}`, Body: `dump of ${d} days ago` }));
      entries.push({
        key,
        createdAt: at.toISOString(),
        size: 10,
        sha256: 'x'.repeat(64),
        format: 'custom',
        serverVersion: '15.18',
        pgDumpVersion: 'pg_dump (PostgreSQL) 15.18',
        database: 'x',
        tableCounts: {},
        encryption: 'AES256',
        verify: { at: at.toISOString(), ok: true, method: 'readback', problems: [] },
      });
    }
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'prod/database/manifest.json',
        Body: serializeManifest({ version: 1, backups: entries }),
      }),
    );
  }

  test('after a good backup, deletes backups older than --keep-days and keeps the rest', async () => {
    await seed([1, 3, 8, 10]);
    const r = await backup(['--keep-days', '7']);
    expect(r.code).toBe(0);
    const keys = (await manifest()).backups.map((b) => b.createdAt.slice(0, 10));
    expect(keys).toEqual(['2025-11-13', '2025-11-15', '2025-11-16']);
    expect((await objectKeys()).filter((k) => k.endsWith('.dump'))).toHaveLength(3);
    expect(r.stdout).toContain('"deleted"');
  });

  test('--dry-run dumps nothing and lists what would be deleted', async () => {
    await seed([2, 9]);
    const r = await backup(['--dry-run'], {}, NOW);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).would_delete).toEqual([
      expect.stringMatching(/^database\/leadsmart_20251107T090000Z\.dump$/),
    ]);
    expect((await objectKeys()).filter((k) => k.endsWith('.dump'))).toHaveLength(2);
  });

  test('a failed backup deletes nothing, however old the others are', async () => {
    await seed([20, 30]);
    proxy.fail('part', 500, 'InternalError', 50);
    const r = await backup(['--keep-days', '1']);
    expect(r.code).toBe(69);
    expect((await manifest()).backups).toHaveLength(2);
    expect((await objectKeys()).filter((k) => k.endsWith('.dump'))).toHaveLength(2);
  });

  test('an orphan dump (uploaded, never recorded) older than the limit is removed too', async () => {
    await seed([1]);
    await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'prod/database/leadsmart_20251101T020000Z.dump', Body: 'orphan' }),
    );
    // s3rver dates objects with the real clock: the orphan is old only for a "now" a month past it.
    const r = await backup(['--keep-days', '7'], {}, new Date(Date.now() + 30 * 86_400_000).toISOString());
    expect(r.code).toBe(0);
    expect(await objectKeys()).not.toContain('database/leadsmart_20251101T020000Z.dump');
  });
});

describe('a damaged manifest', () => {
  test('stops the backup with exit 65 and says how to recover; nothing is deleted or overwritten', async () => {
    await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'prod/database/leadsmart_20251101T020000Z.dump', Body: 'old dump' }),
    );
    await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'prod/database/manifest.json', Body: '{"version":1,"backups":[' }),
    );
    const r = await backup(['--keep-days', '1']);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain('database/manifest.json is not JSON');
    expect(r.stderr).toContain('move it aside to start a new one');
    expect(await objectKeys()).toEqual(['database/leadsmart_20251101T020000Z.dump', 'database/manifest.json']);
    expect((await readObject('database/manifest.json')).toString()).toBe('{"version":1,"backups":[');
  });
});

describe('--verify (restore drill)', () => {
  test('restores the latest backup into a scratch cluster and finds every table with its rows', async () => {
    expect((await backup()).code).toBe(0);
    const r = await backup(['--verify']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, problems: [] });
    const m = await manifest();
    expect(m.backups[0]!.verify).toMatchObject({ ok: true, method: 'restore' });
    expect(m.backups[0]!.drills).toHaveLength(1);
    const row = await sql<{
      verify_method: string;
      verify_ok: boolean;
    }>`SELECT verify_method, verify_ok FROM backups`.execute(t.db);
    expect(row.rows).toEqual([{ verify_method: 'restore', verify_ok: true }]);
  }, 60_000);

  test('detects a corrupted object: exit 65, the backup stops counting ' +
    'as good, restore --from latest skips it', async () => {
    expect((await backup([], {}, '2025-11-15T02:00:00Z')).code).toBe(0);
    expect((await backup()).code).toBe(0);
    const key = 'database/leadsmart_20251116T090000Z.dump';
    const bytes = await readObject(key);
    bytes[Math.floor(bytes.length / 2)] = bytes[Math.floor(bytes.length / 2)]! ^ 0xff;
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `prod/${key}`, Body: bytes }));

    const r = await backup(['--verify']);
    expect(r.code).toBe(65);
    expect(r.stdout).toContain('checksum mismatch');
    const m = await manifest();
    expect(m.backups.find((b) => b.key === key)!.verify).toMatchObject({ ok: false, method: 'restore' });

    const target = await createTestDatabase({ migrated: false });
    try {
      const rr = await restore(['--from', 'latest', '--target', target.url]);
      expect(rr.code).toBe(0);
      expect(rr.stdout).toContain('database/leadsmart_20251115T020000Z.dump');
    } finally {
      await target.drop();
    }
  }, 60_000);

  test('restoring a corrupted backup by name restores nothing: exit 65, the target stays empty', async () => {
    expect((await backup()).code).toBe(0);
    const key = 'database/leadsmart_20251116T090000Z.dump';
    const bytes = await readObject(key);
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `prod/${key}`, Body: bytes }));
    const target = await createTestDatabase({ migrated: false });
    try {
      const r = await restore(['--from', key, '--target', target.url]);
      expect(r.code).toBe(65);
      expect(r.stderr).toContain('checksum mismatch');
      const tables = await sql<{ n: string }>`SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'`.execute(
        target.db,
      );
      expect(tables.rows[0]!.n).toBe('0');
    } finally {
      await target.drop();
    }
  });
});

describe('what a killed restore drill left behind', () => {
  test('the next drill stops the scratch server a SIGKILLed one left running and removes its files', async () => {
    const blobs = join(work, 'blobs-killed-drill');
    expect((await backup([], { BLOB_URL: `file://${blobs}` })).code).toBe(0);
    const tmp = mkdtempSync(join(work, 'tmp-'));
    // A drill killed with SIGKILL: its scratch cluster still running, its parent gone.
    const left = join(tmp, 'leadsmart-verify-killed1');
    execFileSync(join(ROOT, 'scripts', 'pg-cluster.sh'), ['start', left, '--fast'], { stdio: 'pipe' });
    // Its maker, ended: a process that has exited.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(join(left, 'owner.pid'), `${gone}\n`);
    // A drill of another database, still at work: its maker is alive (this process). Left alone.
    const busy = join(tmp, 'leadsmart-verify-busy1');
    mkdirSync(busy);
    writeFileSync(join(busy, 'owner.pid'), `${process.pid}\n`);
    const pid = Number(readFileSync(join(left, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    // Running, not a zombie waiting for a parent that may never reap it.
    const alive = (p: number) => {
      try {
        return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${p}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    expect(alive(pid)).toBe(true);
    const r = await runProcess('backup-db', ['--verify', '--json'], {
      DATABASE_URL: t.url,
      BLOB_URL: `file://${blobs}`,
      TMPDIR: tmp,
    });
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr.slice(-1500) }).toEqual({ code: 0, stderr: '' });
    expect(r.stderr).toContain(`removed ${left}, a restore drill's scratch cluster a killed run left behind`);
    expect(existsSync(left)).toBe(false);
    expect(alive(pid)).toBe(false);
    // The drill's own scratch folder is gone too; the live one is untouched.
    expect(readdirSync(tmp).filter((n) => n.startsWith('leadsmart-verify-'))).toEqual(['leadsmart-verify-busy1']);
  }, 90_000);
});

describe("the restore drill and the operator's PG* settings", () => {
  test("PGPORT, PGSSLMODE and PGUSER meant for production do not reach the drill's scratch cluster", async () => {
    const blobs = join(work, 'blobs-pg-env');
    expect((await backup([], { BLOB_URL: `file://${blobs}` })).code).toBe(0);
    // The main database named in full, as an operator with PG* settings would have it; the settings themselves
    // point anywhere else.
    const port = (await sql<{ port: string }>`SELECT current_setting('port') AS port`.execute(t.db)).rows[0]!.port;
    const r = await runProcess('backup-db', ['--verify', '--json'], {
      DATABASE_URL: `${t.url}&port=${port}&sslmode=disable`,
      BLOB_URL: `file://${blobs}`,
      PGPORT: '55432',
      PGSSLMODE: 'require',
      PGUSER: 'nobody_here',
      PGDATABASE: 'nope',
    });
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr.slice(-1500) }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, problems: [] });
  }, 60_000);
});

describe('local folder store', () => {
  test('backs up into file:// and the drill restores it', async () => {
    const blobs = join(work, 'blobs');
    const r = await backup([], { BLOB_URL: `file://${blobs}` });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ encryption: 'none' });
    const m = parseManifest(readFileSync(join(blobs, 'database', 'manifest.json'), 'utf8'));
    expect(m.backups).toHaveLength(1);
    const v = await backup(['--verify'], { BLOB_URL: `file://${blobs}` });
    expect(v.code).toBe(0);
    expect(v.stderr).toContain('"Job":"backup-db-drill"');
    // The drill is recorded apart: it never stands in for a nightly backup on /status.
    const runs = await t.db
      .selectFrom('job_runs')
      .select(['job', 'status'])
      .where('job', 'like', 'backup-db%')
      .orderBy('run_id', 'desc')
      .limit(2)
      .execute();
    expect(runs).toEqual([
      { job: 'backup-db-drill', status: 'succeeded' },
      { job: 'backup-db', status: 'succeeded' },
    ]);
  }, 60_000);

  test('partial files killed runs left in the folder (*.dump.partial-*) are removed by the next good backup, ' +
    'however recent (it holds the lock: none is being written); dumps are readable by their owner only', async () => {
    const blobs = join(work, 'blobs-leftovers');
    mkdirSync(join(blobs, 'database'), { recursive: true });
    const old = join(blobs, 'database', 'leadsmart_20251101T020000Z.dump.partial-0a1b2c3d');
    const fresh = join(blobs, 'database', 'leadsmart_20251116T020000Z.dump.partial-4e5f6a7b');
    writeFileSync(old, 'half a dump');
    writeFileSync(fresh, 'a dump being written');
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    utimesSync(old, twoDaysAgo, twoDaysAgo);
    const r = await backup([], { BLOB_URL: `file://${blobs}` });
    expect(r.code).toBe(0);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(fresh)).toBe(false);
    expect(r.stderr).toMatch(/removed 2 partial file\(s\) a killed run left behind: /);
    const dump = JSON.parse(r.stdout).key as string;
    expect(statSync(join(blobs, dump)).mode & 0o777).toBe(0o600);
  }, 60_000);

  test(
    'an explicit BACKUP_SSE with a local folder is a configuration ' + 'error (78), not a silent plaintext backup',
    async () => {
      const r = await backup([], { BLOB_URL: `file://${join(work, 'blobs-sse')}`, BACKUP_SSE: 'aws:kms' });
      expect(r.code).toBe(78);
      expect(r.stderr).toContain('BACKUP_SSE=aws:kms cannot be applied: BLOB_URL is a local folder');
    },
  );
});

describe('pg_dump faults', () => {
  function fakePgDump(script: string): string {
    const dir = mkdtempSync(join(work, 'bin-'));
    writeFileSync(
      join(dir, 'pg_dump'),
      `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) 99.0"; exit 0; fi\n${script}\n`,
    );
    chmodSync(join(dir, 'pg_dump'), 0o755);
    return dir;
  }

  test('pg_dump missing: exit 69 saying what to install', async () => {
    const r = await backup([], { PG_BINDIR: join(work, 'nothing-here') });
    expect(r.code).toBe(69);
    expect(r.stderr).toContain('pg_dump for PostgreSQL');
    expect(r.stderr).toContain('sudo apt-get install -y postgresql-client-');
  });

  test('pg_dump failing halfway: exit 69 with its stderr, nothing stored', async () => {
    const dir = fakePgDump(
      'head -c 7000000 /dev/urandom; echo "pg_dump: error: connection to server lost" >&2; exit 1',
    );
    const r = await backup([], { PG_BINDIR: dir });
    expect(r.code).toBe(69);
    expect(r.stderr).toContain('pg_dump exited with code 1: pg_dump: error: connection to server lost');
    expect(await objectKeys()).toEqual([]);
    expect(proxy.openUploads()).toEqual([]);
  });
});

describe("secrets never reach a child's command line or environment", () => {
  /** pg_dump and pg_restore wrappers that write down their arguments and environment, then run the real tool. */
  function recordingTools(): { dir: string; seen: (tool: string) => { args: string; env: string } } {
    const dir = mkdtempSync(join(work, 'rec-'));
    const real = readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a))[0]!;
    for (const tool of ['pg_dump', 'pg_restore']) {
      writeFileSync(
        join(dir, tool),
        `#!/bin/sh\nif [ "$1" != "--version" ]; then tr '\\0' ' ' < ` +
          `/proc/$$/cmdline > ${dir}/${tool}.args; env ` +
          `> ${dir}/${tool}.env; fi\nexec ` +
          `/usr/lib/postgresql/${real}/bin/${tool} "$@"\n`,
      );
      chmodSync(join(dir, tool), 0o755);
    }
    return {
      dir,
      seen: (tool) => ({
        args: readFileSync(join(dir, `${tool}.args`), 'utf8'),
        env: readFileSync(join(dir, `${tool}.env`), 'utf8'),
      }),
    };
  }
  const PASSWORD = 'Hunter2-very-secret';
  const STATUS_TOKEN = 'status-token-that-is-long-enough-1234';
  /**
   * The socket form with a password: postgresql://user:pw@/db?host=/dir (trust authentication ignores the password).
   */
  const withPassword = (url: string): string =>
    url.replace('postgresql://postgres@', `postgresql://postgres:${PASSWORD}@`);

  test(
    'backup-db and restore give pg_dump and pg_restore the ' +
      'connection through PG* variables only: no password on the ' +
      'command line, no DATABASE_URL or token in the environment',
    async () => {
      await clearBucket();
      const tools = recordingTools();
      const r = await runProcess('backup-db', ['--json'], {
        ...env(),
        DATABASE_URL: withPassword(t.url),
        STATUS_TOKEN,
        PG_BINDIR: tools.dir,
        ...awsEnv(),
      });
      expect(r.code).toBe(0);
      const dump = tools.seen('pg_dump');
      expect(dump.args).not.toContain(PASSWORD);
      expect(dump.args).not.toContain('postgresql://');
      expect(dump.env).toContain(`PGPASSWORD=${PASSWORD}`);
      expect(dump.env).toContain(`PGDATABASE=${t.name}`);
      expect(dump.env).not.toMatch(/DATABASE_URL|STATUS_TOKEN|AWS_SECRET_ACCESS_KEY|BLOB_URL/);

      const target = await createTestDatabase({ migrated: false });
      try {
        const restored = await runProcess(
          'backup-db',
          ['restore', '--from', 'latest', '--target', withPassword(target.url)],
          { BLOB_URL, STATUS_TOKEN, PG_BINDIR: tools.dir, ...awsEnv() },
        );
        expect(restored.code).toBe(0);
        const rest = tools.seen('pg_restore');
        expect(rest.args).not.toContain(PASSWORD);
        expect(rest.env).toContain(`PGDATABASE=${target.name}`);
        expect(rest.env).not.toMatch(/STATUS_TOKEN|AWS_SECRET_ACCESS_KEY/);
        expect(restored.stdout + restored.stderr).not.toContain(PASSWORD);
      } finally {
        await target.drop();
      }
    },
  );

  test('a --target that is not a URL is refused without echoing it (it may hold a password)', async () => {
    const r = await restore(['--from', 'latest', '--target', `host=/tmp password=${PASSWORD}`]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--target: expected a URL');
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });
});

describe('bad input', () => {
  test('--keep-days must be a whole number of days', async () => {
    const r = await backup(['--keep-days', 'week']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--keep-days week: expected whole days from 1 to 3650');
  });

  test('--verify of an unknown key exits 64 naming the latest backup', async () => {
    expect((await backup()).code).toBe(0);
    const r = await backup(['--verify', 'database/nope.dump']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(
      'no such backup in database/manifest.json (1 recorded, the latest database/leadsmart_20251116T090000Z.dump)',
    );
  });

  test('a --scratch-url without its scheme is refused without echoing it (it may hold a password)', async () => {
    const r = await backup(['--verify', 'latest', '--scratch-url', 'scratch:s3cret-Pa55word@localhost/db']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--scratch-url: expected a postgresql:// or postgres:// URL');
    expect(r.stdout + r.stderr).not.toContain('s3cret-Pa55word');
  });

  test('restore without --from is a usage error', async () => {
    const r = await runProcess('backup-db', ['restore', '--target', t.url], { BLOB_URL });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("required option '--from <key|latest>' not specified");
  });
});

function awsEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env)
      .filter(([k]) => k.startsWith('AWS_'))
      .map(([k, v]) => [k, v ?? '']),
  );
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
}
