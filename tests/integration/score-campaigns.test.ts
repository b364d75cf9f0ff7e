import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { scoreCampaignsJob } from '../../src/jobs/score-campaigns.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { referenceScores, type ReferenceScore } from '../helpers/reference-scoring.js';
import { loadSample, ROOT, runAsFunction, runProcess, spawnProcess } from '../helpers/run-job.js';

// The sample dataset's scoring date (see scripts/generate-sample-data.mjs).
const D = '2025-11-15';
const D1 = '2025-11-14';
let t: TestDatabase;
const env = () => ({ DATABASE_URL: t.url });
const score = (argv: string[], extraEnv: Record<string, string> = {}) =>
  runAsFunction(scoreCampaignsJob, argv, { ...env(), ...extraEnv });

async function storedScores(date: string) {
  return t.db.selectFrom('campaign_scores').selectAll().where('date', '=', date).orderBy('campaign_id').execute();
}

/** The date's client priors sums (written in the scoring transaction, sql/015). */
async function storedPriors(date: string) {
  return t.db
    .selectFrom('client_priors')
    .selectAll()
    .where('date', '=', date)
    .orderBy(['client_id', 'currency'])
    .execute();
}

beforeAll(async () => {
  t = await createTestDatabase();
  await loadSample(t.url);
});
afterAll(async () => {
  await t.drop();
});

/**
 * For a describe whose tests read the sample exactly as loaded (counts, scores against the reference): a database
 * of its own, cloned and loaded afresh, so that other tests' changes to the shared rows (in whatever order they
 * run) cannot reach it.
 */
function ownSampleDatabase(): void {
  let shared: TestDatabase;
  beforeAll(async () => {
    shared = t;
    t = await createTestDatabase();
    await loadSample(t.url);
  });
  afterAll(async () => {
    await t.drop();
    t = shared;
  });
}

describe('scoring the sample dataset', () => {
  ownSampleDatabase();
  let reference: Map<string, ReferenceScore>;

  beforeAll(async () => {
    expect((await score(['--date', D1])).code).toBe(0);
    expect((await score(['--date', D])).code).toBe(0);
    reference = referenceScores(join(ROOT, 'sample'), D, referenceScores(join(ROOT, 'sample'), D1));
  });

  test('scores exactly the campaigns with metrics in the window', async () => {
    const rows = await storedScores(D);
    expect(rows.map((r) => r.campaign_id).sort()).toEqual([...reference.keys()].sort());
    expect(rows.length).toBe(30);
  });

  test('every dimension and total matches an independent implementation of scoring.md within 0.01', async () => {
    for (const row of await storedScores(D)) {
      const ref = reference.get(row.campaign_id)!;
      expect({ id: row.campaign_id, diff: Math.abs(Number(row.total_score) - ref.total) <= 0.01 }).toEqual({
        id: row.campaign_id,
        diff: true,
      });
      for (const dim of ['cost_efficiency', 'lead_quality', 'volume', 'trend', 'engagement'] as const) {
        const stored = Number(row[`${dim}_score`]);
        expect({ id: row.campaign_id, dim, ok: Math.abs(stored - ref.dims[dim]!) <= 0.01 }).toEqual({
          id: row.campaign_id,
          dim,
          ok: true,
        });
      }
    }
  });

  test('recommendations and flags match the independent implementation', async () => {
    for (const row of await storedScores(D)) {
      const ref = reference.get(row.campaign_id)!;
      expect({ id: row.campaign_id, rec: row.recommendation, flags: [...row.flags].sort() }).toEqual({
        id: row.campaign_id,
        rec: ref.recommendation,
        flags: [...ref.flags].sort(),
      });
    }
  });

  test('the sample covers every recommendation and every flag', async () => {
    const rows = await storedScores(D);
    expect(new Set(rows.map((r) => r.recommendation))).toEqual(
      new Set([
        'INCREASE_BUDGET',
        'CONTINUE_OPTIMIZE',
        'TEST_CHANGES',
        'REDUCE_BUDGET',
        'PAUSE_CAMPAIGN',
        'MONITOR_CLOSELY',
        'INSUFFICIENT_DATA',
      ]),
    );
    expect(new Set(rows.flatMap((r) => r.flags))).toEqual(
      new Set([
        'MISSING_SPEND',
        'MISSING_IMPRESSIONS',
        'HIGH_CPL',
        'HIGH_CTR',
        'OVERSPEND',
        'SCORE_JUMP',
        'NO_LEAD_DATA',
      ]),
    );
  });

  test('recommendation_details explain every dimension and carry the configuration identity', async () => {
    const [row] = await t.db
      .selectFrom('campaign_scores')
      .selectAll()
      .where('date', '=', D)
      .where('campaign_id', '=', 'demo-01-star')
      .execute();
    const d = row!.recommendation_details as any;
    expect(d.config_id).toBe(row!.config_id);
    expect(d.window).toEqual({ from: '2025-10-17', to: '2025-11-15' });
    expect(Object.keys(d.inputs)).toEqual(
      expect.arrayContaining([
        'spend',
        'impressions',
        'clicks',
        'total_leads',
        'qualified_leads',
        'cpql',
        'qualification_rate',
        'ctr',
        'recent',
        'prior',
      ]),
    );
    for (const dim of Object.values(d.dimensions) as any[]) expect(dim.reason).toMatch(/of \d+ points\.$/);
    const config = await t.db
      .selectFrom('scoring_configs')
      .selectAll()
      .where('config_id', '=', row!.config_id)
      .executeTakeFirstOrThrow();
    expect((config.config as any).target_cpql).toBe(100);
  });

  test('the details query that make demo prints runs and shows the scored campaign', async () => {
    // A backslash before a line break inside double quotes joins the lines, as the shell does.
    const demo = readFileSync(join(ROOT, 'scripts', 'demo.sh'), 'utf8').replace(/\\\n/g, '');
    const query = /psql -c \\"(SELECT [^"\\]+)\\"/.exec(demo)?.[1];
    expect(query).toBeDefined();
    const { rows } = await sql.raw<Record<string, string>>(query!).execute(t.db);
    expect(rows).toHaveLength(1);
    const details = JSON.parse(Object.values(rows[0]!)[0]!);
    expect(details.date).toBe(D);
    expect(Object.keys(details.dimensions)).toHaveLength(5);
  });

  test("a client target CPQL is used for that client's campaigns", async () => {
    const [row] = await t.db
      .selectFrom('campaign_scores')
      .select('recommendation_details')
      .where('date', '=', D)
      .where('campaign_id', '=', 'demo-02-star')
      .execute();
    expect((row!.recommendation_details as any).target_cpql).toBe('250.00');
  });

  test('each run appends to score_history and records scoring_runs and job_runs', async () => {
    // Self-contained: other tests here score D again (and add campaigns of their own), in any order.
    const runsOf = async () =>
      (
        await sql<{ run_id: string; n: string }>`SELECT run_id::text, count(*)::text AS n FROM score_history
                                                  WHERE date = ${D}::date GROUP BY run_id`.execute(t.db)
      ).rows;
    const before = await runsOf();
    const r = await score(['--date', D, '--json']);
    expect(r.code).toBe(0);
    const runId = String(JSON.parse(r.stdout).run_id);
    const after = await runsOf();
    expect(after.map((x) => x.run_id).sort()).toEqual([...before.map((x) => x.run_id), runId].sort());
    const scored = await storedScores(D);
    expect(after.find((x) => x.run_id === runId)!.n).toBe(String(scored.length));
    const run = await t.db.selectFrom('job_runs').selectAll().where('run_id', '=', runId).executeTakeFirstOrThrow();
    expect(run).toMatchObject({ job: 'score-campaigns', status: 'succeeded', exit_code: 0 });
    expect((run.counts as any).campaigns_scored).toBe(scored.length);
    const sr = await t.db.selectFrom('scoring_runs').selectAll().where('run_id', '=', runId).executeTakeFirstOrThrow();
    expect(sr).toMatchObject({ date: D, campaigns_scored: scored.length });
  });

  test('re-running the same date with unchanged data gives identical rows', async () => {
    const strip = (rows: Awaited<ReturnType<typeof storedScores>>) =>
      rows.map(({ run_id: _r, scored_at: _s, ...rest }) => rest);
    const before = strip(await storedScores(D));
    expect((await score(['--date', D])).code).toBe(0);
    const after = await storedScores(D);
    expect(strip(after)).toEqual(before);
    expect(new Set(after.map((r) => r.run_id)).size).toBe(1);
  });

  test('scoring in chunks of 3 campaigns stores the same rows as scoring in one chunk', async () => {
    const strip = (rows: Awaited<ReturnType<typeof storedScores>>) =>
      rows.map(({ run_id: _r, scored_at: _s, ...rest }) => rest);
    const one = await score(['--date', D], { SCORING_CHUNK_CAMPAIGNS: '1000000' });
    expect(one.code).toBe(0);
    const whole = strip(await storedScores(D));
    const chunked = await score(['--date', D], { SCORING_CHUNK_CAMPAIGNS: '3' });
    expect(chunked.code).toBe(0);
    const finished = (r: typeof one) => r.logs.find((l) => typeof l.chunks === 'number')!;
    expect(finished(one).chunks).toBe(1);
    expect(finished(chunked).chunks).toBeGreaterThan(9);
    expect(strip(await storedScores(D))).toEqual(whole);
  });

  test.each([
    ['with more than six decimals', '123.4567891'],
    ['too large for a bigint of millionths', '12000000000000'],
  ])(
    'a spend %s is stored, and summed exactly in numeric, not dropped from the integer-micros sums',
    async (_name, odd) => {
      const day = await sql<{ campaign_id: string; spend: string }>`
      SELECT campaign_id, spend::text AS spend FROM campaign_metrics
       WHERE date = ${D}::date AND spend > 0 ORDER BY campaign_id LIMIT 1`.execute(t.db);
      const { campaign_id: id, spend } = day.rows[0]!;
      // spend_micros is NULL for that row, and the campaign's sums come from numeric.
      await sql`UPDATE campaign_metrics SET spend = ${odd}::numeric WHERE campaign_id = ${id} AND date =
        ${D}::date`.execute(t.db);
      try {
        expect(
          (
            await sql<{
              n: string;
            }>`SELECT count(*) AS n FROM campaign_metrics WHERE campaign_id = ${id} AND spend_micros IS NULL AND
              spend IS NOT NULL`.execute(t.db)
          ).rows[0]!.n,
        ).toBe('1');
        expect((await score(['--date', D])).code).toBe(0);
        const expected = await sql<{ total: string; recent: string; max: string }>`
        SELECT round(sum(spend), 2)::text AS total, round(sum(spend) FILTER (WHERE date >= ${D}::date - 6), 2)::text
          AS recent, round(max(spend), 2)::text AS max
          FROM campaign_metrics WHERE campaign_id = ${id} AND date BETWEEN ${D}::date - 29 AND ${D}::date`.execute(
          t.db,
        );
        const row = (await storedScores(D)).find((r) => r.campaign_id === id)!;
        const inputs = (
          row.recommendation_details as { inputs: { spend: string; max_day_spend: string; recent: { spend: string } } }
        ).inputs;
        expect([inputs.spend, inputs.recent.spend, inputs.max_day_spend]).toEqual([
          expected.rows[0]!.total,
          expected.rows[0]!.recent,
          expected.rows[0]!.max,
        ]);
      } finally {
        await sql`UPDATE campaign_metrics SET spend = ${spend}::numeric WHERE campaign_id = ${id} AND date =
          ${D}::date`.execute(t.db);
        expect((await score(['--date', D])).code).toBe(0);
      }
    },
  );

  test(
    'a campaign id with a tab, a backslash and a quote is stored ' + 'intact in campaign_scores and score_history',
    async () => {
      const source = (await storedScores(D))[0]!.campaign_id;
      const odd = 'odd\tid\\with "quote"';
      await sql`INSERT INTO campaigns (campaign_id, client_id, campaign_name, start_date, daily_budget, platform)
              SELECT ${odd}, client_id, campaign_name, start_date, daily_budget, platform FROM campaigns WHERE
                campaign_id = ${source}`.execute(t.db);
      await sql`INSERT INTO campaign_metrics (campaign_id, date, impressions, clicks, spend, total_leads,
        qualified_leads)
              SELECT ${odd}, date, impressions, clicks, spend, total_leads, qualified_leads FROM campaign_metrics
                WHERE campaign_id = ${source}`.execute(t.db);
      try {
        const r = await score(['--date', D]);
        expect(r.code).toBe(0);
        const rows = await storedScores(D);
        const copy = rows.find((x) => x.campaign_id === odd)!;
        const original = rows.find((x) => x.campaign_id === source)!;
        expect([copy.total_score, copy.recommendation]).toEqual([original.total_score, original.recommendation]);
        const history = await sql<{
          n: string;
        }>`SELECT count(*) AS n FROM score_history WHERE campaign_id = ${odd} AND run_id = ${copy.run_id}`.execute(
          t.db,
        );
        expect(history.rows[0]!.n).toBe('1');
      } finally {
        await sql`DELETE FROM campaign_scores WHERE campaign_id = ${odd}`.execute(t.db);
        await sql`DELETE FROM score_history WHERE campaign_id = ${odd}`.execute(t.db);
        await sql`DELETE FROM campaign_metrics WHERE campaign_id = ${odd}`.execute(t.db);
        await sql`DELETE FROM campaigns WHERE campaign_id = ${odd}`.execute(t.db);
      }
    },
  );

  test('a lead qualified after D does not change the score of D (status as of the end of D)', async () => {
    const before = await storedScores(D);
    const lead = await t.db
      .selectFrom('campaign_leads')
      .select('lead_id')
      .where('campaign_id', '=', 'demo-28-crm')
      .where('created_at', '>=', new Date('2025-11-10T00:00:00Z'))
      .executeTakeFirstOrThrow();
    await t.db
      .insertInto('lead_status_changes')
      .values({ lead_id: lead.lead_id, status: 'converted', changed_at: '2025-11-16T00:00:00Z' })
      .execute();
    expect((await score(['--date', D])).code).toBe(0);
    expect((await storedScores(D)).map((r) => r.total_score)).toEqual(before.map((r) => r.total_score));
    await t.db
      .deleteFrom('lead_status_changes')
      .where('lead_id', '=', lead.lead_id)
      .where('changed_at', '=', new Date('2025-11-16T00:00:00Z'))
      .execute();
  });
});

describe('options and output', () => {
  ownSampleDatabase();
  beforeAll(async () => {
    // The day before D scored, as cron would have: SCORE_JUMP compares with it.
    expect((await score(['--date', D1])).code).toBe(0);
  });
  test('--dry-run computes and reports but writes nothing, not even job_runs', async () => {
    const runsBefore = await t.db
      .selectFrom('job_runs')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    const r = await score(['--date', '2025-11-10', '--dry-run', '--json']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ ok: true, dry_run: true, date: '2025-11-10' });
    expect(summary.campaigns_scored).toBeGreaterThan(20);
    expect(await storedScores('2025-11-10')).toEqual([]);
    const runsAfter = await t.db
      .selectFrom('job_runs')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(runsAfter.n).toBe(runsBefore.n);
  });

  test('--json prints counts per recommendation, flags and warnings', async () => {
    const r = await score(['--date', D, '--json']);
    const s = JSON.parse(r.stdout);
    expect(Object.values(s.recommendations as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(30);
    expect(s.flags.SCORE_JUMP).toBe(1);
    expect(Array.isArray(s.warnings)).toBe(true);
    expect(s.run_id).toMatch(/^\d+$/);
  });

  test('the default date is yesterday in SCORING_TIMEZONE', async () => {
    // The fixed clock says 2025-11-16T09:00Z: yesterday is 2025-11-15 in UTC, and 2025-11-16 … minus one in
    // Pacific/Kiritimati (UTC+14) is 2025-11-16.
    expect(JSON.parse((await score(['--json', '--dry-run'])).stdout).date).toBe('2025-11-15');
    expect(
      JSON.parse((await score(['--json', '--dry-run'], { SCORING_TIMEZONE: 'Pacific/Kiritimati' })).stdout).date,
    ).toBe('2025-11-15');
    expect(
      JSON.parse((await score(['--json', '--dry-run'], { SCORING_TIMEZONE: 'Pacific/Pago_Pago' })).stdout).date,
    ).toBe('2025-11-14');
  });

  test('--config overrides the defaults and its identity is stored with every score', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'strict.json'), JSON.stringify({ target_cpql: 50, qualified_statuses: ['converted'] }));
    const r = await score(['--date', '2025-11-01', '--config', join(dir, 'strict.json'), '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    const rows = await storedScores('2025-11-01');
    expect(new Set(rows.map((x) => x.config_id))).toEqual(new Set([s.config_id]));
    const stored = await t.db
      .selectFrom('scoring_configs')
      .select('config')
      .where('config_id', '=', s.config_id)
      .executeTakeFirstOrThrow();
    expect(stored.config).toMatchObject({ target_cpql: 50, qualified_statuses: ['converted'] });
    const defaults = await score(['--date', '2025-11-01', '--json', '--dry-run']);
    expect(JSON.parse(defaults.stdout).config_id).not.toBe(s.config_id);
    const fromEnv = await score(['--date', '2025-11-01', '--json', '--dry-run'], {
      SCORING_CONFIG: join(dir, 'strict.json'),
    });
    expect(JSON.parse(fromEnv.stdout)).toMatchObject({
      config_id: s.config_id,
      config_source: join(dir, 'strict.json'),
    });
  });
});

describe('campaigns that cannot be judged on leads or on a target', () => {
  ownSampleDatabase();
  beforeAll(async () => {
    expect((await score(['--date', D])).code).toBe(0);
  });
  test(
    'the sales campaign, whose rows carry no lead counts, is ' + 'INSUFFICIENT_DATA with NO_LEAD_DATA and says why',
    async () => {
      const [row] = await t.db
        .selectFrom('campaign_scores')
        .selectAll()
        .where('date', '=', D)
        .where('campaign_id', '=', 'demo-30-sales')
        .execute();
      expect(row).toMatchObject({ recommendation: 'INSUFFICIENT_DATA', total_score: '0.00' });
      expect(row!.flags).toEqual(['NO_LEAD_DATA']);
      expect((row!.recommendation_details as any).reason).toMatch(/carries no lead counts/);
    },
  );

  test(
    'per-currency targets: campaigns whose currency has none are ' +
      'NO_TARGET, as the independent implementation says',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
      writeFileSync(join(dir, 'eur-only.json'), JSON.stringify({ target_cpql: { EUR: 90 } }));
      const date = '2025-11-10';
      const r = await score(['--date', date, '--config', join(dir, 'eur-only.json'), '--json']);
      expect(r.code).toBe(0);
      const expected = referenceScores(join(ROOT, 'sample'), date, undefined, { EUR: 90 });
      const rows = await storedScores(date);
      expect(rows.length).toBe(expected.size);
      for (const row of rows) {
        const ref = expected.get(row.campaign_id)!;
        expect({
          id: row.campaign_id,
          rec: row.recommendation,
          total: Math.abs(Number(row.total_score) - ref.total) <= 0.01,
          flags: row.flags.filter((f) => f !== 'SCORE_JUMP').sort(),
        }).toEqual({
          id: row.campaign_id,
          rec: ref.recommendation,
          total: true,
          flags: ref.flags.filter((f) => f !== 'SCORE_JUMP').sort(),
        });
      }
      // initech sets no target of its own and its campaigns are in USD: not scored; acme's and globex's own targets
      // still apply.
      const flagged = rows.filter((x) => x.flags.includes('NO_TARGET'));
      expect(flagged.length).toBeGreaterThan(0);
      expect(flagged.length).toBeLessThan(rows.length);
    },
  );
});

describe('score_history by month, and retention', () => {
  test("a reader holding score_history when a month's partition must be made: 75 within the lock timeout, naming " +
    'why, nothing written; the next month is made ahead of need', async () => {
    const partitions = async () =>
      (
        await sql<{ name: string }>`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'score_history'::regclass`.execute(t.db)
      ).rows.map((x) => x.name);
    // A month with no partition yet (the clock says 2025-11-16), while a long reader holds score_history.
    const reader = new pg.Client({ connectionString: t.url });
    await reader.connect();
    await reader.query('BEGIN; SELECT count(*) FROM score_history');
    const before = await storedScores('2025-03-15');
    try {
      const started = Date.now();
      const r = await score(['--date', '2025-03-15']);
      expect(r.code).toBe(75);
      expect(Date.now() - started).toBeLessThan(25_000);
      expect(r.logs.find((l) => l.level === 'error')?.message).toMatch(
        /could not create score_history_2025_03 within 10s: another session holds score_history/,
      );
      expect(await storedScores('2025-03-15')).toEqual(before);
    } finally {
      await reader.query('ROLLBACK');
      await reader.end();
    }
    // Free again: the month and the next one are made.
    expect((await score(['--date', '2025-03-15'])).code).toBe(0);
    expect(await partitions()).toEqual(expect.arrayContaining(['score_history_2025_03', 'score_history_2025_04']));
  }, 60_000);

  test(
    'a date in a month with no partition yet gets one; months past ' +
      'SCORE_HISTORY_KEEP_MONTHS are dropped whole, with old job_runs ' +
      'and digest bodies',
    async () => {
      // An old month, an old finished run and an old digest (the run's clock says 2025-11-16).
      await sql`CREATE TABLE score_history_2019_01 PARTITION OF score_history FOR VALUES FROM ('2019-01-01') TO
        ('2019-02-01')`.execute(t.db);
      await sql`INSERT INTO score_history (campaign_id, date, total_score, recommendation, config_id) VALUES ('old',
        '2019-01-15', 1, 'TEST_CHANGES', 'cfg_old')`.execute(t.db);
      await sql`INSERT INTO job_runs (job, host, pid, started_at, finished_at, status, exit_code) VALUES
        ('fetch-facebook', 'h', 1, '2020-01-01', '2020-01-01', 'succeeded', 0)`.execute(t.db);
      await sql`INSERT INTO alert_digests (client_id, date, subject, items, counts, html, text, status, created_at)
              VALUES ('acme', '2020-01-01', 'old', '[]', '{}', '<p>old</p>', 'old', 'done', '2020-01-01')`.execute(
        t.db,
      );
      const first = await score(['--date', D]);
      expect(first.code).toBe(0);
      expect(first.stderr).toMatch(
        /retention: dropped score_history score_history_2019_01; removed 1 job_runs row\(s\); cleared 1 digest/,
      );
      const r = await score(['--date', '2025-10-31']);
      expect(r.code).toBe(0);
      const parts = await sql<{
        name: string;
      }>`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent =
        'score_history'::regclass ORDER BY 1`.execute(t.db);
      expect(parts.rows.map((x) => x.name)).toContain('score_history_2025_10');
      expect(parts.rows.map((x) => x.name)).not.toContain('score_history_2019_01');
      expect(
        await t.db.selectFrom('job_runs').select('run_id').where('started_at', '<', new Date('2021-01-01')).execute(),
      ).toEqual([]);
      expect(
        await t.db.selectFrom('alert_digests').select(['html', 'text', 'items']).where('subject', '=', 'old').execute(),
      ).toEqual([{ html: '', text: '', items: [] }]);
      // A shorter setting drops more; the month just scored is never dropped.
      const short = await score(['--date', '2025-10-31'], { SCORE_HISTORY_KEEP_MONTHS: '1' });
      expect(short.code).toBe(0);
      const left = await sql<{
        name: string;
      }>`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent =
        'score_history'::regclass ORDER BY 1`.execute(t.db);
      expect(left.rows.map((x) => x.name)).toEqual(
        expect.arrayContaining(['score_history_2025_10', 'score_history_2025_11']),
      );
    },
  );
});

test('a backfill older than the retention window keeps every month it writes, one run after another', async () => {
  const months = async () =>
    (
      await sql<{ name: string }>`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'score_history'::regclass`.execute(t.db)
    ).rows.map((x) => x.name);
  // Keep one month (the clock says 2025-11-16: months before October go), then backfill May and June: June's run
  // must not drop the May partition May's run made.
  for (const date of ['2025-05-15', '2025-06-15'])
    expect((await score(['--date', date], { SCORE_HISTORY_KEEP_MONTHS: '1' })).code).toBe(0);
  expect(await months()).toEqual(expect.arrayContaining(['score_history_2025_05', 'score_history_2025_06']));
});

describe('--list', () => {
  test(
    'names are cut by grapheme and display width, the id is shown, ' +
      'and the columns stay straight with emoji and wide characters',
    async () => {
      const long = 'Retargeting – Website visitors 30 days – Carousel';
      await sql`INSERT INTO campaigns (campaign_id, campaign_name) VALUES
      ('list-a', ${`${long} A`}), ('list-b', ${`${long} B`}), ('list-c',
        '🚀 Launch 👩‍👩‍👧 family bundle with a long tail'), ('list-d', '秋の広告キャンペーン・リード獲得フォーム')`.execute(
        t.db,
      );
      await sql`INSERT INTO campaign_metrics (campaign_id, date, impressions, clicks, spend, total_leads,
        qualified_leads)
      SELECT id, '2025-11-15', 1000, 10, 50, 2, 1 FROM unnest(ARRAY['list-a', 'list-b', 'list-c', 'list-d']) AS
        id`.execute(t.db);
      const r = await score(['--date', D, '--dry-run', '--list']);
      expect(r.code).toBe(0);
      const { displayWidth } = await import('../../src/core/text/columns.js');
      const lines = r.stdout.split('\n').filter((l) => / list-[abcd] /.test(l));
      expect(lines).toHaveLength(4);
      // Two names equal up to the cut print as two different lines, told apart by their ids.
      expect(new Set(lines.map((l) => l.split('  list-')[0])).size).toBeLessThan(4);
      expect(new Set(lines).size).toBe(4);
      for (const l of lines) {
        expect(l.isWellFormed()).toBe(true); // no half of an emoji (a lone surrogate)
        // The id starts at the same screen column on every line: 34 cells of name and two spaces.
        const at = l.indexOf('list-');
        expect({ l, column: displayWidth(l.slice(0, at)) }).toEqual({ l, column: 36 });
      }
      await sql`DELETE FROM campaign_metrics WHERE campaign_id LIKE 'list-%'`.execute(t.db);
      await sql`DELETE FROM campaigns WHERE campaign_id LIKE 'list-%'`.execute(t.db);
    },
  );

  test('output to a reader that has gone away ends quietly: exit 0, and job_runs says the same', async () => {
    const child = spawnProcess('score-campaigns', ['--date', D, '--list'], env());
    // The reader goes away before anything is written, as `| head -2` does once it has its lines.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
    const run = await t.db
      .selectFrom('job_runs')
      .select(['status', 'exit_code'])
      .where('job', '=', 'score-campaigns')
      .orderBy('run_id', 'desc')
      .executeTakeFirstOrThrow();
    expect(run).toEqual({ status: 'succeeded', exit_code: 0 });
  });
});

describe('bad input writes nothing', () => {
  const countScores = async () =>
    Number(
      (
        await t.db
          .selectFrom('campaign_scores')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  test.each([
    [['--date', '2025-02-30'], 64, /--date 2025-02-30: not a calendar date/],
    [['--date', '15/11/2025'], 64, /expected YYYY-MM-DD/],
    [['--date', '2025-11-17'], 64, /is in the future \(today is 2025-11-16 in UTC\)/],
    [['--date', '2025-11-16'], 64, /--date 2025-11-16 is today \(in UTC\).*use 2025-11-15 or earlier/],
    [['--dat', '2025-11-15'], 64, /unknown option '--dat'.*--help/],
    [
      ['--config', '/nonexistent/scoring.json'],
      78,
      /--config \/nonexistent\/scoring.json: cannot read the file \(ENOENT\)/,
    ],
    // A device that never ends is read no further than 1 MiB.
    [['--config', '/dev/zero'], 78, /--config \/dev\/zero: larger than 1024 KiB/],
  ])('%j exits %i with a message naming the problem', async (argv, code, message) => {
    const before = await countScores();
    const r = await score(argv as string[]);
    expect(r.code).toBe(code);
    expect(r.logs.find((l) => l.level === 'error')?.message).toMatch(message as RegExp);
    expect(await countScores()).toBe(before);
  });

  test('an invalid --config lists every problem and exits 78', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ target_cpql: 0, flags: { high_ctr: 3 }, weights: {} }));
    writeFileSync(join(dir, 'broken.json'), '{ "target_cpql": ');
    const bad = await score(['--config', join(dir, 'bad.json'), '--json']);
    expect(bad.code).toBe(78);
    const doc = JSON.parse(bad.stdout);
    expect(doc.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/target_cpql/),
        expect.stringMatching(/flags.high_ctr/),
        expect.stringMatching(/weights: unknown setting/),
      ]),
    );
    // Decision gates that make no sense are refused the same way, every problem listed.
    writeFileSync(join(dir, 'gates.json'), JSON.stringify({ decision: { cut_probability: 1.2, persistence: 0 } }));
    const gates = await score(['--config', join(dir, 'gates.json'), '--json']);
    expect(gates.code).toBe(78);
    expect(JSON.parse(gates.stdout).problems).toEqual([
      'decision.cut_probability: 1.2 is not a probability (0 to 1)',
      'decision.persistence: 0 must be a whole number of scored dates, 1 to 60',
    ]);
    const broken = await score(['--config', join(dir, 'broken.json')]);
    expect(broken.code).toBe(78);
    expect(broken.logs.find((l) => l.level === 'error')?.message).toMatch(/not valid JSON/);
  });
});

describe('concurrency and interruption', () => {
  test('a session holding the advisory lock the jobs used to take (any role could) no longer stops a run', async () => {
    const squatter = new pg.Client({ connectionString: t.url });
    await squatter.connect();
    try {
      await squatter.query(`SELECT pg_advisory_lock(hashtextextended('leadsmart:score-campaigns', 0))`);
      const r = await score(['--date', D]);
      expect(r.code).toBe(0);
    } finally {
      await squatter.end();
    }
  });

  test('a second concurrent run exits 75 and changes nothing', async () => {
    const holder = new pg.Client({ connectionString: t.url });
    await holder.connect();
    try {
      await holder.query("INSERT INTO job_locks (job) VALUES ('score-campaigns') ON CONFLICT DO NOTHING");
      await holder.query("BEGIN; SELECT 1 FROM job_locks WHERE job = 'score-campaigns' FOR UPDATE");
      const before = await storedScores(D);
      const r = await score(['--date', D]);
      expect(r.code).toBe(75);
      expect(r.logs.find((l) => l.level === 'error')?.message).toMatch(/another score-campaigns run holds the lock/);
      expect(await storedScores(D)).toEqual(before);
    } finally {
      await holder.end();
    }
  });

  /**
   * Runs score-campaigns as a process while another session holds `lock`, waits until `waiters`
   * of its connections wait for that lock, then does `act` (by default SIGTERM) with the lock
   * still held: the run can only exit if its waiting statements were cancelled or lost.
   */
  async function interruptWhileLocked(
    lock: string,
    waiters: number,
    extraEnv: Record<string, string> = {},
    act: (child: ReturnType<typeof spawnProcess>) => Promise<unknown> = async (child) => child.kill('SIGTERM'),
  ): Promise<{ code: number | null; stderr: string }> {
    const blocker = new pg.Client({ connectionString: t.url });
    await blocker.connect();
    await blocker.query(`BEGIN; ${lock}`);
    const child = spawnProcess('score-campaigns', ['--date', D], { ...env(), ...extraEnv });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      let waiting = 0;
      for (let i = 0; i < 100 && waiting < waiters; i++) {
        // Polled from another connection: inside the blocker's transaction pg_stat_activity is a frozen snapshot.
        const r = await sql`SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'leadsmart:score-campaigns:%' AND
            wait_event_type = 'Lock'`.execute(t.db);
        waiting = r.rows.length;
        if (waiting < waiters) await new Promise((r) => setTimeout(r, 100));
      }
      expect(waiting).toBe(waiters);
      await act(child);
      const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
      return { code, stderr };
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
  }

  async function lastRun() {
    return t.db
      .selectFrom('job_runs')
      .selectAll()
      .where('job', '=', 'score-campaigns')
      .orderBy('run_id', 'desc')
      .executeTakeFirstOrThrow();
  }

  test(
    'SIGTERM mid-write rolls back, keeps the previous scores, ' + 'records the run as interrupted and exits 143',
    async () => {
      // A scored D to keep: its scores and its priors' sums.
      expect((await score(['--date', D])).code).toBe(0);
      const before = await storedScores(D);
      const priorsBefore = await storedPriors(D);
      expect(priorsBefore.length).toBeGreaterThan(0);
      await t.db.updateTable('campaign_metrics').set({ clicks: 0 }).where('campaign_id', '=', 'demo-01-star').execute();
      // Hold score_history so the run blocks after replacing campaign_scores (and clearing the date's priors), inside
      // its transaction.
      const r = await interruptWhileLocked('LOCK TABLE score_history IN EXCLUSIVE MODE', 1);
      expect(r.code).toBe(143);
      expect(r.stderr).toMatch(/received SIGTERM/);
      expect(await storedScores(D)).toEqual(before);
      expect(await storedPriors(D)).toEqual(priorsBefore);
      expect(await lastRun()).toMatchObject({ status: 'interrupted', exit_code: 143 });
      // A re-run completes the work.
      expect((await score(['--date', D])).code).toBe(0);
      const star = (await storedScores(D)).find((r) => r.campaign_id === 'demo-01-star')!;
      expect(Number(star.engagement_score)).toBe(0);
      expect((await storedPriors(D)).map((p) => [p.client_id, p.currency])).toEqual(
        priorsBefore.map((p) => [p.client_id, p.currency]),
      );
    },
  );

  test(
    "the connection holding the lock killed mid-write (a DBA's idle-in-transaction sweep): the run stops with 75 " +
      'before writing anything more, while a second run can take the lock',
    async () => {
      expect((await score(['--date', D])).code).toBe(0);
      const before = await storedScores(D);
      await t.db.updateTable('campaign_metrics').set({ clicks: 0 }).where('campaign_id', '=', 'demo-01-star').execute();
      // Kill only the lock's connection: idle in its transaction, its last statement the job_locks row lock.
      const killLockHolder = async () => {
        const killed = await sql<{ pid: number }>`
          SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'leadsmart:score-campaigns:%'
             AND state = 'idle in transaction' AND query LIKE '%job_locks%'`.execute(t.db);
        expect(killed.rows).toHaveLength(1);
        await sql`SELECT pg_terminate_backend(${killed.rows[0]!.pid}::int)`.execute(t.db);
        // The lock is free at once: another run could start now (checked here by taking it ourselves).
        const other = await new pg.Client({ connectionString: t.url });
        await other.connect();
        try {
          await other.query('BEGIN');
          const got = await other.query("SELECT 1 FROM job_locks WHERE job = 'score-campaigns' FOR UPDATE NOWAIT");
          expect(got.rowCount).toBe(1);
          await other.query('ROLLBACK');
        } finally {
          await other.end();
        }
      };
      const r = await interruptWhileLocked('LOCK TABLE score_history IN EXCLUSIVE MODE', 1, {}, killLockHolder);
      expect(r.code).toBe(75);
      expect(r.stderr).toContain('lost the connection holding the score-campaigns lock');
      expect(await storedScores(D)).toEqual(before);
      expect(await lastRun()).toMatchObject({ exit_code: 75 });
      // A re-run completes the work.
      expect((await score(['--date', D])).code).toBe(0);
      const star = (await storedScores(D)).find((x) => x.campaign_id === 'demo-01-star')!;
      expect(Number(star.engagement_score)).toBe(0);
    },
  );

  test('runs left `running` by a SIGKILL are marked interrupted by the next run, which holds the lock', async () => {
    const killed = await t.db
      .insertInto('job_runs')
      .values([
        {
          job: 'score-campaigns',
          args: '[]',
          host: 'gone',
          pid: 999_999,
          started_at: new Date(Date.now() - 86_400_000),
        },
        {
          job: 'fetch-facebook',
          args: '[]',
          host: 'gone',
          pid: 999_998,
          started_at: new Date(Date.now() - 86_400_000),
        },
      ])
      .returning(['run_id', 'job'])
      .execute();
    expect((await score(['--date', D])).code).toBe(0);
    const rows = await t.db
      .selectFrom('job_runs')
      .select(['job', 'status', 'error_summary'])
      .where(
        'run_id',
        'in',
        killed.map((k) => k.run_id),
      )
      .orderBy('job')
      .execute();
    expect(rows).toEqual([
      // Another job's row is that job's to reconcile (its own lock).
      { job: 'fetch-facebook', status: 'running', error_summary: null },
      {
        job: 'score-campaigns',
        status: 'interrupted',
        error_summary: 'ended without recording its outcome (killed, or its machine lost); found by the next run',
      },
    ]);
    await t.db.deleteFrom('job_runs').where('job', '=', 'fetch-facebook').where('status', '=', 'running').execute();
  });

  test('SIGTERM while the inputs are read cancels the readers, keeps the previous scores and exits 143', async () => {
    const before = await storedScores(D);
    // Hold campaign_metrics: both reading connections wait in their chunk queries while the run's transaction is open.
    const r = await interruptWhileLocked('LOCK TABLE campaign_metrics IN ACCESS EXCLUSIVE MODE', 2, {
      SCORING_CHUNK_CAMPAIGNS: '5',
    });
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/received SIGTERM/);
    expect(await storedScores(D)).toEqual(before);
    expect(await lastRun()).toMatchObject({ status: 'interrupted', exit_code: 143 });
  });

  test(
    'reading connections lost mid-run (backends terminated): exit 69 ' +
      'naming the cause, previous scores intact, a re-run completes',
    async () => {
      const before = await storedScores(D);
      await t.db.updateTable('campaign_metrics').set({ clicks: 0 }).where('campaign_id', '=', 'demo-01-star').execute();
      const terminateWaiters = () =>
        sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE
          'leadsmart:score-campaigns:%' AND wait_event_type = 'Lock'`.execute(t.db);
      const r = await interruptWhileLocked(
        'LOCK TABLE campaign_metrics IN ACCESS EXCLUSIVE MODE',
        2,
        { SCORING_CHUNK_CAMPAIGNS: '5' },
        terminateWaiters,
      );
      expect(r.code).toBe(69);
      expect(r.stderr).toMatch(
        new RegExp(
          'lost a connection mid-run \\((terminating connection due to administrator command|' +
            'Connection terminated[^)]*|write EPIPE|read ECONNRESET)\\); the work in progress was not committed',
        ),
      );
      expect(await storedScores(D)).toEqual(before);
      expect(await lastRun()).toMatchObject({ status: 'failed', exit_code: 69 });
      expect((await score(['--date', D])).code).toBe(0);
      const star = (await storedScores(D)).find((x) => x.campaign_id === 'demo-01-star')!;
      expect(Number(star.engagement_score)).toBe(0);
    },
  );

  test('as a process: exit code, JSON logs and one EMF line', async () => {
    const r = await runProcess('score-campaigns', ['--date', '2025-11-12', '--json'], env());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, date: '2025-11-12' });
    const emf = r.logs.filter((l) => '_aws' in l);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ Job: 'score-campaigns', ExitCode: 0, Failed: 0 });
    expect(emf[0]!.DurationMs).toEqual(expect.any(Number));
    expect(r.logs.filter((l) => !('_aws' in l)).every((l) => l.job === 'score-campaigns')).toBe(true);
  });
});
