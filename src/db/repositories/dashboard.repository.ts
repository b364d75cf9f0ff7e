import { sql, type Kysely } from 'kysely';
import type { Database } from '../tables.js';

/**
 * What status-server's pages read (read-only role): a scored date's scorecard rows, the details of one page of
 * them, and one campaign's history, days and digests.
 */

/** The newest scored date at or before `date` (or the newest of all), and the scored date before it. */
export async function scoredDates(
  db: Kysely<Database>,
  date: string | null,
): Promise<{ date: string | null; previous: string | null; version: string | null }> {
  const r = await sql<{ date: string; version: string }>`
    SELECT date::text AS date, max(scored_at)::text AS version FROM scoring_runs
     WHERE ${date === null ? sql`true` : sql`date <= ${date}::date`}
     GROUP BY date ORDER BY date DESC LIMIT 2`.execute(db);
  const [d, p] = r.rows;
  if (d === undefined || (date !== null && d.date !== date)) return { date: null, previous: null, version: null };
  return { date: d.date, previous: p?.date ?? null, version: d.version };
}

export interface ScorecardDbRow {
  campaign_id: string;
  campaign_name: string | null;
  client_id: string | null;
  client_name: string | null;
  total_score: string;
  previous_score: string | null;
  action: string;
  recommendation: string;
  flags: string[];
  window_spend: string | null;
  window_qualified_leads: number | null;
  currency: string | null;
  client_target: string | null;
  config_id: string;
}

/** Every campaign scored on `date`, with its score on `previous` (one statement; the caller keeps the rows). */
export async function loadScorecardRows(
  db: Kysely<Database>,
  date: string,
  previous: string | null,
): Promise<ScorecardDbRow[]> {
  const r = await sql<ScorecardDbRow>`
    SELECT s.campaign_id, c.campaign_name, c.client_id, cl.client_name, s.total_score::text,
           p.total_score::text AS previous_score, coalesce(s.action, s.recommendation) AS action, s.recommendation,
           s.flags, s.window_spend::text, s.window_qualified_leads, c.currency, cl.target_cpql::text AS client_target,
           s.config_id
      FROM campaign_scores s
      LEFT JOIN campaigns c ON c.campaign_id = s.campaign_id
      LEFT JOIN clients cl ON cl.client_id = c.client_id
      LEFT JOIN campaign_scores p ON p.campaign_id = s.campaign_id AND p.date = ${previous}::date
     WHERE s.date = ${date}::date`.execute(db);
  return r.rows;
}

/** The stored scoring configurations by id (to work out each campaign's target as it was scored). */
export async function loadConfigs(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, unknown>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('scoring_configs')
    .select(['config_id', 'config'])
    .where('config_id', 'in', ids)
    .execute();
  return new Map(rows.map((r) => [r.config_id, r.config as unknown]));
}

export interface RowDetails {
  dimensions: Record<string, { points: number; max: number; reason: string }> | null;
  evidence: unknown;
  /** The newest day with metrics. */
  dataUpTo: string | null;
}

/** What one page of the scorecard shows beyond its rows: read for those campaigns only. */
export async function loadRowDetails(
  db: Kysely<Database>,
  date: string,
  campaignIds: readonly string[],
): Promise<Map<string, RowDetails>> {
  if (campaignIds.length === 0) return new Map();
  const r = await sql<{
    campaign_id: string;
    dimensions: RowDetails['dimensions'];
    evidence: unknown;
    data_up_to: string | null;
  }>`
    SELECT s.campaign_id, s.recommendation_details->'dimensions' AS dimensions,
           s.recommendation_details->'evidence' AS evidence,
           (SELECT max(m.date)::text FROM campaign_metrics m WHERE m.campaign_id = s.campaign_id) AS data_up_to
      FROM campaign_scores s
     WHERE s.date = ${date}::date AND s.campaign_id = ANY(${[...campaignIds]}::text[])`.execute(db);
  return new Map(
    r.rows.map((x) => [x.campaign_id, { dimensions: x.dimensions, evidence: x.evidence, dataUpTo: x.data_up_to }]),
  );
}

/** The newest day any campaign has metrics for. */
export async function newestMetricsDay(db: Kysely<Database>): Promise<string | null> {
  const r = await sql<{ d: string | null }>`SELECT max(date)::text AS d FROM campaign_metrics`.execute(db);
  return r.rows[0]?.d ?? null;
}

export async function loadClient(db: Kysely<Database>, clientId: string) {
  return db
    .selectFrom('clients')
    .select(['client_id', 'client_name', 'target_cpql', 'timezone'])
    .where('client_id', '=', clientId)
    .executeTakeFirst();
}

export interface CampaignPageData {
  campaign: {
    campaign_id: string;
    campaign_name: string | null;
    client_id: string | null;
    client_name: string | null;
    client_target: string | null;
    status: string | null;
    daily_budget: number | null;
    currency: string | null;
    start_date: string | null;
  } | null;
  /** Newest first. */
  scores: {
    date: string;
    total_score: number;
    recommendation: string;
    action: string | null;
    action_gate: string | null;
    action_reason: string | null;
    flags: string[];
    window_spend: number | null;
    window_qualified_leads: number | null;
    config_id: string;
    is_new: boolean;
  }[];
  /** The stored recommendation_details of the newest score only (~1.5 KB each). */
  latestDetails: Record<string, unknown> | null;
  history: { date: string; scored_at: string; total_score: number; recommendation: string; action: string | null }[];
  digests: { date: string; subject: string; status: string }[];
}

/**
 * One campaign's page in one statement (one round trip; the page measured seven before): the campaign, its scores on
 * up to 90 dates up to `date`, the newest score's details, its last 20 runs, and the digests that named it.
 */
export async function loadCampaignPage(
  db: Kysely<Database>,
  campaignId: string,
  date: string,
): Promise<CampaignPageData> {
  const r = await sql<{
    campaign: CampaignPageData['campaign'];
    scores: CampaignPageData['scores'] | null;
    details: Record<string, unknown> | null;
    history: CampaignPageData['history'] | null;
    digests: CampaignPageData['digests'] | null;
  }>`
    SELECT
      (SELECT row_to_json(x) FROM (
         SELECT c.campaign_id, c.campaign_name, c.client_id, cl.client_name, cl.target_cpql::text AS client_target,
                c.status, c.daily_budget, c.currency, c.start_date::text
           FROM campaigns c LEFT JOIN clients cl ON cl.client_id = c.client_id
          WHERE c.campaign_id = ${campaignId}) x) AS campaign,
      (SELECT json_agg(x) FROM (
         SELECT date::text, total_score, recommendation, action, action_gate, action_reason, flags, window_spend,
                window_qualified_leads, config_id, is_new
           FROM campaign_scores
          WHERE campaign_id = ${campaignId} AND date <= ${date}::date
          ORDER BY date DESC LIMIT 90) x) AS scores,
      (SELECT recommendation_details FROM campaign_scores
        WHERE campaign_id = ${campaignId} AND date <= ${date}::date ORDER BY date DESC LIMIT 1) AS details,
      (SELECT json_agg(x) FROM (
         SELECT date::text, to_char(scored_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS scored_at,
                total_score, recommendation, action
           FROM score_history WHERE campaign_id = ${campaignId}
          ORDER BY date DESC, scored_at DESC LIMIT 20) x) AS history,
      -- Digests go to the campaign's client ('' for campaigns without one); their snapshot lists the campaigns named.
      (SELECT json_agg(x) FROM (
         SELECT date::text, subject, status FROM alert_digests
          WHERE client_id = coalesce((SELECT client_id FROM campaigns WHERE campaign_id = ${campaignId}), '')
            AND items->'items' @> ${JSON.stringify([{ campaignId }])}::jsonb
          ORDER BY date DESC, digest_id DESC LIMIT 10) x) AS digests`.execute(db);
  const row = r.rows[0]!;
  return {
    campaign: row.campaign,
    scores: row.scores ?? [],
    latestDetails: row.details,
    history: row.history ?? [],
    digests: row.digests ?? [],
  };
}
