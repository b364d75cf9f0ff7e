import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DataError } from '../../src/errors.js';
import { openBlobStore } from '../../src/integrations/storage/blob-store.js';
import { type ImportCsvOptions, importCsv } from '../../src/jobs/import-csv/import.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { testJobDeps } from '../helpers/job-deps.js';

// importCsv(deps, options) called as a function, with standard input and the blob store passed in. The process
// around it (flags, exit codes, FIFOs, signals, every bad row) is tested in import-csv.test.ts.
let t: TestDatabase;
let dir: string;
const options = (inputs: string[], over: Partial<ImportCsvOptions> = {}): ImportCsvOptions => ({
  kind: undefined,
  skipInvalid: false,
  rejects: undefined,
  force: false,
  inputs,
  renames: new Map(),
  dateFormat: null,
  decimalComma: false,
  client: null,
  ...over,
});
const deps = async (stdin: string, dryRun = false) => {
  const base = await testJobDeps(t, { dryRun });
  return {
    ...base,
    stdin: Readable.from([Buffer.from(stdin)]),
    openStore: () => openBlobStore(`file://${join(dir, 'blobs')}`),
  };
};
const clients = async () =>
  (await t.db.selectFrom('clients').select('client_id').orderBy('client_id').execute()).map((r) => r.client_id);

beforeAll(async () => {
  t = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'leadsmart-import-fn-'));
});
afterAll(async () => {
  await t.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('importCsv', () => {
  test('a dry run of standard input checks every row and writes nothing', async () => {
    const before = await clients();
    const result = await importCsv(await deps('client_id,client_name\nacme,Acme Dental\n', true), options(['-']));
    expect(result.dryRun).toBe(true);
    expect(result.inputs[0]).toMatchObject({ name: 'standard input', kind: 'clients', archiveKey: null });
    expect(result.inputs[0]!.counts.rows).toBe(1);
    expect(await clients()).toEqual(before);
  });

  test('an import writes the rows and archives the input in the store it is given', async () => {
    const file = join(dir, 'clients.csv');
    writeFileSync(file, 'client_id,client_name\nacme,Acme Dental\nbeta,Beta Clinic\n');
    const result = await importCsv(await deps(''), options([file]));
    const c = result.inputs[0]!.counts;
    expect(c.rows).toBe(2);
    expect(c.inserted + c.updated + c.unchanged).toBe(2);
    expect(await clients()).toEqual(expect.arrayContaining(['acme', 'beta']));
    const key = result.inputs[0]!.archiveKey!;
    expect(key).toMatch(/^imports\/2025-11-16\/[0-9a-f]{64}\.csv$/);
    expect(readdirSync(join(dir, 'blobs', 'imports', '2025-11-16'))).toContain(key.split('/').pop());
  });

  test('one bad row refuses the whole input with DataError and lists the problem', async () => {
    const before = await clients();
    const error = await importCsv(
      await deps('client_id,client_name,target_cpql\ngamma,Gamma,abc\n'),
      options(['-']),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).problems.join('\n')).toMatch(/line 2: target_cpql: .*abc/);
    expect(await clients()).toEqual(before);
    expect(before).not.toContain('gamma');
  });

  test("a client's target cost per lead (target_cpl) is imported, and a bad one refused like target_cpql", async () => {
    await importCsv(await deps('client_id,target_cpl\ndelta,35.50\n'), options(['-']));
    const stored = await t.db.selectFrom('clients').select('target_cpl').where('client_id', '=', 'delta').execute();
    expect(stored).toEqual([{ target_cpl: '35.50' }]);
    const error = await importCsv(await deps('client_id,target_cpl\ndelta,0\n'), options(['-'])).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).problems.join('\n')).toMatch(/line 2: target_cpl: must be greater than 0/);
    expect(await t.db.selectFrom('clients').select('target_cpl').where('client_id', '=', 'delta').execute()).toEqual(
      stored,
    );
  });
});
