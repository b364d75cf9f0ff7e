import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { applyMigrations } from '../../src/db/migrate.js';
import { migrateJob } from '../../src/jobs/migrate.js';
import { scoreCampaignsJob } from '../../src/jobs/score-campaigns.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startFakeSentry } from '../helpers/fake-sentry.js';
import { loadSample, ROOT, runAsFunction, runProcess } from '../helpers/run-job.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  await loadSample(t.url);
});
afterAll(async () => {
  await t.drop();
});

// A server that refuses connections at once: nothing listens on port 1 of loopback.
const DOWN_URL = 'postgresql://leadsmart:hunter2-very-secret@127.0.0.1:1/leadsmart';

describe('--help', () => {
  test.each(['score-campaigns', 'migrate'])(
    'bin/%s --help lists options, exit codes and an example, and exits 0',
    async (job) => {
      const r = await runProcess(job, ['--help'], {});
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/--json/);
      expect(r.stdout).toMatch(/--dry-run/);
      expect(r.stdout).toMatch(/Exit codes:[\s\S]*64 +usage[\s\S]*75 +temporary[\s\S]*78 +configuration/);
      expect(r.stdout).toMatch(new RegExp(`Examples:\\n  \\$ bin/${job}`));
    },
  );
});

test.each([
  ['crm-webhook', [], 'bin/crm-webhook'],
  ['crm-webhook', ['keys'], 'bin/crm-webhook keys create'],
  ['status-server', [], 'bin/status-server'],
  ['status-server', ['users'], 'bin/status-server users add'],
])('bin/%s %j --help: what it does, an example, exit 0', async (job, words, example) => {
  const r = await runProcess(job, [...words, '--help'], {});
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(`$ ${example}`);
  expect(r.stdout).toMatch(/Exit codes:/);
});

describe('configuration', () => {
  test('reports every problem at once and exits 78 before touching the database', async () => {
    const r = await runAsFunction(scoreCampaignsJob, ['--json'], {
      DATABASE_URL: DOWN_URL,
      LOG_LEVEL: 'loud',
      BLOB_URL: 'ftp://example/x',
      SCORING_TIMEZONE: 'Mars/Olympus_Mons',
      STATUS_PORT: 'eighty',
    });
    expect(r.code).toBe(78);
    const doc = JSON.parse(r.stdout);
    expect(doc.problems).toEqual([
      expect.stringMatching(
        /^BLOB_URL=ftp:\/\/example\/x: expected file:\/\/\/absolute\/path or s3:\/\/bucket\/prefix/,
      ),
      expect.stringMatching(/^LOG_LEVEL=loud: expected error, warn, info or debug/),
      expect.stringMatching(/^SCORING_TIMEZONE=Mars\/Olympus_Mons: not an IANA time zone/),
      expect.stringMatching(/^STATUS_PORT=eighty/),
    ]);
  });

  test('a secret can be read from <NAME>_FILE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'secret-'));
    writeFileSync(join(dir, 'db-url'), `${t.url}\n`);
    const r = await runAsFunction(scoreCampaignsJob, ['--date', '2025-11-15', '--dry-run'], {
      DATABASE_URL_FILE: join(dir, 'db-url'),
    });
    expect(r.code).toBe(0);
    const missing = await runAsFunction(scoreCampaignsJob, ['--json'], { DATABASE_URL_FILE: join(dir, 'nope') });
    expect(missing.code).toBe(78);
    expect(JSON.parse(missing.stdout).problems[0]).toMatch(/DATABASE_URL_FILE=.*nope: cannot read the file \(ENOENT\)/);
  });

  test('flags win over the environment', async () => {
    const r = await runAsFunction(scoreCampaignsJob, ['--database-url', t.url, '--date', '2025-11-15', '--dry-run'], {
      DATABASE_URL: DOWN_URL,
    });
    expect(r.code).toBe(0);
  });
});

describe('database problems', () => {
  test(
    'PostgreSQL unreachable: exit 69 after retries, with a message ' + 'that names the fix and never the password',
    async () => {
      const r = await runAsFunction(scoreCampaignsJob, ['--date', '2025-11-15', '--json'], { DATABASE_URL: DOWN_URL });
      expect(r.code).toBe(69);
      expect(JSON.parse(r.stdout).error).toMatch(
        /cannot reach PostgreSQL \(postgresql:\/\/leadsmart:\[REDACTED\]@127\.0\.0\.1:1\/leadsmart\) after 4 .*REFUSED/,
      );
      expect(r.stdout + r.stderr).not.toContain('hunter2-very-secret');
    },
  );

  test.each([
    [
      'a role that does not exist (or a wrong password: SQLSTATE 28000/28P01)',
      (url: string) => url.replace('postgresql://postgres@', 'postgresql://nobody:hunter2-very-secret@'),
      /role "nobody" does not exist/,
    ],
    [
      'a database that does not exist (3D000)',
      (url: string) => url.replace(/\/t_[0-9a-f]+\?/, '/no_such_db?'),
      /database "no_such_db" does not exist/,
    ],
  ])(
    'PostgreSQL refusing %s is configuration: exit 78 naming what to check, no stack, never the password',
    async (_name, mangle, reason) => {
      const r = await runProcess('score-campaigns', ['--date', '2025-11-15', '--json'], {
        DATABASE_URL: mangle(t.url),
      });
      expect(r.code).toBe(78);
      const doc = JSON.parse(r.stdout);
      expect(doc.error).toMatch(reason);
      expect(doc.error).toContain('Check the user, the password and the database name in DATABASE_URL');
      expect(r.stderr).not.toMatch(/"stack"/);
      expect(r.stdout + r.stderr).not.toContain('hunter2-very-secret');
    },
  );

  test(
    'a failure while reporting (standard output throws) still ' +
      'releases the connections and takes the signal handlers off',
    async () => {
      const { runJob } = await import('../../src/runtime/runner.js');
      const { Writable } = await import('node:stream');
      const broken = new Writable({ write: (_c, _e, cb) => cb() });
      broken.write = () => {
        throw new Error('standard output is gone');
      };
      const sigterm = process.listenerCount('SIGTERM');
      const marker = `reporting-${Date.now()}`;
      await expect(
        runJob(scoreCampaignsJob, {
          argv: ['--date', '2025-11-15', '--json', '--dry-run'],
          env: { DATABASE_URL: t.url, LOG_LEVEL: 'error', PGAPPNAME: marker },
          stdout: broken,
          stderr: new Writable({ write: (_c, _e, cb) => cb() }),
          handleSignals: true,
        }),
      ).rejects.toThrow('standard output is gone');
      expect(process.listenerCount('SIGTERM')).toBe(sigterm);
      // A closed connection's backend leaves pg_stat_activity a moment after the client hangs up (longer on a busy
      // machine); a leaked one never does. Wait up to 5 s for them to go.
      const left = async () =>
        Number(
          (
            await sql<{ n: string }>`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE
              ${`leadsmart:score-campaigns:${process.pid}%`}`.execute(t.db)
          ).rows[0]!.n,
        );
      let n = await left();
      for (let i = 0; i < 50 && n > 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        n = await left();
      }
      expect(n).toBe(0);
    },
  );

  test('an unmigrated database: exit 78 telling to run bin/migrate', async () => {
    const empty = await createTestDatabase({ migrated: false });
    try {
      const r = await runAsFunction(scoreCampaignsJob, ['--json'], { DATABASE_URL: empty.url });
      expect(r.code).toBe(78);
      expect(JSON.parse(r.stdout).error).toMatch(/run bin\/migrate/);
    } finally {
      await empty.drop();
    }
  });

  test('an error inside the run rolls the scores back, records the failure in job_runs and exits 1', async () => {
    expect((await runAsFunction(scoreCampaignsJob, ['--date', '2025-11-15'], { DATABASE_URL: t.url })).code).toBe(0);
    const before = await t.db
      .selectFrom('campaign_scores')
      .select(['campaign_id', 'total_score', 'run_id'])
      .where('date', '=', '2025-11-15')
      .orderBy('campaign_id')
      .execute();
    await t.db.updateTable('campaign_metrics').set({ clicks: 1 }).where('campaign_id', '=', 'demo-03-star').execute();
    await sql`ALTER TABLE scoring_runs RENAME TO scoring_runs_gone`.execute(t.db);
    try {
      const r = await runAsFunction(scoreCampaignsJob, ['--date', '2025-11-15'], { DATABASE_URL: t.url });
      expect(r.code).toBe(1);
      const after = await t.db
        .selectFrom('campaign_scores')
        .select(['campaign_id', 'total_score', 'run_id'])
        .where('date', '=', '2025-11-15')
        .orderBy('campaign_id')
        .execute();
      expect(after).toEqual(before);
      const run = await t.db.selectFrom('job_runs').selectAll().orderBy('run_id', 'desc').executeTakeFirstOrThrow();
      expect(run).toMatchObject({ job: 'score-campaigns', status: 'failed', exit_code: 1 });
      expect(run.error_summary).toMatch(/unexpected error: relation "scoring_runs" does not exist/);
    } finally {
      await sql`ALTER TABLE scoring_runs_gone RENAME TO scoring_runs`.execute(t.db);
    }
  });
});

describe('Sentry', () => {
  test('with SENTRY_DSN set, a failed run is reported (without secrets) before the process exits', async () => {
    const sentry = await startFakeSentry();
    try {
      const r = await runProcess('score-campaigns', ['--date', '2025-11-15'], {
        DATABASE_URL: DOWN_URL,
        SENTRY_DSN: sentry.dsn,
      });
      expect(r.code).toBe(69);
      expect(sentry.envelopes.length).toBeGreaterThanOrEqual(1);
      const body = sentry.envelopes.join('\n');
      expect(body).toMatch(/cannot reach PostgreSQL/);
      expect(body).not.toContain('hunter2-very-secret');
    } finally {
      await sentry.stop();
    }
  });
});

describe('migrate', () => {
  test('bin/migrate applies every file once; a second run changes nothing', async () => {
    const db = await createTestDatabase({ migrated: false });
    try {
      const first = await runProcess('migrate', ['--json'], { DATABASE_URL: db.url });
      expect(first.code).toBe(0);
      const files = readdirSync(join(ROOT, 'sql'))
        .filter((f) => f.endsWith('.sql'))
        .sort();
      expect(files.length).toBeGreaterThanOrEqual(2);
      expect(JSON.parse(first.stdout).applied).toEqual(files);
      const rows = await db.db.selectFrom('schema_migrations').selectAll().execute();
      const second = await runProcess('migrate', ['--json'], { DATABASE_URL: db.url });
      expect(second.code).toBe(0);
      expect(JSON.parse(second.stdout)).toMatchObject({ applied: [], already_applied: files.length });
      expect(await db.db.selectFrom('schema_migrations').selectAll().execute()).toEqual(rows);
    } finally {
      await db.drop();
    }
  });

  const HISTORY_COLUMNS =
    '(h.history_id, h.run_id, h.campaign_id, h.date, h.total_score, h.recommendation, h.config_id, h.scored_at)';
  test(
    '009 converts score_history in place to monthly partitions: ' +
      'every row and id kept, new ids continue, indexes there',
    async () => {
      const db = await createTestDatabase({ migrated: false });
      const dir = mkdtempSync(join(tmpdir(), 'sql-'));
      for (const f of readdirSync(join(ROOT, 'sql')).filter((f) => f < '009'))
        cpSync(join(ROOT, 'sql', f), join(dir, f));
      const client = await db.pool.connect();
      try {
        await applyMigrations(client, dir);
        // A history of three months, as a database before 009 holds it.
        await client.query(`INSERT INTO score_history (run_id, campaign_id, date, total_score, recommendation,
          config_id)
        SELECT g % 7, 'c' || (g % 50), DATE '2025-09-01' + (g % 80), (g % 100)::numeric, 'TEST_CHANGES', 'cfg_x' FROM
          generate_series(1, 3000) g`);
        const before = (
          await client.query<{ d: string; max: string }>(
            // The columns 009 found; later migrations may add others (011: action).
            `SELECT md5(string_agg(${HISTORY_COLUMNS}::text, ',' ORDER BY history_id)) AS d, ` +
              `max(history_id)::text AS max FROM score_history h`,
          )
        ).rows[0]!;
        await applyMigrations(client, join(ROOT, 'sql'));
        const after = (
          await client.query<{ d: string }>(
            `SELECT md5(string_agg(${HISTORY_COLUMNS}::text, ',' ORDER BY history_id)) AS d FROM score_history h`,
          )
        ).rows[0]!;
        expect(after.d).toBe(before.d);
        const parts = await client.query<{ name: string; n: string }>(
          `SELECT tableoid::regclass::text AS name, count(*)::text AS n FROM score_history GROUP BY 1 ORDER BY 1`,
        );
        expect(parts.rows.map((r) => r.name)).toEqual([
          'score_history_2025_09',
          'score_history_2025_10',
          'score_history_2025_11',
        ]);
        const next = await client.query<{ id: string }>(
          `INSERT INTO score_history (campaign_id, date, total_score, ` +
            `recommendation, config_id) VALUES ('c1', '2025-11-20', 1, ` +
            `'TEST_CHANGES', 'cfg_x') RETURNING history_id::text AS id`,
        );
        expect(BigInt(next.rows[0]!.id)).toBeGreaterThan(BigInt(before.max));
        const indexes = await client.query<{ indexname: string }>(
          `SELECT indexname FROM pg_indexes WHERE tablename = 'score_history' ORDER BY 1`,
        );
        expect(indexes.rows.map((r) => r.indexname)).toEqual([
          'score_history_campaign_date_idx',
          'score_history_pkey',
          'score_history_run_idx',
        ]);
        expect(
          (await client.query(`SELECT 1 FROM pg_class WHERE relname = 'score_history_unpartitioned'`)).rowCount,
        ).toBe(0);
      } finally {
        client.release();
        await db.drop();
      }
    },
  );

  test('refuses to run when an applied file was edited, and applies nothing', async () => {
    const db = await createTestDatabase({ migrated: false });
    const dir = mkdtempSync(join(tmpdir(), 'sql-'));
    cpSync(join(ROOT, 'sql'), dir, { recursive: true });
    const client = await db.pool.connect();
    try {
      await applyMigrations(client, dir);
      appendFileSync(join(dir, '001_schema.sql'), '\n-- an innocent comment\n');
      writeFileSync(join(dir, '002_more.sql'), 'CREATE TABLE should_not_exist (id int);');
      await expect(applyMigrations(client, dir)).rejects.toMatchObject({
        exitCode: 78,
        problems: [
          expect.stringMatching(
            /001_schema.sql was edited after it was applied.*put the change in a new migration file/,
          ),
        ],
      });
      const exists = await client.query(`SELECT to_regclass('should_not_exist') AS t`);
      expect(exists.rows[0].t).toBeNull();
    } finally {
      client.release();
      await db.drop();
    }
  });

  test('a failing migration is rolled back whole and named', async () => {
    const db = await createTestDatabase({ migrated: false });
    const dir = mkdtempSync(join(tmpdir(), 'sql-'));
    writeFileSync(join(dir, '001_ok.sql'), 'CREATE TABLE a (id int);');
    writeFileSync(join(dir, '002_bad.sql'), 'CREATE TABLE b (id int); SELECT nonsense FROM nowhere;');
    const client = await db.pool.connect();
    try {
      await expect(applyMigrations(client, dir)).rejects.toThrow(/migration 002_bad.sql failed and was rolled back/);
      const r = await client.query(
        `SELECT to_regclass('a')::text AS a, to_regclass('b')::text AS ` +
          `b, (SELECT count(*) FROM schema_migrations)::int AS n`,
      );
      expect(r.rows[0]).toEqual({ a: 'a', b: null, n: 1 });
    } finally {
      client.release();
      await db.drop();
    }
  });

  test('migrate takes the migrate lock: a concurrent migrate exits 75', async () => {
    const holder = await t.pool.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(hashtextextended('leadsmart:migrate', 0))`);
      const r = await runAsFunction(migrateJob, [], { DATABASE_URL: t.url });
      expect(r.code).toBe(75);
    } finally {
      holder.release(true);
    }
  });
});
