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
