import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
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
    const before = await stored('2025-11-13');
    expect(before).toEqual([]);
    const result = await scoreCampaigns(await testJobDeps(t, { dryRun: true }), options({ date: '2025-11-13' }));
    expect(result.dryRun).toBe(true);
    expect(result.summary.campaignsScored).toBeGreaterThan(0);
    expect(await stored('2025-11-13')).toEqual([]);
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
