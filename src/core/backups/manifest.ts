/**
 * The backup manifest (`database/manifest.json` in the blob store): every
 * backup with what restore and --verify need, so that neither lists the
 * bucket. Pure: parsing, choosing, retention.
 */

export interface VerifyResult {
  /** ISO instant of the check. */
  at: string;
  ok: boolean;
  /**
   * 'readback': the stored object hashed again after upload; 'restore': downloaded, hashed, restored into a scratch
   * database, rows counted.
   */
  method: 'readback' | 'restore';
  /** What did not match, one line each; empty when ok. */
  problems: string[];
}

export interface BackupEntry {
  /** Blob key: `database/<prefix>_<UTC timestamp>.dump`. */
  key: string;
  /** ISO instant the dump's snapshot was taken. */
  createdAt: string;
  /** Bytes of the dump. */
  size: number;
  /** Hex SHA-256 of the dump's bytes. */
  sha256: string;
  /** `pg_dump -Fc`: 'custom'. */
  format: 'custom';
  /** server_version of the source database (for example "15.18"). */
  serverVersion: string;
  /** pg_dump --version of the tool that wrote it. */
  pgDumpVersion: string;
  /** Database name of the source. */
  database: string;
  /** Rows of every table at the dump's snapshot, by schema-qualified name. */
  tableCounts: Record<string, number>;
  /** Server-side encryption the store reported for the object: 'AES256', 'aws:kms', or 'none' (file store). */
  encryption: string;
  /** The latest check of this backup. */
  verify: VerifyResult;
  /** Every --verify restore drill, oldest first (at most 12 kept). */
  drills?: VerifyResult[];
}

export interface Manifest {
  version: 1;
  backups: BackupEntry[];
}

export const MANIFEST_KEY = 'database/manifest.json';

export function emptyManifest(): Manifest {
  return { version: 1, backups: [] };
}

/** Reads a manifest; throws with what is wrong so a damaged one is never silently replaced. */
export function parseManifest(text: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`${MANIFEST_KEY} is not JSON (${(error as Error).message})`);
  }
  const m = raw as Partial<Manifest>;
  if (m?.version !== 1 || !Array.isArray(m.backups)) throw new Error(`${MANIFEST_KEY} is not a version 1 manifest`);
  for (const b of m.backups) {
    if (
      typeof b?.key !== 'string' ||
      typeof b.sha256 !== 'string' ||
      typeof b.size !== 'number' ||
      typeof b.createdAt !== 'string' ||
      typeof b.verify?.ok !== 'boolean'
    ) {
      throw new Error(
        `${MANIFEST_KEY}: entry ${JSON.stringify(b?.key ?? b)} lacks key, sha256, size, createdAt or verify`,
      );
    }
  }
  return m as Manifest;
}

export function serializeManifest(m: Manifest): string {
  const backups = [...m.backups].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.key.localeCompare(b.key));
  return `${JSON.stringify({ version: 1, backups }, null, 2)}\n`;
}

/** `database/<prefix>_20251116T020000Z.dump` for an instant. */
export function backupKey(prefix: string, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `database/${prefix}_${stamp}.dump`;
}

/** A backup prefix: letters, digits, dot, dash, underscore (it becomes part of an object key). */
export function isBackupPrefix(text: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(text);
}

/** The newest backup whose latest check passed, or null. */
export function latestGood(m: Manifest): BackupEntry | null {
  return [...m.backups].filter((b) => b.verify.ok).sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0] ?? null;
}

/** `latest` or a key (with or without the `database/` folder). */
export function findBackup(m: Manifest, from: string): BackupEntry | null {
  if (from === 'latest') return latestGood(m);
  const key = from.startsWith('database/') ? from : `database/${from}`;
  return m.backups.find((b) => b.key === key) ?? null;
}

export interface RetentionPlan {
  /** Manifest entries to delete, oldest first. */
  delete: BackupEntry[];
  /**
   * Objects under database/ that are in no manifest entry (a run stopped between upload and manifest) and old enough to
   * go.
   */
  orphans: string[];
  /** Why each kept backup older than the limit is kept. */
  kept: { key: string; why: string }[];
}

/**
 * What retention removes: backups created before `now − keepDays`, except
 * the newest good backup (never deleted, however old). Orphan objects
 * (not in the manifest) older than the limit go too. The caller runs this
 * only after today's backup succeeded and was verified.
 */
export function planRetention(
  m: Manifest,
  objects: readonly { key: string; lastModified: Date }[],
  now: Date,
  keepDays: number,
): RetentionPlan {
  const limit = now.getTime() - keepDays * 86_400_000;
  const newest = latestGood(m);
  const plan: RetentionPlan = { delete: [], orphans: [], kept: [] };
  for (const b of [...m.backups].sort((x, y) => x.createdAt.localeCompare(y.createdAt))) {
    if (Date.parse(b.createdAt) >= limit) continue;
    if (newest !== null && b.key === newest.key)
      plan.kept.push({ key: b.key, why: 'the newest good backup is never deleted' });
    else plan.delete.push(b);
  }
  const known = new Set(m.backups.map((b) => b.key));
  for (const o of objects) {
    if (o.key === MANIFEST_KEY || known.has(o.key) || !o.key.endsWith('.dump')) continue;
    if (o.lastModified.getTime() < limit) plan.orphans.push(o.key);
  }
  plan.orphans.sort();
  return plan;
}

/** Differences between the row counts at dump time and after a restore, one line each. */
export function compareCounts(expected: Record<string, number>, actual: Record<string, number>): string[] {
  const problems: string[] = [];
  for (const [table, n] of Object.entries(expected).sort(([a], [b]) => a.localeCompare(b))) {
    if (!(table in actual)) problems.push(`${table}: missing after restore (${n} rows at dump time)`);
    else if (actual[table] !== n) problems.push(`${table}: ${actual[table]} rows after restore, ${n} at dump time`);
  }
  for (const table of Object.keys(actual).sort())
    if (!(table in expected)) problems.push(`${table}: in the restore but not in the dump's counts`);
  return problems;
}
