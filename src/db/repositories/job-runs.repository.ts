import { type Kysely, sql } from 'kysely';
import type { Database } from '../tables.js';

/** A run's row in job_runs, status `running` until finishJobRun; returns its run_id. */
export async function startJobRun(
  db: Kysely<Database>,
  run: { job: string; args: string[]; host: string; pid: number },
): Promise<string> {
  const row = await db
    .insertInto('job_runs')
    .values({ job: run.job, args: JSON.stringify(run.args), host: run.host, pid: run.pid })
    .returning('run_id')
    .executeTakeFirstOrThrow();
  return row.run_id;
}

/**
 * Runs of these jobs still `running` whose process ended without saying so (SIGKILL, a lost machine), marked
 * `interrupted`: the caller holds the jobs' lock, so none of them can still be at work. Returns how many.
 */
export async function reconcileStaleRuns(db: Kysely<Database>, jobs: readonly string[]): Promise<number> {
  const r = await db
    .updateTable('job_runs')
    .set({
      status: 'interrupted',
      finished_at: sql`now()`,
      error_summary: 'ended without recording its outcome (killed, or its machine lost); found by the next run',
    })
    .where('job', 'in', [...jobs])
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(r.numUpdatedRows ?? 0);
}

/** How the run ended: its status, exit code, counts, the --json summary and the error, already redacted. */
export async function finishJobRun(
  db: Kysely<Database>,
  runId: string,
  end: {
    status: 'succeeded' | 'failed' | 'interrupted';
    exitCode: number;
    counts: Record<string, number>;
    summary: unknown;
    errorSummary: string | null;
  },
): Promise<void> {
  await db
    .updateTable('job_runs')
    .set({
      finished_at: sql`now()`,
      status: end.status,
      exit_code: end.exitCode,
      counts: JSON.stringify(end.counts),
      summary: end.summary === null || end.summary === undefined ? null : JSON.stringify(end.summary),
      error_summary: end.errorSummary,
    })
    .where('run_id', '=', runId)
    .execute();
}
