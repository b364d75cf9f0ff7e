import { describe, expect, test } from '@jest/globals';
import type { BackupEntry } from '../../../../src/core/backups/manifest.js';
import { type BackupResult, reportBackup, reportDrill, reportRestore } from '../../../../src/core/reports/backup-db.js';

// The reports of backup-db's three jobs, from their results alone: no database, no store, no pg_dump.
const old: BackupEntry = {
  key: 'database/leadsmart_20251101T020000Z.dump',
  createdAt: '2025-11-01T02:00:00Z',
  size: 3 * 1024 * 1024,
  sha256: 'ab'.repeat(32),
  format: 'custom',
  serverVersion: '15.18',
  pgDumpVersion: 'pg_dump (PostgreSQL) 15.18',
  database: 'leadsmart',
  tableCounts: { 'public.clients': 2 },
  encryption: 'AES256',
  verify: { at: '2025-11-01T02:01:00Z', ok: true, method: 'readback', problems: [] },
};
const retention = { delete: [old], orphans: ['database/leadsmart_20251102T020000Z.dump'], kept: [] };
const source = { database: 'leadsmart', serverVersion: '15.18', pgDump: 'pg_dump (PostgreSQL) 15.18' };
const stored = (over: Partial<Extract<BackupResult, { kind: 'stored' }>> = {}): BackupResult => ({
  ...source,
  kind: 'stored',
  storeUrl: 's3://backups/prod',
  key: 'database/leadsmart_20251116T020000Z.dump',
  size: 12.5 * 1024 * 1024,
  sha256: 'cd'.repeat(32),
  encryption: 'AES256',
  tableCounts: { 'public.clients': 3, 'public.campaigns': 40 },
  dumpMs: 800,
  totalMs: 2_400,
  metadataSet: true,
  retention,
  ...over,
});

describe('reportBackup', () => {
  test('a stored backup: key, size, checksum, tables, encryption, then what retention deleted', () => {
    const r = reportBackup(stored());
    expect(r.text.split('\n')).toEqual([
      'Backed up leadsmart (PostgreSQL 15.18) to s3://backups/prod as database/leadsmart_20251116T020000Z.dump: ' +
        `12.5 MB, SHA-256 ${'cd'.repeat(32)}, 2 tables, encryption AES256, read back and checked, 2.4 s.`,
      'deleted database/leadsmart_20251101T020000Z.dump (2025-11-01, 3.0 MB)',
      'deleted database/leadsmart_20251102T020000Z.dump (not in the manifest: a run stopped before recording it)',
    ]);
    expect(r.counts).toEqual({ backup_bytes: 12.5 * 1024 * 1024, backups_deleted: 2, tables: 2, dump_ms: 800 });
    expect(r.summary).toMatchObject({ deleted: [old.key, retention.orphans[0]], server_version: '15.18' });
  });

  test('an S3 object whose metadata could not be rewritten says where its checksum is', () => {
    expect(reportBackup(stored({ metadataSet: false })).text).toContain(
      'its SHA-256 and size are in database/manifest.json only',
    );
    expect(reportBackup(stored({ metadataSet: false, storeUrl: 'file:///srv/b' })).text).not.toContain('5 GiB');
  });

  test('a dry run names what it would dump and delete, and deletes nothing', () => {
    const r = reportBackup({
      ...source,
      kind: 'dry-run',
      storeUrl: 'file:///srv/b',
      key: 'database/x.dump',
      retention,
    });
    expect(r.text).toMatch(/^Would dump leadsmart \(PostgreSQL 15\.18\) with pg_dump .* as database\/x\.dump\.\n/);
    expect(r.text).toContain('would delete database/leadsmart_20251101T020000Z.dump');
    expect(r.counts).toEqual({ backups_deleted: 0 });
    expect(r.summary).toMatchObject({ dry_run: true });
  });
});

describe('reportDrill and reportRestore', () => {
  test('a drill that matches exits 0; one that does not is exit 65 and says the backup no longer counts', () => {
    expect(reportDrill({ key: 'k', ok: true, problems: [], tables: 14, ms: 3_000 }).text).toBe(
      'k: checksum matches, restored into a scratch database, row counts of all 14 tables match the dump (3.0 s).',
    );
    const failed = reportDrill({
      key: 'k',
      ok: false,
      problems: ['public.clients: 2 rows, the dump had 3'],
      tables: 14,
      ms: 1,
    });
    expect(failed.exitCode).toBe(65);
    expect(failed.text).toContain('  public.clients: 2 rows, the dump had 3');
    expect(failed.text).toContain('restore --from latest skips it');
  });

  test('a restore reports its backup and the row-count check, and exit 65 when counts differ', () => {
    const ok = reportRestore({
      key: 'k',
      createdAt: '2025-11-16T02:00:00Z',
      size: 1024 * 1024,
      tables: 14,
      problems: [],
      ms: 500,
    });
    expect(ok.exitCode).toBe(0);
    expect(ok.text).toContain('Row counts of all 14 tables match the dump.');
    expect(ok.text).toContain('Next: bin/migrate against it');
    const differs = reportRestore({
      key: 'k',
      createdAt: 'x',
      size: 1,
      tables: 14,
      problems: ['public.x: 1 ≠ 2'],
      ms: 1,
    });
    expect(differs.exitCode).toBe(65);
    expect(differs.text).toContain('Row counts differ from the dump:\n  public.x: 1 ≠ 2');
  });
});
