import { type Kysely, sql, type Transaction } from 'kysely';
import {
  bringsLeads,
  noDeliveryDays,
  type CampaignRecord,
  type LeadRecord,
  type MetricRecord,
} from '../../core/facebook/records.js';
import type { PromotionCounts, UpsertCounts } from '../../core/reports/fetch-facebook.js';
import { applyPending } from './crm.repository.js';
import type { Database } from '../tables.js';

export type { PromotionCounts, UpsertCounts };

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

function counted(rows: { inserted: boolean }[], total: number): UpsertCounts {
  const inserted = rows.filter((r) => r.inserted).length;
  return { inserted, updated: rows.length - inserted, unchanged: total - rows.length };
}

/** The lead watermark of an account, or null before its first fetch. */
export async function readLeadsWatermark(db: Kysely<Database>, accountId: string): Promise<Date | null> {
  const row = await db
    .selectFrom('fb_sync_state')
    .select('watermark')
    .where('account_id', '=', accountId)
    .where('stream', '=', 'leads')
    .executeTakeFirst();
  return row?.watermark ?? null;
}

/**
 * Writes one account's campaigns, daily metrics (with no-delivery days as
 * zeros) and leads, and moves its lead watermark, inside the caller's
 * transaction. Only the columns Facebook owns are written: qualified_leads
 * (from the CRM) and lead statuses are left alone.
 */
export async function promoteAccount(trx: Transaction<Database>, data: AccountData): Promise<PromotionCounts> {
  const clientId = data.clientId ?? data.accountId;
  await trx
    .insertInto('clients')
    .values({ client_id: clientId, client_name: data.clientId ? null : data.accountName })
    .onConflict((oc) => oc.column('client_id').doNothing())
    .execute();

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
  // An account mapped to a client in FB_AD_ACCOUNTS moves its campaigns to that client; otherwise a client set by
  // hand (or by import-csv) is kept.
  const mapped = data.clientId !== null;
  const clientOf = sql`CASE WHEN ${mapped} THEN EXCLUDED.client_id ELSE coalesce(t.client_id, EXCLUDED.client_id) END`;
  const campaigns = await sql<{ inserted: boolean }>`
    INSERT INTO campaigns AS t (campaign_id, client_id, campaign_name, daily_budget, lifetime_budget, start_date,
                                end_date, platform, status, account_id, currency, effective_status, objective,
                                source_updated_at)
    SELECT r.campaign_id, ${clientId}, r.campaign_name, r.daily_budget, r.lifetime_budget, r.start_date, r.end_date,
           'facebook', r.status, ${data.accountId}, ${data.currency}, r.effective_status, r.objective,
           r.source_updated_at
      FROM json_to_recordset(${JSON.stringify(campaignRows)}::json)
           AS r(campaign_id text, campaign_name text, daily_budget numeric, lifetime_budget numeric, start_date date,
                end_date date, status text, effective_status text, objective text, source_updated_at timestamptz)
    ON CONFLICT (campaign_id) DO UPDATE SET
      client_id = ${clientOf}, campaign_name = EXCLUDED.campaign_name, daily_budget = EXCLUDED.daily_budget,
      lifetime_budget = EXCLUDED.lifetime_budget, start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date,
      platform = 'facebook', status = EXCLUDED.status, account_id = EXCLUDED.account_id,
      currency = EXCLUDED.currency, effective_status = EXCLUDED.effective_status, objective = EXCLUDED.objective,
      source_updated_at = EXCLUDED.source_updated_at, updated_at = now()
    WHERE (t.client_id, t.campaign_name, t.daily_budget, t.lifetime_budget, t.start_date, t.end_date, t.platform,
           t.status, t.account_id, t.currency, t.effective_status, t.objective, t.source_updated_at)
          IS DISTINCT FROM
          (${clientOf}, EXCLUDED.campaign_name, EXCLUDED.daily_budget, EXCLUDED.lifetime_budget, EXCLUDED.start_date,
           EXCLUDED.end_date, 'facebook', EXCLUDED.status, EXCLUDED.account_id, EXCLUDED.currency,
           EXCLUDED.effective_status, EXCLUDED.objective, EXCLUDED.source_updated_at)
    RETURNING (xmax = 0) AS inserted`.execute(trx);
  if (data.unlistedCampaigns.length > 0) {
    const unlisted = data.unlistedCampaigns.map((c) => ({ campaign_id: c.campaignId, name: c.name }));
    await sql`
      INSERT INTO campaigns (campaign_id, client_id, campaign_name, platform, account_id, currency)
      SELECT r.campaign_id, ${clientId}, r.name, 'facebook', ${data.accountId}, ${data.currency}
        FROM json_to_recordset(${JSON.stringify(unlisted)}::json) AS r(campaign_id text, name text)
      ON CONFLICT (campaign_id) DO NOTHING`.execute(trx);
  }

  const stored = await trx
    .selectFrom('campaign_metrics as m')
    .innerJoin('campaigns as c', 'c.campaign_id', 'm.campaign_id')
    .select('m.campaign_id')
    .distinct()
    .where('c.account_id', '=', data.accountId)
    .where('m.date', '>=', data.range.since)
    .where('m.date', '<=', data.range.until)
    .execute();
  const returned = new Set(data.metrics.map((m) => `${m.campaignId}|${m.date}`));
  const active = new Set([...stored.map((r) => r.campaign_id), ...data.metrics.map((m) => m.campaignId)]);
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
  const metrics = await sql<{ inserted: boolean }>`
    INSERT INTO campaign_metrics AS t (campaign_id, date, impressions, clicks, all_clicks, spend, total_leads, source,
                                       source_ctr, lead_action, actions, quality_flags)
    SELECT r.campaign_id, r.date, r.impressions, r.clicks, r.all_clicks, r.spend, r.total_leads, 'facebook',
           r.source_ctr, r.lead_action, r.actions, r.quality_flags
      FROM json_to_recordset(${JSON.stringify(metricRows)}::json)
           AS r(campaign_id text, date date, impressions bigint, clicks bigint, all_clicks bigint, spend numeric,
                total_leads integer, source_ctr numeric, lead_action text, actions jsonb, quality_flags text[])
    ON CONFLICT (campaign_id, date) DO UPDATE SET
      impressions = EXCLUDED.impressions, clicks = EXCLUDED.clicks, all_clicks = EXCLUDED.all_clicks,
      spend = EXCLUDED.spend, total_leads = EXCLUDED.total_leads, source = 'facebook',
      source_ctr = EXCLUDED.source_ctr, lead_action = EXCLUDED.lead_action, actions = EXCLUDED.actions,
      quality_flags = EXCLUDED.quality_flags, updated_at = now()
    WHERE (t.impressions, t.clicks, t.all_clicks, t.spend, t.total_leads, t.source, t.source_ctr, t.lead_action,
           t.actions, t.quality_flags)
          IS DISTINCT FROM
          (EXCLUDED.impressions, EXCLUDED.clicks, EXCLUDED.all_clicks, EXCLUDED.spend, EXCLUDED.total_leads,
           'facebook', EXCLUDED.source_ctr, EXCLUDED.lead_action, EXCLUDED.actions, EXCLUDED.quality_flags)
    RETURNING (xmax = 0) AS inserted`.execute(trx);

  let leads: { inserted: boolean }[] = [];
  if (data.leads.length > 0) {
    const leadRows = data.leads.map((l) => ({ lead_id: l.leadId, campaign_id: l.campaignId, created_at: l.createdAt }));
    leads = (
      await sql<{ inserted: boolean }>`
        INSERT INTO campaign_leads AS t (lead_id, campaign_id, created_at, status, source)
        SELECT r.lead_id, r.campaign_id, r.created_at, 'new', 'facebook'
          FROM json_to_recordset(${JSON.stringify(leadRows)}::json)
               AS r(lead_id text, campaign_id text, created_at timestamptz)
        ON CONFLICT (lead_id) DO UPDATE SET
          campaign_id = EXCLUDED.campaign_id, created_at = EXCLUDED.created_at, updated_at = now()
        WHERE (t.campaign_id, t.created_at) IS DISTINCT FROM (EXCLUDED.campaign_id, EXCLUDED.created_at)
        RETURNING (xmax = 0) AS inserted`.execute(trx)
    ).rows;
    // CRM status changes that came before their lead (crm-webhook) are applied now, in the account's transaction.
    await applyPending(trx, { leadIds: data.leads.map((l) => l.leadId) });
  }
  if (data.leadsWatermark !== null) {
    await trx
      .insertInto('fb_sync_state')
      .values({ account_id: data.accountId, stream: 'leads', watermark: data.leadsWatermark })
      .onConflict((oc) =>
        oc.columns(['account_id', 'stream']).doUpdateSet((eb) => ({
          watermark: eb.ref('excluded.watermark'),
          updated_at: sql`now()`,
        })),
      )
      .execute();
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
  db: Kysely<Database>,
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
  await db
    .insertInto('fb_account_runs')
    .values({
      run_id: row.runId,
      account_id: row.accountId,
      outcome: row.outcome,
      since: row.since,
      until: row.until,
      calls: row.calls,
      counts: JSON.stringify(row.counts),
      warnings: JSON.stringify(row.warnings),
      error: row.error,
    })
    .onConflict((oc) =>
      oc.columns(['run_id', 'account_id']).doUpdateSet((eb) => ({
        outcome: eb.ref('excluded.outcome'),
        calls: eb.ref('excluded.calls'),
        counts: eb.ref('excluded.counts'),
        warnings: eb.ref('excluded.warnings'),
        error: eb.ref('excluded.error'),
        finished_at: sql`now()`,
      })),
    )
    .execute();
}
