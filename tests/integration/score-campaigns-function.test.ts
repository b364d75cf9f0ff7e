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
  const setHistory = async (candidate: string) => {
    for (const date of ['2025-11-13', '2025-11-14'])
      await sql`INSERT INTO campaign_scores (campaign_id, date, total_score, cost_efficiency_score, lead_quality_score,
                  volume_score, trend_score, engagement_score, recommendation, recommendation_details, is_new,
                  config_id, action, action_candidate, action_gate)
                VALUES (${RISK}, ${date}::date, 50, 0, 0, 0, 0, 0, 'TEST_CHANGES', '{}', false, 'test',
                        'TEST_CHANGES', ${candidate}, 'spec')
                ON CONFLICT (campaign_id, date) DO UPDATE SET action = 'TEST_CHANGES',
                  action_candidate = EXCLUDED.action_candidate`.execute(t.db);
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

  test('a change of action waits for the stored candidates of D−1 and D−2 (persistence), then is made', async () => {
    await setHistory('TEST_CHANGES');
    await scoreCampaigns(await testJobDeps(t), options());
    expect(await row(D)).toMatchObject({
      action: 'TEST_CHANGES',
      action_candidate: 'REDUCE_BUDGET',
      action_gate: 'persistence',
    });
    await setHistory('REDUCE_BUDGET');
    await scoreCampaigns(await testJobDeps(t), options());
    const now = await row(D);
    expect(now.action).toBe('REDUCE_BUDGET');
    expect(['money-at-risk', 'expensive', 'one-step', 'evidence']).toContain(now.action_gate);
    expect(now.action_reason).toMatch(/qualified leads? on [\d.]+ spent/);
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
