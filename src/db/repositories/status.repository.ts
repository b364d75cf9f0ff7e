import { sql, type Kysely } from 'kysely';
import type { JobRunFacts } from '../../core/status/health.js';
import type { Database } from '../tables.js';

/** The latest run and the latest success of each job. */
export async function loadJobFacts(db: Kysely<Database>): Promise<Map<string, JobRunFacts>> {
  const [last, success] = await Promise.all([
    sql<{
      job: string;
      run_id: string;
      started_at: Date;
      finished_at: Date | null;
      status: string;
      exit_code: number | null;
      counts: Record<string, number>;
      error_summary: string | null;
    }>`
      SELECT DISTINCT ON (job) job, run_id, started_at, finished_at, status, exit_code, counts, error_summary
        FROM job_runs ORDER BY job, started_at DESC, run_id DESC`.execute(db),
    sql<{
      job: string;
      at: Date;
    }>`SELECT job, max(finished_at) AS at FROM job_runs WHERE status = 'succeeded' GROUP BY job`.execute(db),
  ]);
  const ok = new Map(success.rows.map((r) => [r.job, r.at]));
  const facts = new Map<string, JobRunFacts>();
  for (const r of last.rows) {
    facts.set(r.job, {
      job: r.job,
      lastRun: {
        runId: r.run_id,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        status: r.status,
        exitCode: r.exit_code,
        durationMs: r.finished_at ? r.finished_at.getTime() - r.started_at.getTime() : null,
        counts: r.counts,
        error: r.error_summary,
      },
      lastSuccessAt: ok.get(r.job) ?? null,
    });
  }
  return facts;
}

export interface ScoringOverview {
  date: string;
  campaignsScored: number;
  recommendations: Record<string, number>;
  warnings: { code: string; message: string }[];
}

/** The latest scored date with its counts (from the latest scoring run of that date). */
export async function loadScoringOverview(db: Kysely<Database>, date: string | null): Promise<ScoringOverview | null> {
  const r = await sql<{
    date: string;
    campaigns_scored: number;
    recommendations: Record<string, number>;
    warnings: { code: string; message: string }[];
  }>`
    SELECT date, campaigns_scored, recommendations, warnings FROM scoring_runs
     WHERE date = coalesce(${date}::date, (SELECT max(date) FROM scoring_runs))
     ORDER BY scored_at DESC, run_id DESC LIMIT 1`.execute(db);
  const row = r.rows[0];
  return row
    ? {
        date: row.date,
        campaignsScored: row.campaigns_scored,
        recommendations: row.recommendations,
        warnings: row.warnings,
      }
    : null;
}

export interface BackupOverview {
  lastBackup: { key: string; createdAt: Date; size: number } | null;
  lastDrill: { key: string; at: Date; ok: boolean; problems: string[] } | null;
}

export async function loadBackupOverview(db: Kysely<Database>): Promise<BackupOverview> {
  const [b, v] = await Promise.all([
    sql<{
      key: string;
      created_at: Date;
      size: string;
    }>`SELECT key, created_at, size FROM backups WHERE deleted_at IS NULL AND verify_ok ORDER BY created_at DESC
      LIMIT 1`.execute(db),
    sql<{ key: string; verified_at: Date; verify_ok: boolean; verify_problems: string[] }>`
      SELECT key, verified_at, verify_ok, verify_problems FROM backups WHERE verify_method = 'restore' ORDER BY
        verified_at DESC LIMIT 1`.execute(db),
  ]);
  const last = b.rows[0];
  const drill = v.rows[0];
  return {
    lastBackup: last ? { key: last.key, createdAt: last.created_at, size: Number(last.size) } : null,
    lastDrill: drill
      ? { key: drill.key, at: drill.verified_at, ok: drill.verify_ok, problems: drill.verify_problems }
      : null,
  };
}

export interface CampaignRow {
  campaign_id: string;
  campaign_name: string | null;
  client_id: string | null;
  total_score: string;
  recommendation: string;
  /** The action (docs/decisions.md) and the gate that decided it; null on scores from before sql/011. */
  action: string | null;
  action_gate: string | null;
  flags: string[];
  is_new: boolean;
}

/** One page of a date's scores in campaign id order (keyset: after the given campaign id). */
export async function listCampaignScores(
  db: Kysely<Database>,
  q: { date: string; recommendation: string | null; clientId: string | null; limit: number; after: string | null },
): Promise<CampaignRow[]> {
  let query = db
    .selectFrom('campaign_scores as s')
    .leftJoin('campaigns as c', 'c.campaign_id', 's.campaign_id')
    .select([
      's.campaign_id',
      'c.campaign_name',
      'c.client_id',
      's.total_score',
      's.recommendation',
      's.action',
      's.action_gate',
      's.flags',
      's.is_new',
    ])
    .where('s.date', '=', q.date);
  if (q.recommendation !== null) query = query.where('s.recommendation', '=', q.recommendation);
  if (q.clientId !== null) query = query.where('c.client_id', '=', q.clientId);
  if (q.after !== null) query = query.where('s.campaign_id', '>', q.after);
  return (await query
    .orderBy('s.campaign_id')
    .limit(q.limit + 1)
    .execute()) as CampaignRow[];
}

/**
 * One page of a date's actionable scores: `types` in order (most urgent
 * first), lowest score first within each, resuming after `after` (keyset:
 * its type, score, campaign id). One statement for every type (a UNION ALL
 * of per-type index scans, each cut at the page size before campaigns are
 * joined): one round trip per page, whatever the number of types.
 */
export async function listActionable(
  db: Kysely<Database>,
  q: {
    date: string;
    types: readonly string[];
    limit: number;
    after: { type: string; score: string; campaignId: string } | null;
  },
): Promise<CampaignRow[]> {
  const start = q.after === null ? 0 : q.types.indexOf(q.after.type);
  const parts = q.types.slice(start).map((type, i) => {
    const resume =
      i === 0 && q.after !== null
        ? sql`AND (total_score, campaign_id) > (${q.after.score}::numeric, ${q.after.campaignId})`
        : sql``;
    return sql`(SELECT ${start + i}::int AS rank, campaign_id, total_score, recommendation, action, action_gate, flags,
                       is_new FROM campaign_scores
                 WHERE date = ${q.date} AND recommendation = ${type} ${resume}
                 ORDER BY total_score, campaign_id LIMIT ${q.limit})`;
  });
  if (parts.length === 0) return [];
  const r = await sql<CampaignRow>`
    SELECT s.campaign_id, c.campaign_name, c.client_id, s.total_score, s.recommendation, s.action, s.action_gate,
           s.flags, s.is_new
      FROM (${sql.join(parts, sql` UNION ALL `)}) s
      LEFT JOIN campaigns c ON c.campaign_id = s.campaign_id
     ORDER BY s.rank, s.total_score, s.campaign_id
     LIMIT ${q.limit}`.execute(db);
  return r.rows;
}

export async function loadCampaign(db: Kysely<Database>, campaignId: string) {
  const [campaign, history, latest] = await Promise.all([
    db
      .selectFrom('campaigns')
      .select([
        'campaign_id',
        'campaign_name',
        'client_id',
        'status',
        'daily_budget',
        'start_date',
        'end_date',
        'account_id',
      ])
      .where('campaign_id', '=', campaignId)
      .executeTakeFirst(),
    db
      .selectFrom('campaign_scores')
      .select(['date', 'total_score', 'recommendation', 'action', 'flags'])
      .where('campaign_id', '=', campaignId)
      .orderBy('date', 'desc')
      .limit(90)
      .execute(),
    db
      .selectFrom('campaign_scores')
      .select((eb) => [
        'date',
        'recommendation_details',
        eb
          .case()
          .when('action', 'is not', null)
          .then(
            sql<{ action: string; candidate: string; gate: string; reason: string }>`json_build_object(
              'action', action, 'candidate', action_candidate, 'gate', action_gate, 'reason', action_reason)`,
          )
          .else(null)
          .end()
          .as('action'),
      ])
      .where('campaign_id', '=', campaignId)
      .orderBy('date', 'desc')
      .limit(1)
      .executeTakeFirst(),
  ]);
  return { campaign: campaign ?? null, history, latest: latest ?? null };
}

export async function latestScoredDate(db: Kysely<Database>): Promise<string | null> {
  const r = await db
    .selectFrom('scoring_runs')
    .select((eb) => eb.fn.max('date').as('date'))
    .executeTakeFirst();
  return r?.date ?? null;
}
