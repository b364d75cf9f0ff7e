import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { resolveScoringConfig, type ScoringConfig } from '../../src/core/scoring/index.js';
import { InterruptedError } from '../../src/errors.js';
import { type ScoreCampaignsOptions, scoreCampaigns } from '../../src/jobs/score-campaigns/score.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { testJobDeps } from '../helpers/job-deps.js';
import { loadSample } from '../helpers/run-job.js';

// scoreCampaigns(deps, options) called as a function, with typed options: what tests of behaviour use. The process
// around it (flags, exit codes, a SIGTERM mid-write) is tested in score-campaigns.test.ts.
const D = '2025-11-15';
let t: TestDatabase;
let config: ScoringConfig;
const options = (over: Partial<ScoreCampaignsOptions> = {}): ScoreCampaignsOptions => ({
  date: D,
  config,
  configSource: 'defaults',
  list: false,
  ...over,
});
const stored = (date: string) =>
  t.db.selectFrom('campaign_scores').select(['campaign_id', 'total_score']).where('date', '=', date).execute();

beforeAll(async () => {
  t = await createTestDatabase();
  await loadSample(t.url);
  const r = resolveScoringConfig({});
  if (!r.ok) throw new Error(r.problems.join('; '));
  config = r.config;
});
afterAll(async () => {
  await t.drop();
});

describe('scoreCampaigns', () => {
  test('returns one outcome per campaign it stored, with the summary the report needs', async () => {
    const deps = await testJobDeps(t);
    const result = await scoreCampaigns(deps, options({ list: true }));
    const rows = await stored(D);
    expect(result.summary.campaignsScored).toBe(rows.length);
    expect(result.outcomes.map((o) => o.campaignId).sort()).toEqual(rows.map((r) => r.campaign_id).sort());
    expect(result.outcomes.every((o) => o.weakest !== null)).toBe(true);
    expect(result).toMatchObject({ date: D, dryRun: false, configId: config.id, list: true });
    expect(deps.logs.some((l) => l.message === `scored ${rows.length} campaigns for ${D}`)).toBe(true);
  });

  test('a dry run scores the same campaigns and writes nothing', async () => {
    // Another test here stores a row for 2025-11-13 (a history for persistence): compare, do not assume empty.
    const before = await stored('2025-11-13');
    const result = await scoreCampaigns(await testJobDeps(t, { dryRun: true }), options({ date: '2025-11-13' }));
    expect(result.dryRun).toBe(true);
    expect(result.summary.campaignsScored).toBeGreaterThan(0);
    expect(await stored('2025-11-13')).toEqual(before);
  });

  test('an interrupted run (signal already given) throws InterruptedError and keeps the scores', async () => {
    await scoreCampaigns(await testJobDeps(t), options());
    const before = await stored(D);
    await t.db.updateTable('campaign_metrics').set({ spend: '1' }).where('date', '=', D).execute();
    const controller = new AbortController();
    controller.abort(new InterruptedError('SIGTERM'));
    await expect(scoreCampaigns(await testJobDeps(t, { signal: controller.signal }), options())).rejects.toBeInstanceOf(
      InterruptedError,
    );
    expect(await stored(D)).toEqual(before);
  });
});

describe('the action (docs/decisions.md)', () => {
  const RISK = 'act-money-at-risk';
  beforeAll(async () => {
    // 30 days of 100 spent a day and no qualified lead: money at risk on any reading.
    await t.db.insertInto('campaigns').values({ campaign_id: RISK, campaign_name: 'Money at risk' }).execute();
    await sql`INSERT INTO campaign_metrics (campaign_id, date, impressions, clicks, spend, total_leads, qualified_leads)
              SELECT ${RISK}, d::date, 10000, 150, 100, 3, 0
                FROM generate_series(${D}::date - 40, ${D}::date, '1 day') d`.execute(t.db);
  });
  const row = (date: string, id = RISK) =>
    t.db
      .selectFrom('campaign_scores')
      .selectAll()
      .where('date', '=', date)
      .where('campaign_id', '=', id)
      .executeTakeFirstOrThrow();
  /** D−1's stored decision for RISK: TEST_CHANGES given, `candidate` called for `streak` dates running. */
  const setPrevious = async (candidate: string, streak: number | null) => {
    await sql`INSERT INTO campaign_scores (campaign_id, date, total_score, cost_efficiency_score, lead_quality_score,
                volume_score, trend_score, engagement_score, recommendation, recommendation_details, is_new,
                config_id, action, action_candidate, action_gate, action_streak)
              VALUES (${RISK}, '2025-11-14', 50, 0, 0, 0, 0, 0, 'TEST_CHANGES', '{}', false, 'test',
                      'TEST_CHANGES', ${candidate}, 'spec', ${streak})
              ON CONFLICT (campaign_id, date) DO UPDATE SET action = 'TEST_CHANGES',
                action_candidate = EXCLUDED.action_candidate, action_streak = EXCLUDED.action_streak`.execute(t.db);
  };

  test('every stored score has its action, candidate, gate and reason, and its details the evidence', async () => {
    await scoreCampaigns(await testJobDeps(t), options());
    const scored = await t.db.selectFrom('campaign_scores').selectAll().where('date', '=', D).execute();
    expect(
      scored.every((s) => s.action !== null && s.action_candidate !== null && s.action_gate && s.action_reason),
    ).toBe(true);
    const judged = scored.filter((s) => s.window_spend !== null);
    expect(judged.length).toBeGreaterThan(0);
    const d = judged[0]!.recommendation_details as any;
    expect(d.evidence.window.p_above).toBeGreaterThanOrEqual(0);
    expect(d.evidence.window.p_above_2x).toBeLessThanOrEqual(d.evidence.window.p_above);
    expect(d.evidence.window.cpql_80).toHaveLength(2);
    expect(d.evidence.recent.cpql_80).toHaveLength(2);
    const history = await t.db.selectFrom('score_history').select('action').where('date', '=', D).execute();
    expect(history.every((h) => h.action !== null)).toBe(true);
  });

  test('a change waits until the streak stored on D−1 says it was called for long enough, then is made', async () => {
    await setPrevious('TEST_CHANGES', 5);
    await scoreCampaigns(await testJobDeps(t), options());
    expect(await row(D)).toMatchObject({
      action: 'TEST_CHANGES',
      action_candidate: 'REDUCE_BUDGET',
      action_gate: 'persistence',
      action_streak: 1,
    });
    // D−1 called for a cut too, two dates running: today is the third (persistence 3).
    await setPrevious('REDUCE_BUDGET', 2);
    await scoreCampaigns(await testJobDeps(t), options());
    const now = await row(D);
    expect(now).toMatchObject({ action: 'REDUCE_BUDGET', action_streak: 3 });
    expect(['money-at-risk', 'expensive', 'one-step', 'evidence']).toContain(now.action_gate);
    expect(now.action_reason).toMatch(/qualified leads? on [\d.,]+( [A-Z]{3})? spent/);
  });

  test('a D−1 row without a streak (scored before the streak was stored) counts as a run of one date', async () => {
    await setPrevious('REDUCE_BUDGET', null);
    await scoreCampaigns(await testJobDeps(t), options());
    expect(await row(D)).toMatchObject({ action: 'TEST_CHANGES', action_gate: 'persistence', action_streak: 2 });
  });

  test('the next date reads the streak this run stored, not the dates before it', async () => {
    const next = '2025-11-16';
    await setPrevious('REDUCE_BUDGET', 2);
    await scoreCampaigns(await testJobDeps(t), options());
    // D−2 is not read: a row there saying otherwise changes nothing.
    await sql`UPDATE campaign_scores SET action_candidate = 'INCREASE_BUDGET', action_streak = 9
               WHERE campaign_id = ${RISK} AND date = '2025-11-14'`.execute(t.db);
    await scoreCampaigns(await testJobDeps(t), options({ date: next }));
    // Still cutting. The pause the score now calls for is a change of its own (v2): its streak starts at 1 and the
    // reduction given on D stands until persistence is met.
    const after = await row(next);
    expect(after).toMatchObject({
      action: 'REDUCE_BUDGET',
      action_candidate: 'PAUSE_CAMPAIGN',
      action_gate: 'persistence',
      action_streak: 1,
      action_window: 'window',
    });
  });
});

describe('the client priors (docs/decisions.md): stored with the scores, read by the next date', () => {
  const priors = (date: string) =>
    t.db
      .selectFrom('client_priors')
      .selectAll()
      .where('date', '=', date)
      .orderBy('client_id')
      .orderBy('currency')
      .execute();

  test('a run stores each client and currency sums over its judged campaigns, matching their rows', async () => {
    const date = '2025-11-10';
    await scoreCampaigns(await testJobDeps(t), options({ date }));
    const stored = await priors(date);
    expect(stored.length).toBeGreaterThan(0);
    type Sums = { client_id: string; currency: string; campaigns: number; spend: number; q: string; sum_rate: number };
    const expected = await sql<Sums>`
      SELECT coalesce(c.client_id, '') AS client_id, coalesce(c.currency, '') AS currency,
             count(*) FILTER (WHERE s.window_spend > 0)::int AS campaigns,
             coalesce(sum(s.window_spend::float8) FILTER (WHERE s.window_spend > 0), 0) AS spend,
             coalesce(sum(s.window_qualified_leads) FILTER (WHERE s.window_spend > 0), 0)::text AS q,
             coalesce(sum(s.window_qualified_leads / s.window_spend::float8) FILTER (WHERE s.window_spend > 0), 0)
               AS sum_rate
        FROM campaign_scores s JOIN campaigns c USING (campaign_id)
       WHERE s.date = ${date} AND s.window_spend IS NOT NULL
       GROUP BY 1, 2 ORDER BY 1, 2`.execute(t.db);
    expect(stored.map((p) => [p.client_id, p.currency, p.campaigns, String(p.qualified_leads)])).toEqual(
      expected.rows.map((e) => [e.client_id, e.currency, e.campaigns, e.q]),
    );
    for (const [i, p] of stored.entries()) {
      expect(p.spend).toBeCloseTo(expected.rows[i]!.spend, 6);
      expect(p.sum_rate).toBeCloseTo(expected.rows[i]!.sum_rate, 10);
    }
  });

  test('re-scoring a date replaces its sums; a dry run writes none', async () => {
    const date = '2025-11-09';
    await scoreCampaigns(await testJobDeps(t), options({ date }));
    const first = await priors(date);
    await scoreCampaigns(await testJobDeps(t), options({ date }));
    expect(await priors(date)).toEqual(first);
    await scoreCampaigns(await testJobDeps(t, { dryRun: true }), options({ date: '2025-11-08' }));
    expect(await priors('2025-11-08')).toEqual([]);
  });

  test('a previous date without stored sums (scored before they were kept) gives the same evidence', async () => {
    const [before, date] = ['2025-11-05', '2025-11-06'];
    await scoreCampaigns(await testJobDeps(t), options({ date: before }));
    const evidence = async () =>
      (
        await t.db
          .selectFrom('campaign_scores')
          .select(['campaign_id', 'recommendation_details', 'action'])
          .where('date', '=', date)
          .orderBy('campaign_id')
          .execute()
      ).map((r) => [r.campaign_id, (r.recommendation_details as any).evidence ?? null, r.action]);
    await scoreCampaigns(await testJobDeps(t), options({ date }));
    const fromSums = await evidence();
    expect(fromSums.some(([, e]) => e !== null)).toBe(true);
    await t.db.deleteFrom('client_priors').where('date', '=', before).execute();
    await scoreCampaigns(await testJobDeps(t), options({ date }));
    expect(await evidence()).toEqual(fromSums);
  });
});

describe('SCORING_ACTIONS=off', () => {
  test('stores the recommendation as the action, with gate off, and no evidence', async () => {
    await scoreCampaigns(await testJobDeps(t, { env: { SCORING_ACTIONS: 'off' } }), options({ date: '2025-11-12' }));
    const rows = await t.db.selectFrom('campaign_scores').selectAll().where('date', '=', '2025-11-12').execute();
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r).toMatchObject({ action: r.recommendation, action_candidate: r.recommendation, action_gate: 'off' });
      expect(r.window_spend).toBeNull();
      expect((r.recommendation_details as any).evidence).toBeUndefined();
    }
  });
});
