import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveScoringConfig } from '../../src/core/scoring/index.js';
import { addDays } from '../../src/core/dates.js';
import { backtestScoringJob } from '../../src/jobs/backtest-scoring.js';
import { scoreCampaigns } from '../../src/jobs/score-campaigns/score.js';
import { testJobDeps } from '../helpers/job-deps.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { loadSample, runAsFunction } from '../helpers/run-job.js';

// bin/backtest-scoring on the sample (metrics up to 2025-11-15: with a 7-day horizon and the shortest measured
// qualification lag, 2 days, dates up to 2025-11-06 can be judged; a client with a longer lag, fewer). It replays
// scoring and the action date by date and writes nothing to the scoring tables.
let t: TestDatabase;
const run = (argv: string[]) => runAsFunction(backtestScoringJob, ['--json', ...argv], { DATABASE_URL: t.url });
const counts = async () => ({
  scores: (await t.db.selectFrom('campaign_scores').select('campaign_id').execute()).length,
  history: (await t.db.selectFrom('score_history').select('campaign_id').execute()).length,
  priors: (await t.db.selectFrom('client_priors').select('date').execute()).length,
  runs: (await t.db.selectFrom('scoring_runs').select('run_id').execute()).length,
});

beforeAll(async () => {
  t = await createTestDatabase();
  await loadSample(t.url);
});
afterAll(async () => {
  await t.drop();
});

describe('backtest-scoring', () => {
  test('replays a range and reports every measure with its counts and a 90 % interval; writes no score', async () => {
    const before = await counts();
    const r = await run(['--from', '2025-10-20', '--to', '2025-10-31', '--horizon', '7']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      from: '2025-10-20',
      to: '2025-10-31',
      horizon: 7,
      dates: 12,
      last_judged_date: '2025-10-31',
    });
    expect(doc.campaigns).toBeGreaterThan(10);
    const b = doc.runs[0];
    expect(b.label).toBe('B');
    expect(b.judged_dates).toBeGreaterThan(0);
    for (const key of ['cut_precision', 'false_cut_rate', 'increase_precision', 'flip_rate', 'alert_burden']) {
      expect(b[key]).toEqual({
        value: expect.any(Number),
        interval_90: [expect.any(Number), expect.any(Number)],
        numerator: expect.any(Number),
        denominator: expect.any(Number),
      });
      expect(b[key].interval_90[0]).toBeLessThanOrEqual(b[key].value + 1e-9);
    }
    expect(doc.limitations.join(' ')).toMatch(/no "what if it had run"/);
    expect(await counts()).toEqual(before);
  });

  test('two configurations side by side: both measured, and the campaigns whose action differs listed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backtest-'));
    writeFileSync(
      join(dir, 'lenient.json'),
      JSON.stringify({ decision: { cut_probability: 0.7, release_probability: 0.4, persistence: 1 } }),
    );
    const r = await run([
      '--from',
      '2025-10-20',
      '--to',
      '2025-10-31',
      '--horizon',
      '7',
      '--against',
      join(dir, 'lenient.json'),
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.runs.map((x: { label: string }) => x.label)).toEqual(['B', 'A']);
    expect(doc.runs[0].config_id).not.toBe(doc.runs[1].config_id);
    expect(doc.differing.length).toBeGreaterThan(0);
    expect(doc.differing[0]).toEqual({
      campaign_id: expect.any(String),
      name: expect.anything(),
      dates: expect.any(Number),
      first_date: expect.stringMatching(/^2025-10-\d\d$/),
    });
  });

  test('a range where nothing has matured yet is exit 65, saying which dates can be judged', async () => {
    const r = await run(['--from', '2025-11-05', '--to', '2025-11-15']);
    expect(r.code).toBe(65);
    expect(JSON.parse(r.stdout).error).toMatch(
      // The client with the shortest measured qualification lag (2 days) decides the latest date any can be judged.
      /nothing has matured yet: .*lag \(2 days at the shortest\).*the latest date that can be judged is 2025-10-30/,
    );
  });

  test('a range without any metrics is exit 65; an unknown client is 64', async () => {
    const empty = await run(['--from', '2024-01-01', '--to', '2024-01-10']);
    expect(empty.code).toBe(65);
    expect(JSON.parse(empty.stdout).error).toMatch(/^no metrics between 2024-01-01 and 2024-01-24/);
    const unknown = await run(['--from', '2025-10-20', '--to', '2025-10-25', '--client', 'nobody']);
    expect(unknown.code).toBe(64);
    expect(JSON.parse(unknown.stdout).error).toMatch(/--client nobody: no such client/);
  });

  test.each([
    [['--from', '2025-10-20', '--to', '2025-10-10'], /--to 2025-10-10 is before --from 2025-10-20/],
    [['--from', '2025-10-20', '--to', '2025-10-25', '--horizon', '0'], /--horizon 0: expected whole days from 1 to 90/],
    [['--from', '2025-13-01', '--to', '2025-10-25'], /--from 2025-13-01: not a calendar date/],
  ])('%j is a usage error (64) that names the problem', async (argv, message) => {
    const r = await run(argv as string[]);
    expect(r.code).toBe(64);
    expect(JSON.parse(r.stdout).error).toMatch(message as RegExp);
  });

  test('a warm start: the judged dates give the actions score-campaigns stored when run daily over them', async () => {
    const config = resolveScoringConfig({});
    if (!config.ok) throw new Error(config.problems.join('; '));
    // Daily runs from 14 days before --from, as cron would have scored them (in a database of its own: this test's
    // scores must not be another test's stored state).
    const copy = await createTestDatabase();
    try {
      await loadSample(copy.url);
      for (let d = '2025-10-06'; d <= '2025-10-25'; d = addDays(d, 1))
        await scoreCampaigns(await testJobDeps(copy), {
          date: d,
          config: config.config,
          configSource: 'x',
          list: false,
        });
      const stored = await copy.db
        .selectFrom('campaign_scores')
        .select(['date', 'action'])
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('date', '>=', '2025-10-20')
        .groupBy(['date', 'action'])
        .execute();
      const replay = async (argv: string[]) =>
        JSON.parse((await runAsFunction(backtestScoringJob, ['--json', ...argv], { DATABASE_URL: copy.url })).stdout);
      const actionsByDate = (doc: any) =>
        doc.runs[0].actions_by_date.flatMap((d: Record<string, unknown>) =>
          Object.entries(d)
            .filter(([k, v]) => k !== 'date' && (v as number) > 0)
            .map(([action, n]) => ({ date: d.date, action, n: String(n) })),
        );
      const byKey = (xs: { date: string; action: string }[]) =>
        [...xs].sort((a, b) => `${a.date}${a.action}`.localeCompare(`${b.date}${b.action}`));
      // --warmup 14 replays 2025-10-06 … 10-19 unjudged, as the daily runs did: the same actions from the first date.
      const warm = await replay(['--from', '2025-10-20', '--to', '2025-10-25', '--horizon', '7', '--warmup', '14']);
      expect(warm.warmup_days).toBe(14);
      expect(byKey(actionsByDate(warm))).toEqual(
        byKey(stored.map((r) => ({ date: r.date, action: r.action!, n: String(r.n) }))),
      );
      // --warmup 0 starts from the state stored for 2025-10-19: the same actions again.
      const stateStart = await replay([
        '--from',
        '2025-10-20',
        '--to',
        '2025-10-25',
        '--horizon',
        '7',
        '--warmup',
        '0',
      ]);
      expect(stateStart.stored_state_from).toBe('2025-10-19');
      expect(byKey(actionsByDate(stateStart))).toEqual(byKey(actionsByDate(warm)));
    } finally {
      await copy.drop();
    }
  });

  test("maturity waits for each client's measured qualification lag; --warmup out of range is refused", async () => {
    const r = await run(['--from', '2025-10-20', '--to', '2025-10-25', '--horizon', '7']);
    const doc = JSON.parse(r.stdout);
    expect(doc.maturity.default_lag_days).toBe(7);
    // acme's leads (demo-26-crm, demo-29-crmbatch) get their statuses days after they arrive: a lag is measured.
    const acme = doc.maturity.clients.find((c: { client_id: string }) => c.client_id === 'acme');
    expect(acme.lag_days).toBeGreaterThan(0);
    const bad = await run(['--from', '2025-10-20', '--to', '2025-10-25', '--warmup', '91']);
    expect(bad.code).toBe(64);
    expect(JSON.parse(bad.stdout).error).toMatch(/--warmup 91: expected whole days from 0 to 90/);
  });
});
