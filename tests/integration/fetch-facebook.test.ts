import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { fetchFacebookJob } from '../../src/jobs/fetch-facebook.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { FakeGraphApi, generateAccount, type FakeAccount } from '../helpers/fake-graph-api.js';
import { runAsFunction, runProcess, TEST_NOW } from '../helpers/run-job.js';

// TEST_NOW is 2025-11-16 09:00 UTC: in Europe/Berlin that is 2025-11-16, so the lookback is 2025-10-20 … 2025-11-16.
const UNTIL = '2025-11-16';
const SINCE = '2025-10-20';
const A = '1111111111';
const B = '2222222222';

let t: TestDatabase;
let fake: FakeGraphApi;
let blobs: string;
const accounts = (): FakeAccount[] => [
  generateAccount({ id: A, campaigns: 12, days: 35, until: UNTIL, seed: 1 }),
  generateAccount({ id: B, campaigns: 5, days: 35, until: UNTIL, seed: 2, currency: 'JPY', timezone: 'Asia/Tokyo' }),
];
const env = (extra: Record<string, string> = {}) => ({
  DATABASE_URL: t.url,
  BLOB_URL: `file://${blobs}`,
  FB_ACCESS_TOKEN: 'TEST-TOKEN',
  FB_AD_ACCOUNTS: `act_${A}=acme,act_${B}`,
  FB_GRAPH_URL: fake.url,
  FB_RETRY_BASE_MS: '5',
  FB_MAX_THROTTLE_WAIT_SECONDS: '1',
  FB_MAX_SPACING_MS: '20',
  FB_REQUEST_TIMEOUT_SECONDS: '2',
  ...extra,
});
const run = (argv: string[] = [], extra: Record<string, string> = {}) => runAsFunction(fetchFacebookJob, ['--json', ...argv], env(extra));
const doc = (r: { stdout: string }) => JSON.parse(r.stdout) as {
  ok: boolean;
  exit_code: number;
  calls: number;
  retries: number;
  error?: string;
  problems?: string[];
  accounts: { account: string; outcome: string; error: string | null; warnings: string[]; calls: number; retries: number; throttled: number; usage_peak_pct: number; rows: Record<string, number>; written: { metrics: Record<string, number>; noDeliveryDays: number; leads: Record<string, number>; campaigns: Record<string, number> } | null }[];
};
const account = (r: { stdout: string }, id: string) => doc(r).accounts.find((a) => a.account === `act_${id}`)!;
const count = async (q: string): Promise<number> => Number((await sql.raw<{ n: string }>(q).execute(t.db)).rows[0]!.n);
async function snapshot(): Promise<string> {
  const r = await sql<{ s: string }>`SELECT concat_ws('|',
      (SELECT md5(string_agg(c::text, ',' ORDER BY campaign_id)) FROM (SELECT campaign_id, client_id, campaign_name, daily_budget, status FROM campaigns) c),
      (SELECT md5(string_agg(m::text, ',' ORDER BY campaign_id, date)) FROM (SELECT campaign_id, date, impressions, clicks, spend, total_leads FROM campaign_metrics) m),
      (SELECT md5(string_agg(l::text, ',' ORDER BY lead_id)) FROM (SELECT lead_id, campaign_id, created_at, status FROM campaign_leads) l),
      (SELECT md5(string_agg(s::text, ',')) FROM (SELECT account_id, watermark FROM fb_sync_state) s)) AS s`.execute(t.db);
  return r.rows[0]!.s;
}

beforeAll(async () => {
  t = await createTestDatabase();
  fake = new FakeGraphApi({ accounts: accounts() });
  await fake.start();
});
afterAll(async () => {
  await fake.stop();
  await t.drop();
});
beforeEach(async () => {
  fake.reset({ accounts: accounts() });
  blobs = mkdtempSync(join(tmpdir(), 'leadsmart-fb-blobs-'));
  await sql`TRUNCATE fb_sync_state, fb_account_runs, lead_status_changes, campaign_leads, campaign_metrics, campaigns, clients CASCADE`.execute(t.db);
});

describe('a normal run', () => {
  test('stores every campaign, the 28-day insights and the leads of every account, then a re-run changes nothing', async () => {
    const r = await run();
    expect(r.code).toBe(0);
    const d = doc(r);
    expect(d.accounts.map((a) => a.outcome)).toEqual(['succeeded', 'succeeded']);
    const a = fake.account(A);
    expect(await count(`SELECT count(*) AS n FROM campaigns WHERE account_id = 'act_${A}'`)).toBe(a.campaigns.length);
    const expectedRows = a.insights.filter((x) => (x.date_start as string) >= SINCE).length;
    expect(account(r, A).rows.insights).toBe(expectedRows);
    // Leads are read up to the run's start: the fixture's leads later on 2025-11-16 are for the next run.
    const past = [...fake.account(A).leads, ...fake.account(B).leads].filter((l) => Date.parse(l.created_time.replace('+0000', 'Z')) < Date.parse(TEST_NOW));
    expect(past.length).toBeGreaterThan(10);
    expect(await count(`SELECT count(*) AS n FROM campaign_leads WHERE source = 'facebook'`)).toBe(past.length);
    const before = await snapshot();
    const again = await run();
    expect(again.code).toBe(0);
    expect(account(again, A).written!.metrics.inserted).toBe(0);
    expect(account(again, A).written!.metrics.updated).toBe(0);
    expect(account(again, A).written!.leads.inserted).toBe(0);
    expect(await snapshot()).toBe(before);
  });
});
