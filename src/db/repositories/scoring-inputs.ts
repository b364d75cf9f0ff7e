import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import { addDays, daysBetween } from '../../core/dates.js';
import { fromMicros, parseDecimal, type Rational, toNumber } from '../../core/rational.js';
import {
  type CampaignFacts,
  type EvidenceFacts,
  type EvidenceWindow,
  type PreviousDecision,
  type PriorMoments,
  priorKey,
  judgementOf,
  expectedRate,
  expectPending,
  type PendingDay,
  qualificationLagDays,
  type Resolved,
  type Recommendation,
  type ScoringConfig,
  scoringPeriods,
  SMALL_SPENDER_MULTIPLE,
} from '../../core/scoring/index.js';
import { type DatabaseHandle, kyselyOnClient } from '../connect.js';
import type { Database } from '../tables.js';

/** A campaign's facts plus what reports show beside them. */
export interface ScoringInput {
  facts: CampaignFacts;
  campaignName: string | null;
  clientId: string | null;
  /**
   * The action, candidate, streak and trigger window stored on the previous scored date, up to 14 days back
   * (docs/decisions.md): what persistence and hysteresis read. Null when that date has no stored action (not scored,
   * scored before sql/011, or a replay that keeps its own state).
   */
  previous: PreviousDecision | null;
}

/**
 * The previous scored date's prior moments, by client and currency (priorKey): what the empirical-Bayes prior of a
 * client's campaigns is built from (rates in two currencies do not compare).
 */
export type PriorSamples = ReadonlyMap<string, PriorMoments>;

/**
 * Everything scoring.md section 1 needs for one date, read from one database
 * snapshot, in campaign_id order, a chunk of campaigns at a time: while the
 * caller scores and writes one chunk, the database aggregates the next ones.
 */
export interface ScoringSource {
  /** The latest date before D that has scores, and how many it has (same snapshot). */
  previous: { date: string; count: number } | null;
  /**
   * The previous scored date's prior moments, for the client priors (empty before the first action, and with actions
   * off): a row per client and currency, read before the first chunk.
   */
  priorSamples: Promise<PriorSamples>;
  /** How many chunks the campaigns are read in. */
  chunkCount: number;
  /** The inputs of every campaign with a metrics row in the window; iterate once. */
  chunks(): AsyncGenerator<ScoringInput[]>;
  /** Milliseconds the caller spent waiting for a chunk (the database was the slower side). */
  readonly waitMs: number;
  /** Ends the snapshot and returns the connections; safe to call more than once. */
  close(): Promise<void>;
}

/** The previous scored date is read as the decision state when at most this many days before D (docs/decisions.md). */
const STATE_MAX_AGE_DAYS = 14;

/** Chunks read ahead of the one being scored (one per reading connection). */
const READ_AHEAD = 2;

type Periods = ReturnType<typeof scoringPeriods>;

interface MetricsRow {
  campaign_id: string;
  campaign_name: string | null;
  client_id: string | null;
  start_date: string | null;
  daily_budget: string | null;
  target_cpql: string | null;
  target_cpl: string | null;
  currency: string | null;
  previous_total: string | null;
  previous_action: string | null;
  previous_candidate: string | null;
  previous_streak: number | null;
  previous_window: string | null;
  lead_level: boolean;
  spend: string;
  impressions: string;
  clicks: string;
  spend_rows: string;
  lead_count_rows: string;
  qualified_count_rows: string;
  /**
   * Rows whose spend has more than six decimals (no spend_micros): their campaign's spend sums are redone in numeric.
   */
  inexact_rows: string;
  data_days: string;
  null_spend_rows: string;
  null_impression_rows: string;
  max_day_spend: string | null;
  day_spend: string | null;
  base_spend: string;
  /** Rows of D−14 … D−1 with a spend, and rows of D−13 … D (SPEND_SPIKE, STALE_DATA). */
  base_rows: string;
  rows_last_14: string;
  total_leads: string;
  qualified_leads: string;
  recent_spend: string;
  recent_qualified: string;
  recent_total: string;
  prior_spend: string;
  prior_qualified: string;
  prior_total: string;
}

interface LeadRow {
  campaign_id: string;
  total_leads: string;
  qualified_leads: string;
  recent_qualified: string;
  prior_qualified: string;
  recent_total: string;
  prior_total: string;
  /** Leads of the window still at a pending status as of the end of D. */
  pending_leads: string;
  /** The campaign's client, or the campaign itself without one (qualificationGroup). */
  client_group: string;
  /** The last days of the window (within the longest client lag) with a lead still pending as of the end of D. */
  young_days: string[] | null;
  young_pending: number[] | null;
}

/** What the CRM has said for a client (or a campaign without one) as of the end of D. */
export interface ClientQualification {
  /** Some status change at or before the end of D, or some lead first recorded at a status other than `new`. */
  known: boolean;
  /** The measured qualification lag in whole days (the default one with too little history). */
  lagDays: number;
}

interface SpendSums {
  spend: Rational;
  maxDaySpend: Rational | null;
  recent: Rational;
  prior: Rational;
  /** D's own spend, and the spend of D−14 … D−1 (SPEND_SPIKE). */
  daySpend: Rational | null;
  baseSpend: Rational;
}

/** A half-open range of campaign ids, in the database's collation; null = unbounded. */
interface Range {
  from: string | null;
  below: string | null;
}

/**
 * The four spend figures of a campaign (window total, largest day, recent and prior period), over integer micros or
 * exact numeric spend.
 */
function spendSums(column: 'spend' | 'spend_micros', p: Periods) {
  const c = sql.ref(column);
  const d = p.window.to;
  return sql`coalesce(sum(${c}), 0) AS spend,
             max(${c}) AS max_day_spend,
             max(${c}) FILTER (WHERE date = ${d}::date) AS day_spend,
             coalesce(sum(${c}) FILTER (WHERE date BETWEEN ${addDays(d, -14)}::date AND ${addDays(d, -1)}::date), 0)
               AS base_spend,
             coalesce(sum(${c}) FILTER (WHERE date >= ${p.recent.from}::date), 0) AS recent_spend,
             coalesce(sum(${c}) FILTER (WHERE date <= ${p.prior.to}::date AND date >= ${p.prior.from}::date), 0) AS
               prior_spend`;
}

function inRange(r: Range) {
  const from = r.from === null ? sql`` : sql`AND campaign_id >= ${r.from}`;
  const below = r.below === null ? sql`` : sql`AND campaign_id < ${r.below}`;
  return sql`${from} ${below}`;
}

const midnightUtc = (date: string): string => `${date}T00:00:00Z`;

/**
 * Per campaign of the range with a row in the window: metrics sums and what the campaign row, its client,
 * the scores of the state date (the latest earlier scored one) and of D−1 add.
 */
async function readMetrics(
  db: Kysely<Database>,
  date: string,
  p: Periods,
  range: Range,
  stateDate: string,
): Promise<MetricsRow[]> {
  const yesterday = addDays(date, -1);
  // The decision state is the campaign's row on the latest earlier scored date (a missed run does not reset it);
  // SCORE_JUMP compares with D−1 alone. Mostly the same date: then the one join serves both.
  const previousTotal =
    stateDate === yesterday
      ? sql`st.total_score`
      : sql`(SELECT total_score FROM campaign_scores y WHERE y.date = ${yesterday}::date
                AND y.campaign_id = m.campaign_id)`;
  // Spend is summed as integer millionths (spend_micros, sql/007): a numeric sum costs far more.
  const r = await sql<MetricsRow>`
    WITH m AS (
      SELECT campaign_id,
             ${spendSums('spend_micros', p)},
             coalesce(sum(impressions), 0) AS impressions,
             coalesce(sum(clicks), 0) AS clicks,
             count(spend) AS spend_rows,
             count(*) FILTER (WHERE total_leads IS NOT NULL OR qualified_leads IS NOT NULL) AS lead_count_rows,
             count(qualified_leads) AS qualified_count_rows,
             count(spend) FILTER (WHERE date BETWEEN ${addDays(date, -14)}::date AND ${yesterday}::date) AS base_rows,
             count(*) FILTER (WHERE date >= ${addDays(date, -13)}::date) AS rows_last_14,
             count(spend) - count(spend_micros) AS inexact_rows,
             count(*) AS data_days,
             count(*) - count(spend) AS null_spend_rows,
             count(*) - count(impressions) AS null_impression_rows,
             coalesce(sum(total_leads), 0) AS total_leads,
             coalesce(sum(qualified_leads), 0) AS qualified_leads,
             coalesce(sum(qualified_leads) FILTER (WHERE date >= ${p.recent.from}::date), 0) AS recent_qualified,
             coalesce(sum(qualified_leads) FILTER (WHERE date <= ${p.prior.to}::date AND date >=
               ${p.prior.from}::date), 0) AS prior_qualified,
             coalesce(sum(total_leads) FILTER (WHERE date >= ${p.recent.from}::date), 0) AS recent_total,
             coalesce(sum(total_leads) FILTER (WHERE date <= ${p.prior.to}::date AND date >=
               ${p.prior.from}::date), 0) AS prior_total
        FROM campaign_metrics
       WHERE date BETWEEN ${p.window.from}::date AND ${p.window.to}::date ${inRange(range)}
       GROUP BY campaign_id
    )
    -- Every table is cut to the chunk's range, so that each chunk reads only its own part of each index.
    SELECT m.*, c.campaign_name, c.client_id, c.start_date, c.daily_budget, c.currency, cl.target_cpql,
           cl.target_cpl, ${previousTotal} AS previous_total,
           st.action AS previous_action, st.action_candidate AS previous_candidate,
           st.action_streak AS previous_streak, st.action_window AS previous_window,
           ll.campaign_id IS NOT NULL AS lead_level
      FROM m
      JOIN (SELECT * FROM campaigns WHERE true ${inRange(range)}) c ON c.campaign_id = m.campaign_id
      LEFT JOIN clients cl ON cl.client_id = c.client_id
      LEFT JOIN (SELECT campaign_id, total_score, action, action_candidate, action_streak, action_window
                   FROM campaign_scores WHERE date = ${stateDate}::date ${inRange(range)}) st
             ON st.campaign_id = m.campaign_id
      LEFT JOIN (SELECT DISTINCT campaign_id FROM campaign_leads WHERE true ${inRange(range)}) ll
             ON ll.campaign_id = m.campaign_id
     ORDER BY m.campaign_id`.execute(db);
  return r.rows;
}

/**
 * Lead-level counts of every campaign with leads created in the window, the status as of the end of D (one query for
 * all chunks); and, for the last `youngDays` days, each day's leads and those still at a pending status.
 */
async function readLeadCounts(
  db: Kysely<Database>,
  date: string,
  p: Periods,
  statuses: { qualified: readonly string[]; pending: readonly string[] },
  youngDays: number,
): Promise<Map<string, LeadRow>> {
  const youngFrom = midnightUtc(addDays(date, 1 - youngDays));
  // The young days are read only for the action's evidence (some client has a lag); x is then read twice.
  const young =
    youngDays > 0
      ? sql`, young AS (
      SELECT campaign_id, array_agg(day::text ORDER BY day) AS young_days,
             array_agg(pending ORDER BY day) AS young_pending
        FROM (SELECT campaign_id, (created_at AT TIME ZONE 'UTC')::date AS day, count(*)::int AS pending
                FROM x WHERE pending AND created_at >= ${youngFrom}::timestamptz
               GROUP BY 1, 2) d
       GROUP BY campaign_id
    )`
      : sql``;
  const youngColumns =
    youngDays > 0 ? sql`young.young_days, young.young_pending` : sql`NULL AS young_days, NULL AS young_pending`;
  const youngJoin = youngDays > 0 ? sql`LEFT JOIN young ON young.campaign_id = a.campaign_id` : sql``;
  // A lead belongs to the UTC day of created_at; its status is the latest change at or before the end of D.
  const r = await sql<LeadRow>`
    WITH x AS ${youngDays > 0 ? sql`MATERIALIZED` : sql`NOT MATERIALIZED`} (
        SELECT l.campaign_id, l.created_at,
               lower(coalesce(s.status, l.status)) = ANY(${[...statuses.qualified]}::text[]) AS qualified,
               lower(coalesce(s.status, l.status)) = ANY(${[...statuses.pending]}::text[]) AS pending
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
    )
    ${young}
    SELECT a.*, coalesce(c.client_id, ${NO_CLIENT_GROUP} || a.campaign_id) AS client_group, ${youngColumns}
      FROM (
        SELECT campaign_id,
               count(*) AS total_leads,
               count(*) FILTER (WHERE qualified) AS qualified_leads,
               count(*) FILTER (WHERE qualified AND created_at >= ${midnightUtc(p.recent.from)}::timestamptz) AS
                 recent_qualified,
               count(*) FILTER (WHERE qualified AND created_at >= ${midnightUtc(p.prior.from)}::timestamptz
                                                AND created_at < ${midnightUtc(p.recent.from)}::timestamptz) AS
                                                  prior_qualified,
               count(*) FILTER (WHERE created_at >= ${midnightUtc(p.recent.from)}::timestamptz) AS recent_total,
               count(*) FILTER (WHERE created_at >= ${midnightUtc(p.prior.from)}::timestamptz
                                  AND created_at < ${midnightUtc(p.recent.from)}::timestamptz) AS prior_total,
               count(*) FILTER (WHERE pending) AS pending_leads
          FROM x GROUP BY campaign_id
      ) a JOIN campaigns c ON c.campaign_id = a.campaign_id ${youngJoin}`.execute(db);
  return new Map(r.rows.map((x) => [x.campaign_id, x]));
}

/** The group a client's qualification is measured over: the client, or a campaign without one on its own. */
export const qualificationGroup = (clientId: string | null, campaignId: string): string =>
  clientId === null ? `${NO_CLIENT_GROUP}${campaignId}` : clientId;
/** The prefix of a campaign without a client, as its own group (readClientQualification builds the same key). */
export const NO_CLIENT_GROUP = 'campaign\u0001';

/**
 * Per client (a campaign without one is its own group) with leads created by the end of D: whether the CRM has
 * spoken for it by then (scoring.md section 2, NO_QUALIFIED_DATA), and its qualification lag: the 90th percentile of
 * the days from a lead's creation to its first final (not pending) status, over its leads of the 180 days before D
 * that have one; `defaultLagDays` with fewer than 10 such leads (docs/decisions.md).
 */
export async function readClientQualification(
  db: Kysely<Database>,
  date: string,
  pending: readonly string[],
  defaultLagDays: number,
): Promise<Map<string, ClientQualification>> {
  const end = midnightUtc(addDays(date, 1));
  const r = await sql<{ grp: string; known: boolean; resolved: number; lag: number | null }>`
    SELECT coalesce(c.client_id, ${NO_CLIENT_GROUP} || c.campaign_id) AS grp,
           bool_or(lower(l.status) <> 'new' OR s.changes > 0) AS known,
           count(s.final_at) FILTER (WHERE l.created_at >= ${midnightUtc(addDays(date, -180))}::timestamptz)::int
             AS resolved,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM s.final_at - l.created_at) / 86400)
             FILTER (WHERE s.final_at IS NOT NULL AND l.created_at >= ${midnightUtc(addDays(date, -180))}::timestamptz)
             AS lag
      FROM campaign_leads l
      JOIN campaigns c ON c.campaign_id = l.campaign_id
      LEFT JOIN (
        SELECT lead_id, count(*) AS changes,
               min(changed_at) FILTER (WHERE NOT lower(status) = ANY(${[...pending]}::text[])) AS final_at
          FROM lead_status_changes WHERE changed_at < ${end}::timestamptz GROUP BY lead_id
      ) s ON s.lead_id = l.lead_id
     WHERE l.created_at < ${end}::timestamptz
     GROUP BY 1`.execute(db);
  return new Map(
    r.rows.map((x) => [
      x.grp,
      {
        known: x.known,
        lagDays: qualificationLagDays(x.resolved, x.lag === null ? null : Number(x.lag), defaultLagDays),
      },
    ]),
  );
}

/**
 * The spend sums of campaigns with a spend of more than six decimals in the window, in exact numeric (rare: Facebook
 * and CSVs send cents).
 */
async function readExactSpend(
  db: Kysely<Database>,
  p: Periods,
  campaignIds: string[],
): Promise<Map<string, SpendSums>> {
  if (campaignIds.length === 0) return new Map();
  const r = await sql<{
    campaign_id: string;
    spend: string;
    max_day_spend: string | null;
    recent_spend: string;
    prior_spend: string;
    day_spend: string | null;
    base_spend: string;
  }>`
    SELECT campaign_id, ${spendSums('spend', p)}
      FROM campaign_metrics
     WHERE campaign_id = ANY(${campaignIds}::text[]) AND date BETWEEN ${p.window.from}::date AND ${p.window.to}::date
     GROUP BY campaign_id`.execute(db);
  return new Map(
    r.rows.map((x) => [
      x.campaign_id,
      {
        spend: parseDecimal(x.spend),
        maxDaySpend: x.max_day_spend === null ? null : parseDecimal(x.max_day_spend),
        recent: parseDecimal(x.recent_spend),
        prior: parseDecimal(x.prior_spend),
        daySpend: x.day_spend === null ? null : parseDecimal(x.day_spend),
        baseSpend: parseDecimal(x.base_spend),
      },
    ]),
  );
}

/** The longer window of small spenders: spend and leads (qualified as of the end of D) over `days` days ending on D. */
async function readLongWindow(
  db: Kysely<Database>,
  date: string,
  days: number,
  qualifiedStatuses: readonly string[],
  aggregate: string[],
  leadLevel: string[],
): Promise<Map<string, NonNullable<EvidenceFacts['long']>>> {
  const out = new Map<string, NonNullable<EvidenceFacts['long']>>();
  const from = addDays(date, 1 - days);
  const all = [...aggregate, ...leadLevel];
  if (all.length === 0) return out;
  const spend = await sql<{ campaign_id: string; spend: string; total: string; qualified: string }>`
    SELECT campaign_id, coalesce(sum(spend), 0)::text AS spend, coalesce(sum(total_leads), 0) AS total,
           coalesce(sum(qualified_leads), 0) AS qualified
      FROM campaign_metrics
     WHERE campaign_id = ANY(${all}::text[]) AND date BETWEEN ${from}::date AND ${date}::date
     GROUP BY campaign_id`.execute(db);
  for (const x of spend.rows)
    out.set(x.campaign_id, {
      days,
      spend: parseDecimal(x.spend),
      qualifiedLeads: Number(x.qualified),
      totalLeads: Number(x.total),
    });
  if (leadLevel.length > 0) {
    const end = midnightUtc(addDays(date, 1));
    const leads = await sql<{ campaign_id: string; total: string; qualified: string }>`
      SELECT l.campaign_id, count(*) AS total,
             count(*) FILTER (WHERE lower(coalesce(s.status, l.status)) = ANY(${[...qualifiedStatuses]}::text[]))
               AS qualified
        FROM campaign_leads l
        LEFT JOIN LATERAL (
          SELECT c.status FROM lead_status_changes c
           WHERE c.lead_id = l.lead_id AND c.changed_at < ${end}::timestamptz
           ORDER BY c.changed_at DESC LIMIT 1
        ) s ON true
       WHERE l.campaign_id = ANY(${leadLevel}::text[])
         AND l.created_at >= ${midnightUtc(from)}::timestamptz AND l.created_at < ${end}::timestamptz
       GROUP BY l.campaign_id`.execute(db);
    const byCampaign = new Map(leads.rows.map((x) => [x.campaign_id, x]));
    for (const id of leadLevel) {
      const w = out.get(id);
      const l = byCampaign.get(id);
      if (w) {
        w.totalLeads = Number(l?.total ?? 0);
        w.qualifiedLeads = Number(l?.qualified ?? 0);
      }
    }
  }
  return out;
}

/** The young days of a lead-level campaign with a pending lead, by age (0 = D), for expectPending. */
function pendingDays(lead: LeadRow, date: string): PendingDay[] {
  return (lead.young_days ?? []).map((day, i) => ({ age: daysBetween(date, day), pending: lead.young_pending![i]! }));
}

/** Resolved leads (a final status by the end of D) of a campaign's window, and the qualified among them. */
const resolvedOf = (lead: LeadRow): Resolved => ({
  leads: Number(lead.total_leads) - Number(lead.pending_leads),
  qualified: Number(lead.qualified_leads),
});

function toInput(
  r: MetricsRow,
  lead: LeadRow | undefined,
  exact: SpendSums | undefined,
  qualification: ClientQualification | undefined,
  storedState: boolean,
): ScoringInput {
  const leadLevel = r.lead_level;
  const count = (agg: string, lvl: string | undefined): number => Number(leadLevel ? (lvl ?? '0') : agg);
  const money = exact ?? {
    spend: fromMicros(r.spend),
    maxDaySpend: r.max_day_spend === null ? null : fromMicros(r.max_day_spend),
    recent: fromMicros(r.recent_spend),
    prior: fromMicros(r.prior_spend),
    daySpend: r.day_spend === null ? null : fromMicros(r.day_spend),
    baseSpend: fromMicros(r.base_spend),
  };
  const facts: CampaignFacts = {
    campaignId: r.campaign_id,
    mode: leadLevel ? 'lead-level' : 'aggregate',
    startDate: r.start_date,
    dailyBudget: r.daily_budget === null ? null : parseDecimal(r.daily_budget),
    clientTargetCpql: r.target_cpql === null ? null : parseDecimal(r.target_cpql),
    clientTargetCpl: r.target_cpl === null ? null : parseDecimal(r.target_cpl),
    currency: r.currency,
    leadCountRows: Number(r.lead_count_rows),
    qualifiedCountRows: Number(r.qualified_count_rows),
    // A lead-level campaign whose client the CRM has never spoken for (NO_QUALIFIED_DATA, scoring.md section 2).
    qualificationKnown: !leadLevel || (qualification?.known ?? false),
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
    daySpend: money.daySpend,
    spikeBase: { rows: Number(r.base_rows), spend: money.baseSpend },
    rowsLast14: Number(r.rows_last_14),
    recent: {
      spend: money.recent,
      qualifiedLeads: count(r.recent_qualified, lead?.recent_qualified),
      totalLeads: count(r.recent_total, lead?.recent_total),
    },
    prior: {
      spend: money.prior,
      qualifiedLeads: count(r.prior_qualified, lead?.prior_qualified),
      totalLeads: count(r.prior_total, lead?.prior_total),
    },
    previousTotal: r.previous_total === null ? null : parseDecimal(r.previous_total),
  };
  const previous: PreviousDecision | null =
    !storedState || r.previous_action === null || r.previous_candidate === null
      ? null
      : {
          action: r.previous_action as Recommendation,
          candidate: r.previous_candidate as Recommendation,
          // A row scored before sql/015, or with the decision layer off, counts as a run of one date.
          streak: r.previous_streak ?? 1,
          trigger: (r.previous_window as EvidenceWindow | null) ?? null,
        };
  return { facts, campaignName: r.campaign_name, clientId: r.client_id, previous };
}

/**
 * The previous scored date's prior moments: its client_priors rows (sql/015), written by the run that scored it; for
 * a date scored before sql/015, the same sums computed from its campaign_scores rows.
 */
async function readPriorSamples(db: Kysely<Database>, previousDate: string | null): Promise<PriorSamples> {
  const samples = new Map<string, PriorMoments>();
  if (previousDate === null) return samples;
  type Row = Omit<PriorMoments, 'qualifiedLeads'> & { clientId: string; currency: string; qualifiedLeads: string };
  let rows = (
    await sql<Row>`
      SELECT client_id AS "clientId", currency, campaigns, spend, qualified_leads AS "qualifiedLeads",
             sum_rate AS "sumRate", sum_rate_squared AS "sumRateSquared", sum_inverse_spend AS "sumInverseSpend"
        FROM client_priors WHERE date = ${previousDate}::date`.execute(db)
  ).rows;
  if (rows.length === 0) {
    rows = (
      await sql<Row>`
        SELECT coalesce(c.client_id, '') AS "clientId", coalesce(c.currency, '') AS currency,
               count(*)::int AS campaigns, sum(x.spend) AS spend, sum(x.q) AS "qualifiedLeads",
               sum(x.q / x.spend) AS "sumRate", sum((x.q / x.spend) ^ 2) AS "sumRateSquared",
               sum(1 / x.spend) AS "sumInverseSpend"
          FROM (SELECT campaign_id, window_spend::float8 AS spend, window_qualified_leads::float8 AS q
                  FROM campaign_scores
                 WHERE date = ${previousDate}::date AND window_spend > 0 AND window_qualified_leads IS NOT NULL) x
          JOIN campaigns c USING (campaign_id)
         GROUP BY 1, 2`.execute(db)
    ).rows;
  }
  for (const { clientId, currency, qualifiedLeads, ...m } of rows)
    samples.set(priorKey(clientId || null, currency || null), { ...m, qualifiedLeads: Number(qualifiedLeads) });
  return samples;
}

/** The latest date before `date` that has scores, and how many campaigns it scored. */
export async function findPreviousScoredDate(
  db: Kysely<Database>,
  date: string,
): Promise<{ date: string; count: number } | null> {
  const latest = await db
    .selectFrom('campaign_scores')
    .select((eb) => eb.fn.max('date').as('date'))
    .where('date', '<', date)
    .executeTakeFirst();
  if (!latest?.date) return null;
  const n = await db
    .selectFrom('campaign_scores')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('date', '=', latest.date)
    .executeTakeFirstOrThrow();
  return { date: latest.date, count: Number(n.n) };
}

/**
 * Campaign id ranges of about `size` campaigns each, cut at every size-th id
 * of the campaigns table in the database's own collation (the order the
 * range conditions and ORDER BY use).
 */
async function chunkRanges(db: Kysely<Database>, size: number): Promise<Range[]> {
  const cuts = await sql<{ campaign_id: string }>`
    SELECT campaign_id FROM (SELECT campaign_id, row_number() OVER (ORDER BY campaign_id) AS n FROM campaigns) x
     WHERE (n - 1) % ${size} = 0 AND n > 1
     ORDER BY campaign_id`.execute(db);
  const bounds = [null, ...cuts.rows.map((r) => r.campaign_id), null];
  return bounds.slice(0, -1).map((from, i) => ({ from, below: bounds[i + 1]! }));
}

/**
 * A checked-out client whose server goes away emits 'error'; without a listener the process
 * crashes. The listener keeps the first such error: node-pg rejects the client's later queries
 * with "Client has encountered a connection error and is not queryable", which names no cause.
 */
interface Reader {
  client: pg.PoolClient;
  lost: unknown;
  onError: (error: unknown) => void;
}

function watch(client: pg.PoolClient): Reader {
  const reader: Reader = {
    client,
    lost: undefined,
    onError: (error) => {
      reader.lost ??= error;
    },
  };
  client.on('error', reader.onError);
  return reader;
}

async function endReadOnly({ client, onError }: Reader): Promise<void> {
  try {
    await client.query('ROLLBACK');
    client.off('error', onError);
    client.release();
  } catch (error) {
    // A connection that cannot even roll back is not given back to the pool (and keeps the listener: it is discarded).
    client.release(error as Error);
  }
}

/**
 * Opens a read-only REPEATABLE READ snapshot on one connection and shares it
 * with a second (pg_export_snapshot): every query of the run, on either
 * connection, sees the data as of the same instant, so a fetch or an import
 * committing mid-run changes none of this run's scores.
 *
 * `chunkCampaigns` campaigns per chunk: the metrics of each chunk are one
 * aggregate query restricted to a range of campaign ids (the primary key's
 * leading column), read ahead on the two connections in turn.
 */
export async function openScoringSource(
  database: DatabaseHandle,
  date: string,
  config: ScoringConfig,
  chunkCampaigns: number,
  options: { actions: boolean; storedState?: boolean } = { actions: true },
): Promise<ScoringSource> {
  // The backtest replays its own decisions: it reads the evidence's inputs but not the stored decision state.
  const storedState = options.storedState ?? options.actions;
  const qualifiedStatuses = config.qualifiedStatuses;
  const decision = config.decision;
  const watched: Reader[] = [];
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await Promise.all(watched.map(endReadOnly));
  };
  const connect = async (): Promise<pg.PoolClient> => {
    const client = await database.pool.connect();
    watched.push(watch(client));
    return client;
  };
  // A failed read names the reason its connection was lost (57P01 terminated, reset, …) when there is one.
  const withCause = (error: unknown): never => {
    throw watched.find((r) => r.lost !== undefined)?.lost ?? error;
  };
  try {
    const first = await connect();
    await first.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const snapshot = (await first.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]!.id;
    const second = await connect();
    await second.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    // A snapshot id is hex digits and dashes; SET TRANSACTION takes no parameters.
    if (!/^[0-9A-F-]+$/i.test(snapshot)) throw new Error(`unexpected snapshot id from pg_export_snapshot: ${snapshot}`);
    await second.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
    // No parallel workers: the run already keeps both of a small server's cores busy (two readers, the
    // writer, Node), and a parallel plan of the lead counts builds its hash three times over (measured
    // ~1.4 CPU-seconds more at 100,000 campaigns for the same wall-clock time).
    await Promise.all(watched.map(({ client }) => client.query('SET LOCAL max_parallel_workers_per_gather = 0')));
  } catch (error) {
    await close();
    throw error;
  }

  const readers = watched.map(({ client }) => kyselyOnClient(client));
  const p = scoringPeriods(date);
  try {
    // The clients' qualification (NO_QUALIFIED_DATA, and the lag of the action's evidence), then the lead counts (one
    // query for every chunk), start first on one connection; the ranges and the previous scored date come from the
    // other.
    const qualification = readClientQualification(readers[0]!, date, config.pendingStatuses, decision.defaultLagDays);
    qualification.catch(() => undefined); // awaited by the first chunk; a failure surfaces there
    const leads = qualification.then((q) => {
      const longestLag = options.actions ? Math.max(0, ...[...q.values()].map((x) => x.lagDays)) : 0;
      return readLeadCounts(
        readers[0]!,
        date,
        p,
        { qualified: qualifiedStatuses, pending: config.pendingStatuses },
        longestLag,
      );
    });
    leads.catch(() => undefined); // awaited by the first chunk; a failure surfaces there
    // Each client's resolved qualification rate over its lead-level campaigns' windows: what a campaign with few
    // resolved leads of its own expects its pending leads to qualify at.
    const clientRates = leads.then((byCampaign) => {
      const sums = new Map<string, Resolved>();
      for (const lead of byCampaign.values()) {
        const r = resolvedOf(lead);
        const s = sums.get(lead.client_group) ?? { leads: 0, qualified: 0 };
        s.leads += r.leads;
        s.qualified += r.qualified;
        sums.set(lead.client_group, s);
      }
      return new Map([...sums].map(([group, r]) => [group, r.leads === 0 ? 0 : r.qualified / r.leads]));
    });
    clientRates.catch(() => undefined); // awaited by the first chunk; a failure surfaces there
    const [ranges, previous] = await Promise.all([
      chunkRanges(readers[1]!, chunkCampaigns),
      findPreviousScoredDate(readers[1]!, date),
    ]);
    // The decision state is read from the previous scored date (a missed cron run does not reset it), if it is recent
    // enough to speak for the campaigns now: within STATE_MAX_AGE_DAYS.
    // (Older than that, or none: D−1, which then has no scores either, and the previous total comes with it.)
    const stateDate =
      previous !== null && daysBetween(date, previous.date) <= STATE_MAX_AGE_DAYS ? previous.date : addDays(date, -1);
    // A few rows (one per client and currency), read before the first chunk on the same connection.
    const priorSamples: Promise<PriorSamples> = options.actions
      ? readPriorSamples(readers[1]!, previous?.date ?? null).catch(withCause)
      : Promise.resolve(new Map());
    priorSamples.catch(() => undefined); // awaited before the first score; a failure surfaces there

    // The largest target the configuration gives any campaign (T or T_L, any currency): a bound for small spenders.
    const largestTarget = Math.max(
      ...[config.targetCpql, config.targetCpl].flatMap((t) =>
        t === null ? [] : 'plain' in t ? [toNumber(t.plain)] : [...t.byCurrency.values()].map((v) => toNumber(v)),
      ),
    );

    const readChunk = async (i: number): Promise<ScoringInput[]> => {
      // Chunk 0 goes to the connection not busy with the lead counts.
      const db = readers[(i + 1) % readers.length]!;
      const rows = await readMetrics(db, date, p, ranges[i]!, stateDate);
      const exact = await readExactSpend(
        db,
        p,
        rows.filter((r) => r.inexact_rows !== '0').map((r) => r.campaign_id),
      );
      const [byCampaign, byClient] = await Promise.all([leads, qualification]);
      const inputs = rows.map((r) =>
        toInput(
          r,
          byCampaign.get(r.campaign_id),
          exact.get(r.campaign_id),
          byClient.get(qualificationGroup(r.client_id, r.campaign_id)),
          storedState,
        ),
      );
      if (options.actions) await addEvidenceFacts(db, rows, inputs, byCampaign, byClient);
      return inputs;
    };

    /**
     * What only the action's evidence reads (docs/decisions.md): the qualified leads expected among the pending
     * leads of lead-level campaigns, and the longer window of small spenders (a small query per chunk, for those
     * campaigns only).
     */
    const addEvidenceFacts = async (
      db: Kysely<Database>,
      rows: readonly MetricsRow[],
      inputs: ScoringInput[],
      byCampaign: Map<string, LeadRow>,
      byClient: Map<string, ClientQualification>,
    ): Promise<void> => {
      const lagOf = (x: ScoringInput) =>
        byClient.get(qualificationGroup(x.clientId, x.facts.campaignId))?.lagDays ?? decision.defaultLagDays;
      const rates = await clientRates;
      for (const x of inputs) {
        const lead = x.facts.mode === 'lead-level' ? byCampaign.get(x.facts.campaignId) : undefined;
        const lag = lagOf(x);
        if (!lead?.young_days || lag <= 0) continue;
        const rate = expectedRate(resolvedOf(lead), rates.get(lead.client_group) ?? 0);
        const pending = expectPending(pendingDays(lead, date), lag, rate);
        x.facts.evidence = {
          pendingLeads: pending.leads,
          recentPendingLeads: pending.recentLeads,
          pendingQualified: pending.qualified,
          recentPendingQualified: pending.recentQualified,
          lagDays: lag,
          long: null,
        };
      }
      if (decision.longWindowDays <= 30) return;
      // A small spender: judged on cost, its 30-day spend below twice the spend the gates need. Most campaigns spend
      // more than that against any target they could have (a number compare on the row); only the others are judged.
      const limit = SMALL_SPENDER_MULTIPLE * decision.minSpendMultiple;
      const small = inputs.filter((x, i) => {
        const r = rows[i]!;
        const bound = Math.max(largestTarget, Number(r.target_cpql ?? 0), Number(r.target_cpl ?? 0));
        if (r.inexact_rows === '0' && Number(r.spend) / 1e6 >= limit * bound) return false;
        const j = judgementOf(x.facts, config);
        return j !== null && toNumber(x.facts.spend) < limit * toNumber(j.target);
      });
      const long = await readLongWindow(
        db,
        date,
        decision.longWindowDays,
        qualifiedStatuses,
        small.filter((x) => x.facts.mode === 'aggregate').map((x) => x.facts.campaignId),
        small.filter((x) => x.facts.mode === 'lead-level').map((x) => x.facts.campaignId),
      );
      for (const x of small) {
        const w = long.get(x.facts.campaignId);
        if (w === undefined) continue;
        x.facts.evidence ??= {
          pendingLeads: 0,
          recentPendingLeads: 0,
          pendingQualified: 0,
          recentPendingQualified: 0,
          lagDays: null,
          long: null,
        };
        x.facts.evidence.long = w;
      }
    };

    // Reading ahead starts now: the first chunks are aggregated while the caller opens its transaction.
    const pending: Promise<ScoringInput[]>[] = [];
    let next = 0;
    const readAhead = (): void => {
      while (next < ranges.length && pending.length < READ_AHEAD) {
        const chunk = readChunk(next++);
        chunk.catch(() => undefined); // a chunk left unread when iteration stops must not be an unhandled rejection
        pending.push(chunk);
      }
    };
    readAhead();

    let waitMs = 0;
    let started = false;
    return {
      previous,
      priorSamples,
      chunkCount: ranges.length,
      get waitMs() {
        return waitMs;
      },
      close,
      async *chunks() {
        if (started) throw new Error('ScoringSource.chunks() can be iterated only once');
        started = true;
        while (pending.length > 0) {
          const t = performance.now();
          const inputs = await pending.shift()!.catch(withCause);
          waitMs += performance.now() - t;
          readAhead();
          yield inputs;
        }
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}
