import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { chmodSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
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
  generateAccount({ id: B, campaigns: 5, days: 35, until: UNTIL, seed: 2, currency: 'JPY', timezone: 'Pacific/Honolulu' }),
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

const files = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
const callsTo = (path: RegExp) => fake.requests.filter((q) => path.test(q.path));
const row = (campaign: string, date: string, extra: Record<string, unknown> = {}) => ({
  account_id: A, campaign_id: campaign, campaign_name: 'Custom', date_start: date, date_stop: date, impressions: '1000', clicks: '20', spend: '10.5', ctr: '2.000000', ...extra,
});
const firstCampaign = () => fake.account(A).campaigns[0]!.id;
const metric = async (campaign: string, date: string) =>
  (await sql<{ impressions: string; clicks: string; spend: string; total_leads: number; lead_action: string | null; quality_flags: string[] }>`
    SELECT impressions, clicks, spend::text AS spend, total_leads, lead_action, quality_flags FROM campaign_metrics WHERE campaign_id = ${campaign} AND date = ${date}`.execute(t.db)).rows[0];

describe('what is stored', () => {
  test('lists paused, archived and deleted campaigns, converts budgets from minor units (none for JPY) and maps accounts to clients', async () => {
    const r = await run();
    expect(r.code).toBe(0);
    const rows = (await sql<{ campaign_id: string; client_id: string; daily_budget: string; status: string; start_date: string; account_id: string }>`
      SELECT campaign_id, client_id, daily_budget::text AS daily_budget, status, start_date, account_id FROM campaigns ORDER BY campaign_id`.execute(t.db)).rows;
    expect(new Set(rows.filter((x) => x.account_id === `act_${A}`).map((x) => x.status))).toEqual(new Set(['ACTIVE', 'PAUSED', 'ARCHIVED', 'DELETED']));
    const a0 = fake.account(A).campaigns[0]!;
    const b0 = fake.account(B).campaigns[0]!;
    const stored = (id: string) => rows.find((x) => x.campaign_id === id)!;
    expect(stored(a0.id).daily_budget).toBe((Number(a0.daily_budget) / 100).toFixed(2));
    expect(stored(b0.id).daily_budget).toBe(b0.daily_budget);
    expect(stored(a0.id).client_id).toBe('acme');
    expect(stored(b0.id).client_id).toBe(`act_${B}`);
    const client = (await sql<{ client_name: string }>`SELECT client_name FROM clients WHERE client_id = ${`act_${B}`}`.execute(t.db)).rows[0]!;
    expect(client.client_name).toBe(`Account ${B}`);
  });

  test('asks account-level insights with level=campaign, time_increment=1 and a 28-day time_range in each account\'s time zone, never per campaign', async () => {
    await run();
    const insights = callsTo(/insights$/);
    expect(insights.every((q) => q.path.startsWith('act_'))).toBe(true);
    const ranges = insights.map((q) => [q.path.split('/')[0], q.params.level, q.params.time_increment, q.params.time_range]);
    // 09:00 UTC is 2025-11-16 in Berlin but still 2025-11-15 in Honolulu.
    expect(ranges).toContainEqual([`act_${A}`, 'campaign', '1', JSON.stringify({ since: SINCE, until: UNTIL })]);
    expect(ranges).toContainEqual([`act_${B}`, 'campaign', '1', JSON.stringify({ since: '2025-10-19', until: '2025-11-15' })]);
    expect(insights.every((q) => q.params.limit === '500')).toBe(true);
  });

  test('stores numbers exactly as sent and counts leads from one canonical action type, never the sum of overlapping ones', async () => {
    const c = firstCampaign();
    const acct = fake.account(A);
    acct.insights = acct.insights.filter((x) => x.campaign_id !== c);
    acct.insights.push(
      row(c, '2025-11-10', { spend: '153.274912', actions: [{ action_type: 'lead', value: '17' }, { action_type: 'onsite_conversion.lead_grouped', value: '17' }, { action_type: 'leadgen_grouped', value: '17' }, { action_type: 'link_click', value: '301' }] }),
      row(c, '2025-11-11', { actions: [{ action_type: 'onsite_conversion.lead_grouped', value: '4' }, { action_type: 'offsite_conversion.fb_pixel_lead', value: '9' }] }),
      row(c, '2025-11-12'),
    );
    expect((await run()).code).toBe(0);
    expect(await metric(c, '2025-11-10')).toMatchObject({ impressions: '1000', clicks: '20', spend: '153.274912', total_leads: 17, lead_action: 'lead' });
    expect(await metric(c, '2025-11-11')).toMatchObject({ total_leads: 4, lead_action: 'onsite_conversion.lead_grouped' });
    expect(await metric(c, '2025-11-12')).toMatchObject({ total_leads: 0, lead_action: null });
  });

  test('a day the API fully returned without a row is stored as no delivery, a restated-away row becomes zeros, and a campaign that never delivered gets no rows', async () => {
    const c = firstCampaign();
    const acct = fake.account(A);
    const silent = acct.campaigns[1]!.id;
    acct.insights = acct.insights.filter((x) => x.campaign_id !== c && x.campaign_id !== silent);
    acct.insights.push(row(c, '2025-11-10'), row(c, '2025-11-12'));
    expect((await run()).code).toBe(0);
    expect(await metric(c, '2025-11-11')).toMatchObject({ impressions: '0', clicks: '0', spend: '0', total_leads: 0 });
    expect(await count(`SELECT count(*) AS n FROM campaign_metrics WHERE campaign_id = '${c}' AND date BETWEEN '${SINCE}' AND '${UNTIL}'`)).toBe(28);
    expect(await count(`SELECT count(*) AS n FROM campaign_metrics WHERE campaign_id = '${silent}'`)).toBe(0);
    // Facebook restates: the row of 2025-11-10 disappears from the next answer.
    acct.insights = acct.insights.filter((x) => !(x.campaign_id === c && x.date_start === '2025-11-10'));
    expect((await run()).code).toBe(0);
    expect(await metric(c, '2025-11-10')).toMatchObject({ impressions: '0', spend: '0' });
  });

  test('leaves the CRM\'s qualified_leads alone when it updates a day', async () => {
    const c = firstCampaign();
    await run();
    await sql`UPDATE campaign_metrics SET qualified_leads = 3 WHERE campaign_id = ${c}`.execute(t.db);
    fake.account(A).insights.find((x) => x.campaign_id === c && x.date_start === '2025-11-14')!.spend = '99.99';
    expect((await run()).code).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM campaign_metrics WHERE campaign_id = '${c}' AND qualified_leads = 3`)).toBeGreaterThan(20);
    expect((await metric(c, '2025-11-14'))!.spend).toBe('99.99');
  });

  test('rejects rows with missing or non-numeric values, writes the rest, flags CTR over 50 %, spend over 1.5 × budget and CPL over 1000, and warns when over 20 % of campaigns are incomplete', async () => {
    const acct = fake.account(A);
    const [c1, c2, c3, c4, c5] = acct.campaigns.map((c) => c.id);
    acct.insights = acct.insights.filter((x) => x.date_start !== '2025-11-13');
    const budget = Number(acct.campaigns[2]!.daily_budget) / 100;
    acct.campaigns[3]!.daily_budget = '500000';
    acct.insights.push(
      row(c1!, '2025-11-13', { spend: undefined }),
      row(c2!, '2025-11-13', { impressions: 'n/a' }),
      row(c3!, '2025-11-13', { clicks: '600', spend: String(budget * 2) }),
      row(c4!, '2025-11-13', { spend: '2500', actions: [{ action_type: 'lead', value: '2' }] }),
      row(c5!, '2025-11-13', { date_start: '2025-11-13', impressions: '-5' }),
    );
    const r = await run();
    expect(r.code).toBe(0);
    const a = account(r, A);
    expect(a.rows.rejected).toBe(3);
    expect(await metric(c1!, '2025-11-13')).toBeUndefined();
    expect(await metric(c2!, '2025-11-13')).toBeUndefined();
    expect((await metric(c3!, '2025-11-13'))!.quality_flags).toEqual(['CTR_OVER_50', 'SPEND_OVER_BUDGET']);
    expect((await metric(c4!, '2025-11-13'))!.quality_flags).toEqual(['CPL_OVER_1000']);
    expect(a.warnings.join('\n')).toMatch(/3 of \d+ campaigns \(more than 20 %\) have incomplete or invalid insights rows/);
    expect(r.logs.map((l) => l.message).join('\n')).toContain('impressions "n/a" is not a whole-number string');
  });

  test('an insights row for a campaign missing from the listing creates that campaign and says so', async () => {
    fake.account(A).insights.push(row('999000111', '2025-11-14', { campaign_name: 'Ghost' }));
    const r = await run();
    expect(r.code).toBe(0);
    expect(account(r, A).warnings.join()).toContain('999000111');
    expect(await count(`SELECT count(*) AS n FROM campaigns WHERE campaign_id = '999000111' AND campaign_name = 'Ghost' AND account_id = 'act_${A}'`)).toBe(1);
  });
});

describe('leads', () => {
  test('reads leads incrementally from an hour before the last watermark and upserts them by id without touching their status', async () => {
    expect((await run()).code).toBe(0);
    const first = await count(`SELECT count(*) AS n FROM campaign_leads`);
    await sql`UPDATE campaign_leads SET status = 'qualified'`.execute(t.db);
    const acct = fake.account(A);
    const lead = { ...acct.leads[0]!, id: '981999', created_time: '2025-11-16T10:30:00+0000' };
    acct.leads.push(lead);
    fake.requests.length = 0;
    const later = await runAsFunction(fetchFacebookJob, ['--json'], env(), { now: '2025-11-16T13:00:00Z' });
    expect(later.code).toBe(0);
    const leadCalls = callsTo(/leads$/);
    expect(leadCalls.length).toBeGreaterThan(0);
    const filter = JSON.parse(leadCalls[0]!.params.filtering!) as { operator: string; value: number }[];
    expect(filter.find((f) => f.operator === 'GREATER_THAN')!.value).toBe(Date.parse(TEST_NOW) / 1000 - 3600);
    expect(filter.find((f) => f.operator === 'LESS_THAN')!.value).toBe(Date.parse('2025-11-16T13:00:00Z') / 1000);
    expect(await count(`SELECT count(*) AS n FROM campaign_leads WHERE lead_id = '981999' AND status = 'new'`)).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM campaign_leads WHERE status = 'qualified'`)).toBe(first);
    expect(await count(`SELECT count(*) AS n FROM fb_sync_state WHERE watermark = '2025-11-16T13:00:00Z'`)).toBe(2);
  });

  test('keeps the answers people typed into forms out of the archive and the logs, even when the API sends them unasked', async () => {
    fake.reset({ accounts: accounts(), ignoreFields: true });
    const r = await run();
    expect(r.code).toBe(0);
    const archived = files(blobs).map((f) => readFileSync(f, 'utf8')).join('\n');
    expect(archived).toContain('"field_names"');
    expect(archived).not.toMatch(/example\.test|Person \d|\+15550100/);
    expect(r.stderr + r.stdout).not.toMatch(/example\.test|Person \d/);
    expect(callsTo(/leads$/)[0]!.params.fields).not.toContain('field_data');
  });
});

describe('paging', () => {
  test('follows paging.next to the end with small pages, and dedupes a row repeated on two pages', async () => {
    fake.addFault({ path: 'insights$', type: 'repeat-row', nth: 2 });
    const r = await run(['--account', `act_${A}`], { FB_PAGE_SIZE: '25' });
    expect(r.code).toBe(0);
    const expected = fake.account(A).insights.filter((x) => (x.date_start as string) >= SINCE).length;
    expect(account(r, A).rows.insights).toBe(expected);
    // One call per page, plus one to confirm the end when the last page is full.
    expect(callsTo(/insights$/).length).toBe(Math.ceil(expected / 25) + (expected % 25 === 0 ? 1 : 0));
    expect(callsTo(/insights$/).every((q) => q.params.access_token === undefined && q.token === 'TEST-TOKEN')).toBe(true);
  });

  test.each([['short-page'], ['empty-page']] as const)('a %s with paging.next is not the end', async (type) => {
    fake.addFault({ path: 'insights$', type, nth: 1 });
    const r = await run(['--account', `act_${A}`], { FB_PAGE_SIZE: '25' });
    expect(r.code).toBe(0);
    expect(account(r, A).rows.insights).toBe(fake.account(A).insights.filter((x) => (x.date_start as string) >= SINCE).length);
  });

  test('a full page without paging.next is checked with one more call, so an early end loses nothing', async () => {
    fake.addFault({ path: 'insights$', type: 'drop-next', nth: 2 });
    const r = await run(['--account', `act_${A}`], { FB_PAGE_SIZE: '25' });
    expect(r.code).toBe(0);
    expect(account(r, A).rows.insights).toBe(fake.account(A).insights.filter((x) => (x.date_start as string) >= SINCE).length);
  });

  test('a cursor invalidated between pages (a campaign deleted meanwhile) restarts the listing and stores the campaign as deleted', async () => {
    const victim = fake.account(A).campaigns[3]!.id;
    fake.addFault({ path: 'campaigns$', type: 'delete-campaign', campaignId: victim, nth: 2 }, { path: 'campaigns$', type: 'invalid-cursor', nth: 2 });
    const r = await run(['--account', `act_${A}`], { FB_PAGE_SIZE: '5' });
    expect(r.code).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM campaigns WHERE account_id = 'act_${A}'`)).toBe(fake.account(A).campaigns.length);
    expect(await count(`SELECT count(*) AS n FROM campaigns WHERE campaign_id = '${victim}' AND status = 'DELETED'`)).toBe(1);
  });
});
