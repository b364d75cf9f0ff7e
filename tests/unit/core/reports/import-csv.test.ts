import { describe, expect, test } from '@jest/globals';
import { emptyCounts } from '../../../../src/core/csv-import/kinds.js';
import { type InputResult, listProblems, reportImportCsv } from '../../../../src/core/reports/import-csv.js';

// The report of an import-csv run, from its result alone: no database, no files.
const input = (over: Partial<InputResult>): InputResult => ({
  name: 'metrics.csv',
  kind: 'metrics',
  notes: [],
  counts: { ...emptyCounts(), rows: 10, inserted: 8, updated: 1, unchanged: 1 },
  ignoredColumns: [],
  sha256: 'ab'.repeat(32),
  bytes: 512,
  archiveKey: 'imports/2025-11-16/abab.csv',
  parser: 'copy',
  problems: [],
  problemCount: 0,
  ...over,
});

describe('reportImportCsv', () => {
  test('one line per input with its kind and counts; a dry run says would insert and nothing written', () => {
    expect(reportImportCsv({ dryRun: false, inputs: [input({})], rejectsFile: null }).text).toBe(
      'metrics.csv: metrics, 10 rows: inserted 8, updated 1, unchanged 1',
    );
    expect(reportImportCsv({ dryRun: true, inputs: [input({})], rejectsFile: null }).text).toBe(
      'metrics.csv: metrics, 10 rows: would insert 8, updated 1, unchanged 1 (dry run: nothing written)',
    );
  });

  test('what was skipped, summed, created or ignored is said, with the notes on how the file was read', () => {
    const counts = {
      ...emptyCounts(),
      rows: 41,
      inserted: 9,
      rejected: 1,
      blank: 2,
      totalsSkipped: 1,
      summedRows: 36,
      summedInto: 9,
      campaignsCreated: 3,
    };
    const line = reportImportCsv({
      dryRun: false,
      inputs: [input({ counts, ignoredColumns: ['Reach'], notes: ['campaigns found by name'] })],
      rejectsFile: 'rejects.csv',
    }).text;
    expect(line.split('; ')).toEqual([
      'metrics.csv: metrics, 41 rows: inserted 9, updated 0, unchanged 0',
      'rejected 1',
      'skipped 2 empty',
      'skipped the totals row',
      'summed 36 rows per ad, ad set or placement into 9 campaign-day rows',
      'created 3 campaigns',
      'ignored columns: Reach',
      'campaigns found by name',
    ]);
  });

  test('counts add the inputs up; the --json document has every input and the rejects file', () => {
    const r = reportImportCsv({
      dryRun: false,
      inputs: [
        input({}),
        input({ name: 'leads.csv', kind: 'leads', counts: { ...emptyCounts(), rows: 5, inserted: 5 } }),
      ],
      rejectsFile: 'rejects.csv',
    });
    expect(r.counts).toMatchObject({ rows: 15, inserted: 13, updated: 1, unchanged: 1, rejected: 0 });
    expect(r.summary).toMatchObject({ dry_run: false, rows: 15, rejects_file: 'rejects.csv' });
    expect((r.summary.inputs as { input: string; campaigns_created: number }[]).map((i) => i.input)).toEqual([
      'metrics.csv',
      'leads.csv',
    ]);
    expect(r.exitCode).toBeUndefined();
  });
});

describe('listProblems', () => {
  test('names each problem after its input when there are several, and counts those past the first 20', () => {
    const many = Array.from({ length: 25 }, (_, i) => `line ${i + 2}: spend: not a number`);
    const listed = listProblems([
      input({ problems: many.slice(0, 20), problemCount: 25 }),
      input({ name: 'b.csv', problems: ['line 2: date: not a date'], problemCount: 1 }),
    ]);
    expect(listed).toHaveLength(21);
    expect(listed[0]).toBe('metrics.csv: line 2: spend: not a number');
    expect(listed[20]).toBe('… and 6 more problems');
    expect(listProblems([input({ problems: ['line 2: x'], problemCount: 1 })])).toEqual(['line 2: x']);
  });
});
