import { sql, type Kysely, type Transaction } from 'kysely';
import { formatHundredths } from '../../core/rational.js';
import {
  type ActedScore,
  DIMENSIONS,
  type PriorMoments,
  type RunSummary,
  type ScoringConfig,
  splitPriorKey,
} from '../../core/scoring/index.js';
import type { Database } from '../tables.js';
import { copyJson, copyText, type UnitOfWork } from '../unit-of-work.js';

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
  'action',
  'action_candidate',
  'action_gate',
  'action_reason',
  'window_spend',
  'window_qualified_leads',
  'action_streak',
  'action_window',
] as const;

// COPY's text format rather than CSV: it halves the serialisation time, as JSON is full of quotes CSV would double.
/** Rows are grouped into chunks of ~256 KiB: pg-copy-streams sends each chunk as its own message. */
const CHUNK = 262_144;

/**
 * campaign_scores rows as COPY text, computed lazily from `scores`; the
 * matching score_history rows are collected on the way (small: id, date,
 * total, recommendation) so that history is written without reading the
 * fresh scores back.
 */
async function* scoreLines(
  batches: AsyncIterable<Iterable<ActedScore>>,
  configId: string,
  runId: string | null,
  history: string[],
): AsyncGenerator<string> {
  const run = runId ?? '\\N';
  const config = copyText(configId);
  let batch: string[] = [];
  let size = 0;
  for await (const scores of batches) {
    for (const s of scores) {
      const id = copyText(s.campaignId);
      const total = formatHundredths(s.totalHundredths);
      // Only the campaign id and the JSON can hold a character COPY must escape; the rest is digits and fixed words.
      const fields = [
        id,
        s.date,
        total,
        ...DIMENSIONS.map((d) => formatHundredths(s.dimensions[d].hundredths)),
        s.recommendation,
        copyJson(JSON.stringify(s.details)),
        s.isNew ? 't' : 'f',
        `{${s.flags.join(',')}}`,
        config,
        run,
        s.act.action,
        s.act.candidate,
        s.act.gate,
        copyText(s.act.reason),
        s.act.windowSpend === null ? '\\N' : String(s.act.windowSpend),
        s.act.windowQualifiedLeads === null ? '\\N' : String(s.act.windowQualifiedLeads),
        s.act.streak === null ? '\\N' : String(s.act.streak),
        s.act.trigger ?? '\\N',
      ];
      const line = `${fields.join('\t')}\n`;
      history.push(`${run}\t${id}\t${s.date}\t${total}\t${s.recommendation}\t${config}\t${s.act.action}\n`);
      batch.push(line);
      size += line.length;
      if (size > CHUNK) {
        yield batch.join('');
        batch = [];
        size = 0;
      }
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
 * while the first inputs are read on other connections.
 */
export async function clearScores(trx: Transaction<Database>, date: string, config: ScoringConfig): Promise<void> {
  await trx
    .insertInto('scoring_configs')
    .values({ config_id: config.id, config: JSON.stringify(config.file) })
    .onConflict((oc) => oc.column('config_id').doNothing())
    .execute();
  await trx.deleteFrom('campaign_scores').where('date', '=', date).execute();
  await trx.deleteFrom('client_priors').where('date', '=', date).execute();
}

/**
 * The second half: writes `scores` to campaign_scores and score_history in
 * the same transaction (readers see the old set or the new set). `scores` is
 * consumed once, lazily, while COPY streams: batches as they come (the
 * chunks of a ScoringSource), each score computed as it is written, so
 * PostgreSQL's reading, Node's scoring and PostgreSQL's writing overlap and
 * no score needs to stay in memory.
 */
export async function writeScores(
  work: UnitOfWork,
  scores: AsyncIterable<Iterable<ActedScore>>,
  config: ScoringConfig,
  runId: string | null,
): Promise<void> {
  const history: string[] = [];
  await work.copyFrom(
    `COPY campaign_scores (${SCORE_COLUMNS.join(', ')}) FROM STDIN`,
    scoreLines(scores, config.id, runId, history),
  );
  // scored_at takes its default, now(): the transaction's start, as in campaign_scores.
  await work.copyFrom(
    'COPY score_history (run_id, campaign_id, date, total_score, recommendation, config_id, action) FROM STDIN',
    chunks(history),
  );
}

/**
 * The date's prior moments by client and currency (client_priors, sql/015), in the caller's transaction after
 * clearScores: what the next scored date's client priors are built from.
 */
export async function writePriorMoments(
  trx: Transaction<Database>,
  date: string,
  moments: ReadonlyMap<string, PriorMoments>,
): Promise<void> {
  const rows = [...moments].map(([key, m]) => {
    const { clientId, currency } = splitPriorKey(key);
    return {
      date,
      client_id: clientId,
      currency,
      campaigns: m.campaigns,
      spend: m.spend,
      qualified_leads: m.qualifiedLeads,
      sum_rate: m.sumRate,
      sum_rate_squared: m.sumRateSquared,
      sum_inverse_spend: m.sumInverseSpend,
    };
  });
  // A statement takes at most 65,535 parameters: 9 a row.
  for (let i = 0; i < rows.length; i += 5000)
    await trx
      .insertInto('client_priors')
      .values(rows.slice(i, i + 5000))
      .execute();
}

/** The first day of the month of `date` (YYYY-MM-DD), moved by `months`. */
function monthStart(date: string, months = 0): string {
  const [y, m] = date.split('-').map(Number) as [number, number];
  const d = new Date(Date.UTC(y, m - 1 + months, 1));
  return d.toISOString().slice(0, 10);
}

/** How long creating a partition waits for the lock on score_history before giving up (the run exits 75). */
export const PARTITION_LOCK_TIMEOUT = '10s';

/** A partition could not be created because a reader held score_history: try again later (75). */
export class PartitionLockTimeout extends Error {}

/**
 * The month partitions of score_history (sql/009) that rows dated `date` go to, and the next month's, created when
 * missing: the next one ahead of need, so that the first run of a month rarely has to make one. Each in a short
 * transaction of its own with a lock timeout: creating a partition takes an exclusive lock on score_history, and
 * waiting behind a long reader (a pg_dump, an idle read-only session) would queue every other reader behind it.
 */
export async function ensureHistoryPartition(db: Kysely<Database>, date: string): Promise<void> {
  for (const months of [0, 1]) {
    const from = monthStart(date, months);
    const name = `score_history_${from.slice(0, 7).replace('-', '_')}`;
    const exists = await sql<{
      n: string;
    }>`SELECT count(*) AS n FROM pg_class WHERE relname = ${name} AND relnamespace = 'public'::regnamespace`.execute(
      db,
    );
    if (exists.rows[0]!.n !== '0') continue;
    try {
      await db.transaction().execute(async (trx) => {
        await sql`SET LOCAL lock_timeout = ${sql.lit(PARTITION_LOCK_TIMEOUT)}`.execute(trx);
        await sql`CREATE TABLE IF NOT EXISTS ${sql.table(name)} PARTITION OF score_history FOR VALUES FROM
          (${sql.lit(from)}) TO (${sql.lit(monthStart(from, 1))})`.execute(trx);
      });
    } catch (error) {
      if ((error as { code?: string }).code !== '55P03') throw error;
      // Next month's partition can wait for a later run; this month's is needed now.
      if (months === 1) continue;
      throw new PartitionLockTimeout(
        `could not create ${name} within ${PARTITION_LOCK_TIMEOUT}: another session holds score_history ` +
          '(a long pg_dump, or a session left open in a transaction); nothing was written, the next run creates it',
      );
    }
  }
}

export interface RetentionResult {
  /** score_history month partitions dropped. */
  partitions: string[];
  jobRuns: number;
  digestBodies: number;
}

/**
 * Retention, applied after a scoring run: score_history months that ended more than `keep.scoreHistoryMonths`
 * months before `today` (whole partitions dropped: instant), never the month of `keepDate`, and none at all when
 * `keepDate` is itself older than that (a backfill: its runs, one date after another, would each drop the months
 * the runs before them wrote); finished job_runs
 * older than `keep.jobRunsDays`; the rendered bodies of digests older than `keep.digestBodiesDays` (what they
 * reported stays: the next digest's diff reads it).
 */
export async function applyRetention(
  db: Kysely<Database>,
  today: string,
  keepDate: string,
  keep: { scoreHistoryMonths: number; jobRunsDays: number; digestBodiesDays: number },
): Promise<RetentionResult> {
  const cutoff = monthStart(today, -keep.scoreHistoryMonths);
  const parts = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'score_history'::regclass AND c.relname ~ '^score_history_[0-9]{4}_[0-9]{2}$' ORDER BY
       1`.execute(db);
  const keepMonth = `score_history_${monthStart(keepDate).slice(0, 7).replace('-', '_')}`;
  const backfill = monthStart(keepDate) < cutoff;
  const doomed = backfill
    ? []
    : parts.rows
        .map((r) => r.name)
        .filter((n) => n !== keepMonth && `${n.slice(14, 18)}-${n.slice(19, 21)}-01` < cutoff);
  return db.transaction().execute(async (trx) => {
    // Never queue behind a long reader (pg_dump holds every table while it dumps): give up after 2 s; the next run
    // retries.
    await sql`SET LOCAL lock_timeout = '2s'`.execute(trx);
    for (const name of doomed) await sql`DROP TABLE ${sql.table(name)}`.execute(trx);
    const runs = await sql`DELETE FROM job_runs WHERE status <> 'running' AND started_at < ${today}::date -
        ${keep.jobRunsDays}::int`.execute(trx);
    const bodies = await sql`UPDATE alert_digests SET html = '', text = '' WHERE created_at < ${today}::date -
        ${keep.digestBodiesDays}::int AND (html <> '' OR text <> '')`.execute(trx);
    return {
      partitions: doomed,
      jobRuns: Number(runs.numAffectedRows ?? 0),
      digestBodies: Number(bodies.numAffectedRows ?? 0),
    };
  });
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
