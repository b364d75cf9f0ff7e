import { sql, type Kysely, type Transaction } from 'kysely';
import type { CampaignAlertInput, DigestSnapshot, RunWarningInput, ScoreDetails } from '../../core/alerts/index.js';
import { parseScoreDetails } from '../../core/alerts/index.js';
import { addDays } from '../../core/dates.js';
import { parseDecimal, roundToHundredths } from '../../core/rational.js';
import type { Flag, Recommendation } from '../../core/scoring/index.js';
import type { Database, DeliveryStatus } from '../tables.js';

const hundredths = (numeric: string): number => Number(roundToHundredths(parseDecimal(numeric)));

/** The latest date with stored scores, or null when nothing was ever scored. */
export async function findLatestScoredDate(db: Kysely<Database>): Promise<string | null> {
  const r = await db
    .selectFrom('campaign_scores')
    .select((eb) => eb.fn.max('date').as('date'))
    .executeTakeFirst();
  return r?.date ?? null;
}

export async function countScores(db: Kysely<Database>, date: string): Promise<number> {
  const r = await db
    .selectFrom('campaign_scores')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('date', '=', date)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * Every campaign scored for `date` with what alert selection needs: its
 * score and the previous scored date's, its status, and its delivery in the
 * gap window (the last `gapDays` days) and the 14 days before it.
 */
export async function loadAlertInputs(
  db: Kysely<Database>,
  date: string,
  previousDate: string | null,
  gapDays: number,
): Promise<CampaignAlertInput[]> {
  const gapFrom = addDays(date, -(gapDays - 1));
  const beforeFrom = addDays(gapFrom, -14);
  const delivering = sql`(coalesce(spend, 0) > 0 OR coalesce(impressions, 0) > 0)`;
  const rows = await db
    .selectFrom('campaign_scores as s')
    .leftJoin('campaigns as c', 'c.campaign_id', 's.campaign_id')
    .leftJoin('campaign_scores as p', (j) =>
      j.onRef('p.campaign_id', '=', 's.campaign_id').on('p.date', '=', previousDate ?? '0001-01-01'),
    )
    .leftJoin(
      (eb) =>
        eb
          .selectFrom('campaign_metrics')
          .select([
            'campaign_id',
            sql<string>`count(*) FILTER (WHERE date >= ${gapFrom})`.as('gap_rows'),
            sql<string>`count(*) FILTER (WHERE date >= ${gapFrom} AND ${delivering})`.as('gap_delivering'),
            sql<boolean>`coalesce(bool_or(date < ${gapFrom} AND ${delivering}), false)`.as('delivered_before'),
          ])
          .where('date', '>=', beforeFrom)
          .where('date', '<=', date)
          .groupBy('campaign_id')
          .as('m'),
      (j) => j.onRef('m.campaign_id', '=', 's.campaign_id'),
    )
    .select([
      's.campaign_id',
      'c.campaign_name',
      'c.client_id',
      'c.account_id',
      'c.status',
      'c.end_date',
      's.total_score',
      's.recommendation',
      's.action',
      's.action_reason',
      's.flags',
      'p.total_score as previous_total',
      'p.recommendation as previous_recommendation',
      'p.action as previous_action',
      'm.gap_rows',
      'm.gap_delivering',
      'm.delivered_before',
    ])
    .where('s.date', '=', date)
    .orderBy('s.campaign_id')
    .execute();
  return rows.map((r) => ({
    campaignId: r.campaign_id,
    name: r.campaign_name ?? null,
    clientId: r.client_id ?? null,
    accountId: r.account_id ?? null,
    status: r.status ?? null,
    endDate: r.end_date ?? null,
    totalHundredths: hundredths(r.total_score),
    // The digest tells people the action (docs/decisions.md) where one is stored; the score's rule beside it.
    recommendation: (r.action ?? r.recommendation) as Recommendation,
    overruled:
      r.action !== null && r.action !== r.recommendation
        ? { recommendation: r.recommendation as Recommendation, reason: r.action_reason ?? '' }
        : null,
    flags: r.flags as Flag[],
    previous:
      r.previous_total === null || r.previous_total === undefined
        ? null
        : {
            totalHundredths: hundredths(r.previous_total),
            recommendation: (r.previous_action ?? r.previous_recommendation) as Recommendation,
          },
    delivery: {
      deliveredBefore: r.delivered_before === true,
      gapRows: Number(r.gap_rows ?? 0),
      gapDeliveringDays: Number(r.gap_delivering ?? 0),
    },
  }));
}

/** The card fields of recommendation_details for these campaigns on `date`. */
export async function loadScoreDetails(
  db: Kysely<Database>,
  date: string,
  campaignIds: readonly string[],
): Promise<Map<string, ScoreDetails>> {
  const result = new Map<string, ScoreDetails>();
  if (campaignIds.length === 0) return result;
  const rows = await db
    .selectFrom('campaign_scores')
    .select(['campaign_id', 'recommendation_details'])
    .where('date', '=', date)
    .where('campaign_id', 'in', [...campaignIds])
    .execute();
  for (const r of rows) {
    const d = parseScoreDetails(r.recommendation_details);
    if (d !== null) result.set(r.campaign_id, d);
  }
  return result;
}

/** The run-level warnings of the latest scoring run for `date`. */
export async function loadRunWarnings(db: Kysely<Database>, date: string): Promise<RunWarningInput[]> {
  const r = await db
    .selectFrom('scoring_runs')
    .select('warnings')
    .where('date', '=', date)
    .orderBy('scored_at', 'desc')
    .orderBy('run_id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const list = Array.isArray(r?.warnings) ? (r.warnings as { code?: unknown; message?: unknown }[]) : [];
  return list
    .filter((w) => typeof w.code === 'string' && typeof w.message === 'string')
    .map((w) => ({ code: w.code as string, message: w.message as string }));
}

export interface AlertClient {
  clientId: string;
  name: string;
  alertEmails: string[];
}

export async function loadClients(db: Kysely<Database>): Promise<Map<string, AlertClient>> {
  const rows = await db.selectFrom('clients').select(['client_id', 'client_name', 'alert_emails']).execute();
  return new Map(
    rows.map((r) => [
      r.client_id,
      { clientId: r.client_id, name: r.client_name ?? r.client_id, alertEmails: r.alert_emails },
    ]),
  );
}

/**
 * The last digest that reached someone (a delivery sent, or unconfirmed and
 * so possibly sent) per client, for dates up to `date` — or before it, for
 * --resend: the baseline each new digest is diffed against.
 */
export async function loadBaselines(
  db: Kysely<Database>,
  date: string,
  before: boolean,
): Promise<Map<string, { digestId: string; snapshot: DigestSnapshot }>> {
  const rows = await db
    .selectFrom('alert_digests as d')
    .select(['d.client_id', 'd.digest_id', 'd.items'])
    .distinctOn('d.client_id')
    .where('d.date', before ? '<' : '<=', date)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('alert_deliveries as x')
          .select(sql`1`.as('one'))
          .whereRef('x.digest_id', '=', 'd.digest_id')
          .where('x.status', 'in', ['sent', 'unconfirmed']),
      ),
    )
    .orderBy('d.client_id')
    .orderBy('d.date', 'desc')
    .orderBy('d.digest_id', 'desc')
    .execute();
  return new Map(rows.map((r) => [r.client_id, { digestId: r.digest_id, snapshot: r.items as DigestSnapshot }]));
}

export interface OpenDigest {
  digestId: string;
  clientId: string;
  date: string;
  subject: string;
  html: string;
  text: string;
  deliveries: { recipient: string; status: DeliveryStatus; transport: string | null; attempts: number }[];
}

/** Digests not finished by an earlier run (status 'sending'), with their deliveries. */
export async function loadOpenDigests(db: Kysely<Database>): Promise<OpenDigest[]> {
  const digests = await db
    .selectFrom('alert_digests')
    .select(['digest_id', 'client_id', 'date', 'subject', 'html', 'text'])
    .where('status', '=', 'sending')
    .orderBy('digest_id')
    .execute();
  if (digests.length === 0) return [];
  const deliveries = await db
    .selectFrom('alert_deliveries')
    .select(['digest_id', 'recipient', 'status', 'transport', 'attempts'])
    .where(
      'digest_id',
      'in',
      digests.map((d) => d.digest_id),
    )
    .orderBy('recipient')
    .execute();
  return digests.map((d) => ({
    digestId: d.digest_id,
    clientId: d.client_id,
    date: d.date,
    subject: d.subject,
    html: d.html,
    text: d.text,
    deliveries: deliveries
      .filter((x) => x.digest_id === d.digest_id)
      .map((x) => ({ recipient: x.recipient, status: x.status, transport: x.transport, attempts: x.attempts })),
  }));
}

export interface NewDigest {
  clientId: string;
  date: string;
  runId: string | null;
  subject: string;
  snapshot: DigestSnapshot;
  counts: Record<string, number>;
  html: string;
  text: string;
  resend: boolean;
  recipients: readonly string[];
}

/** Records a digest and one pending delivery per recipient, in the caller's transaction, before anything is sent. */
export async function createDigest(trx: Transaction<Database>, d: NewDigest): Promise<string> {
  const { digest_id } = await trx
    .insertInto('alert_digests')
    .values({
      client_id: d.clientId,
      date: d.date,
      run_id: d.runId,
      subject: d.subject,
      items: JSON.stringify(d.snapshot),
      counts: JSON.stringify(d.counts),
      html: d.html,
      text: d.text,
      resend: d.resend,
    })
    .returning('digest_id')
    .executeTakeFirstOrThrow();
  await trx
    .insertInto('alert_deliveries')
    .values(d.recipients.map((recipient) => ({ digest_id: digest_id, recipient })))
    .execute();
  return digest_id;
}

/**
 * Marks a delivery handed to the transport; committed before the send, so a crash after it is never taken for "not
 * sent".
 */
export async function markSending(
  db: Kysely<Database>,
  digestId: string,
  recipient: string,
  transport: string,
): Promise<void> {
  await db
    .updateTable('alert_deliveries')
    .set((eb) => ({
      status: 'sending',
      transport,
      attempts: eb('attempts', '+', 1),
      attempted_at: sql`now()`,
      error: null,
    }))
    .where('digest_id', '=', digestId)
    .where('recipient', '=', recipient)
    .execute();
}

export async function markDelivery(
  db: Kysely<Database>,
  digestId: string,
  recipient: string,
  status: Exclude<DeliveryStatus, 'pending' | 'sending'>,
  detail: { messageId?: string | null; error?: string | null },
): Promise<void> {
  await db
    .updateTable('alert_deliveries')
    .set({ status, message_id: detail.messageId ?? null, error: detail.error ?? null, finished_at: sql`now()` })
    .where('digest_id', '=', digestId)
    .where('recipient', '=', recipient)
    .execute();
}

/** Closes a digest whose every delivery is final (sent, rejected or unconfirmed); returns whether it closed. */
export async function closeDigestIfFinal(db: Kysely<Database>, digestId: string): Promise<boolean> {
  const r = await db
    .updateTable('alert_digests')
    .set({ status: 'done', finished_at: sql`now()` })
    .where('digest_id', '=', digestId)
    .where('status', '=', 'sending')
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('alert_deliveries')
            .select(sql`1`.as('one'))
            .where('digest_id', '=', digestId)
            .where('status', 'in', ['pending', 'sending', 'failed']),
        ),
      ),
    )
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * Gives up on an unfinished digest superseded by a newer date; its pending deliveries stay as they are, for the record.
 */
export async function abandonDigest(db: Kysely<Database>, digestId: string): Promise<void> {
  await db
    .updateTable('alert_digests')
    .set({ status: 'abandoned', finished_at: sql`now()` })
    .where('digest_id', '=', digestId)
    .execute();
}
