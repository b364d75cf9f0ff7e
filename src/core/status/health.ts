/**
 * Whether each job is running on schedule: pure, from the last runs and
 * the schedule the crontab ships (crontab/leadsmart). A job whose last
 * success is older than its interval plus grace is `late`; older than
 * twice its interval plus grace, `down`; never succeeded, `never`.
 */

export type JobState = 'ok' | 'late' | 'down' | 'never';

export interface JobSchedule {
  job: string;
  /** Expected time between successful runs, in seconds. */
  intervalSeconds: number;
  /** Slack after the interval before the job counts as late, in seconds (a run's own duration, cron jitter). */
  graceSeconds: number;
  /** What the crontab says, for people. */
  cron: string;
}

/** The shipped schedule. send-alerts runs after each successful scoring, so it shares its interval. */
export const SCHEDULE: readonly JobSchedule[] = [
  { job: 'fetch-facebook', intervalSeconds: 4 * 3600, graceSeconds: 3600, cron: '0 */4 * * *' },
  { job: 'score-campaigns', intervalSeconds: 6 * 3600, graceSeconds: 3600, cron: '30 1,7,13,19 * * *' },
  { job: 'send-alerts', intervalSeconds: 6 * 3600, graceSeconds: 3600, cron: 'after score-campaigns' },
  { job: 'backup-db', intervalSeconds: 24 * 3600, graceSeconds: 2 * 3600, cron: '0 2 * * *' },
  // The monthly restore drill (bin/backup-db --verify), recorded apart so that it never stands in for a backup.
  { job: 'backup-db-drill', intervalSeconds: 31 * 24 * 3600, graceSeconds: 2 * 24 * 3600, cron: '30 3 1 * *' },
];

export interface JobRunFacts {
  job: string;
  /** The latest run of any outcome, or null. */
  lastRun: {
    runId: string;
    startedAt: Date;
    finishedAt: Date | null;
    status: string;
    exitCode: number | null;
    durationMs: number | null;
    counts: Record<string, number>;
    error: string | null;
  } | null;
  /** When the latest successful run finished, or null. */
  lastSuccessAt: Date | null;
}

export interface JobHealth {
  job: string;
  state: JobState;
  /** The latest run failed (non-zero exit other than 75, the "try later" code). */
  lastRunFailed: boolean;
  /** Seconds since the last success, or null. */
  ageSeconds: number | null;
  /** One line for people: "last success 2 h ago", "late: last success 11 h ago, expected every 4 h". */
  summary: string;
}

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

export function assessJob(schedule: JobSchedule, facts: JobRunFacts, now: Date): JobHealth {
  const lastRunFailed =
    facts.lastRun !== null &&
    facts.lastRun.status !== 'running' &&
    facts.lastRun.exitCode !== 0 &&
    facts.lastRun.exitCode !== 75;
  if (facts.lastSuccessAt === null) {
    return {
      job: schedule.job,
      state: 'never',
      lastRunFailed,
      ageSeconds: null,
      summary: facts.lastRun === null ? 'has never run' : 'has never succeeded',
    };
  }
  const age = Math.max(0, (now.getTime() - facts.lastSuccessAt.getTime()) / 1000);
  const every = `expected every ${duration(schedule.intervalSeconds)}`;
  let state: JobState = 'ok';
  if (age > 2 * schedule.intervalSeconds + schedule.graceSeconds) state = 'down';
  else if (age > schedule.intervalSeconds + schedule.graceSeconds) state = 'late';
  const summary =
    state === 'ok' ? `last success ${duration(age)} ago` : `${state}: last success ${duration(age)} ago, ${every}`;
  return { job: schedule.job, state, lastRunFailed, ageSeconds: Math.round(age), summary };
}

/** Why the system is not ready, one line per job; empty when every job is on schedule. */
export function readinessProblems(health: readonly JobHealth[]): string[] {
  return health.filter((h) => h.state !== 'ok').map((h) => `${h.job} ${h.summary}`);
}
