import { sql, type Kysely, type Transaction } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { addDays } from '../../core/dates.js';
import { parseDecimal, formatHundredths } from '../../core/rational.js';
import { DIMENSIONS, scoringPeriods, type CampaignFacts, type CampaignScore, type RunSummary, type ScoringConfig } from '../../core/scoring/index.js';
import type { Database } from '../tables.js';

/** A campaign's facts plus what reports show beside them. */
export interface ScoringInput {
  facts: CampaignFacts;
  campaignName: string | null;
  clientId: string | null;
}

interface MetricsRow {
  campaign_id: string;
  campaign_name: string | null;
  client_id: string | null;
  start_date: string | null;
  daily_budget: string | null;
  target_cpql: string | null;
  previous_total: string | null;
  lead_level: boolean;
  spend: string;
  impressions: string;
  clicks: string;
  spend_rows: string;
  data_days: string;
  null_spend_rows: string;
  null_impression_rows: string;
  max_day_spend: string | null;
  total_leads: string;
  qualified_leads: string;
  recent_spend: string;
  recent_qualified: string;
  prior_spend: string;
  prior_qualified: string;
}

interface LeadRow {
  campaign_id: string;
  total_leads: string;
  qualified_leads: string;
  recent_qualified: string;
  prior_qualified: string;
}

const midnightUtc = (date: string): string => `${date}T00:00:00Z`;

/**
 * Everything scoring.md section 1 needs, for every campaign with at least one
 * metrics row in the 30-day window ending on `date`: two aggregate queries
 * (metrics; lead-level counts with the status as of the end of `date`).
 */
export async function loadScoringInputs(db: Kysely<Database>, date: string, qualifiedStatuses: readonly string[]): Promise<ScoringInput[]> {
  const p = scoringPeriods(date);
  // The two aggregates are independent: run them side by side on two connections.
  const metricsQuery = sql<MetricsRow>`
    WITH m AS (
      SELECT campaign_id,
             coalesce(sum(spend), 0) AS spend,
             coalesce(sum(impressions), 0) AS impressions,
             coalesce(sum(clicks), 0) AS clicks,
             count(spend) AS spend_rows,
             count(*) AS data_days,
             count(*) - count(spend) AS null_spend_rows,
             count(*) - count(impressions) AS null_impression_rows,
             max(spend) AS max_day_spend,
             coalesce(sum(total_leads), 0) AS total_leads,
             coalesce(sum(qualified_leads), 0) AS qualified_leads,
             coalesce(sum(spend) FILTER (WHERE date >= ${p.recent.from}::date), 0) AS recent_spend,
             coalesce(sum(qualified_leads) FILTER (WHERE date >= ${p.recent.from}::date), 0) AS recent_qualified,
             coalesce(sum(spend) FILTER (WHERE date <= ${p.prior.to}::date AND date >= ${p.prior.from}::date), 0) AS prior_spend,
             coalesce(sum(qualified_leads) FILTER (WHERE date <= ${p.prior.to}::date AND date >= ${p.prior.from}::date), 0) AS prior_qualified
        FROM campaign_metrics
       WHERE date BETWEEN ${p.window.from}::date AND ${p.window.to}::date
       GROUP BY campaign_id
    )
    SELECT m.*, c.campaign_name, c.client_id, c.start_date, c.daily_budget, cl.target_cpql,
           prev.total_score AS previous_total,
           ll.campaign_id IS NOT NULL AS lead_level
      FROM m
      JOIN campaigns c ON c.campaign_id = m.campaign_id
      LEFT JOIN clients cl ON cl.client_id = c.client_id
      LEFT JOIN campaign_scores prev ON prev.campaign_id = m.campaign_id AND prev.date = ${addDays(date, -1)}::date
      LEFT JOIN (SELECT DISTINCT campaign_id FROM campaign_leads) ll ON ll.campaign_id = m.campaign_id
     ORDER BY m.campaign_id`.execute(db);

  // A lead belongs to the UTC day of created_at; its status is the latest change at or before the end of D.
  const leadsQuery = sql<LeadRow>`
    SELECT campaign_id,
           count(*) AS total_leads,
           count(*) FILTER (WHERE qualified) AS qualified_leads,
           count(*) FILTER (WHERE qualified AND created_at >= ${midnightUtc(p.recent.from)}::timestamptz) AS recent_qualified,
           count(*) FILTER (WHERE qualified AND created_at >= ${midnightUtc(p.prior.from)}::timestamptz
                                            AND created_at < ${midnightUtc(p.recent.from)}::timestamptz) AS prior_qualified
      FROM (
        SELECT l.campaign_id, l.created_at,
               lower(coalesce(s.status, l.status)) = ANY(${[...qualifiedStatuses]}::text[]) AS qualified
          FROM campaign_leads l
          -- The latest change at or before the end of D, per lead: one sorted pass over the
          -- changes and a hash join (1.0 s at 600,000 leads; an index probe per lead took 2.7 s).
          LEFT JOIN (
            SELECT DISTINCT ON (c.lead_id) c.lead_id, c.status FROM lead_status_changes c
             WHERE c.changed_at < ${midnightUtc(addDays(date, 1))}::timestamptz
             ORDER BY c.lead_id, c.changed_at DESC
          ) s ON s.lead_id = l.lead_id
         WHERE l.created_at >= ${midnightUtc(p.window.from)}::timestamptz
           AND l.created_at < ${midnightUtc(addDays(date, 1))}::timestamptz
      ) x
     GROUP BY campaign_id`.execute(db);
  const [metrics, leads] = await Promise.all([metricsQuery, leadsQuery]);
  const byCampaign = new Map(leads.rows.map((r) => [r.campaign_id, r]));

  return metrics.rows.map((r) => {
    const lead = byCampaign.get(r.campaign_id);
    const leadLevel = r.lead_level;
    const count = (agg: string, lvl: string | undefined): number => Number(leadLevel ? (lvl ?? '0') : agg);
    const facts: CampaignFacts = {
      campaignId: r.campaign_id,
      mode: leadLevel ? 'lead-level' : 'aggregate',
      startDate: r.start_date,
      dailyBudget: r.daily_budget === null ? null : parseDecimal(r.daily_budget),
      clientTargetCpql: r.target_cpql === null ? null : parseDecimal(r.target_cpql),
      spend: parseDecimal(r.spend),
      impressions: BigInt(r.impressions),
      clicks: BigInt(r.clicks),
      totalLeads: count(r.total_leads, lead?.total_leads),
      qualifiedLeads: count(r.qualified_leads, lead?.qualified_leads),
      spendRows: Number(r.spend_rows),
      dataDays: Number(r.data_days),
      nullSpendRows: Number(r.null_spend_rows),
      nullImpressionRows: Number(r.null_impression_rows),
      maxDaySpend: r.max_day_spend === null ? null : parseDecimal(r.max_day_spend),
      recent: { spend: parseDecimal(r.recent_spend), qualifiedLeads: count(r.recent_qualified, lead?.recent_qualified) },
      prior: { spend: parseDecimal(r.prior_spend), qualifiedLeads: count(r.prior_qualified, lead?.prior_qualified) },
      previousTotal: r.previous_total === null ? null : parseDecimal(r.previous_total),
    };
    return { facts, campaignName: r.campaign_name, clientId: r.client_id };
  });
}

/** The latest date before `date` that has scores, and how many campaigns it scored. */
export async function findPreviousScoredDate(db: Kysely<Database>, date: string): Promise<{ date: string; count: number } | null> {
  const latest = await db.selectFrom('campaign_scores').select((eb) => eb.fn.max('date').as('date')).where('date', '<', date).executeTakeFirst();
  if (!latest?.date) return null;
  const n = await db.selectFrom('campaign_scores').select((eb) => eb.fn.countAll<string>().as('n')).where('date', '=', latest.date).executeTakeFirstOrThrow();
  return { date: latest.date, count: Number(n.n) };
}

const SCORE_COLUMNS = [
  'campaign_id',
  'date',
  'total_score',
  ...DIMENSIONS.map((d) => `${d}_score`),
  'recommendation',
  'recommendation_details',
  'is_new',
  'flags',
  'config_id',
  'run_id',
] as const;

/**
 * COPY text format needs backslash, tab, newline and carriage return escaped
 * in a field. Our fields are campaign ids (any text), fixed vocabulary and
 * JSON.stringify output (which never holds a raw tab or line break, but does
 * hold backslashes). Text format instead of CSV halves the serialisation
 * time: JSON is full of quotes that CSV would have to double.
 */
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : value;
}

function* scoreLines(scores: Iterable<CampaignScore>, configId: string, runId: string | null): Generator<string> {
  let batch = '';
  for (const s of scores) {
    const fields = [
      s.campaignId,
      s.date,
      formatHundredths(s.totalHundredths),
      ...DIMENSIONS.map((d) => formatHundredths(s.dimensions[d].hundredths)),
      s.recommendation,
      JSON.stringify(s.details),
      s.isNew ? 't' : 'f',
      `{${s.flags.join(',')}}`,
      configId,
    ];
    batch += `${fields.map(copyText).join('\t')}\t${runId ?? '\\N'}\n`;
    // pg-copy-streams sends each chunk as its own message: group rows into ~256 KiB.
    if (batch.length > 262_144) {
      yield batch;
      batch = '';
    }
  }
  if (batch) yield batch;
}

/**
 * Replaces every score of `date` with `scores` and appends them to
 * score_history, inside the caller's transaction (readers see the old set or
 * the new set). `scores` is consumed once, lazily, while COPY streams: the
 * caller can compute each score as it is written, so Node's scoring and
 * PostgreSQL's writing overlap and no score needs to stay in memory.
 */
export async function replaceScores(
  trx: Transaction<Database>,
  client: pg.PoolClient,
  date: string,
  scores: Iterable<CampaignScore>,
  config: ScoringConfig,
  runId: string | null,
): Promise<void> {
  await trx
    .insertInto('scoring_configs')
    .values({ config_id: config.id, config: JSON.stringify(config.file) })
    .onConflict((oc) => oc.column('config_id').doNothing())
    .execute();
  await trx.deleteFrom('campaign_scores').where('date', '=', date).execute();
  const copy = client.query(copyFrom(`COPY campaign_scores (${SCORE_COLUMNS.join(', ')}) FROM STDIN`));
  await pipeline(Readable.from(scoreLines(scores, config.id, runId)), copy);
  await sql`
    INSERT INTO score_history (run_id, campaign_id, date, total_score, recommendation, config_id, scored_at)
    SELECT run_id, campaign_id, date, total_score, recommendation, config_id, scored_at
      FROM campaign_scores WHERE date = ${date}::date`.execute(trx);
}

/** Records a scoring run's counts and run-level warnings (scoring_runs), in the caller's transaction. */
export async function recordScoringRun(trx: Transaction<Database>, runId: string, summary: RunSummary): Promise<void> {
  await trx
    .insertInto('scoring_runs')
    .values({
      run_id: runId,
      date: summary.date,
      config_id: summary.configId,
      campaigns_scored: summary.campaignsScored,
      recommendations: JSON.stringify(summary.recommendations),
      flags: JSON.stringify(summary.flags),
      warnings: JSON.stringify(summary.warnings),
    })
    .execute();
}
