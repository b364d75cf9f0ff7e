import { MANIFEST_KEY, type RetentionPlan } from '../backups/manifest.js';
import { ExitCode } from '../../errors.js';
import type { JobReport } from './job-report.js';

const MB = 1024 * 1024;

/** What the database and pg_dump said about themselves. */
export interface DumpSource {
  database: string;
  serverVersion: string;
  pgDump: string;
}

/** What backupDatabase returns: a dry run's plan, or the stored backup. Both end with retention. */
export type BackupResult =
  | (DumpSource & { kind: 'dry-run'; storeUrl: string; key: string; retention: RetentionPlan })
  | (DumpSource & {
      kind: 'stored';
      storeUrl: string;
      key: string;
      size: number;
      sha256: string;
      encryption: string;
      tableCounts: Record<string, number>;
      dumpMs: number;
      totalMs: number;
      /** False when an S3 object over 5 GiB could not have its metadata rewritten (SHA-256 in the manifest only). */
      metadataSet: boolean;
      retention: RetentionPlan;
    });

/** What verifyBackup (the restore drill) returns. */
export interface DrillResult {
  key: string;
  ok: boolean;
  problems: string[];
  tables: number;
  ms: number;
}

/** What restoreBackup returns. */
export interface RestoreResult {
  key: string;
  createdAt: string;
  size: number;
  tables: number;
  /** Row-count differences between the restored database and the dump. */
  problems: string[];
  ms: number;
}

/** One line per backup retention deleted (or would delete), orphans included, and per backup it kept and why. */
export function describeRetention(plan: RetentionPlan, verb: string): string[] {
  return [
    ...plan.delete.map((b) => `${verb} ${b.key} (${b.createdAt.slice(0, 10)}, ${(b.size / MB).toFixed(1)} MB)`),
    ...plan.orphans.map((k) => `${verb} ${k} (not in the manifest: a run stopped before recording it)`),
    ...plan.kept.map((k) => `kept ${k.key}: ${k.why}`),
  ];
}

const deletedKeys = (plan: RetentionPlan): string[] => [...plan.delete.map((b) => b.key), ...plan.orphans];

export function reportBackup(r: BackupResult): JobReport {
  if (r.kind === 'dry-run') {
    return {
      counts: { backups_deleted: 0 },
      summary: { dry_run: true, would_delete: deletedKeys(r.retention), kept: r.retention.kept },
      text: [
        `Would dump ${r.database} (PostgreSQL ${r.serverVersion}) with ${r.pgDump} into ${r.storeUrl} as ${r.key}.`,
        ...describeRetention(r.retention, 'would delete'),
      ].join('\n'),
    };
  }
  const tables = Object.keys(r.tableCounts).length;
  return {
    counts: {
      backup_bytes: r.size,
      backups_deleted: deletedKeys(r.retention).length,
      tables,
      dump_ms: r.dumpMs,
    },
    summary: {
      key: r.key,
      size: r.size,
      sha256: r.sha256,
      server_version: r.serverVersion,
      pg_dump: r.pgDump,
      encryption: r.encryption,
      table_counts: r.tableCounts,
      deleted: deletedKeys(r.retention),
      kept: r.retention.kept,
      ms: r.totalMs,
    },
    text: [
      `Backed up ${r.database} (PostgreSQL ${r.serverVersion}) to ${r.storeUrl} as ${r.key}: ` +
        `${(r.size / MB).toFixed(1)} MB, SHA-256 ${r.sha256}, ${tables} tables, encryption ${r.encryption}, ` +
        `read back and checked, ${(r.totalMs / 1000).toFixed(1)} s.`,
      ...(r.metadataSet || !r.storeUrl.startsWith('s3://')
        ? []
        : [
            `The object is over 5 GiB (one S3 copy cannot rewrite its metadata): ` +
              `its SHA-256 and size are in ${MANIFEST_KEY} only.`,
          ]),
      ...describeRetention(r.retention, 'deleted'),
    ].join('\n'),
  };
}

/** A failed drill is exit 65: the backup no longer counts as good. */
export function reportDrill(r: DrillResult): JobReport {
  const summary = { key: r.key, ok: r.ok, problems: r.problems, tables: r.tables, ms: r.ms };
  if (!r.ok) {
    return {
      exitCode: ExitCode.DATA_ERR,
      counts: { verified: 0, verify_failed: 1 },
      summary,
      text:
        `${r.key} FAILED verification:\n${r.problems.map((p) => `  ${p}`).join('\n')}\n` +
        `It is no longer counted as a good backup; restore --from latest skips it.`,
    };
  }
  return {
    counts: { verified: 1, verify_failed: 0, verify_ms: r.ms },
    summary,
    text:
      `${r.key}: checksum matches, restored into a scratch database, row counts of all ${r.tables} tables ` +
      `match the dump (${(r.ms / 1000).toFixed(1)} s).`,
  };
}

/** A restore whose row counts differ from the dump's is exit 65, with the differences. */
export function reportRestore(r: RestoreResult): JobReport {
  return {
    exitCode: r.problems.length === 0 ? 0 : ExitCode.DATA_ERR,
    counts: { restored: 1, restore_ms: r.ms },
    summary: { key: r.key, ms: r.ms, problems: r.problems },
    text: [
      `Restored ${r.key} (${r.createdAt}, ${(r.size / MB).toFixed(1)} MB, checksum checked) ` +
        `into the target in ${(r.ms / 1000).toFixed(1)} s.`,
      r.problems.length === 0
        ? `Row counts of all ${r.tables} tables match the dump.`
        : `Row counts differ from the dump:\n${r.problems.map((p) => `  ${p}`).join('\n')}`,
      'Next: bin/migrate against it, if this code is newer than the backup.',
    ].join('\n'),
  };
}
