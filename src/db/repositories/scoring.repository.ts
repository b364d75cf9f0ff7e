import { sql, type Kysely, type Transaction } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { addDays } from '../../core/dates.js';
import { fromMicros, parseDecimal, formatHundredths, type Rational } from '../../core/rational.js';
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
  /** Rows whose spend has more than six decimals (no spend_micros): their campaign's spend sums are redone in numeric. */
  inexact_rows: string;
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

/** The four spend figures of a campaign (window total, largest day, recent and prior period), over integer micros or exact numeric spend. */
function spendSums(column: 'spend' | 'spend_micros', p: ReturnType<typeof scoringPeriods>) {
  const c = sql.ref(column);
  return sql`coalesce(sum(${c}), 0) AS spend,
             max(${c}) AS max_day_spend,
             coalesce(sum(${c}) FILTER (WHERE date >= ${p.recent.from}::date), 0) AS recent_spend,
             coalesce(sum(${c}) FILTER (WHERE date <= ${p.prior.to}::date AND date >= ${p.prior.from}::date), 0) AS prior_spend`;
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
  // Spend is summed as integer millionths (spend_micros, sql/007): a numeric sum costs far more.
  const metricsQuery = sql<MetricsRow>`
    WITH m AS (
      SELECT campaign_id,
             ${spendSums('spend_micros', p)},
             coalesce(sum(impressions), 0) AS impressions,
             coalesce(sum(clicks), 0) AS clicks,
             count(spend) AS spend_rows,
             count(spend) - count(spend_micros) AS inexact_rows,
             count(*) AS data_days,
             count(*) - count(spend) AS null_spend_rows,
             count(*) - count(impressions) AS null_impression_rows,
             coalesce(sum(total_leads), 0) AS total_leads,
             coalesce(sum(qualified_leads), 0) AS qualified_leads,
             coalesce(sum(qualified_leads) FILTER (WHERE date >= ${p.recent.from}::date), 0) AS recent_qualified,
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
  const exact = await exactSpend(db, p, metrics.rows.filter((r) => r.inexact_rows !== '0').map((r) => r.campaign_id));

  return metrics.rows.map((r) => {
    const lead = byCampaign.get(r.campaign_id);
    const leadLevel = r.lead_level;
    const count = (agg: string, lvl: string | undefined): number => Number(leadLevel ? (lvl ?? '0') : agg);
    const money = exact.get(r.campaign_id) ?? {
      spend: fromMicros(r.spend),
      maxDaySpend: r.max_day_spend === null ? null : fromMicros(r.max_day_spend),
      recent: fromMicros(r.recent_spend),
      prior: fromMicros(r.prior_spend),
    };
    const facts: CampaignFacts = {
      campaignId: r.campaign_id,
      mode: leadLevel ? 'lead-level' : 'aggregate',
      startDate: r.start_date,
      dailyBudget: r.daily_budget === null ? null : parseDecimal(r.daily_budget),
      clientTargetCpql: r.target_cpql === null ? null : parseDecimal(r.target_cpql),
      spend: money.spend,
      impressions: BigInt(r.impressions),
      clicks: BigInt(r.clicks),
      totalLeads: count(r.total_leads, lead?.total_leads),
      qualifiedLeads: count(r.qualified_leads, lead?.qualified_leads),
      spendRows: Number(r.spend_rows),
      dataDays: Number(r.data_days),
      nullSpendRows: Number(r.null_spend_rows),
      nullImpressionRows: Number(r.null_impression_rows),
      maxDaySpend: money.maxDaySpend,
      recent: { spend: money.recent, qualifiedLeads: count(r.recent_qualified, lead?.recent_qualified) },
      prior: { spend: money.prior, qualifiedLeads: count(r.prior_qualified, lead?.prior_qualified) },
      previousTotal: r.previous_total === null ? null : parseDecimal(r.previous_total),
    };
    return { facts, campaignName: r.campaign_name, clientId: r.client_id };
  });
}

interface SpendSums {
  spend: Rational;
  maxDaySpend: Rational | null;
  recent: Rational;
  prior: Rational;
}

/** The spend sums of campaigns with a spend of more than six decimals in the window, in exact numeric (rare: Facebook and CSVs send cents). */
async function exactSpend(db: Kysely<Database>, p: ReturnType<typeof scoringPeriods>, campaignIds: string[]): Promise<Map<string, SpendSums>> {
  if (campaignIds.length === 0) return new Map();
  const r = await sql<{ campaign_id: string; spend: string; max_day_spend: string | null; recent_spend: string; prior_spend: string }>`
    SELECT campaign_id, ${spendSums('spend', p)}
      FROM campaign_metrics
     WHERE campaign_id = ANY(${campaignIds}::text[]) AND date BETWEEN ${p.window.from}::date AND ${p.window.to}::date
     GROUP BY campaign_id`.execute(db);
  return new Map(
    r.rows.map((x) => [
      x.campaign_id,
      { spend: parseDecimal(x.spend), maxDaySpend: x.max_day_spend === null ? null : parseDecimal(x.max_day_spend), recent: parseDecimal(x.recent_spend), prior: parseDecimal(x.prior_spend) },
    ]),
  );
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

/**
 * copyText for JSON.stringify output: it never holds a raw tab or line break
 * (JSON writes them as \t and \n), so only backslashes need doubling, and
 * includes() scans 160 MB of details far faster than a regular expression.
 */
function copyJson(json: string): string {
  return json.includes('\\') ? json.replaceAll('\\', '\\\\') : json;
}

/** Rows are grouped into chunks of ~256 KiB: pg-copy-streams sends each chunk as its own message. */
const CHUNK = 262_144;

/**
 * campaign_scores rows as COPY text, computed lazily from `scores`; the
 * matching score_history rows are collected on the way (small: id, date,
 * total, recommendation) so that history is written without reading the
 * fresh scores back.
 */
function* scoreLines(scores: Iterable<CampaignScore>, configId: string, runId: string | null, history: string[]): Generator<string> {
  const run = runId ?? '\\N';
  const config = copyText(configId);
  let batch: string[] = [];
  let size = 0;
  for (const s of scores) {
    const id = copyText(s.campaignId);
    const total = formatHundredths(s.totalHundredths);
    // Only the campaign id and the JSON can hold a character COPY must escape; the rest is digits and fixed words.
    const line = `${id}\t${s.date}\t${total}\t${DIMENSIONS.map((d) => formatHundredths(s.dimensions[d].hundredths)).join('\t')}\t${s.recommendation}\t${copyJson(JSON.stringify(s.details))}\t${s.isNew ? 't' : 'f'}\t{${s.flags.join(',')}}\t${config}\t${run}\n`;
    history.push(`${run}\t${id}\t${s.date}\t${total}\t${s.recommendation}\t${config}\n`);
    batch.push(line);
    size += line.length;
    if (size > CHUNK) {
      yield batch.join('');
      batch = [];
      size = 0;
    }
  }
  if (batch.length > 0) yield batch.join('');
}

function* chunks(lines: string[]): Generator<string> {
  for (let i = 0; i < lines.length; i += 4096) yield lines.slice(i, i + 4096).join('');
}

/**
 * The first half of replacing the scores of `date`, in the caller's
 * transaction: records the configuration and deletes the date's old scores
 * (readers still see them until the transaction commits). The job runs it
 * while the inputs load on other connections.
 */
export async function clearScores(trx: Transaction<Database>, date: string, config: ScoringConfig): Promise<void> {
  await trx
    .insertInto('scoring_configs')
    .values({ config_id: config.id, config: JSON.stringify(config.file) })
    .onConflict((oc) => oc.column('config_id').doNothing())
    .execute();
  await trx.deleteFrom('campaign_scores').where('date', '=', date).execute();
}

/**
 * The second half: writes `scores` to campaign_scores and score_history in
 * the same transaction (readers see the old set or the new set). `scores` is
 * consumed once, lazily, while COPY streams: the caller can compute each
 * score as it is written, so Node's scoring and PostgreSQL's writing overlap
 * and no score needs to stay in memory.
 */
export async function writeScores(client: pg.PoolClient, scores: Iterable<CampaignScore>, config: ScoringConfig, runId: string | null): Promise<void> {
  const history: string[] = [];
  await pipeline(Readable.from(scoreLines(scores, config.id, runId, history)), client.query(copyFrom(`COPY campaign_scores (${SCORE_COLUMNS.join(', ')}) FROM STDIN`)));
  // scored_at takes its default, now(): the transaction's start, as in campaign_scores.
  await pipeline(Readable.from(chunks(history)), client.query(copyFrom('COPY score_history (run_id, campaign_id, date, total_score, recommendation, config_id) FROM STDIN')));
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
