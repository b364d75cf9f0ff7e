import type { Kysely } from 'kysely';
import type { AppConfig } from '../config/load-config.js';
import type { DatabaseHandle, PooledConnection } from '../db/connect.js';
import type { Database } from '../db/tables.js';
import type { UnitOfWork } from '../db/unit-of-work.js';
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import type { Redactor } from './redact.js';

/**
 * What every job's typed function is given (scoreCampaigns(deps, options), sendAlerts(deps, options), …): the
 * database, the settings, time, logs and interruption. The runner builds it for a process; a test builds it with
 * createJobDeps around its own database and clock, and calls the function directly.
 */
export interface JobDeps {
  config: Readonly<AppConfig>;
  logger: Logger;
  /** Queries: Kysely. */
  db: Kysely<Database>;
  /**
   * The connection pool behind `db`, as the data layer's repositories take it (snapshots on connections of their
   * own, migrations). Jobs pass it on; they never query through it.
   */
  database: DatabaseHandle;
  clock: Clock;
  dryRun: boolean;
  /** job_runs.run_id of this run; null for dry runs and for calls outside a run, which record nothing. */
  runId: string | null;
  signal: AbortSignal;
  /** Throws the interruption (InterruptedError) once SIGTERM/SIGINT has arrived. Call between units of work. */
  throwIfInterrupted(): void;
  /**
   * Runs `fn` in one transaction on one dedicated connection: its queries (Kysely) and its COPY loads share it.
   * Rolled back on any error, and on SIGTERM/SIGINT: the runner cancels the running statement and no COMMIT
   * happens after a signal.
   */
  transaction<T>(fn: (work: UnitOfWork) => Promise<T>): Promise<T>;
  redact: Redactor;
}

export async function createJobDeps(parts: {
  config: Readonly<AppConfig>;
  logger: Logger;
  database: DatabaseHandle;
  clock: Clock;
  dryRun?: boolean;
  runId?: string | null;
  signal?: AbortSignal;
  redact?: Redactor;
  /** How a transaction gets its connection (the runner retries an unreachable server); default: the pool's. */
  connect?: () => Promise<PooledConnection>;
}): Promise<JobDeps> {
  const { runInTransaction } = await import('../db/unit-of-work.js');
  const signal = parts.signal ?? new AbortController().signal;
  const connect = parts.connect ?? (() => parts.database.pool.connect());
  const throwIfInterrupted = (): void => {
    if (signal.aborted) throw signal.reason as Error;
  };
  return {
    config: parts.config,
    logger: parts.logger,
    db: parts.database.db,
    database: parts.database,
    clock: parts.clock,
    dryRun: parts.dryRun ?? false,
    runId: parts.runId ?? null,
    signal,
    throwIfInterrupted,
    redact: parts.redact ?? ((text: string) => text),
    async transaction(fn) {
      throwIfInterrupted();
      try {
        return await runInTransaction(connect, async (work) => {
          const result = await fn(work);
          // No COMMIT after a signal: the work is rolled back.
          throwIfInterrupted();
          return result;
        });
      } catch (error) {
        if (signal.aborted) throw signal.reason as Error;
        throw error;
      }
    },
  };
}
