import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { DEFAULT_PACING } from '../../src/core/facebook/usage.js';
import { AccountSession } from '../../src/integrations/facebook/graph-client.js';
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
  generateAccount({
    id: B,
    campaigns: 5,
    days: 35,
    until: UNTIL,
    seed: 2,
    currency: 'JPY',
    timezone: 'Pacific/Honolulu',
  }),
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
const run = (argv: string[] = [], extra: Record<string, string> = {}) =>
  runAsFunction(fetchFacebookJob, ['--json', ...argv], env(extra));
const doc = (r: { stdout: string }) =>
  JSON.parse(r.stdout) as {
    ok: boolean;
    exit_code: number;
    run_id: string | null;
    calls: number;
    retries: number;
    error?: string;
    problems: string[];
    accounts: {
      account: string;
      outcome: string;
      error: string | null;
      warnings: string[];
      calls: number;
      retries: number;
      throttled: number;
      usage_peak_pct: number;
      rows: Record<string, number>;
      written: {
        metrics: Record<string, number>;
        noDeliveryDays: number;
        leads: Record<string, number>;
        campaigns: Record<string, number>;
      } | null;
    }[];
  };
const account = (r: { stdout: string }, id: string) => doc(r).accounts.find((a) => a.account === `act_${id}`)!;
const count = async (q: string): Promise<number> => Number((await sql.raw<{ n: string }>(q).execute(t.db)).rows[0]!.n);
async function snapshot(): Promise<string> {
  const r = await sql<{ s: string }>`SELECT concat_ws('|',
      (SELECT md5(string_agg(c::text, ',' ORDER BY campaign_id)) FROM (SELECT campaign_id, client_id, campaign_name,
        daily_budget, status FROM campaigns) c),
      (SELECT md5(string_agg(m::text, ',' ORDER BY campaign_id, date)) FROM (SELECT campaign_id, date, impressions,
        clicks, spend, total_leads FROM campaign_metrics) m),
      (SELECT md5(string_agg(l::text, ',' ORDER BY lead_id)) FROM (SELECT lead_id, campaign_id, created_at, status
        FROM campaign_leads) l),
      (SELECT md5(string_agg(s::text, ',')) FROM (SELECT account_id, watermark FROM fb_sync_state) s)) AS s`.execute(
    t.db,
  );
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
  await sql`TRUNCATE fb_sync_state, fb_account_runs, lead_status_changes, campaign_leads, campaign_metrics,
                     campaigns, clients CASCADE`.execute(t.db);
});

describe('a normal run', () => {
  test(
    'stores every campaign, the 28-day insights and the leads of ' + 'every account, then a re-run changes nothing',
    async () => {
      const r = await run();
      expect(r.code).toBe(0);
      const d = doc(r);
      expect(d.accounts.map((a) => a.outcome)).toEqual(['succeeded', 'succeeded']);
      const a = fake.account(A);
      expect(await count(`SELECT count(*) AS n FROM campaigns WHERE account_id = 'act_${A}'`)).toBe(a.campaigns.length);
      const expectedRows = a.insights.filter((x) => (x.date_start as string) >= SINCE).length;
      expect(account(r, A).rows.insights).toBe(expectedRows);
      // Leads are read up to the run's start: the fixture's leads later on 2025-11-16 are for the next run.
      const past = [...fake.account(A).leads, ...fake.account(B).leads].filter(
        (l) => Date.parse(l.created_time.replace('+0000', 'Z')) < Date.parse(TEST_NOW),
      );
      expect(past.length).toBeGreaterThan(10);
      expect(await count(`SELECT count(*) AS n FROM campaign_leads WHERE source = 'facebook'`)).toBe(past.length);
      const before = await snapshot();
      const again = await run();
      expect(again.code).toBe(0);
      expect(account(again, A).written!.metrics.inserted).toBe(0);
      expect(account(again, A).written!.metrics.updated).toBe(0);
      expect(account(again, A).written!.leads.inserted).toBe(0);
      expect(await snapshot()).toBe(before);
    },
  );
});

const files = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
const callsTo = (path: RegExp) => fake.requests.filter((q) => path.test(q.path));
const row = (campaign: string, date: string, extra: Record<string, unknown> = {}) => ({
  account_id: A,
  campaign_id: campaign,
  campaign_name: 'Custom',
  date_start: date,
  date_stop: date,
  impressions: '1000',
  inline_link_clicks: '16',
  clicks: '20',
  spend: '10.5',
  ctr: '2.000000',
  ...extra,
});
const firstCampaign = () => fake.account(A).campaigns[0]!.id;
const metric = async (campaign: string, date: string) =>
  (
    await sql<{
      impressions: string;
      clicks: string;
      all_clicks: string | null;
      spend: string;
      total_leads: number;
      lead_action: string | null;
      quality_flags: string[];
    }>`
    SELECT impressions, clicks, all_clicks, spend::text AS spend, total_leads, lead_action, quality_flags FROM
      campaign_metrics WHERE campaign_id = ${campaign} AND date = ${date}`.execute(t.db)
  ).rows[0];

describe('what is stored', () => {
  test(
    'lists paused, archived and deleted campaigns, converts budgets ' +
      'from minor units (none for JPY) and maps accounts to clients',
    async () => {
      const r = await run();
      expect(r.code).toBe(0);
      const rows = (
        await sql<{
          campaign_id: string;
          client_id: string;
          daily_budget: string;
          status: string;
          start_date: string;
          account_id: string;
        }>`
      SELECT campaign_id, client_id, daily_budget::text AS daily_budget, status, start_date, account_id FROM
        campaigns ORDER BY campaign_id`.execute(t.db)
      ).rows;
      expect(new Set(rows.filter((x) => x.account_id === `act_${A}`).map((x) => x.status))).toEqual(
        new Set(['ACTIVE', 'PAUSED', 'ARCHIVED', 'DELETED']),
      );
      const a0 = fake.account(A).campaigns[0]!;
      const b0 = fake.account(B).campaigns[0]!;
      const stored = (id: string) => rows.find((x) => x.campaign_id === id)!;
      expect(stored(a0.id).daily_budget).toBe((Number(a0.daily_budget) / 100).toFixed(2));
      expect(stored(b0.id).daily_budget).toBe(b0.daily_budget);
      expect(stored(a0.id).client_id).toBe('acme');
      expect(stored(b0.id).client_id).toBe(`act_${B}`);
      const client = (
        await sql<{ client_name: string }>`SELECT client_name FROM clients WHERE client_id = ${`act_${B}`}`.execute(
          t.db,
        )
      ).rows[0]!;
      expect(client.client_name).toBe(`Account ${B}`);
      // Each campaign carries its ad account's currency: scoring picks its target by it.
      const currencies = (
        await sql<{
          account_id: string;
          currency: string;
        }>`SELECT DISTINCT account_id, currency FROM campaigns ORDER BY account_id`.execute(t.db)
      ).rows;
      expect(currencies).toEqual([
        { account_id: `act_${A}`, currency: fake.account(A).currency },
        { account_id: `act_${B}`, currency: 'JPY' },
      ]);
    },
  );

  test(
    'asks account-level insights with level=campaign, ' +
      "time_increment=1 and a 28-day time_range in each account's time " +
      'zone, never per campaign',
    async () => {
      await run();
      const insights = callsTo(/insights$/);
      expect(insights.every((q) => q.path.startsWith('act_'))).toBe(true);
      const ranges = insights.map((q) => [
        q.path.split('/')[0],
        q.params.level,
        q.params.time_increment,
        q.params.time_range,
      ]);
      // 09:00 UTC is 2025-11-16 in Berlin but still 2025-11-15 in Honolulu.
      expect(ranges).toContainEqual([`act_${A}`, 'campaign', '1', JSON.stringify({ since: SINCE, until: UNTIL })]);
      expect(ranges).toContainEqual([
        `act_${B}`,
        'campaign',
        '1',
        JSON.stringify({ since: '2025-10-19', until: '2025-11-15' }),
      ]);
      expect(insights.every((q) => q.params.limit === '500')).toBe(true);
    },
  );

  test(
    'stores numbers exactly as sent and counts leads from one ' +
      'canonical action type, never the sum of overlapping ones',
    async () => {
      const c = firstCampaign();
      const acct = fake.account(A);
      acct.insights = acct.insights.filter((x) => x.campaign_id !== c);
      acct.insights.push(
        row(c, '2025-11-10', {
          spend: '153.274912',
          actions: [
            { action_type: 'lead', value: '17' },
            { action_type: 'onsite_conversion.lead_grouped', value: '17' },
            { action_type: 'leadgen_grouped', value: '17' },
            { action_type: 'link_click', value: '301' },
          ],
        }),
        row(c, '2025-11-11', {
          actions: [
            { action_type: 'onsite_conversion.lead_grouped', value: '4' },
            { action_type: 'offsite_conversion.fb_pixel_lead', value: '9' },
          ],
        }),
        row(c, '2025-11-12'),
      );
      expect((await run()).code).toBe(0);
      // clicks are link clicks (inline_link_clicks), as an export's "Link clicks"; all clicks beside them.
      expect(await metric(c, '2025-11-10')).toMatchObject({
        impressions: '1000',
        clicks: '16',
        all_clicks: '20',
        spend: '153.274912',
        total_leads: 17,
        lead_action: 'lead',
      });
      expect(await metric(c, '2025-11-11')).toMatchObject({
        total_leads: 4,
        lead_action: 'onsite_conversion.lead_grouped',
      });
      expect(await metric(c, '2025-11-12')).toMatchObject({ total_leads: 0, lead_action: null });
    },
  );

  test(
    'a day the API fully returned without a row is stored as no ' +
      'delivery, a restated-away row becomes zeros, and a campaign ' +
      'that never delivered gets no rows',
    async () => {
      const c = firstCampaign();
      const acct = fake.account(A);
      const silent = acct.campaigns[1]!.id;
      acct.insights = acct.insights.filter((x) => x.campaign_id !== c && x.campaign_id !== silent);
      acct.insights.push(row(c, '2025-11-10'), row(c, '2025-11-12'));
      expect((await run()).code).toBe(0);
      expect(await metric(c, '2025-11-11')).toMatchObject({
        impressions: '0',
        clicks: '0',
        spend: '0',
        total_leads: 0,
      });
      expect(
        await count(
          `SELECT count(*) AS n FROM campaign_metrics WHERE campaign_id = ` +
            `'${c}' AND date BETWEEN '${SINCE}' AND '${UNTIL}'`,
        ),
      ).toBe(28);
      expect(await count(`SELECT count(*) AS n FROM campaign_metrics WHERE campaign_id = '${silent}'`)).toBe(0);
      // Facebook restates: the row of 2025-11-10 disappears from the next answer.
      acct.insights = acct.insights.filter((x) => !(x.campaign_id === c && x.date_start === '2025-11-10'));
      expect((await run()).code).toBe(0);
      expect(await metric(c, '2025-11-10')).toMatchObject({ impressions: '0', spend: '0' });
    },
  );

  test("leaves the CRM's qualified_leads alone when it updates a day", async () => {
    const c = firstCampaign();
    await run();
    await sql`UPDATE campaign_metrics SET qualified_leads = 3 WHERE campaign_id = ${c}`.execute(t.db);
    fake.account(A).insights.find((x) => x.campaign_id === c && x.date_start === '2025-11-14')!.spend = '99.99';
    expect((await run()).code).toBe(0);
    expect(
      await count(`SELECT count(*) AS n FROM campaign_metrics WHERE campaign_id = '${c}' AND qualified_leads = 3`),
    ).toBeGreaterThan(20);
    expect((await metric(c, '2025-11-14'))!.spend).toBe('99.99');
  });

  test(
    "a sales campaign's rows without a lead action store no lead " +
      'count (NULL), days without delivery too, so scoring does not ' +
      'judge it on leads',
    async () => {
      const acct = fake.account(A);
      const sales = acct.campaigns[1]!;
      sales.objective = 'OUTCOME_SALES';
      acct.insights = acct.insights.filter(
        (x) => x.campaign_id !== sales.id || (x.date_start as string) < '2025-11-01',
      );
      for (const d of ['2025-11-10', '2025-11-11'])
        acct.insights.push(
          row(sales.id, d, { actions: [{ action_type: 'offsite_conversion.fb_pixel_purchase', value: '3' }] }),
        );
      expect((await run(['--account', `act_${A}`])).code).toBe(0);
      const rows = await t.db
        .selectFrom('campaign_metrics')
        .select(['date', 'total_leads'])
        .where('campaign_id', '=', sales.id)
        .where('date', '>=', '2025-11-01')
        .orderBy('date')
        .execute();
      expect(rows.length).toBeGreaterThan(2);
      expect(rows.every((x) => x.total_leads === null)).toBe(true);
      const lead = await t.db
        .selectFrom('campaign_metrics')
        .select('total_leads')
        .where('campaign_id', '=', acct.campaigns[0]!.id)
        .where('total_leads', 'is not', null)
        .execute();
      expect(lead.length).toBeGreaterThan(0);
    },
  );

  test(
    'rejects rows with missing or non-numeric values, writes the ' +
      'rest, flags CTR over 50 %, spend over 1.5 × budget and CPL over ' +
      '1000, and warns when over 20 % of campaigns are incomplete',
    async () => {
      const acct = fake.account(A);
      const [c1, c2, c3, c4, c5] = acct.campaigns.map((c) => c.id);
      acct.insights = acct.insights.filter((x) => x.date_start !== '2025-11-13');
      const budget = Number(acct.campaigns[2]!.daily_budget) / 100;
      acct.campaigns[3]!.daily_budget = '500000';
      acct.insights.push(
        row(c1!, '2025-11-13', { spend: undefined }),
        row(c2!, '2025-11-13', { impressions: 'n/a' }),
        row(c3!, '2025-11-13', { inline_link_clicks: '600', clicks: '700', spend: String(budget * 2) }),
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
      expect(a.warnings.join('\n')).toMatch(
        /3 of \d+ campaigns \(more than 20 %\) have incomplete or invalid insights rows/,
      );
      expect(r.logs.map((l) => l.message).join('\n')).toContain('impressions "n/a" is not a whole-number string');
    },
  );

  test(
    'a campaign with a malformed budget and a lead without ' +
      'created_time are reported and left out; the rest is stored',
    async () => {
      const acct = fake.account(A);
      acct.campaigns[1]!.daily_budget = '12.50';
      // Minutes without seconds: a time the fake can filter on, but not the API's format.
      acct.leads[0]!.created_time = acct.leads[0]!.created_time.replace(/:\d\d\+0000$/, '+0000');
      const r = await run(['--account', `act_${A}`]);
      expect(r.code).toBe(0);
      const messages = r.logs.map((l) => l.message).join('\n');
      expect(messages).toContain(
        `campaign ${acct.campaigns[1]!.id}: daily_budget "12.50" is not a whole number of minor units`,
      );
      expect(messages).toContain(
        `lead ${acct.leads[0]!.id}: created_time "${acct.leads[0]!.created_time}" is not a date-time`,
      );
      expect(await count(`SELECT count(*) AS n FROM campaign_leads WHERE lead_id = '${acct.leads[0]!.id}'`)).toBe(0);
      expect(
        await count(
          `SELECT count(*) AS n FROM campaigns WHERE campaign_id = ` +
            `'${acct.campaigns[2]!.id}' AND daily_budget IS NOT NULL`,
        ),
      ).toBe(1);
    },
  );

  test('an insights row for a campaign missing from the listing creates that campaign and says so', async () => {
    fake.account(A).insights.push(row('999000111', '2025-11-14', { campaign_name: 'Ghost' }));
    const r = await run();
    expect(r.code).toBe(0);
    expect(account(r, A).warnings.join()).toContain('999000111');
    expect(
      await count(
        `SELECT count(*) AS n FROM campaigns WHERE campaign_id = ` +
          `'999000111' AND campaign_name = 'Ghost' AND account_id = 'act_${A}'`,
      ),
    ).toBe(1);
  });
});

describe('leads', () => {
  test(
    'reads leads incrementally from an hour before the last ' +
      'watermark and upserts them by id without touching their status',
    async () => {
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
      expect(await count(`SELECT count(*) AS n FROM campaign_leads WHERE lead_id = '981999' AND status = 'new'`)).toBe(
        1,
      );
      expect(await count(`SELECT count(*) AS n FROM campaign_leads WHERE status = 'qualified'`)).toBe(first);
      expect(await count(`SELECT count(*) AS n FROM fb_sync_state WHERE watermark = '2025-11-16T13:00:00Z'`)).toBe(2);
    },
  );

  test('a CRM status change that came before its lead (pending) is applied when the fetch brings it', async () => {
    const acct = fake.account(A);
    const lead = { ...acct.leads[0]!, id: '981777', created_time: '2025-11-15T08:00:00+0000' };
    acct.leads.push(lead);
    const inbox = await sql<{ id: string }>`INSERT INTO crm_inbox (source, body, events, invalid)
      VALUES ('leads', '{}', 1, 0) RETURNING inbox_id::text AS id`.execute(t.db);
    await sql`INSERT INTO crm_events
                (source, sender, event_id, inbox_id, crm, lead_id, raw_status, status, changed_at, state)
      VALUES ('leads', 'key:', 'fetch-pending-1', ${inbox.rows[0]!.id}, 'crm', '981777', 'qualified', 'qualified',
              '2025-11-15T09:00:00Z', 'pending')`.execute(t.db);
    expect((await run()).code).toBe(0);
    expect(
      await count("SELECT count(*) AS n FROM crm_events WHERE event_id = 'fetch-pending-1' AND state = 'applied'"),
    ).toBe(1);
    expect(
      await count(
        "SELECT count(*) AS n FROM lead_status_changes WHERE lead_id = '981777' AND status = 'qualified' " +
          "AND changed_at = '2025-11-15T09:00:00Z'",
      ),
    ).toBe(1);
  });

  test(
    'keeps the answers people typed into forms out of the archive ' +
      'and the logs, even when the API sends them unasked',
    async () => {
      fake.reset({ accounts: accounts(), ignoreFields: true });
      const r = await run();
      expect(r.code).toBe(0);
      const archived = files(blobs)
        .map((f) => readFileSync(f, 'utf8'))
        .join('\n');
      expect(archived).toContain('"field_names"');
      expect(archived).not.toMatch(/example\.test|Person \d|\+15550100/);
      expect(r.stderr + r.stdout).not.toMatch(/example\.test|Person \d/);
      expect(callsTo(/leads$/)[0]!.params.fields).not.toContain('field_data');
    },
  );
});

describe('batch requests (the leads of many ads)', () => {
  // 120 campaigns, one ad each; every 7th is not a lead campaign: 103 ads of lead campaigns.
  const many = (): FakeAccount[] => [generateAccount({ id: A, campaigns: 120, days: 35, until: UNTIL, seed: 3 })];
  const leadAds = (): string[] => {
    const acct = fake.account(A);
    const lead = new Set(acct.campaigns.filter((c) => c.objective === 'OUTCOME_LEADS').map((c) => c.id));
    return acct.ads.filter((ad) => lead.has(ad.campaign_id)).map((ad) => ad.id);
  };
  const pastLeads = (): number =>
    fake.account(A).leads.filter((l) => Date.parse(l.created_time.replace('+0000', 'Z')) < Date.parse(TEST_NOW)).length;
  const batchPosts = () =>
    fake.requests
      .map((q, i) => ({ ...q, i }))
      .filter((q) => q.method === 'POST' && q.path === '' && q.params.batch !== undefined);
  const inBatch = (i: number) => fake.requests.filter((q) => q.inBatch === i);

  test(
    'asks the leads of 103 ads in batch requests of at most 50, one ' + 'round trip each, and stores every lead',
    async () => {
      fake.reset({ accounts: many() });
      const r = await run(['--account', `act_${A}`]);
      expect(r.code).toBe(0);
      const ads = leadAds();
      expect(ads).toHaveLength(103);
      const posts = batchPosts();
      expect(posts.map((p) => inBatch(p.i).length)).toEqual([50, 50, 3]);
      // Every ad asked exactly once, and only inside a batch.
      const leadCalls = callsTo(/\/leads$/);
      expect(leadCalls.every((q) => q.inBatch !== undefined)).toBe(true);
      expect(new Set(leadCalls.map((q) => q.path.split('/')[0])).size).toBe(103);
      expect(leadCalls).toHaveLength(103);
      expect(await count(`SELECT count(*) AS n FROM campaign_leads WHERE source = 'facebook'`)).toBe(pastLeads());
      // Round trips and calls as Meta counts them are both reported: a batch is one request and 50 calls.
      const a = account(r, A) as ReturnType<typeof account> & { metered_calls: number };
      expect(a.calls).toBe(fake.requests.filter((q) => q.inBatch === undefined).length);
      expect(a.metered_calls).toBe(a.calls - posts.length + 103);
    },
  );

  /** Seven more leads on each of two lead ads of A, so that their listings need two pages of 5. */
  const addLeads = (): void => {
    const acct = fake.account(A);
    const ads = [...new Set(acct.leads.map((l) => l.ad_id))].slice(0, 2);
    for (const [j, adId] of ads.entries()) {
      const l = acct.leads.find((x) => x.ad_id === adId)!;
      for (let k = 0; k < 7; k++)
        acct.leads.push({ ...l, id: `977${j}0${k}`, created_time: `2025-11-15T0${k}:10:00+0000` });
    }
  };

  test("follows each ad's own paging.next in the next batch until every listing ends", async () => {
    addLeads();
    const r = await run(['--account', `act_${A}`], { FB_PAGE_SIZE: '5' });
    expect(r.code).toBe(0);
    const ads = leadAds();
    const firstPages = callsTo(/\/leads$/).filter((q) => q.params.after === undefined);
    const laterPages = callsTo(/\/leads$/).filter((q) => q.params.after !== undefined);
    expect(firstPages).toHaveLength(ads.length);
    expect(laterPages.length).toBeGreaterThan(0);
    expect(laterPages.every((q) => q.inBatch !== undefined && q.params.limit === '5')).toBe(true);
    // A later page goes out in a later batch than its ad's first page.
    const firstBatch = Math.max(...firstPages.map((q) => q.inBatch!));
    expect(laterPages.every((q) => q.inBatch! > firstBatch)).toBe(true);
    const past = fake
      .account(A)
      .leads.filter((l) => Date.parse(l.created_time.replace('+0000', 'Z')) < Date.parse(TEST_NOW));
    expect(past.some((l) => past.filter((x) => x.ad_id === l.ad_id).length > 5)).toBe(true);
    expect(await count(`SELECT count(*) AS n FROM campaign_leads WHERE source = 'facebook'`)).toBe(past.length);
  });

  test(
    'a request that timed out inside a batch (a null answer) is sent ' + 'again in a later batch, and no lead is lost',
    async () => {
      fake.reset({ accounts: many() });
      fake.addFault({ path: '/leads$', type: 'batch-null', nth: 2, times: 3 });
      const r = await run(['--account', `act_${A}`]);
      expect(r.code).toBe(0);
      expect(account(r, A).retries).toBe(3);
      const posts = batchPosts();
      expect(posts.map((p) => inBatch(p.i).length)).toEqual([50, 50, 3, 3]);
      expect(await count(`SELECT count(*) AS n FROM campaign_leads WHERE source = 'facebook'`)).toBe(pastLeads());
    },
  );

  test.each([
    [
      'an unknown error 1/99',
      {
        type: 'graph-error' as const,
        status: 500,
        error: { code: 1, error_subcode: 99, message: 'An unknown error occurred' },
      },
    ],
    ['truncated JSON', { type: 'truncated-json' as const }],
    ['"data" that is not a list', { type: 'data-not-array' as const }],
  ])('one request of a batch failing transiently (%s) is retried alone', async (_name, fault) => {
    fake.addFault({ ...fault, path: '/leads$', nth: 4 });
    const r = await run(['--account', `act_${A}`]);
    expect(r.code).toBe(0);
    expect(account(r, A).retries).toBe(1);
    expect(
      batchPosts()
        .map((p) => inBatch(p.i).length)
        .at(-1),
    ).toBe(1);
    expect(
      await count(
        `SELECT count(*) AS n FROM campaign_leads WHERE source = ` +
          `'facebook' AND campaign_id IN (SELECT campaign_id FROM ` +
          `campaigns WHERE account_id = 'act_${A}')`,
      ),
    ).toBe(pastLeads());
  });

  test(
    'a 403 permission error on one request of a batch fails the ' +
      'account with exit 78 and the fix, and writes nothing of it',
    async () => {
      await run(['--account', `act_${B}`]);
      const before = await snapshot();
      fake.addFault({
        type: 'graph-error',
        status: 403,
        error: { code: 200, message: '(#200) Requires leads_retrieval permission to manage the object' },
        path: '/leads$',
        nth: 3,
      });
      const r = await run(['--account', `act_${A}`]);
      expect(r.code).toBe(78);
      expect(account(r, A).error).toMatch(
        /may not read the Lead Ads leads of act_1111111111 \(code 200: .*leads_retrieval.*--no-leads/,
      );
      expect(await snapshot()).toBe(before);
      expect((await run(['--account', `act_${A}`, '--no-leads'])).code).toBe(0);
    },
  );

  test(
    'a throttle on requests of a batch (leadgen 80005) is waited out ' + 'once, then those requests are sent again',
    async () => {
      fake.addFault({
        type: 'graph-error',
        status: 400,
        error: { code: 80005, message: 'There have been too many leadgen api calls to this Page' },
        path: '/leads$',
        nth: 2,
        times: 2,
      });
      const r = await run(['--account', `act_${A}`]);
      expect(r.code).toBe(0);
      expect(account(r, A).throttled).toBe(1);
      expect(
        batchPosts()
          .map((p) => inBatch(p.i).length)
          .at(-1),
      ).toBe(2);
      expect(await count(`SELECT count(*) AS n FROM campaign_leads WHERE source = 'facebook'`)).toBe(pastLeads());
    },
  );

  test('a throttle in one batch holds back the batches not yet sent until the wait is over', async () => {
    fake.reset({ accounts: many() });
    fake.addFault({
      type: 'graph-error',
      status: 400,
      error: { code: 80005, message: 'There have been too many leadgen api calls to this Page' },
      path: '/leads$',
      nth: 2,
    });
    const r = await run(['--account', `act_${A}`]);
    expect(r.code).toBe(0);
    expect(account(r, A).throttled).toBe(1);
    // 50 sent, one of them throttled; the other 53 wait with it: then 50 + 4, never 50 + 3 before the wait.
    expect(batchPosts().map((p) => inBatch(p.i).length)).toEqual([50, 50, 4]);
    expect(await count(`SELECT count(*) AS n FROM campaign_leads WHERE source = 'facebook'`)).toBe(pastLeads());
  });

  test('a whole batch answered 502 by a proxy is sent again as a whole', async () => {
    fake.addFault({ type: 'http', status: 502, body: '<html>Bad Gateway</html>', path: '^$', method: 'POST' });
    const r = await run(['--account', `act_${A}`]);
    expect(r.code).toBe(0);
    expect(account(r, A).retries).toBe(1);
    const posts = batchPosts();
    expect(posts).toHaveLength(2);
    expect(inBatch(posts[0]!.i)).toHaveLength(0);
    expect(await count(`SELECT count(*) AS n FROM campaign_leads WHERE source = 'facebook'`)).toBe(pastLeads());
  });

  test("the archive keeps a batch's requests and answers entry by entry, without tokens or form answers", async () => {
    fake.reset({ accounts: accounts(), ignoreFields: true });
    addLeads();
    const r = await run(['--account', `act_${A}`], { FB_PAGE_SIZE: '5' });
    expect(r.code).toBe(0);
    const batches = files(blobs).filter((f) => f.endsWith('-batch-leads.json'));
    expect(batches.length).toBeGreaterThan(1);
    const text = batches.map((f) => readFileSync(f, 'utf8')).join('\n');
    expect(text).not.toMatch(/TEST-TOKEN|example\.test|Person \d/);
    const first = JSON.parse(readFileSync(batches[0]!, 'utf8')) as {
      form: { batch: { relative_url: string }[] };
      body: { code: number; body: { data: unknown[] } }[];
    };
    expect(first.form.batch[0]!.relative_url).toMatch(/^v25\.0\/\d+\/leads\?/);
    expect(first.body).toHaveLength(first.form.batch.length);
    expect(first.body.every((e) => e.code === 200 && Array.isArray(e.body.data))).toBe(true);
  });

  test('FB_BATCH_SIZE=1 asks every ad on its own, with the same leads stored', async () => {
    const r = await run(['--account', `act_${A}`], { FB_BATCH_SIZE: '1' });
    expect(r.code).toBe(0);
    expect(batchPosts()).toHaveLength(0);
    expect(callsTo(/\/leads$/).every((q) => q.inBatch === undefined && q.method === 'GET')).toBe(true);
    expect(await count(`SELECT count(*) AS n FROM campaign_leads WHERE source = 'facebook'`)).toBe(pastLeads());
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
    expect(callsTo(/insights$/).every((q) => q.params.access_token === undefined && q.token === 'TEST-TOKEN')).toBe(
      true,
    );
  });

  test.each([['short-page'], ['empty-page']] as const)('a %s with paging.next is not the end', async (type) => {
    fake.addFault({ path: 'insights$', type, nth: 1 });
    const r = await run(['--account', `act_${A}`], { FB_PAGE_SIZE: '25' });
    expect(r.code).toBe(0);
    expect(account(r, A).rows.insights).toBe(
      fake.account(A).insights.filter((x) => (x.date_start as string) >= SINCE).length,
    );
  });

  test('a full page without paging.next is checked with one more call, so an early end loses nothing', async () => {
    fake.addFault({ path: 'insights$', type: 'drop-next', nth: 2 });
    const r = await run(['--account', `act_${A}`], { FB_PAGE_SIZE: '25' });
    expect(r.code).toBe(0);
    expect(account(r, A).rows.insights).toBe(
      fake.account(A).insights.filter((x) => (x.date_start as string) >= SINCE).length,
    );
  });

  test('a paging link to another host is refused before any request: the token is never sent there', async () => {
    const session = new AccountSession(
      `act_${A}`,
      {
        baseUrl: fake.url,
        version: 'v25.0',
        token: 'TEST-TOKEN',
        requestTimeoutMs: 1000,
        retries: 0,
        retryBaseMs: 1,
        retryMaxMs: 1,
        maxThrottleWaitMs: 0,
        batchSize: 50,
        pacing: DEFAULT_PACING,
      },
      new AbortController().signal,
      async () => undefined,
    );
    await expect(session.get('http://127.0.0.2:1/v25.0/act_1/insights?after=x', 'insights')).rejects.toThrow(
      /refusing to follow a URL to another host/,
    );
    await session.close();
  });

  test(
    'a cursor invalidated between pages (a campaign deleted ' +
      'meanwhile) restarts the listing and stores the campaign as deleted',
    async () => {
      const victim = fake.account(A).campaigns[3]!.id;
      fake.addFault(
        { path: 'campaigns$', type: 'delete-campaign', campaignId: victim, nth: 2 },
        { path: 'campaigns$', type: 'invalid-cursor', nth: 2 },
      );
      const r = await run(['--account', `act_${A}`], { FB_PAGE_SIZE: '5' });
      expect(r.code).toBe(0);
      expect(await count(`SELECT count(*) AS n FROM campaigns WHERE account_id = 'act_${A}'`)).toBe(
        fake.account(A).campaigns.length,
      );
      expect(
        await count(`SELECT count(*) AS n FROM campaigns WHERE campaign_id = '${victim}' AND status = 'DELETED'`),
      ).toBe(1);
    },
  );
});

const graphError = (status: number, error: Record<string, unknown>) => ({
  type: 'graph-error' as const,
  status,
  error,
});

describe('rate limits', () => {
  test('reads the usage headers of every answer and spaces calls out as usage rises past 50 %', async () => {
    fake.setUsage(A, { pct: 70 });
    const r = await run(['--account', `act_${A}`], { FB_PAGE_SIZE: '50', FB_MAX_SPACING_MS: '200' });
    expect(r.code).toBe(0);
    const a = account(r, A);
    expect(a.usage_peak_pct).toBe(70);
    // 70 % is 4/5 of the way from 50 % to 75 %: 160 ms between the starts of two calls, and a batch of
    // n requests counts as n calls, so the request after it waits n × 160 ms.
    const posts = fake.requests
      .map((q, i) => ({ at: q.at, i, inBatch: q.inBatch }))
      .filter((q) => q.inBatch === undefined);
    const weight = (i: number): number => Math.max(1, fake.requests.filter((q) => q.inBatch === i).length);
    expect(posts.some((q) => weight(q.i) > 1)).toBe(true);
    // Arrival times at the fake jitter by several ms each way on a loaded machine (a CI run saw 149):
    // every gap per counted call stays far from back-to-back, and the typical one is the 160 ms the usage asks for.
    const gaps = posts.slice(1).map((x, k) => (x.at - posts[k]!.at) / weight(posts[k]!.i));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(120);
    expect([...gaps].sort((x, y) => x - y)[Math.floor(gaps.length / 2)]).toBeGreaterThanOrEqual(155);
  });

  test(
    'defers an account whose usage reaches 75 % rather than push on: ' +
      'nothing of it written, the others fetched, exit 75',
    async () => {
      fake.setUsage(A, { pct: 60, perCall: 6 });
      const r = await run([], { FB_PAGE_SIZE: '25' });
      expect(r.code).toBe(75);
      expect(account(r, A).outcome).toBe('deferred');
      expect(account(r, A).error).toMatch(/usage reached \d+ %/);
      expect(account(r, B).outcome).toBe('succeeded');
      expect(await count(`SELECT count(*) AS n FROM campaigns WHERE account_id = 'act_${A}'`)).toBe(0);
      expect(
        await count(`SELECT count(*) AS n FROM fb_account_runs WHERE account_id = 'act_${A}' AND outcome = 'deferred'`),
      ).toBe(1);
    },
  );

  test('a usage header that is not JSON, or none at all, does not stop the run', async () => {
    fake.setUsage(A, { pct: 0, malformed: true });
    fake.setUsage(B, { pct: 0, none: true });
    expect((await run()).code).toBe(0);
  });

  test.each([
    [
      'ad-account burst 17/2446079',
      { code: 17, error_subcode: 2446079, message: 'User request limit reached', is_transient: false },
    ],
    [
      '613/1487742',
      { code: 613, error_subcode: 1487742, message: 'There have been too many calls from this ad-account.' },
    ],
    ['613 without subcode', { code: 613, message: 'Calls to this api have exceeded the rate limit.' }],
    [
      'BUC 80004/2446079',
      {
        code: 80004,
        error_subcode: 2446079,
        message: '(#80004) There have been too many calls to this ad-account. Wait a bit and try again.',
      },
    ],
  ])(
    'a throttle (%s) whose access returns in 7 minutes defers that ' +
      'account only, honouring the headers sent with the error',
    async (_name, error) => {
      const headers = {
        'x-business-use-case-usage': JSON.stringify({
          [A]: [
            {
              type: 'ads_management',
              call_count: 104,
              total_cputime: 20,
              total_time: 21,
              estimated_time_to_regain_access: 7,
            },
          ],
        }),
        'x-ad-account-usage': JSON.stringify({ acc_id_util_pct: 100, reset_time_duration: 420 }),
      };
      fake.addFault({ ...graphError(400, error), headers, path: `^act_${A}/campaigns$` });
      const r = await run();
      expect(r.code).toBe(75);
      expect(account(r, A).outcome).toBe('deferred');
      expect(account(r, A).error).toMatch(/about 7 min/);
      expect(account(r, B).outcome).toBe('succeeded');
    },
  );

  test.each([
    [
      'insights BUC 80000',
      'insights$',
      { code: 80000, error_subcode: 2446079, message: 'too many calls (ads_insights)' },
    ],
    ['leadgen BUC 80005', 'leads$', { code: 80005, message: 'too many leadgen calls' }],
    ['app throttle 4', 'campaigns$', { code: 4, message: 'Application request limit reached', is_transient: true }],
  ])(
    'a short throttle (%s) with no wait stated is retried after a backoff and the run succeeds',
    async (_name, path, error) => {
      fake.addFault({ ...graphError(400, error), path });
      const r = await run(['--account', `act_${A}`]);
      expect(r.code).toBe(0);
      expect(account(r, A).throttled).toBe(1);
    },
  );

  test('an app-wide throttle (4/1504022) lasting long defers every account left, without calling them', async () => {
    fake.setUsage(A, { pct: 10, regainMinutes: 30 });
    fake.addFault({
      ...graphError(400, { code: 4, error_subcode: 1504022, message: 'Too many API requests', is_transient: true }),
      path: 'insights$',
    });
    const r = await run();
    expect(r.code).toBe(75);
    expect(doc(r).accounts.map((a) => a.outcome)).toEqual(['deferred', 'deferred']);
    expect(callsTo(new RegExp(`^act_${B}`))).toHaveLength(0);
  });
});

describe('errors', () => {
  test.each([
    [
      'unknown error 1/99 (HTTP 500)',
      graphError(500, { code: 1, error_subcode: 99, message: 'An unknown error occurred', is_transient: false }),
    ],
    [
      'service error 2/1504043',
      graphError(500, { code: 2, error_subcode: 1504043, message: 'Service temporarily unavailable' }),
    ],
    ['is_transient', graphError(400, { code: 12345, message: 'Something transient', is_transient: true })],
    ['proxy 502 with HTML', { type: 'http' as const, status: 502, body: '<html>Bad Gateway</html>' }],
    ['503 with an empty body', { type: 'http' as const, status: 503, body: '' }],
    ['truncated JSON', { type: 'truncated-json' as const }],
    ['200 with an empty body', { type: 'empty-200' as const }],
    ['200 with HTML', { type: 'html-200' as const }],
    ['data that is not a list', { type: 'data-not-array' as const }],
    ['socket closed mid-body', { type: 'close-mid-body' as const }],
  ])('a transient failure (%s) is retried and the run completes', async (_name, fault) => {
    fake.addFault({ ...fault, path: 'insights$', times: 2 });
    const r = await run(['--account', `act_${A}`]);
    expect(r.code).toBe(0);
    expect(account(r, A).retries).toBe(2);
    expect(account(r, A).rows.insights).toBe(
      fake.account(A).insights.filter((x) => (x.date_start as string) >= SINCE).length,
    );
  });

  test('a 429 without a Graph error body is a throttle: waited out, not retried, then completed', async () => {
    fake.addFault({ type: 'http' as const, status: 429, body: '', path: 'insights$', times: 2 });
    const r = await run(['--account', `act_${A}`]);
    expect(r.code).toBe(0);
    expect(account(r, A)).toMatchObject({ retries: 0, throttled: 2 });
    expect(account(r, A).rows.insights).toBe(
      fake.account(A).insights.filter((x) => (x.date_start as string) >= SINCE).length,
    );
  });

  test.each([
    ['a server that never answers', { type: 'hang' as const }],
    ['headers and then a stalled body', { type: 'stall-body' as const }],
    ['a body dripping in slower than the request timeout', { type: 'drip' as const, dripMs: 100 }],
  ])('%s is cut off by the request timeout and retried', async (_name, fault) => {
    fake.addFault({ ...fault, path: 'campaigns$' });
    const started = Date.now();
    const r = await run(['--account', `act_${A}`], { FB_REQUEST_TIMEOUT_SECONDS: '1' });
    expect(r.code).toBe(0);
    expect(account(r, A).retries).toBe(1);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  test(
    'a failure that outlasts the retries fails that account with ' +
      'exit 69, names it, and the other account is still fetched',
    async () => {
      fake.addFault({
        ...graphError(500, { code: 2, message: 'Service temporarily unavailable', is_transient: true }),
        path: `^act_${A}/insights$`,
        times: 100,
      });
      const r = await run([], { FB_RETRIES: '2' });
      expect(r.code).toBe(69);
      expect(account(r, A)).toMatchObject({ outcome: 'failed', calls: expect.any(Number) });
      expect(account(r, A).error).toMatch(
        /kept failing on insights after retries \(code 2: Service temporarily unavailable/,
      );
      expect(account(r, B).outcome).toBe('succeeded');
      expect(await count(`SELECT count(*) AS n FROM campaigns WHERE account_id = 'act_${A}'`)).toBe(0);
      expect(await count(`SELECT count(*) AS n FROM campaigns WHERE account_id = 'act_${B}'`)).toBe(5);
      expect(r.stdout + r.stderr).toContain(`act_${A}: failed`);
    },
  );

  test('a Graph API that cannot be reached at all is exit 69 after retries, with the reason', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await run(['--account', `act_${A}`], { FB_GRAPH_URL: `http://127.0.0.1:${port}`, FB_RETRIES: '1' });
    expect(r.code).toBe(69);
    expect(account(r, A).error).toMatch(/ECONNREFUSED/);
  });

  test('"reduce the amount of data" bisects the date range, and only then halves the page size', async () => {
    fake.reset({ accounts: accounts(), maxRangeDays: 7 });
    const r = await run(['--account', `act_${A}`]);
    expect(r.code).toBe(0);
    expect(account(r, A).rows.insights).toBe(
      fake.account(A).insights.filter((x) => (x.date_start as string) >= SINCE).length,
    );
    const ok = callsTo(/insights$/).filter((q) => {
      const tr = JSON.parse(q.params.time_range!) as { since: string; until: string };
      return (Date.parse(tr.until) - Date.parse(tr.since)) / 86_400_000 + 1 <= 7;
    });
    expect(ok.every((q) => q.params.limit === '500')).toBe(true);

    fake.reset({ accounts: accounts(), maxInsightsLimit: 100 });
    const small = await run(['--account', `act_${A}`]);
    expect(small.code).toBe(0);
    expect(callsTo(/insights$/).at(-1)!.params.limit).toBe('62');
  });

  test.each([
    ['190/463 (expired)', 463],
    ['190/460 (password changed)', 460],
    ['190 without subcode (invalid)', null],
  ])(
    'a rejected token (%s) stops every account with exit 78 and says how to renew it, without printing it',
    async (_name, subcode) => {
      fake.reset({ accounts: accounts(), validTokens: [], expiredTokens: { 'TEST-TOKEN': subcode } });
      const r = await run();
      expect(r.code).toBe(78);
      expect(account(r, A).error).toMatch(/rejected FB_ACCESS_TOKEN \(code 190.*Renew it: in Business Manager/);
      // Every permission Meta's lead retrieval guide lists for reading leads with their ad and campaign ids.
      for (const permission of [
        'ads_read',
        'ads_management',
        'leads_retrieval',
        'pages_show_list',
        'pages_read_engagement',
        'pages_manage_ads',
      ]) {
        expect(account(r, A).error).toContain(permission);
      }
      expect(account(r, B).error).toMatch(/not attempted: FB_ACCESS_TOKEN was rejected/);
      expect(callsTo(new RegExp(`^act_${B}`))).toHaveLength(0);
      expect(r.stdout + r.stderr).not.toContain('TEST-TOKEN');
    },
  );

  test.each([
    ['code 200 (no access to the account)', null],
    ['code 10', graphError(403, { code: 10, message: 'Application does not have permission for this action' })],
    [
      '100/3191001',
      graphError(400, { code: 100, error_subcode: 3191001, message: 'No permission to access insights' }),
    ],
    [
      '(#100) Missing permissions',
      graphError(400, { code: 100, message: '(#100) Missing permissions', type: 'OAuthException' }),
    ],
  ])(
    'a permission error (%s) fails that account with exit 78 and a fix, and the other account is fetched',
    async (_name, fault) => {
      if (fault === null) fake.account(A).tokens = ['ANOTHER-TOKEN'];
      else fake.addFault({ ...fault, path: `^act_${A}/insights$` });
      const r = await run();
      expect(r.code).toBe(78);
      expect(account(r, A).error).toMatch(/may not read act_1111111111 .*Business Manager/);
      expect(account(r, B).outcome).toBe('succeeded');
    },
  );

  test(
    'a 190 about a Page permission is a permission problem of that ' +
      'account: exit 78 with the permissions to grant, not "renew the ' +
      'token", and the other account is fetched',
    async () => {
      const message =
        'Any of the pages_read_engagement, pages_manage_metadata, ' +
        'pages_read_user_content, pages_manage_ads, pages_show_list or ' +
        'pages_messaging permission(s) must be granted before ' +
        "impersonating a user's page.";
      fake.addFault({ ...graphError(400, { code: 190, message, type: 'OAuthException' }), path: 'leads$' });
      const r = await run([]);
      expect(r.code).toBe(78);
      const failed = [A, B].map((id) => account(r, id)).filter((a) => a.outcome === 'failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]!.error).toMatch(
        /may not read the Lead Ads leads of act_\d+ \(code 190: .*pages_show_list, pages_read_engagement and pages_man/,
      );
      expect(failed[0]!.error).not.toMatch(/Renew it/);
      expect([A, B].map((id) => account(r, id).outcome).sort()).toEqual(['failed', 'succeeded']);
    },
  );

  test('an error with is_transient: false is not retried for its code alone', async () => {
    fake.addFault({
      ...graphError(400, { code: 2, message: 'Service temporarily unavailable', is_transient: false }),
      path: `^act_${A}/insights$`,
    });
    const r = await run(['--account', `act_${A}`]);
    expect(r.code).toBe(69);
    expect(account(r, A).retries).toBe(0);
    expect(account(r, A).error).toMatch(/refused insights \(code 2: Service temporarily unavailable/);
  });

  test(
    'each edge is sent only the effective statuses it accepts; the ' +
      'fake refuses the others with 100/1487561 as Meta does',
    async () => {
      const r = await run(['--account', `act_${A}`]);
      expect(r.code).toBe(0);
      const campaigns = JSON.parse(callsTo(/campaigns$/)[0]!.params.effective_status!) as string[];
      expect(campaigns.sort()).toEqual(['ACTIVE', 'ARCHIVED', 'DELETED', 'IN_PROCESS', 'PAUSED', 'WITH_ISSUES']);
      const insights = JSON.parse(callsTo(/insights$/)[0]!.params.filtering!) as { field: string; value: string[] }[];
      expect(insights.find((f) => f.field === 'campaign.effective_status')!.value.sort()).toEqual(campaigns);
      // What the old status list got: the whole account failed on the campaign listing.
      const refused = await fetch(
        `${fake.url}/v25.0/act_` +
          `${A}/campaigns?access_token=TEST-TOKEN&effective_status=${encodeURIComponent('["ACTIVE","ADSET_PAUSED"]')}`,
      );
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: Record<string, unknown> }).error).toMatchObject({
        code: 100,
        error_subcode: 1487561,
        error_user_title: 'Run Status not valid',
      });
    },
  );

  test("an ad account that does not exist fails with the API's message", async () => {
    const r = await run([], { FB_AD_ACCOUNTS: `act_${A},act_3333333333` });
    expect(r.code).toBe(78);
    expect(account(r, '3333333333').error).toMatch(/does not exist/);
  });
});

describe('units of work', () => {
  test('a failure late in an account (its leads) writes nothing of it; a re-run completes it', async () => {
    await run(['--account', `act_${B}`]);
    const before = await snapshot();
    fake.addFault({ ...graphError(400, { code: 100, message: 'Unsupported filter' }), path: 'leads$' });
    const r = await run(['--account', `act_${A}`]);
    expect(r.code).toBe(69);
    expect(await snapshot()).toBe(before);
    expect((await run(['--account', `act_${A}`])).code).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM campaigns WHERE account_id = 'act_${A}'`)).toBe(12);
  });

  test(
    'SIGTERM during an account rolls it back, keeps the accounts ' + 'already done, and records the run as interrupted',
    async () => {
      const abort = new AbortController();
      fake.addFault({ path: `^act_${B}/insights$`, type: 'hang' });
      // SIGTERM once B's insights request hangs in the fake (A is done by then), not after a guessed delay.
      let finished = false;
      const hanging = (async () => {
        while (!finished && !fake.requests.some((q) => new RegExp(`^act_${B}/insights$`).test(q.path)))
          await new Promise((res) => setTimeout(res, 20));
        abort.abort();
      })();
      const r = await runAsFunction(fetchFacebookJob, ['--json'], env({ FB_REQUEST_TIMEOUT_SECONDS: '30' }), {
        abort: abort.signal,
      });
      finished = true;
      await hanging;
      expect(r.code).toBe(143);
      expect(await count(`SELECT count(*) AS n FROM campaigns WHERE account_id = 'act_${A}'`)).toBe(12);
      expect(await count(`SELECT count(*) AS n FROM campaigns WHERE account_id = 'act_${B}'`)).toBe(0);
      expect(
        await count(`SELECT count(*) AS n FROM job_runs WHERE job = 'fetch-facebook' AND status = 'interrupted'`),
      ).toBe(1);
      expect((await run()).code).toBe(0);
      expect(await count(`SELECT count(*) AS n FROM campaigns WHERE account_id = 'act_${B}'`)).toBe(5);
    },
  );

  test('the run deadline (--timeout) defers the account in progress and those not started, exit 75', async () => {
    fake.addFault({ path: `^act_${A}/campaigns$`, type: 'hang' });
    const started = Date.now();
    const r = await run(['--timeout', '1s'], { FB_REQUEST_TIMEOUT_SECONDS: '60' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.code).toBe(75);
    expect(doc(r).accounts.map((a) => a.outcome)).toEqual(['deferred', 'deferred']);
    expect(account(r, A).error).toMatch(/run deadline/);
  });

  test(
    'archives every raw answer under ' + 'facebook/<date>/<account>/<run>/ with no token in any URL or header',
    async () => {
      const r = await run([], { FB_PAGE_SIZE: '25' });
      expect(r.code).toBe(0);
      const all = files(blobs);
      const runId = doc(r).run_id;
      expect(all.some((f) => f.includes(`facebook/2025-11-16/act_${A}/${runId}/0001-account.json`))).toBe(true);
      expect(all.filter((f) => f.includes(`/act_${A}/`)).length).toBe(account(r, A).calls);
      const text = all.map((f) => readFileSync(f, 'utf8')).join('\n');
      expect(text).not.toContain('TEST-TOKEN');
      const page = JSON.parse(readFileSync(all.find((f) => f.endsWith('-insights.json'))!, 'utf8')) as {
        url: string;
        headers: Record<string, string>;
        body: { paging: { next?: string } };
      };
      expect(page.url).toContain('time_range=');
      expect(page.headers['x-business-use-case-usage']).toBeDefined();
    },
  );

  test('an archive that cannot be written fails the account with exit 69 and writes nothing of it', async () => {
    // A file where the facebook/ folder should be: every archive write fails (for root too).
    writeFileSync(join(blobs, 'facebook'), 'in the way');
    const before = await snapshot();
    const r = await run(['--account', `act_${A}`]);
    expect(r.code).toBe(69);
    expect(account(r, A).error).toMatch(/cannot archive the raw response to file:.*check BLOB_URL/i);
    expect(await snapshot()).toBe(before);
  });

  test('a blob store that cannot be opened stops the run with exit 69 before any call', async () => {
    const r = await run([], { BLOB_URL: 'file:///dev/null/blobs' });
    expect(r.code).toBe(69);
    expect(doc(r).error).toMatch(/cannot open the blob store/);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('flags', () => {
  test('--dry-run fetches and checks everything but writes nothing, not even the archive', async () => {
    const before = await snapshot();
    const r = await run(['--dry-run']);
    expect(r.code).toBe(0);
    expect(account(r, A).rows.insights).toBeGreaterThan(200);
    expect(await snapshot()).toBe(before);
    expect(files(blobs)).toEqual([]);
  });

  test('--since/--until backfills a long range in chunks of at most 28 days', async () => {
    const r = await run(['--account', `act_${A}`, '--since', '2025-09-01', '--until', '2025-11-05']);
    expect(r.code).toBe(0);
    const ranges = callsTo(/insights$/).map(
      (q) => JSON.parse(q.params.time_range!) as { since: string; until: string },
    );
    expect(ranges).toEqual([
      { since: '2025-09-01', until: '2025-09-28' },
      { since: '2025-09-29', until: '2025-10-26' },
      { since: '2025-10-27', until: '2025-11-05' },
    ]);
  });

  test.each([
    [['--account', 'act_999'], /act_999 not in FB_AD_ACCOUNTS/],
    [['--until', '2025-11-01'], /--until needs --since/],
    [['--since', '2021-01-01'], /keeps insights for 37 months/],
    [['--since', '2025-11-10', '--until', '2025-11-01'], /before --since/],
    [['--since', '2025-13-01'], /not a calendar date/],
    [['--timeout', 'soon'], /--timeout soon: expected a duration/],
  ])('%j is a usage error (64) that names the problem', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(64);
    expect(doc(r).error).toMatch(message);
    expect(fake.requests).toHaveLength(0);
  });

  test('a missing token or account list is exit 78 before any call', async () => {
    const r = await runAsFunction(fetchFacebookJob, ['--json'], {
      DATABASE_URL: t.url,
      FB_GRAPH_URL: fake.url,
      FB_AD_ACCOUNTS: 'act_1,bogus',
    });
    expect(r.code).toBe(78);
    expect(doc(r).problems.join('\n')).toMatch(/FB_ACCESS_TOKEN is not set/);
    expect(doc(r).problems.join('\n')).toMatch(/"bogus" is not act_<digits>/);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('as cron runs it', () => {
  test(
    'bin/fetch-facebook fetches, prints one line per account and ' + 'exits 0; with a rejected token it exits 78',
    async () => {
      const r = await runProcess('fetch-facebook', [], env());
      expect(r.code).toBe(0);
      // A process runs on the real clock, so its 28 days are not the fixture's: the rows are checked elsewhere.
      expect(r.stdout).toMatch(
        new RegExp(
          `act_${A}: succeeded \\d{4}-\\d\\d-\\d\\d…\\d{4}-\\d\\d-\\d\\d, ` +
            `\\d+ requests?( \\(\\d+ as Meta counts them\\))?, 12 campaigns`,
        ),
      );
      expect(r.stdout).toContain('2 of 2 ad accounts fetched.');
      const bad = await runProcess('fetch-facebook', [], env({ FB_ACCESS_TOKEN: 'WRONG-TOKEN-VALUE' }));
      expect(bad.code).toBe(78);
      expect(bad.stdout + bad.stderr).not.toContain('WRONG-TOKEN-VALUE');
    },
  );
});

describe('asynchronous report runs (when even one day at the smallest page is too much)', () => {
  const days = ['--account', `act_${A}`, '--since', '2025-11-14', '--until', '2025-11-15', '--no-leads'];
  const rowsOf = (from: string, to: string) =>
    fake.account(A).insights.filter((x) => (x.date_start as string) >= from && (x.date_start as string) <= to).length;
  const asyncEnv = { FB_ASYNC_POLL_MS: '1', FB_ASYNC_TIMEOUT_SECONDS: '1' };

  test(
    'waits for "Job Completed" (not 100 % while running), repeats a ' +
      'first poll that says 100/33, accepts a numeric report_run_id, ' +
      'and stores every row',
    async () => {
      fake.reset({ accounts: accounts(), maxInsightsLimit: 10, asyncFirstPollNotFound: true, asyncIdAsNumber: true });
      const r = await run(days, asyncEnv);
      expect(r.code).toBe(0);
      expect(account(r, A).rows.insights).toBe(rowsOf('2025-11-14', '2025-11-15'));
      const posts = fake.requests.filter((q) => q.method === 'POST');
      expect(posts.map((q) => JSON.parse(q.params.time_range!).since)).toEqual(['2025-11-14', '2025-11-15']);
      // per report: the 100/33 poll, Not Started, Running at 100 %, Completed
      expect(callsTo(/^\d+$/).length).toBe(8);
    },
  );

  test('a report run that fails is submitted once more', async () => {
    fake.reset({
      accounts: accounts(),
      maxInsightsLimit: 10,
      asyncScripts: [['Job Running', 'Job Failed'], ['Job Completed']],
    });
    const r = await run(days, asyncEnv);
    expect(r.code).toBe(0);
    expect(fake.requests.filter((q) => q.method === 'POST')).toHaveLength(3);
    expect(account(r, A).rows.insights).toBe(rowsOf('2025-11-14', '2025-11-15'));
  });

  test.each([
    ['skipped twice', [['Job Skipped']], /Job Skipped; submitted twice/],
    ['failing twice', [['Job Failed']], /Job Failed \(-3\/1504045 Report Too Large\); submitted twice/],
    [
      'stuck in "Job Not Started"',
      [['Job Not Started']],
      /not completed within 1 s \(last status: Job Not Started\); submitted twice/,
    ],
  ])('a report run %s fails the account with exit 69 and writes nothing of it', async (_name, scripts, message) => {
    fake.reset({ accounts: accounts(), maxInsightsLimit: 10, asyncScripts: scripts });
    const r = await run(days, asyncEnv);
    expect(r.code).toBe(69);
    expect(account(r, A).error).toMatch(message);
    expect(await count(`SELECT count(*) AS n FROM campaign_metrics`)).toBe(0);
  });
});
