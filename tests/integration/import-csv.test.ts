import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { importCsvJob } from '../../src/jobs/import-csv.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { importSnapshot } from '../helpers/snapshot.js';
import { ROOT, runAsFunction, runProcess, SAMPLE_FILES, spawnProcess, TEST_NOW } from '../helpers/run-job.js';

let t: TestDatabase;
let dir: string;
let blobs: string;
const env = () => ({ DATABASE_URL: t.url, BLOB_URL: `file://${blobs}` });
const run = (argv: string[], options: { stdin?: string | Buffer } = {}) =>
  runAsFunction(importCsvJob, argv, env(), options);
let fileNo = 0;
/** Writes a CSV into the test's folder and returns its path. */
const csv = (content: string | Buffer, name = `input-${++fileNo}.csv`): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const errorLog = (r: { logs: Record<string, unknown>[] }) =>
  r.logs.find((l) => l.level === 'error') as { message: string; problems?: string[] } | undefined;
const count = async (table: string): Promise<number> =>
  Number((await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(t.db)).rows[0]!.n);
const snapshot = (): Promise<string> => importSnapshot(t.db);

const CAMPAIGNS = 'campaign_id,campaign_name,client_id,daily_budget\nc1,First,acme,100\nc2,Second,acme,50.5\n';

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.drop();
});
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'leadsmart-import-test-'));
  blobs = mkdtempSync(join(tmpdir(), 'leadsmart-import-blobs-'));
  await sql`TRUNCATE lead_status_changes, campaign_leads, campaign_metrics, campaigns, clients CASCADE`.execute(t.db);
});

describe('importing the sample dataset', () => {
  test('imports every kind in order, then a second import says nothing changed', async () => {
    const first = await run(['--json', ...SAMPLE_FILES]);
    expect(first.code).toBe(0);
    const doc = JSON.parse(first.stdout);
    expect(doc.inputs.map((i: { kind: string; inserted: number }) => [i.kind, i.inserted])).toEqual([
      ['clients', 3],
      ['campaigns', 30],
      ['metrics', 1373],
      ['leads', 778],
      ['lead-status', 408],
    ]);
    expect([
      await count('campaign_metrics'),
      await count('campaign_leads'),
      await count('lead_status_changes'),
    ]).toEqual([1373, 778, 408]);
    const before = await snapshot();

    const second = await run(['--json', ...SAMPLE_FILES]);
    expect(second.code).toBe(0);
    const again = JSON.parse(second.stdout);
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: 3 + 30 + 1373 + 778 + 408, rejected: 0 });
    expect(await snapshot()).toBe(before);
  });

  test('prints one human summary line per input on standard error', async () => {
    const r = await run([SAMPLE_FILES[0]!]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${SAMPLE_FILES[0]}: clients, 3 rows: inserted 3, updated 0, unchanged 0\n`);
  });

  test('archives the raw bytes under imports/<date>/<sha256>.csv', async () => {
    const path = csv('\ufeffclient_id,client_name\r\nacme,Acme\r\n');
    const r = await run(['--json', path]);
    const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
    const key = `imports/${TEST_NOW.slice(0, 10)}/${sha}.csv`;
    expect(JSON.parse(r.stdout).inputs[0].archive_key).toBe(key);
    expect(readFileSync(join(blobs, key))).toEqual(readFileSync(path));
  });
});

describe('what analysts really send', () => {
  test(
    'a Meta Ads Manager daily export: BOM, CRLF, quoted headers, any ' +
      'currency, extra columns ignored and named, campaigns created from names',
    async () => {
      const meta = [
        '\ufeff"Campaign name","Campaign ' +
          'ID","Day","Impressions","Reach","Link clicks","Clicks ' +
          '(all)","Amount spent (BRL)","Leads","Reporting starts","Reporting ends"',
        '"Spring, big sale",120211,2025-11-14,1000,800,20,35,150.25,3,2025-11-14,2025-11-14',
        '"Spring, big sale",120211,2025-11-15,1200,900,25,40,160.75,,2025-11-15,2025-11-15',
        '',
      ].join('\r\n');
      const r = await run(['--json', csv(meta)]);
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc.inputs[0]).toMatchObject({
        kind: 'metrics',
        inserted: 2,
        campaigns_created: 1,
        ignored_columns: ['Reach', 'Reporting starts', 'Reporting ends'],
        parser: 'csv-parse',
      });
      // Link clicks are the clicks (as on the API path); Clicks (all) is kept beside them.
      expect(
        await t.db.selectFrom('campaign_metrics').select(['clicks', 'all_clicks']).orderBy('date').execute(),
      ).toEqual([
        { clicks: '20', all_clicks: '35' },
        { clicks: '25', all_clicks: '40' },
      ]);
      const rows = await t.db
        .selectFrom('campaign_metrics')
        .select(['date', 'impressions', 'clicks', 'spend', 'total_leads', 'qualified_leads'])
        .orderBy('date')
        .execute();
      expect(rows).toEqual([
        {
          date: '2025-11-14',
          impressions: '1000',
          clicks: '20',
          spend: '150.25',
          total_leads: 3,
          qualified_leads: null,
        },
        {
          date: '2025-11-15',
          impressions: '1200',
          clicks: '25',
          spend: '160.75',
          total_leads: null,
          qualified_leads: null,
        },
      ]);
      expect(await t.db.selectFrom('campaigns').select(['campaign_id', 'campaign_name']).execute()).toEqual([
        { campaign_id: '120211', campaign_name: 'Spring, big sale' },
      ]);
    },
  );

  test(
    'a metrics import leaves the columns it does not carry alone ' +
      '(qualified leads from the CRM survive a Meta export)',
    async () => {
      expect(
        (await run([csv(CAMPAIGNS), csv('campaign_id,date,spend,qualified_leads\nc1,2025-11-15,10,4\n')])).code,
      ).toBe(0);
      const r = await run(['--json', csv('Campaign ID,Day,Amount spent (USD)\nc1,2025-11-15,12.5\n')]);
      expect(JSON.parse(r.stdout)).toMatchObject({ updated: 1 });
      expect(await t.db.selectFrom('campaign_metrics').select(['spend', 'qualified_leads']).executeTakeFirst()).toEqual(
        {
          spend: '12.5',
          qualified_leads: 4,
        },
      );
    },
  );

  test(
    'quoted fields with commas and line breaks, trailing empty ' + 'lines, and a header in other case and spacing',
    async () => {
      const r = await run([
        '--json',
        csv(
          ' Client_ID , Client Name ,ALERT-EMAILS\nacme,"Acme, ' +
            'Inc.","a@acme.example; b@acme.example"\nglobex,"Globex\nRealty",\n\n\n',
        ),
      ]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ inserted: 2, rows: 2 });
      const rows = await t.db
        .selectFrom('clients')
        .select(['client_id', 'client_name', 'alert_emails', 'timezone'])
        .orderBy('client_id')
        .execute();
      expect(rows).toEqual([
        {
          client_id: 'acme',
          client_name: 'Acme, Inc.',
          alert_emails: ['a@acme.example', 'b@acme.example'],
          timezone: 'UTC',
        },
        { client_id: 'globex', client_name: 'Globex\nRealty', alert_emails: [], timezone: 'UTC' },
      ]);
    },
  );

  test('the same rows give the same result whether PostgreSQL or csv-parse reads them', async () => {
    expect((await run([csv(CAMPAIGNS)])).code).toBe(0);
    const plain = 'campaign_id,date,impressions,clicks,spend\nc1,2025-11-01,100,5,10.5\nc2,2025-11-01,200,7,20\n';
    const quoted =
      '"campaign_id","date","impressions","clicks","spend"\nc1,"2025-11-01",100,5,"10.5"\n"c2",2025-11-01,"200",7,20\n';
    const a = JSON.parse((await run(['--json', '--dry-run', csv(plain)])).stdout).inputs[0];
    const b = JSON.parse(
      (
        await run([
          '--json',
          '--dry-run',
          csv(quoted.replace(/^[^\n]*\n/, 'campaign_id,date,impressions,clicks,spend\n')),
        ])
      ).stdout,
    ).inputs[0];
    expect([a.parser, b.parser]).toEqual(['copy', 'csv-parse']);
    expect((await run([csv(plain)])).code).toBe(0);
    const viaCopy = await snapshot();
    const r = await run(['--json', csv(quoted)]);
    expect(JSON.parse(r.stdout)).toMatchObject({ unchanged: 2, inserted: 0, updated: 0 });
    expect(await snapshot()).toBe(viaCopy);
  });

  test('PostgreSQL reads quote-free files with CRLF line ends and trailing empty lines itself', async () => {
    const r = await run(['--json', csv('client_id,client_name\r\nacme,Acme\r\nglobex,Globex\r\n\r\n\r\n')]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).inputs[0]).toMatchObject({ parser: 'copy', inserted: 2 });
    expect(await t.db.selectFrom('clients').select('client_name').orderBy('client_id').execute()).toEqual([
      { client_name: 'Acme' },
      { client_name: 'Globex' },
    ]);
  });

  test.each([
    [
      'quote-free (PostgreSQL reads it)',
      'copy',
      'campaign_id,campaign_name,date,spend,total_leads\r\nc1,One,2025-11-01,10,2\nc1,One,2025-11-02,11,3\n',
    ],
    [
      'quoted (read row by row)',
      'csv-parse',
      'campaign_id,campaign_name,date,spend,total_leads\r\n"c1","One",2025-11-01,10,2\n"c1",One,"2025-11-02",11,3\n',
    ],
  ])(
    'a header saved with CRLF over rows with LF (two editors): %s, every row imported',
    async (_what, parser, content) => {
      const r = await run(['--json', csv(content)]);
      expect({ code: r.code, problems: errorLog(r)?.problems }).toEqual({ code: 0, problems: undefined });
      expect(JSON.parse(r.stdout).inputs[0]).toMatchObject({ inserted: 2, parser });
      expect(
        (await t.db.selectFrom('campaign_metrics').select(['date', 'total_leads']).orderBy('date').execute()).map(
          (m) => m.total_leads,
        ),
      ).toEqual([2, 3]);
    },
  );

  test('reads standard input, with or without "-"', async () => {
    expect((await run([], { stdin: 'client_id\nacme\n' })).code).toBe(0);
    expect((await run(['-'], { stdin: 'client_id\nglobex\n' })).code).toBe(0);
    expect(await count('clients')).toBe(2);
  });

  test('rows whose every cell is empty (Excel\'s ",,,") are skipped and counted, not rejected', async () => {
    const r = await run(['--json', csv('client_id,client_name\nacme,Acme\n,\n , \nglobex,G\n')]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ inserted: 2, blank: 2, rejected: 0 });
  });
});

describe('refusing what is wrong, and writing nothing', () => {
  beforeEach(async () => {
    expect((await run([csv('client_id\nacme\n'), csv(CAMPAIGNS)])).code).toBe(0);
  });

  /** Runs an import that must fail with 65, checks that nothing changed, and returns its problem lines. */
  async function refused(content: string | Buffer, argv: string[] = []): Promise<string[]> {
    const before = await snapshot();
    const r = await run([...argv, csv(content)]);
    expect(r.code).toBe(65);
    expect(await snapshot()).toBe(before);
    const e = errorLog(r)!;
    return [e.message, ...(e.problems ?? [])];
  }

  test('names every bad cell as "line N: column: reason"', async () => {
    const out = await refused(
      [
        'campaign_id,date,impressions,clicks,spend,total_leads',
        ',2025-11-01,1,1,1,1',
        'c1,2025-02-30,1,1,1,1',
        'c1,2025-11-03,-5,1.5,abc,1',
        'c1,2025-11-04,"1,234",1,$12.50,99999999999',
        'c1,11/05/2025,1,1,"12,50",1',
        'c1,2025-11-06,1,1,-0.5,1',
        'c1,2025-11-07,15.112,1,"1.234,56",1',
      ].join('\n'),
    );
    expect(out).toEqual([
      '13 problems in 7 rows; nothing was imported (fix the rows, or use --skip-invalid to import the valid ones)',
      'line 2: campaign_id: required, but empty',
      'line 3: date: no such date: 2025-02-30',
      'line 4: clicks: must be a whole number: 1.5',
      'line 4: impressions: must not be negative: -5',
      'line 4: spend: not a number: "abc"',
      'line 5: impressions: not a plain number: "1,234" (leave out the thousands separators)',
      'line 5: spend: not a plain number: "$12.50" (leave out currency symbols and codes)',
      'line 5: total_leads: too large: "99999999999"',
      'line 6: date: not a date: "11/05/2025" (expected YYYY-MM-DD; ' +
        'day and month cannot be told apart: pass --date-format ' +
        'DD/MM/YYYY or --date-format MM/DD/YYYY)',
      'line 6: spend: not a plain number: "12,50" (write decimals with a point, 12.50, or pass --decimal-comma)',
      'line 7: spend: must not be negative: -0.5',
      // A file re-saved by a spreadsheet in a European locale.
      'line 8: impressions: not a plain number: "15.112" (a count is whole: ' +
        'if the points separate thousands, pass --decimal-comma or write 15112)',
      'line 8: spend: not a plain number: "1.234,56" (a decimal comma, points between thousands: ' +
        'pass --decimal-comma, or write 1234.56)',
    ]);
  });

  test('refuses impossible timestamps and unknown leads in a lead-status file', async () => {
    await run([csv('lead_id,campaign_id,created_at,status\nL1,c1,2025-11-01T10:00:00Z,new\n')]);
    const out = await refused(
      'lead_id,status,changed_at\nL1,qualified,2025-11-01T25:00:00Z\nL1,qualified,2025-11-31\n' +
        'L1,qualified,yesterday\nL9,qualified,2025-11-02\n',
    );
    expect(out.slice(1)).toEqual([
      'line 2: changed_at: no such time of day: 2025-11-01T25:00:00Z',
      'line 3: changed_at: no such date: 2025-11-31',
      'line 4: changed_at: not a timestamp: "yesterday" (expected ISO 8601, for example 2025-11-15T09:30:00Z)',
      'line 5: lead_id: unknown lead_id "L9": import the lead first (leads kind)',
    ]);
  });

  test('names both lines of a key given twice', async () => {
    const out = await refused('campaign_id,date,spend\nc1,2025-11-01,1\nc2,2025-11-01,2\nc1,2025-11-01,3\n');
    expect(out).toEqual([
      '1 problem in 1 row; nothing was imported (fix the rows, or use --skip-invalid to import the valid ones)',
      'line 4: campaign_id, date: the same campaign_id, date as line 2 (each key may appear once in an input)',
    ]);
  });

  test('refuses metrics for an unknown campaign without a name, and leads for an unknown campaign', async () => {
    expect((await refused('campaign_id,date,spend\nnew-one,2025-11-01,1\n')).slice(1)).toEqual([
      'line 2: campaign_id: unknown campaign_id "new-one": import campaigns first or add a campaign_name column',
    ]);
    expect((await refused('lead_id,campaign_id,created_at,status\nL1,nope,2025-11-01,new\n')).slice(1)).toEqual([
      'line 2: campaign_id: unknown campaign_id "nope": import the campaign first (campaigns kind)',
    ]);
  });

  test('refuses ragged rows, an unclosed quote and an over-long field, with their lines', async () => {
    expect((await refused('campaign_id,date,spend\nc1,2025-11-01\nc1,2025-11-02,1,extra\n')).slice(1)).toEqual([
      'line 2: expected 3 fields as in the header, found 2',
      'line 3: expected 3 fields as in the header, found 4 (a comma inside a value needs the value in double quotes)',
    ]);
    expect(
      (await refused('campaign_id,date,spend\nc1,2025-11-01,1\nc1,"2025-11-02,1\nc1,2025-11-03,1\n')).slice(1),
    ).toEqual([
      'line 3: a double quote opens a field on or after line 3 and is ' +
        'never closed, so the rest of the file cannot be read; close the ' +
        'quote or remove it',
    ]);
    expect((await refused(`campaign_id,campaign_name\nc1,${'x'.repeat(1024 * 1024 + 10)}\n`)).slice(1)).toEqual([
      'line 2: field 2: longer than 1 MiB',
    ]);
  });

  test('refuses bad emails, time zones, targets and date ranges in clients and campaigns', async () => {
    expect(
      (
        await refused('client_id,alert_emails,timezone,target_cpql\nacme,"a@x.example, b@x.example",Mars/Olympus,0\n')
      ).slice(1),
    ).toEqual([
      'line 2: alert_emails: not an email address: "a@x.example, b@x.example" (separate addresses with ;)',
      'line 2: target_cpql: must be greater than 0: 0',
      'line 2: timezone: unknown time zone "Mars/Olympus" (expected an ' +
        'IANA name such as Europe/Berlin or America/New_York)',
    ]);
    expect((await refused('campaign_id,start_date,end_date\nc1,2025-11-10,2025-11-01\n')).slice(1)).toEqual([
      'line 2: end_date: 2025-11-01 is before start_date 2025-11-10',
    ]);
  });

  test('refuses more qualified leads than leads on a row, naming both: a column mix-up, not a 700 % rate', async () => {
    expect(
      (await refused('campaign_id,date,spend,total_leads,qualified_leads\nc1,2025-11-15,10,1,7\n')).slice(1),
    ).toEqual([
      'line 2: qualified_leads: 7 is more than total_leads 1; qualified leads are some of the leads ' +
        '(check which column is which)',
    ]);
  });

  test('refuses an id that Excel turned into scientific notation', async () => {
    expect((await refused('Campaign ID,Campaign name,Day\n1.20211E+17,X,2025-11-01\n')).slice(1)).toEqual([
      'line 2: campaign_id: looks like a number Excel shortened ' +
        '("1.20211E+17"): the real id is lost; export the file again and ' +
        'import it without opening it in Excel',
    ]);
  });

  test('lists the first 20 problems, then a count of the rest', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => `c1,2025-11-${String(i + 1).padStart(2, '0')},x`);
    const out = await refused(`campaign_id,date,spend\n${rows.join('\n')}\n`);
    expect(out).toHaveLength(1 + 20 + 1);
    expect(out[1]).toBe('line 2: spend: not a number: "x"');
    expect(out[21]).toBe('… and 10 more problems');
  });

  test('refuses text that is not UTF-8, naming the line and how to convert it', async () => {
    const latin1 = Buffer.concat([
      Buffer.from('client_id,client_name\nacme,Acme\nzurich,Z'),
      Buffer.from([0xfc]),
      Buffer.from('rich AG\n'),
    ]);
    const [message] = await refused(latin1);
    expect(message).toMatch(
      /is not UTF-8: line 3 holds a byte that is not UTF-8 .*nothing was imported.*iconv -f WINDOWS-1252 -t UTF-8/,
    );
    const [utf16] = await refused(Buffer.from('\ufeffclient_id\nacme\n', 'utf16le'));
    expect(utf16).toMatch(/is UTF-16 text .*not UTF-8/);
  });

  test('refuses a header that is missing required columns of --kind, naming them', async () => {
    const [message, ...problems] = await refused('lead_id,status\nL1,new\n', ['--kind', 'leads']);
    expect(message).toContain('the header (2 fields) does not fit --kind leads');
    expect(problems[0]).toBe(
      'missing required columns campaign_id, created_at; a leads file needs lead_id, campaign_id, created_at, status',
    );
  });

  test("a header of 10,000 fields is bad input (65), not a crash on PostgreSQL's 1,600-column limit", async () => {
    const fields = ['campaign_id', 'date', ...Array.from({ length: 9998 }, (_, i) => `c${i}`)];
    const [message] = await refused(`${fields.join(',')}\nx,2025-01-01${',1'.repeat(9998)}\n`, ['--kind', 'metrics']);
    expect(message).toMatch(/the header has 10000 fields, more than the 1000 import-csv reads/);
  });

  test('a file that is one line of 20 MB is bad input (65): its "header" is longer than 1 MiB', async () => {
    const [message] = await refused('a'.repeat(20 * 1024 * 1024));
    expect(message).toMatch(
      /the header row is longer than 1 MiB: this is not a CSV file with a header; nothing was imported/,
    );
  });

  test('an empty input is refused', async () => {
    const [message] = await refused('');
    expect(message).toContain('is empty: expected a header row');
  });
});

describe('usage errors', () => {
  test('a header that fits no kind exits 64 and lists the kinds', async () => {
    const r = await run([csv('foo,bar\n1,2\n')]);
    expect(r.code).toBe(64);
    expect(errorLog(r)!.message).toContain('the header (2 fields) fits no kind');
    expect(errorLog(r)!.problems).toHaveLength(6);
  });

  test(
    'an input whose first line is not a header is named, never ' + 'echoed (an input may be any file the job can read)',
    async () => {
      const secret = join(dir, 'shadow');
      writeFileSync(secret, 'root:$y$j9T$secret-hash-value:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n');
      const link = join(dir, 'innocent.csv');
      symlinkSync(secret, link);
      const r = await run([link]);
      expect(r.code).toBe(64);
      expect(errorLog(r)!.message).toContain(`${link}: the header (1 field) fits no kind`);
      const everything =
        r.stdout +
        r.stderr +
        JSON.stringify(await t.db.selectFrom('job_runs').selectAll().orderBy('run_id', 'desc').limit(1).execute());
      expect(everything).not.toContain('secret-hash-value');
      expect(everything).not.toContain('root:');
    },
  );

  test('an unknown --kind, a missing file, and --rejects with several inputs', async () => {
    expect((await run(['--kind', 'ads', csv('client_id\nx\n')])).code).toBe(64);
    const missing = await run([join(dir, 'nope.csv')]);
    expect(missing.code).toBe(66);
    expect(errorLog(missing)!.message).toContain('nope.csv: no such file');
    expect((await run(['--rejects', join(dir, 'r.csv'), csv('client_id\nx\n'), csv('client_id\ny\n')])).code).toBe(64);
  });

  test(
    'standard input named twice, and --rejects naming the input ' + 'itself, are refused before anything is read',
    async () => {
      const twice = await run(['-', '-'], { stdin: 'client_id\nx\n' });
      expect(twice.code).toBe(64);
      expect(errorLog(twice)!.message).toContain('standard input ("-") can be read only once');
      const input = csv('client_id\nx\n');
      const same = await run(['--rejects', input, input]);
      expect(same.code).toBe(64);
      expect(errorLog(same)!.message).toContain('would overwrite the input');
      expect(readFileSync(input, 'utf8')).toBe('client_id\nx\n');
      expect(await count('clients')).toBe(0);
    },
  );

  test('a rejects file that cannot be written exits 64, naming the path, and writes nothing', async () => {
    const r = await run([
      '--skip-invalid',
      '--rejects',
      join(dir, 'no-such-folder', 'r.csv'),
      csv('client_id,target_cpql\nacme,1\nglobex,-1\n'),
    ]);
    expect(r.code).toBe(64);
    expect(errorLog(r)!.message).toMatch(
      /^--rejects .*no-such-folder\/r\.csv: cannot write the file \(ENOENT\); choose a path in a folder you can wr/,
    );
    expect(await count('clients')).toBe(0);
  });
});

describe('--skip-invalid, --rejects and --dry-run', () => {
  beforeEach(async () => {
    expect((await run([csv(CAMPAIGNS)])).code).toBe(0);
  });

  test(
    '--skip-invalid writes the valid rows and puts each rejected ' +
      'row, as it was, with its reasons in the rejects file',
    async () => {
      const rejects = join(dir, 'rejects.csv');
      const r = await run([
        '--json',
        '--skip-invalid',
        '--rejects',
        rejects,
        csv(
          'campaign_id,date,spend,note\nc1,2025-11-01,1,ok\nc1,2025-11-02,-1,"a, ' +
            'b"\nzz,2025-11-03,1,\nc2,2025-11-04,2,\n',
        ),
      ]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ inserted: 2, rejected: 2, rows: 4, rejects_file: rejects });
      expect(readFileSync(rejects, 'utf8')).toBe(
        'campaign_id,date,spend,note,reason\n' +
          // A cell a spreadsheet would run as a formula (here: starts with "-") is guarded with a quote.
          'c1,2025-11-02,\'-1,"a, b",spend: must not be negative: -1\n' +
          'zz,2025-11-03,1,,"campaign_id: unknown campaign_id ""zz"": ' +
          'import campaigns first or add a campaign_name column"\n',
      );
      expect(await count('campaign_metrics')).toBe(2);
    },
  );

  test('--skip-invalid exits 65 when no row at all is valid', async () => {
    const r = await run(['--skip-invalid', csv('campaign_id,date,spend\nc1,2025-11-01,x\n')]);
    expect(r.code).toBe(65);
    expect(await count('campaign_metrics')).toBe(0);
  });

  test('--rejects without --skip-invalid lists every invalid row and still writes nothing', async () => {
    const rejects = join(dir, 'all.csv');
    const r = await run(['--rejects', rejects, csv('campaign_id,date,spend\nc1,2025-11-01,1\nc1,2025-11-02,x\n')]);
    expect(r.code).toBe(65);
    expect(readFileSync(rejects, 'utf8')).toBe(
      'campaign_id,date,spend,reason\nc1,2025-11-02,x,"spend: not a number: ""x"""\n',
    );
    expect(await count('campaign_metrics')).toBe(0);
  });

  test("the rejects file's header is defused like its cells: a column a spreadsheet would run stays text", async () => {
    const rejects = join(dir, 'header.csv');
    const r = await run([
      '--rejects',
      rejects,
      csv('campaign_id,date,spend,"=HYPERLINK(""http://x"")"\nc1,2025-11-02,x,=1+1\n'),
    ]);
    expect(r.code).toBe(65);
    const [header, row] = readFileSync(rejects, 'utf8').split('\n');
    expect(header).toBe('campaign_id,date,spend,"\'=HYPERLINK(""http://x"")",reason');
    expect(row).toMatch(/^c1,2025-11-02,x,'=1\+1,/);
  });

  test('--dry-run reports what a real run would do, writes nothing and archives nothing', async () => {
    const before = await snapshot();
    const path = csv('campaign_id,date,spend\nc1,2025-11-01,1\nc2,2025-11-01,2\n');
    const r = await run(['--dry-run', '--json', path]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dry_run: true, inserted: 2 });
    expect(await snapshot()).toBe(before);
    const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
    expect(existsSync(join(blobs, 'imports', TEST_NOW.slice(0, 10), `${sha}.csv`))).toBe(false);
    expect((await run(['--dry-run', csv('campaign_id,date,spend\nc1,2025-11-01,x\n')])).code).toBe(65);
  });
});

describe('lead status history', () => {
  beforeEach(async () => {
    expect(
      (
        await run([
          csv(CAMPAIGNS),
          csv(
            'lead_id,campaign_id,created_at,status\n' +
              'L1,c1,2025-11-01T10:00:00Z,new\nL2,c1,2025-11-01T11:00:00+02:00,new\n',
          ),
        ])
      ).code,
    ).toBe(0);
  });

  test('timestamps without a zone are UTC, and a date alone is midnight UTC', async () => {
    expect(
      (await run([csv('lead_id,status,changed_at\nL1,contacted,2025-11-02 08:30\nL1,qualified,2025-11-03\n')])).code,
    ).toBe(0);
    const rows = await sql<{
      at: string;
    }>`SELECT to_char(changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS at FROM lead_status_changes ORDER BY
      changed_at`.execute(t.db);
    expect(rows.rows.map((r) => r.at)).toEqual(['2025-11-02 08:30', '2025-11-03 00:00']);
  });

  test(
    'a leads import with a new status appends a change and keeps the ' +
      'initial status; a new creation time is corrected in place; ' +
      're-importing the original list changes nothing',
    async () => {
      const r = await run([
        '--json',
        csv(
          'lead_id,campaign_id,created_at,status\n' +
            'L1,c1,2025-11-01T10:00:00Z,qualified\nL2,c1,2025-11-01T12:00:00Z,new\n',
        ),
      ]);
      expect(JSON.parse(r.stdout)).toMatchObject({ updated: 2, unchanged: 0, status_changes: 1 });
      expect(
        await t.db.selectFrom('campaign_leads').select(['lead_id', 'status']).orderBy('lead_id').execute(),
      ).toEqual([
        { lead_id: 'L1', status: 'new' },
        { lead_id: 'L2', status: 'new' },
      ]);
      const changes = await t.db
        .selectFrom('lead_status_changes')
        .select(['lead_id', 'status', 'changed_at'])
        .execute();
      expect(changes).toEqual([{ lead_id: 'L1', status: 'qualified', changed_at: new Date(TEST_NOW) }]);

      const original = await run([
        '--json',
        csv('lead_id,campaign_id,created_at,status\nL1,c1,2025-11-01T10:00:00Z,new\nL2,c1,2025-11-01T12:00:00Z,new\n'),
      ]);
      expect(JSON.parse(original.stdout)).toMatchObject({ updated: 0, unchanged: 2, status_changes: 0 });
      expect(await count('lead_status_changes')).toBe(1);
    },
  );

  test('re-scoring a past date after a leads import with new statuses gives the scores it gave before', async () => {
    await sql`TRUNCATE lead_status_changes, campaign_leads, campaign_metrics, campaigns, clients CASCADE`.execute(t.db);
    expect((await run(SAMPLE_FILES)).code).toBe(0);
    const { scoreCampaignsJob } = await import('../../src/jobs/score-campaigns.js');
    const scores = async () => {
      expect((await runAsFunction(scoreCampaignsJob, ['--date', '2025-11-15'], { DATABASE_URL: t.url })).code).toBe(0);
      return t.db
        .selectFrom('campaign_scores')
        .select(['campaign_id', 'total_score', 'recommendation', 'lead_quality_score'])
        .where('date', '=', '2025-11-15')
        .orderBy('campaign_id')
        .execute();
    };
    const before = await scores();
    // The CRM now says every lead of the sample is converted: a change as of the import (TEST_NOW, after 2025-11-15).
    const leads = readFileSync(SAMPLE_FILES[3]!, 'utf8').replace(
      /,(new|qualified|unqualified|contacted|converted)$/gm,
      ',converted',
    );
    const r = await run(['--json', csv(leads)]);
    expect(JSON.parse(r.stdout).status_changes).toBeGreaterThan(100);
    expect(await scores()).toEqual(before);
  });

  test('a lead-status import appends history and is idempotent', async () => {
    const file = csv(
      'lead_id,status,changed_at\nL1,contacted,2025-11-02T08:00:00Z\nL1,qualified,2025-11-05T08:00:00Z\n',
    );
    expect(JSON.parse((await run(['--json', file])).stdout)).toMatchObject({ inserted: 2 });
    expect(JSON.parse((await run(['--json', file])).stdout)).toMatchObject({ inserted: 0, unchanged: 2 });
    expect(await count('lead_status_changes')).toBe(2);
  });
});

describe('safety', () => {
  test('an archive that cannot be written fails the import with 69 and writes nothing', async () => {
    const r = await runAsFunction(importCsvJob, [csv('client_id\nacme\n')], {
      DATABASE_URL: t.url,
      BLOB_URL: `file://${csv('not a folder', 'blocker')}/blobs`,
    });
    expect(r.code).toBe(69);
    expect(errorLog(r)!.message).toMatch(
      /^cannot archive .* to the blob store .*nothing was imported\. Check BLOB_URL/,
    );
    expect(await count('clients')).toBe(0);
  });

  test('a table of the analysts named like the staging table is left alone', async () => {
    await sql`CREATE TABLE public.import_rows (keep text)`.execute(t.db);
    await sql`INSERT INTO public.import_rows VALUES ('mine')`.execute(t.db);
    expect((await run([csv('client_id\nacme\n')])).code).toBe(0);
    expect((await sql<{ keep: string }>`SELECT keep FROM public.import_rows`.execute(t.db)).rows).toEqual([
      { keep: 'mine' },
    ]);
    await sql`DROP TABLE public.import_rows`.execute(t.db);
  });

  test('a second import while one holds the lock exits 75 and changes nothing', async () => {
    const holder = await t.pool.connect();
    try {
      // As a running import holds it: its row of job_locks, locked by an open transaction.
      await holder.query("INSERT INTO job_locks (job) VALUES ('import-csv') ON CONFLICT DO NOTHING");
      await holder.query("BEGIN; SELECT 1 FROM job_locks WHERE job = 'import-csv' FOR UPDATE");
      const r = await run([csv('client_id\nacme\n')]);
      expect(r.code).toBe(75);
      expect(await count('clients')).toBe(0);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  });
});

describe('as a process', () => {
  test('a TMPDIR that does not exist is a setting to fix (78) with the fix named, not a stack trace', async () => {
    const r = await runProcess(
      'import-csv',
      [],
      { ...env(), TMPDIR: '/nonexistent-tmpdir-for-test' },
      {
        input: readFileSync(join(ROOT, 'sample', 'clients.csv')),
      },
    );
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("cannot write the import's working copy in /nonexistent-tmpdir-for-test (ENOENT)");
    expect(r.stderr).toContain('set TMPDIR to a folder this user can write to');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('cat file | bin/import-csv imports from standard input and prints the summary on standard error', async () => {
    const r = await runProcess('import-csv', [], env(), { input: readFileSync(join(ROOT, 'sample', 'clients.csv')) });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('standard input: clients, 3 rows: inserted 3, updated 0, unchanged 0');
  });

  test(
    'SIGKILL in the middle of a large import leaves the database as ' + 'it was, and a re-run imports every row once',
    async () => {
      expect((await run([csv(CAMPAIGNS)])).code).toBe(0);
      const lines = ['campaign_id,date,impressions,clicks,spend'];
      for (let d = 0; d < 200_000; d++)
        lines.push(
          `c${(d % 2) + 1},` +
            `${new Date(Date.UTC(2000, 0, 1) + Math.floor(d / 2) * 86_400_000).toISOString().slice(0, 10)},${d},1,1.5`,
        );
      const big = csv(`${lines.join('\n')}\n`, 'big.csv');
      const before = await snapshot();
      const child = spawnProcess('import-csv', [big], { ...env(), LOG_LEVEL: 'debug' });
      // Kill it once its rows are staged in PostgreSQL, i.e. well inside its transaction.
      await new Promise<void>((resolve) => {
        let err = '';
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes('staged (')) {
            child.kill('SIGKILL');
            resolve();
          }
        });
      });
      await new Promise((resolve) => child.on('close', resolve));
      expect(await snapshot()).toBe(before);

      const again = await runProcess('import-csv', ['--json', big], env());
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ inserted: 200_000 });
      expect(await count('campaign_metrics')).toBe(200_000);
    },
  );
});

describe('--rejects never replaces what is not a file of its own', () => {
  const bad = () => csv('client_id,target_cpql\nacme,1\nglobex,-1\n');

  test('a device is refused before any work (64), and stays a device', async () => {
    const r = await run(['--skip-invalid', '--rejects', '/dev/full', bad()]);
    expect(r.code).toBe(64);
    expect(errorLog(r)!.message).toBe(
      '--rejects /dev/full is a device: refusing to write through or replace it; name a new file',
    );
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
    expect(await count('clients')).toBe(0);
  });

  test('a symbolic link is refused, and neither the link nor its target changes', async () => {
    const target = join(dir, 'precious.txt');
    writeFileSync(target, 'keep me\n');
    const link = join(dir, 'link.csv');
    symlinkSync(target, link);
    const r = await run(['--skip-invalid', '--force', '--rejects', link, bad()]);
    expect(r.code).toBe(64);
    expect(errorLog(r)!.message).toContain('is a symbolic link: refusing to write through or replace it');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('keep me\n');
  });

  test('an existing file is overwritten only with --force', async () => {
    const path = join(dir, 'old-rejects.csv');
    writeFileSync(path, 'old\n');
    const refused = await run(['--skip-invalid', '--rejects', path, bad()]);
    expect(refused.code).toBe(64);
    expect(errorLog(refused)!.message).toBe(
      `--rejects ${path} already exists: pass --force to overwrite it, or name a new file`,
    );
    expect(readFileSync(path, 'utf8')).toBe('old\n');
    const forced = await run(['--skip-invalid', '--force', '--rejects', path, bad()]);
    expect(forced.code).toBe(0);
    expect(readFileSync(path, 'utf8')).toContain('globex,');
    expect(readdirSync(dir).filter((f) => f.includes('.partial'))).toEqual([]);
  });

  test(
    'formula-like cells are guarded in the rejects file, and ' + 're-importing the corrected file takes the guard off',
    async () => {
      const rejects = join(dir, 'formulas.csv');
      const r = await run([
        '--skip-invalid',
        '--rejects',
        rejects,
        csv(
          'campaign_id,campaign_name,daily_budget\nok,Fine,1\nc1,=HYPERLINK("http://x.example"),abc\nc2,@SUM(A1),-3\n',
        ),
      ]);
      expect(r.code).toBe(0);
      const text = readFileSync(rejects, 'utf8');
      expect(text).toContain(`c1,"'=HYPERLINK(""http://x.example"")",abc,`);
      expect(text).toContain("c2,'@SUM(A1),'-3,");
      // The analyst corrects the budgets and imports the rejects file as it is.
      writeFileSync(rejects, text.replace(',abc,', ',10,').replace(",'-3,", ',3,'));
      expect((await run([rejects])).code).toBe(0);
      const names = await t.db
        .selectFrom('campaigns')
        .select(['campaign_id', 'campaign_name'])
        .where('campaign_id', 'in', ['c1', 'c2'])
        .orderBy('campaign_id')
        .execute();
      expect(names).toEqual([
        { campaign_id: 'c1', campaign_name: '=HYPERLINK("http://x.example")' },
        { campaign_id: 'c2', campaign_name: '@SUM(A1)' },
      ]);
    },
  );
});

describe('leftovers of killed imports', () => {
  test(
    'spool folders (leadsmart-import-*) older than a day are removed ' +
      'by the next import; a fresh one and other folders are kept',
    async () => {
      const tmp = mkdtempSync(join(tmpdir(), 'leadsmart-tmp-'));
      const old = join(tmp, 'leadsmart-import-AbC123');
      const fresh = join(tmp, 'leadsmart-import-XyZ789');
      const other = join(tmp, 'leadsmart-import-notes');
      for (const d of [old, fresh, other]) {
        mkdirSync(d);
        writeFileSync(join(d, 'input.csv'), 'client_id\nx\n');
      }
      const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
      utimesSync(old, twoDaysAgo, twoDaysAgo);
      utimesSync(other, twoDaysAgo, twoDaysAgo);
      const r = await runProcess('import-csv', [csv('client_id\nacme\n')], { ...env(), TMPDIR: tmp });
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('removed 1 temporary input copy (leadsmart-import-*) that killed imports left behind');
      expect(readdirSync(tmp).sort()).toEqual(['leadsmart-import-XyZ789', 'leadsmart-import-notes']);
    },
  );
});

describe('inputs that never end', () => {
  const spawnImport = (argv: string[], extra: Record<string, string> = {}) => {
    const spools = mkdtempSync(join(tmpdir(), 'leadsmart-spools-'));
    const child = spawnProcess('import-csv', argv, { ...env(), TMPDIR: spools, ...extra });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    const started = new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (stderr.includes('import-csv started')) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    return { child, spools, closed, started, stderr: () => stderr };
  };
  const lastRun = () =>
    t.db
      .selectFrom('job_runs')
      .select(['status', 'exit_code'])
      .where('job', '=', 'import-csv')
      .orderBy('run_id', 'desc')
      .executeTakeFirstOrThrow();

  test(
    'a FIFO nobody writes to: SIGTERM ends the run (143, ' + 'interrupted), and the lock is free for the next import',
    async () => {
      const fifo = join(dir, 'nobody-writes');
      execFileSync('mkfifo', [fifo]);
      const run1 = spawnImport([fifo]);
      await run1.started;
      await new Promise((r) => setTimeout(r, 300));
      run1.child.kill('SIGTERM');
      expect(await run1.closed).toEqual({ code: 143, signal: null });
      expect(await lastRun()).toEqual({ status: 'interrupted', exit_code: 143 });
      expect(readdirSync(run1.spools)).toEqual([]);
      expect((await run([csv('client_id\nacme\n')])).code).toBe(0);
    },
  );

  test('a FIFO with a writer is read to its end, however late the writer comes', async () => {
    const fifo = join(dir, 'late-writer');
    execFileSync('mkfifo', [fifo]);
    const r = spawnImport([fifo]);
    await r.started;
    await new Promise((res) => setTimeout(res, 300));
    writeFileSync(fifo, 'client_id,client_name\nacme,Acme\nglobex,Globex\n');
    expect(await r.closed).toEqual({ code: 0, signal: null });
    expect(await count('clients')).toBe(2);
  });

  test(
    'endless input (/dev/zero) stops at IMPORT_MAX_INPUT_MB: exit 65 ' + 'naming the setting, and the spool is removed',
    async () => {
      const r = spawnImport(['/dev/zero'], { IMPORT_MAX_INPUT_MB: '2' });
      expect(await r.closed).toEqual({ code: 65, signal: null });
      expect(r.stderr()).toContain('/dev/zero is larger than IMPORT_MAX_INPUT_MB (2 MiB); nothing was imported');
      expect(readdirSync(r.spools)).toEqual([]);
    },
  );

  test('endless input: SIGTERM stops the spooling at once (143) and removes the spool', async () => {
    const r = spawnImport(['/dev/zero']);
    await r.started;
    await new Promise((res) => setTimeout(res, 300));
    r.child.kill('SIGTERM');
    expect(await r.closed).toEqual({ code: 143, signal: null });
    expect(readdirSync(r.spools)).toEqual([]);
  });

  test('a second SIGTERM ends the process at once, by the signal itself', async () => {
    const r = spawnImport(['/dev/zero']);
    await r.started;
    r.child.kill('SIGTERM');
    r.child.kill('SIGTERM');
    const started = Date.now();
    const end = await r.closed;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(end.signal === 'SIGTERM' || end.code === 143).toBe(true);
  });
});

describe('a database connection lost mid-run', () => {
  test(
    'exits 69 with the reason and the EMF line, not 1 with an ' + 'unhandled error event, and leaves no spool behind',
    async () => {
      expect((await run([csv(CAMPAIGNS)])).code).toBe(0);
      const lines = ['campaign_id,date,impressions,clicks,spend'];
      for (let d = 0; d < 200_000; d++)
        lines.push(
          `c${(d % 2) + 1},` +
            `${new Date(Date.UTC(2000, 0, 1) + Math.floor(d / 2) * 86_400_000).toISOString().slice(0, 10)},${d},1,1.5`,
        );
      const big = csv(`${lines.join('\n')}\n`, 'lost.csv');
      const spools = mkdtempSync(join(tmpdir(), 'leadsmart-spools-'));
      const before = await snapshot();
      const child = spawnProcess('import-csv', [big], { ...env(), LOG_LEVEL: 'debug', TMPDIR: spools });
      let stderr = '';
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      // Once its rows are staged (inside its transaction), every connection of the run is terminated, as a server
      // restart does.
      await new Promise<void>((resolve) => {
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (stderr.includes('staged (')) resolve();
        });
      });
      await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE
        ${`leadsmart:import-csv:${child.pid}%`}`.execute(t.db);
      const code = await closed;
      expect(stderr).not.toMatch(/Unhandled 'error' event/);
      expect(code).toBe(69);
      expect(stderr).toMatch(/lost a connection mid-run .*the work in progress was not committed/);
      expect(stderr).toMatch(/"ExitCode":69/);
      expect(readdirSync(spools)).toEqual([]);
      expect(await snapshot()).toBe(before);
    },
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
