import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import { addDays } from '../../core/dates.js';
import { fromMicros, parseDecimal, type Rational } from '../../core/rational.js';
import {
  type CampaignFacts,
  type PreviousDecision,
  type PriorMoments,
  priorKey,
  type Recommendation,
  scoringPeriods,
} from '../../core/scoring/index.js';
import { type DatabaseHandle, kyselyOnClient } from '../connect.js';
import type { Database } from '../tables.js';

/** A campaign's facts plus what reports show beside them. */
export interface ScoringInput {
  facts: CampaignFacts;
  campaignName: string | null;
  clientId: string | null;
  /**
   * The action, candidate and streak stored for D−1 (docs/decisions.md): what persistence and hysteresis read. Null
   * when D−1 has no stored action (not scored, or scored before sql/011).
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
  currency: string | null;
  previous_total: string | null;
  previous_action: string | null;
  previous_candidate: string | null;
  previous_streak: number | null;
  lead_level: boolean;
  spend: string;
  impressions: string;
  clicks: string;
  spend_rows: string;
  lead_count_rows: string;
  /**
   * Rows whose spend has more than six decimals (no spend_micros): their campaign's spend sums are redone in numeric.
   */
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

interface SpendSums {
  spend: Rational;
  maxDaySpend: Rational | null;
  recent: Rational;
  prior: Rational;
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
  return sql`coalesce(sum(${c}), 0) AS spend,
             max(${c}) AS max_day_spend,
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
 * Per campaign of the range with a row in the window: metrics sums and what the campaign row, its client and
 * yesterday's score add.
 */
async function readMetrics(db: Kysely<Database>, date: string, p: Periods, range: Range): Promise<MetricsRow[]> {
  // Spend is summed as integer millionths (spend_micros, sql/007): a numeric sum costs far more.
  const r = await sql<MetricsRow>`
    WITH m AS (
      SELECT campaign_id,
             ${spendSums('spend_micros', p)},
             coalesce(sum(impressions), 0) AS impressions,
             coalesce(sum(clicks), 0) AS clicks,
             count(spend) AS spend_rows,
             count(*) FILTER (WHERE total_leads IS NOT NULL OR qualified_leads IS NOT NULL) AS lead_count_rows,
             count(spend) - count(spend_micros) AS inexact_rows,
             count(*) AS data_days,
             count(*) - count(spend) AS null_spend_rows,
             count(*) - count(impressions) AS null_impression_rows,
             coalesce(sum(total_leads), 0) AS total_leads,
             coalesce(sum(qualified_leads), 0) AS qualified_leads,
             coalesce(sum(qualified_leads) FILTER (WHERE date >= ${p.recent.from}::date), 0) AS recent_qualified,
             coalesce(sum(qualified_leads) FILTER (WHERE date <= ${p.prior.to}::date AND date >=
               ${p.prior.from}::date), 0) AS prior_qualified
        FROM campaign_metrics
       WHERE date BETWEEN ${p.window.from}::date AND ${p.window.to}::date ${inRange(range)}
       GROUP BY campaign_id
    )
    -- Every table is cut to the chunk's range, so that each chunk reads only its own part of each index.
    SELECT m.*, c.campaign_name, c.client_id, c.start_date, c.daily_budget, c.currency, cl.target_cpql,
           prev.total_score AS previous_total,
           prev.action AS previous_action, prev.action_candidate AS previous_candidate,
           prev.action_streak AS previous_streak,
           ll.campaign_id IS NOT NULL AS lead_level
      FROM m
      JOIN (SELECT * FROM campaigns WHERE true ${inRange(range)}) c ON c.campaign_id = m.campaign_id
      LEFT JOIN clients cl ON cl.client_id = c.client_id
      LEFT JOIN (SELECT campaign_id, total_score, action, action_candidate, action_streak FROM campaign_scores
                  WHERE date = ${addDays(date, -1)}::date ${inRange(range)}) prev ON prev.campaign_id = m.campaign_id
      LEFT JOIN (SELECT DISTINCT campaign_id FROM campaign_leads WHERE true ${inRange(range)}) ll
             ON ll.campaign_id = m.campaign_id
     ORDER BY m.campaign_id`.execute(db);
  return r.rows;
}

/**
 * Lead-level counts of every campaign with leads created in the window, the status as of the end of D (one query for
 * all chunks).
 */
async function readLeadCounts(
  db: Kysely<Database>,
  date: string,
  p: Periods,
  qualifiedStatuses: readonly string[],
): Promise<Map<string, LeadRow>> {
  // A lead belongs to the UTC day of created_at; its status is the latest change at or before the end of D.
  const r = await sql<LeadRow>`
    SELECT campaign_id,
           count(*) AS total_leads,
           count(*) FILTER (WHERE qualified) AS qualified_leads,
           count(*) FILTER (WHERE qualified AND created_at >= ${midnightUtc(p.recent.from)}::timestamptz) AS
             recent_qualified,
           count(*) FILTER (WHERE qualified AND created_at >= ${midnightUtc(p.prior.from)}::timestamptz
                                            AND created_at < ${midnightUtc(p.recent.from)}::timestamptz) AS
                                              prior_qualified
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
  return new Map(r.rows.map((x) => [x.campaign_id, x]));
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
      },
    ]),
  );
}

function toInput(r: MetricsRow, lead: LeadRow | undefined, exact: SpendSums | undefined): ScoringInput {
  const leadLevel = r.lead_level;
  const count = (agg: string, lvl: string | undefined): number => Number(leadLevel ? (lvl ?? '0') : agg);
  const money = exact ?? {
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
    currency: r.currency,
    leadCountRows: Number(r.lead_count_rows),
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
  const previous: PreviousDecision | null =
    r.previous_action === null || r.previous_candidate === null
      ? null
      : {
          action: r.previous_action as Recommendation,
          candidate: r.previous_candidate as Recommendation,
          // A row scored before sql/015, or with the decision layer off, counts as a run of one date.
          streak: r.previous_streak ?? 1,
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
  qualifiedStatuses: readonly string[],
  chunkCampaigns: number,
  options: { actions: boolean } = { actions: true },
): Promise<ScoringSource> {
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
    // The lead counts (one query for every chunk) start first on one connection; the ranges and yesterday's count come
    // from the other.
    const leads = readLeadCounts(readers[0]!, date, p, qualifiedStatuses);
    leads.catch(() => undefined); // awaited by the first chunk; a failure surfaces there
    const [ranges, previous] = await Promise.all([
      chunkRanges(readers[1]!, chunkCampaigns),
      findPreviousScoredDate(readers[1]!, date),
    ]);
    // A few rows (one per client and currency), read before the first chunk on the same connection.
    const priorSamples: Promise<PriorSamples> = options.actions
      ? readPriorSamples(readers[1]!, previous?.date ?? null).catch(withCause)
      : Promise.resolve(new Map());
    priorSamples.catch(() => undefined); // awaited before the first score; a failure surfaces there

    const readChunk = async (i: number): Promise<ScoringInput[]> => {
      // Chunk 0 goes to the connection not busy with the lead counts.
      const db = readers[(i + 1) % readers.length]!;
      const rows = await readMetrics(db, date, p, ranges[i]!);
      const exact = await readExactSpend(
        db,
        p,
        rows.filter((r) => r.inexact_rows !== '0').map((r) => r.campaign_id),
      );
      const byCampaign = await leads;
      return rows.map((r) => toInput(r, byCampaign.get(r.campaign_id), exact.get(r.campaign_id)));
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
