import { emptyCounts, type ImportCounts, type KindName } from '../csv-import/kinds.js';
import type { JobReport } from './job-report.js';

/** Problems listed in a message or log line; the rest are counted ("… and 12 more problems"). */
export const MAX_LISTED = 20;

/** One input of an import-csv run. */
export interface InputResult {
  name: string;
  kind: KindName;
  /** What the analyst should know about how the file was read (keys by name, rows summed, no lead column). */
  notes: string[];
  counts: ImportCounts;
  ignoredColumns: string[];
  sha256: string;
  bytes: number;
  archiveKey: string | null;
  /** How the rows reached PostgreSQL: its own CSV parser (`copy`) or csv-parse in Node. */
  parser: 'copy' | 'csv-parse';
  problems: string[];
  problemCount: number;
}

/** What importCsv returns. */
export interface ImportCsvResult {
  dryRun: boolean;
  inputs: InputResult[];
  /** The --rejects file the invalid rows were written to, when some were (never on a dry run). */
  rejectsFile: string | null;
}

/** The first problems of every input, each named after its input when there are several, and how many more. */
export function listProblems(results: readonly InputResult[]): string[] {
  const several = results.length > 1;
  const all = results.flatMap((r) => r.problems.map((p) => (several ? `${r.name}: ${p}` : p)));
  const total = results.reduce((n, r) => n + r.problemCount, 0);
  const listed = all.slice(0, MAX_LISTED);
  if (total > listed.length)
    listed.push(`… and ${total - listed.length} more problem${total - listed.length === 1 ? '' : 's'}`);
  return listed;
}

function summaryLine(r: InputResult, dryRun: boolean): string {
  const c = r.counts;
  const parts = [
    `${r.name}: ${r.kind}, ${c.rows} ` +
      `row${c.rows === 1 ? '' : 's'}: ${dryRun ? 'would insert' : 'inserted'} ${c.inserted}, ` +
      `updated ${c.updated}, unchanged ${c.unchanged}`,
  ];
  if (c.rejected > 0) parts.push(`rejected ${c.rejected}`);
  if (c.blank > 0) parts.push(`skipped ${c.blank} empty`);
  if (c.totalsSkipped > 0) parts.push('skipped the totals row');
  if (c.summedRows > 0)
    parts.push(
      `summed ${c.summedRows} rows per ad, ad set or placement ` +
        `into ${c.summedInto} campaign-day row${c.summedInto === 1 ? '' : 's'}`,
    );
  if (c.campaignsCreated > 0)
    parts.push(`created ${c.campaignsCreated} campaign${c.campaignsCreated === 1 ? '' : 's'}`);
  if (c.clientsCreated > 0) parts.push(`created ${c.clientsCreated} client${c.clientsCreated === 1 ? '' : 's'}`);
  if (c.statusChanges > 0) parts.push(`recorded ${c.statusChanges} status change${c.statusChanges === 1 ? '' : 's'}`);
  if (r.ignoredColumns.length > 0) parts.push(`ignored columns: ${r.ignoredColumns.join(', ')}`);
  parts.push(...r.notes);
  return `${parts.join('; ')}${dryRun ? ' (dry run: nothing written)' : ''}`;
}

function snake(c: ImportCounts): Record<string, number> {
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [k.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`), v]));
}

/** One line per input; the totals for job_runs and EMF; the --json document with every input's counts. */
export function reportImportCsv(result: ImportCsvResult): JobReport {
  const { inputs, dryRun } = result;
  const total = inputs.reduce((acc, r) => {
    for (const k of Object.keys(acc) as (keyof ImportCounts)[]) acc[k] += r.counts[k];
    return acc;
  }, emptyCounts());
  return {
    counts: {
      rows: total.rows,
      inserted: total.inserted,
      updated: total.updated,
      unchanged: total.unchanged,
      rejected: total.rejected,
      campaigns_created: total.campaignsCreated,
      clients_created: total.clientsCreated,
    },
    summary: {
      dry_run: dryRun,
      ...snake(total),
      inputs: inputs.map((r) => ({
        input: r.name,
        kind: r.kind,
        ...snake(r.counts),
        ignored_columns: r.ignoredColumns,
        notes: r.notes,
        sha256: r.sha256,
        bytes: r.bytes,
        archive_key: r.archiveKey,
        parser: r.parser,
        problems: r.problems,
      })),
      rejects_file: result.rejectsFile,
    },
    text: inputs.map((r) => summaryLine(r, dryRun)).join('\n'),
  };
}
