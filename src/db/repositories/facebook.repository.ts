import type pg from 'pg';
import {
  bringsLeads,
  noDeliveryDays,
  type CampaignRecord,
  type LeadRecord,
  type MetricRecord,
} from '../../core/facebook/records.js';

export interface UpsertCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

/** Everything fetched for one ad account in one run: promoted together or not at all. */
export interface AccountData {
  accountId: string;
  /** From FB_AD_ACCOUNTS (`act_1=client`); null = the account id is the client, named after the account. */
  clientId: string | null;
  accountName: string | null;
  currency: string;
  campaigns: CampaignRecord[];
  /** Campaigns seen in insights or leads but missing from the listing: created with what is known. */
  unlistedCampaigns: { campaignId: string; name: string | null }[];
  /** The date range whose insights were read to the end: days in it without a row are no-delivery days. */
  range: { since: string; until: string };
  metrics: MetricRecord[];
  /** `campaignId|date` of rows that failed validation: left as they were. */
  rejected: ReadonlySet<string>;
  leads: LeadRecord[];
  /** Every lead created before this instant has been read (null: leads were not fetched). */
  leadsWatermark: Date | null;
}

export interface PromotionCounts {
  campaigns: UpsertCounts;
  metrics: UpsertCounts;
  /** Rows written as zeros because the API returned no row for a delivering campaign that day. */
  noDeliveryDays: number;
  leads: UpsertCounts;
}

function counted(rows: { inserted: boolean }[], total: number): UpsertCounts {
  const inserted = rows.filter((r) => r.inserted).length;
  return { inserted, updated: rows.length - inserted, unchanged: total - rows.length };
}

/** The lead watermark of an account, or null before its first fetch. */
export async function readLeadsWatermark(client: pg.ClientBase, accountId: string): Promise<Date | null> {
  const r = await client.query<{ watermark: Date }>(
    "SELECT watermark FROM fb_sync_state WHERE account_id = $1 AND stream = 'leads'",
    [accountId],
  );
  return r.rows[0]?.watermark ?? null;
}

/**
 * Writes one account's campaigns, daily metrics (with no-delivery days as
 * zeros) and leads, and moves its lead watermark, inside the caller's
 * transaction. Only the columns Facebook owns are written: qualified_leads
 * (from the CRM) and lead statuses are left alone.
 */
export async function promoteAccount(client: pg.ClientBase, data: AccountData): Promise<PromotionCounts> {
  const clientId = data.clientId ?? data.accountId;
  await client.query(
    'INSERT INTO clients (client_id, client_name) VALUES ($1, $2) ON CONFLICT (client_id) DO NOTHING',
    [clientId, data.clientId ? null : data.accountName],
  );

  const campaignRows = data.campaigns.map((c) => ({
    campaign_id: c.campaignId,
    campaign_name: c.name,
    daily_budget: c.dailyBudget,
    lifetime_budget: c.lifetimeBudget,
    start_date: c.startDate,
    end_date: c.endDate,
    status: c.status,
    effective_status: c.effectiveStatus,
    objective: c.objective,
    source_updated_at: c.updatedAt,
  }));
  const campaigns = await client.query<{ inserted: boolean }>(
    `INSERT INTO campaigns AS t (campaign_id, client_id, campaign_name, daily_budget, lifetime_budget, start_date,
      end_date, platform,
                                 status, account_id, currency, effective_status, objective, source_updated_at)
     SELECT r.campaign_id, $2, r.campaign_name, r.daily_budget, r.lifetime_budget, r.start_date, r.end_date, 'facebook',
            r.status, $3, $4, r.effective_status, r.objective, r.source_updated_at
       FROM json_to_recordset($1::json) AS r(campaign_id text, campaign_name text, daily_budget numeric,
         lifetime_budget numeric,
            start_date date, end_date date, status text, effective_status text, objective text, source_updated_at
              timestamptz)
     ON CONFLICT (campaign_id) DO UPDATE SET
       client_id = CASE WHEN $5 THEN EXCLUDED.client_id ELSE coalesce(t.client_id, EXCLUDED.client_id) END,
       campaign_name = EXCLUDED.campaign_name, daily_budget = EXCLUDED.daily_budget, lifetime_budget =
         EXCLUDED.lifetime_budget,
       start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date, platform = 'facebook', status = EXCLUDED.status,
       account_id = EXCLUDED.account_id, currency = EXCLUDED.currency, effective_status = EXCLUDED.effective_status,
       objective = EXCLUDED.objective, source_updated_at = EXCLUDED.source_updated_at, updated_at = now()
     WHERE (t.client_id, t.campaign_name, t.daily_budget, t.lifetime_budget, t.start_date, t.end_date, t.platform,
       t.status,
            t.account_id, t.currency, t.effective_status, t.objective, t.source_updated_at)
           IS DISTINCT FROM
           (CASE WHEN $5 THEN EXCLUDED.client_id ELSE coalesce(t.client_id, EXCLUDED.client_id) END,
             EXCLUDED.campaign_name,
            EXCLUDED.daily_budget, EXCLUDED.lifetime_budget, EXCLUDED.start_date, EXCLUDED.end_date, 'facebook',
              EXCLUDED.status,
            EXCLUDED.account_id, EXCLUDED.currency, EXCLUDED.effective_status, EXCLUDED.objective,
              EXCLUDED.source_updated_at)
     RETURNING (xmax = 0) AS inserted`,
    [JSON.stringify(campaignRows), clientId, data.accountId, data.currency, data.clientId !== null],
  );
  if (data.unlistedCampaigns.length > 0) {
    await client.query(
      `INSERT INTO campaigns (campaign_id, client_id, campaign_name, platform, account_id, currency)
       SELECT r.campaign_id, $2, r.name, 'facebook', $3, $4 FROM json_to_recordset($1::json) AS r(campaign_id text,
         name text)
       ON CONFLICT (campaign_id) DO NOTHING`,
      [
        JSON.stringify(data.unlistedCampaigns.map((c) => ({ campaign_id: c.campaignId, name: c.name }))),
        clientId,
        data.accountId,
        data.currency,
      ],
    );
  }

  const stored = await client.query<{ campaign_id: string }>(
    `SELECT DISTINCT m.campaign_id FROM campaign_metrics m JOIN campaigns c USING (campaign_id)
      WHERE c.account_id = $1 AND m.date BETWEEN $2 AND $3`,
    [data.accountId, data.range.since, data.range.until],
  );
  const returned = new Set(data.metrics.map((m) => `${m.campaignId}|${m.date}`));
  const active = new Set([...stored.rows.map((r) => r.campaign_id), ...data.metrics.map((m) => m.campaignId)]);
  const campaignDates = new Map(
    data.campaigns.map((c) => [c.campaignId, { startDate: c.startDate, endDate: c.endDate }]),
  );
  const objectives = new Map(data.campaigns.map((c) => [c.campaignId, c.objective]));
  const zeros = noDeliveryDays({
    range: data.range,
    returned,
    rejected: data.rejected,
    active,
    campaigns: campaignDates,
  });
  const metricRows = [
    ...data.metrics.map((m) => ({
      campaign_id: m.campaignId,
      date: m.date,
      impressions: m.impressions,
      clicks: m.clicks,
      all_clicks: m.allClicks,
      spend: m.spend,
      total_leads: m.leads,
      source_ctr: m.ctr,
      lead_action: m.leadAction,
      actions: m.actions,
      quality_flags: m.flags,
    })),
    ...zeros.map((z) => ({
      campaign_id: z.campaignId,
      date: z.date,
      impressions: '0',
      clicks: '0',
      all_clicks: '0',
      spend: '0',
      // A campaign not asked for leads has no lead count on a day without delivery either (NO_LEAD_DATA).
      total_leads: bringsLeads(objectives.get(z.campaignId) ?? null) ? '0' : null,
      source_ctr: null,
      lead_action: null,
      actions: null,
      quality_flags: [],
    })),
  ];
  const metrics = await client.query<{ inserted: boolean }>(
    `INSERT INTO campaign_metrics AS t (campaign_id, date, impressions, clicks, all_clicks, spend, total_leads,
      source, source_ctr, lead_action, actions, quality_flags)
     SELECT r.campaign_id, r.date, r.impressions, r.clicks, r.all_clicks, r.spend, r.total_leads, 'facebook',
       r.source_ctr, r.lead_action, r.actions,
            r.quality_flags
       FROM json_to_recordset($1::json) AS r(campaign_id text, date date, impressions bigint, clicks bigint,
         all_clicks bigint, spend numeric,
            total_leads integer, source_ctr numeric, lead_action text, actions jsonb, quality_flags text[])
     ON CONFLICT (campaign_id, date) DO UPDATE SET
       impressions = EXCLUDED.impressions, clicks = EXCLUDED.clicks, all_clicks = EXCLUDED.all_clicks, spend =
         EXCLUDED.spend,
       total_leads = EXCLUDED.total_leads, source = 'facebook', source_ctr = EXCLUDED.source_ctr, lead_action =
         EXCLUDED.lead_action,
       actions = EXCLUDED.actions, quality_flags = EXCLUDED.quality_flags, updated_at = now()
     WHERE (t.impressions, t.clicks, t.all_clicks, t.spend, t.total_leads, t.source, t.source_ctr, t.lead_action,
       t.actions, t.quality_flags)
           IS DISTINCT FROM
           (EXCLUDED.impressions, EXCLUDED.clicks, EXCLUDED.all_clicks, EXCLUDED.spend, EXCLUDED.total_leads,
             'facebook', EXCLUDED.source_ctr,
            EXCLUDED.lead_action, EXCLUDED.actions, EXCLUDED.quality_flags)
     RETURNING (xmax = 0) AS inserted`,
    [JSON.stringify(metricRows)],
  );

  let leads: { inserted: boolean }[] = [];
  if (data.leads.length > 0) {
    const leadRows = data.leads.map((l) => ({ lead_id: l.leadId, campaign_id: l.campaignId, created_at: l.createdAt }));
    leads = (
      await client.query<{ inserted: boolean }>(
        `INSERT INTO campaign_leads AS t (lead_id, campaign_id, created_at, status, source)
         SELECT r.lead_id, r.campaign_id, r.created_at, 'new', 'facebook'
           FROM json_to_recordset($1::json) AS r(lead_id text, campaign_id text, created_at timestamptz)
         ON CONFLICT (lead_id) DO UPDATE SET campaign_id = EXCLUDED.campaign_id, created_at = EXCLUDED.created_at,
           updated_at = now()
         WHERE (t.campaign_id, t.created_at) IS DISTINCT FROM (EXCLUDED.campaign_id, EXCLUDED.created_at)
         RETURNING (xmax = 0) AS inserted`,
        [JSON.stringify(leadRows)],
      )
    ).rows;
  }
  if (data.leadsWatermark !== null) {
    await client.query(
      `INSERT INTO fb_sync_state (account_id, stream, watermark) VALUES ($1, 'leads', $2)
       ON CONFLICT (account_id, stream) DO UPDATE SET watermark = EXCLUDED.watermark, updated_at = now()`,
      [data.accountId, data.leadsWatermark],
    );
  }
  return {
    campaigns: counted(campaigns.rows, campaignRows.length),
    metrics: counted(metrics.rows, metricRows.length),
    noDeliveryDays: zeros.length,
    leads: counted(leads, data.leads.length),
  };
}

/**
 * Records what happened to one account in one run (outside the account's transaction, so failures are recorded too).
 */
export async function recordAccountRun(
  client: pg.ClientBase,
  row: {
    runId: string;
    accountId: string;
    outcome: 'succeeded' | 'failed' | 'deferred';
    since: string | null;
    until: string | null;
    calls: number;
    counts: unknown;
    warnings: string[];
    error: string | null;
  },
): Promise<void> {
  await client.query(
    `INSERT INTO fb_account_runs (run_id, account_id, outcome, since, until, calls, counts, warnings, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (run_id, account_id) DO UPDATE SET outcome = EXCLUDED.outcome, calls = EXCLUDED.calls, counts =
       EXCLUDED.counts,
       warnings = EXCLUDED.warnings, error = EXCLUDED.error, finished_at = now()`,
    [
      row.runId,
      row.accountId,
      row.outcome,
      row.since,
      row.until,
      row.calls,
      JSON.stringify(row.counts),
      JSON.stringify(row.warnings),
      row.error,
    ],
  );
}
