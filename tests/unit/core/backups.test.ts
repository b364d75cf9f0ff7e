import { describe, expect, test } from '@jest/globals';
import {
  backupKey,
  compareCounts,
  findBackup,
  latestGood,
  parseManifest,
  planRetention,
  serializeManifest,
  type BackupEntry,
  type Manifest,
} from '../../../src/core/backups/manifest.js';

const NOW = new Date('2025-11-16T02:00:00Z');
const DAY = 86_400_000;

function entry(daysAgo: number, ok = true): BackupEntry {
  const at = new Date(NOW.getTime() - daysAgo * DAY);
  return {
    key: backupKey('leadsmart', at),
    createdAt: at.toISOString(),
    size: 100,
    sha256: 'a'.repeat(64),
    format: 'custom',
    serverVersion: '15.18',
    pgDumpVersion: 'pg_dump (PostgreSQL) 15.18',
    database: 'leadsmart',
    tableCounts: { 'public.clients': 3 },
    encryption: 'AES256',
    verify: { at: at.toISOString(), ok, method: 'readback', problems: ok ? [] : ['checksum mismatch'] },
  };
}
const manifest = (...backups: BackupEntry[]): Manifest => ({ version: 1, backups });
const days = (p: { delete: BackupEntry[] }) =>
  p.delete.map((b) => Math.round((NOW.getTime() - Date.parse(b.createdAt)) / DAY));

describe('backup keys', () => {
  test('names a backup database/<prefix>_<UTC timestamp>.dump', () => {
    expect(backupKey('leadsmart', new Date('2025-11-16T02:00:07.123Z'))).toBe(
      'database/leadsmart_20251116T020007Z.dump',
    );
  });

  test('finds a backup by key, with or without the folder, or the latest good one', () => {
    const m = manifest(entry(2), entry(1), entry(0, false));
    expect(findBackup(m, 'latest')?.key).toBe(entry(1).key);
    expect(findBackup(m, entry(2).key.slice('database/'.length))?.key).toBe(entry(2).key);
    expect(findBackup(m, 'database/none.dump')).toBeNull();
    expect(latestGood(manifest(entry(0, false)))).toBeNull();
  });
});

describe('retention', () => {
  test('deletes backups older than the limit and keeps the newer ones', () => {
    const plan = planRetention(manifest(entry(10), entry(8), entry(6), entry(1), entry(0)), [], NOW, 7);
    expect(days(plan)).toEqual([10, 8]);
    expect(plan.kept).toEqual([]);
  });

  test('never deletes the newest good backup, however old', () => {
    const plan = planRetention(manifest(entry(30), entry(20), entry(1, false)), [], NOW, 7);
    expect(days(plan)).toEqual([30]);
    expect(plan.kept).toEqual([{ key: entry(20).key, why: 'the newest good backup is never deleted' }]);
  });

  test('a backup exactly at the limit is kept', () => {
    expect(days(planRetention(manifest(entry(7), entry(0)), [], NOW, 7))).toEqual([]);
  });

  test('an empty manifest deletes nothing', () => {
    expect(planRetention(manifest(), [], NOW, 7)).toEqual({ delete: [], orphans: [], kept: [] });
  });

  test(
    'orphan dumps (in the store, not in the manifest) older than the ' + 'limit go; the manifest and other files never',
    () => {
      const old = new Date(NOW.getTime() - 9 * DAY);
      const objects = [
        { key: 'database/manifest.json', lastModified: old },
        { key: entry(9).key, lastModified: old },
        { key: 'database/leadsmart_20251101T020000Z.dump', lastModified: old },
        { key: 'database/leadsmart_20251115T020000Z.dump', lastModified: new Date(NOW.getTime() - DAY) },
        { key: 'database/notes.txt', lastModified: old },
      ];
      const plan = planRetention(manifest(entry(9), entry(0)), objects, NOW, 7);
      expect(plan.orphans).toEqual(['database/leadsmart_20251101T020000Z.dump']);
      expect(days(plan)).toEqual([9]);
    },
  );
});

describe('the manifest', () => {
  test('round-trips, sorted by creation', () => {
    const m = manifest(entry(0), entry(3));
    expect(parseManifest(serializeManifest(m)).backups.map((b) => b.key)).toEqual([entry(3).key, entry(0).key]);
  });

  test('a damaged manifest is refused with what is wrong, never treated as empty', () => {
    expect(() => parseManifest('{"version":1,"backups":[{"key":"x"}]')).toThrow('is not JSON');
    expect(() => parseManifest('{"version":2,"backups":[]}')).toThrow('is not a version 1 manifest');
    expect(() => parseManifest('{"version":1,"backups":[{"key":"database/x.dump"}]}')).toThrow(
      'entry "database/x.dump" lacks key, sha256, size, createdAt or verify',
    );
  });
});

describe('row counts after a restore', () => {
  test('lists every table whose count differs, is missing, or is new', () => {
    expect(
      compareCounts({ 'public.a': 3, 'public.b': 5, 'public.c': 1 }, { 'public.a': 3, 'public.b': 4, 'public.d': 0 }),
    ).toEqual([
      'public.b: 4 rows after restore, 5 at dump time',
      'public.c: missing after restore (1 rows at dump time)',
      "public.d: in the restore but not in the dump's counts",
    ]);
    expect(compareCounts({ 'public.a': 3 }, { 'public.a': 3 })).toEqual([]);
  });
});
