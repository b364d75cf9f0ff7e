import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { resolveScoringConfig, type ScoringConfig } from '../../src/core/scoring/index.js';
import { type ScoreCampaignsOptions, scoreCampaigns } from '../../src/jobs/score-campaigns/score.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { testJobDeps } from '../helpers/job-deps.js';

// Scoring v3 and decision-quality v2 through the database: what score-campaigns reads (the client's qualification
// and lag, pending leads, the long window of a small spender, the state of the latest earlier scored date) and what
// it stores. The rules themselves are unit-tested in tests/unit/core; here, that the job feeds them the right facts.
const D = '2025-11-15';
let t: TestDatabase;

const configOf = (partial: unknown = {}): ScoringConfig => {
  const r = resolveScoringConfig(partial);
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.config;
};
const score = async (date: string, config = configOf()) =>
  scoreCampaigns(await testJobDeps(t), {
    date,
    config,
    configSource: 'test',
    list: false,
  } satisfies ScoreCampaignsOptions);
const row = (date: string, id: string) =>
  t.db
    .selectFrom('campaign_scores')
    .selectAll()
    .where('date', '=', date)
    .where('campaign_id', '=', id)
    .executeTakeFirstOrThrow();
const details = async (date: string, id: string) => (await row(date, id)).recommendation_details as Record<string, any>;

/** `days` days of metrics ending on D: spend, leads and qualified leads a day (null = no count). */
async function metrics(id: string, days: number, spend: number, leads: number | null, qualified: number | null) {
  await sql`INSERT INTO campaign_metrics (campaign_id, date, impressions, clicks, spend, total_leads, qualified_leads)
            SELECT ${id}, d::date, 10000, 150, ${spend}, ${leads}::int, ${qualified}::int
              FROM generate_series(${D}::date - ${days - 1}::int, ${D}::date, '1 day') d`.execute(t.db);
}

/** One lead a day for `days` days ending on D at 10:00 UTC, first recorded `new`. */
async function leads(id: string, days: number) {
  await sql`INSERT INTO campaign_leads (lead_id, campaign_id, created_at, status)
            SELECT ${id} || '-' || i, ${id}, (${D}::date - i) + time '10:00', 'new'
              FROM generate_series(0, ${days - 1}::int) i`.execute(t.db);
}

beforeAll(async () => {
  t = await createTestDatabase();
  await t.db
    .insertInto('clients')
    .values([{ client_id: 'silent' }, { client_id: 'crm' }, { client_id: 'agency' }])
    .execute();
  await t.db
    .insertInto('campaigns')
    .values([
      { campaign_id: 'no-crm', campaign_name: 'CRM not connected', client_id: 'silent', currency: 'USD' },
      { campaign_id: 'lagged', campaign_name: 'Statuses arrive late', client_id: 'crm', currency: 'USD' },
      { campaign_id: 'export', campaign_name: 'Ads Manager export', client_id: 'agency', currency: 'USD' },
      { campaign_id: 'idr', campaign_name: 'Jakarta leads', client_id: 'agency', currency: 'IDR' },
      { campaign_id: 'small', campaign_name: 'Small spender', client_id: 'agency', currency: 'USD' },
      { campaign_id: 'steady', campaign_name: 'Money at risk', client_id: 'agency', currency: 'USD' },
      { campaign_id: 'spiky', campaign_name: 'Spend spike', client_id: 'agency', currency: 'USD' },
      { campaign_id: 'stale', campaign_name: 'Not updated', client_id: 'agency', currency: 'USD' },
    ])
    .execute();
  // Lead-level, no status ever: the CRM has not spoken for this client.
  await metrics('no-crm', 30, 100, null, null);
  await leads('no-crm', 30);
  // Lead-level with statuses arriving 4 days after each lead; those of the last 4 days have not arrived (pending).
  await metrics('lagged', 60, 50, null, null);
  await leads('lagged', 60);
  await sql`INSERT INTO lead_status_changes (lead_id, status, changed_at)
            SELECT lead_id, CASE WHEN right(lead_id, 1) IN ('1', '6') THEN 'unqualified' ELSE 'qualified' END,
                   created_at + interval '4 days'
              FROM campaign_leads
             WHERE campaign_id = 'lagged' AND created_at + interval '4 days' < ${D}::date + 1`.execute(t.db);
  // Aggregate leads, no qualified counts (an Ads Manager export's Results).
  await metrics('export', 30, 100, 4, null);
  // 250,000 IDR a day for 3 qualified leads a day.
  await metrics('idr', 30, 250000, 5, 3);
  // 5 a day for 90 days, no qualified lead: 150 in 30 days (below 3 × 100), 450 in 90.
  await metrics('small', 90, 5, 1, 0);
  // 100 a day, no qualified lead: cut on any reading.
  await metrics('steady', 40, 100, 3, 0);
  // 100 a day, then 151 on D: above 1.5 × the 14 days' mean.
  await metrics('spiky', 20, 100, 4, 2);
  await sql`UPDATE campaign_metrics SET spend = 151 WHERE campaign_id = 'spiky' AND date = ${D}::date`.execute(t.db);
  // Rows only from D−29 to D−14: none in the last 14 days.
  await metrics('stale', 30, 100, 4, 2);
  await sql`DELETE FROM campaign_metrics WHERE campaign_id = 'stale' AND date > ${D}::date - 14`.execute(t.db);
});
afterAll(async () => {
  await t.drop();
});

describe('unknown is not zero (scoring v3)', () => {
  test('no CRM status for the client, or an export without qualified counts: NO_QUALIFIED_DATA, no cut', async () => {
    await score(D);
    for (const id of ['no-crm', 'export']) {
      const r = await row(D, id);
      expect(r.flags).toContain('NO_QUALIFIED_DATA');
      expect(r).toMatchObject({ recommendation: 'INSUFFICIENT_DATA', action: 'INSUFFICIENT_DATA' });
      expect(r.total_score).toBe('0.00');
    }
  });

  test('with a target cost per lead on the client, it is judged on cost per lead', async () => {
    await t.db.updateTable('clients').set({ target_cpl: 50 }).where('client_id', '=', 'silent').execute();
    try {
      await score(D);
      const r = await row(D, 'no-crm');
      expect(r.flags).toContain('NO_QUALIFIED_DATA');
      expect(r.recommendation).not.toBe('INSUFFICIENT_DATA');
      // 3,000 spent on 30 leads: CPL 100 against 50 (2 × T_L) → 12 points; quality 12.50 (unknown).
      expect(r.cost_efficiency_score).toBe('12.00');
      expect(r.lead_quality_score).toBe('12.50');
      expect((await details(D, 'no-crm')).basis).toBe('leads');
    } finally {
      await t.db.updateTable('clients').set({ target_cpl: null }).where('client_id', '=', 'silent').execute();
    }
  });

  test('a plain target is in USD: the IDR campaign is NO_TARGET, and judged under {"IDR": 150000}', async () => {
    const plain = await score(D);
    expect((await row(D, 'idr')).flags).toContain('NO_TARGET');
    expect(plain.summary.warnings.map((w) => w.code)).toContain('NO_TARGET_CURRENCIES');
    await score(D, configOf({ target_cpql: { USD: 100, IDR: 150000 } }));
    const judged = await row(D, 'idr');
    expect(judged.flags).not.toContain('NO_TARGET');
    expect(['INCREASE_BUDGET', 'CONTINUE_OPTIMIZE', 'MONITOR_CLOSELY']).toContain(judged.action);
  });
});

describe('the evidence of the action (decision-quality v2)', () => {
  test('leads younger than the measured lag and still pending count as their expected qualified share', async () => {
    await score(D);
    const evidence = (await details(D, 'lagged')).evidence;
    // Statuses arrive 4 days after the lead: the lag measured is 4 days, and the leads of D−3 … D are pending. Of
    // the window's 26 resolved leads 21 qualified (the client has no other campaign): 4 × 21/26 = 3.23 expected.
    expect(evidence.pending).toEqual({ leads: 4, expected_qualified: 3.23, lag_days: 4 });
    const inputs = (await details(D, 'lagged')).inputs;
    expect(inputs.qualified_leads).toBe(21);
    expect((await row(D, 'lagged')).window_qualified_leads).toBe(24);
    const r = await row(D, 'lagged');
    expect(r.action).not.toMatch(/REDUCE_BUDGET|PAUSE_CAMPAIGN/);
    expect(r.action_reason).toMatch(
      /waits for statuses: 4 leads younger than the client's qualification lag \(4 days\)/,
    );
  });

  test('a small spender is judged on its 90 days, and its cut names that window', async () => {
    for (const date of ['2025-11-13', '2025-11-14', D]) await score(date);
    const r = await row(D, 'small');
    expect((await details(D, 'small')).evidence.long).toMatchObject({ days: 90 });
    expect(r).toMatchObject({ action: 'REDUCE_BUDGET', action_window: 'long' });
    expect(r.action_reason).toContain('in 90 days');
  });

  test('a missed scoring date resets nothing: the streak goes on from the latest earlier scored date', async () => {
    await t.db.deleteFrom('campaign_scores').execute();
    await score('2025-11-12');
    await score('2025-11-13');
    // 2025-11-14 is not scored (a missed cron run).
    await score(D);
    // Cut at once on its first date (the 30-day window is all but sure); the pause called for since must persist.
    expect(await row('2025-11-13', 'steady')).toMatchObject({
      action: 'REDUCE_BUDGET',
      action_candidate: 'PAUSE_CAMPAIGN',
      action_streak: 1,
    });
    // Read from D−1 alone, the state would be gone (streak 1, a first date again); from 2025-11-13 it goes on.
    const after = await row(D, 'steady');
    expect(after).toMatchObject({
      action: 'REDUCE_BUDGET',
      action_candidate: 'PAUSE_CAMPAIGN',
      action_gate: 'persistence',
      action_streak: 2,
      action_window: 'window',
    });
    // SCORE_JUMP still compares with D−1 only: none was scored, so none is raised.
    expect(after.flags).not.toContain('SCORE_JUMP');
  });
});

describe('the data flags of scoring v3', () => {
  test('SPEND_SPIKE on a day 1.5 × above the 14 days before, STALE_DATA without a row in 14 days', async () => {
    await score(D);
    expect((await row(D, 'spiky')).flags).toContain('SPEND_SPIKE');
    const stale = await row(D, 'stale');
    expect(stale.flags).toEqual(['STALE_DATA']);
    expect(stale.recommendation).not.toBe('INSUFFICIENT_DATA');
    expect((await row(D, 'steady')).flags).not.toContain('SPEND_SPIKE');
  });
});
