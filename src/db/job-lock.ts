import { sql } from 'kysely';
import type pg from 'pg';
import { kyselyOnClient } from './connect.js';

/** The connection a run holds from start to end: it takes the job's lock and cancels the run's statements. */
export interface LockSession {
  /**
   * Takes the job's lock for the run; false when another run holds it. Jobs with bookkeeping (`withTable`): a row
   * lock on `job_locks` held by a transaction left open on this connection (released when the run ends, or when
   * the connection dies), which the read-only role cannot take: a row lock needs UPDATE privilege. Jobs that run
   * before the schema exists (migrate, restore into an empty database): a session advisory lock.
   */
  take(job: string, withTable: boolean): Promise<boolean>;
  /** Asks PostgreSQL to cancel the statements of this run's other connections (a signal arrived). */
  cancelOthers(applicationName: string): void;
  /** Ends the session: destroyed, not returned to the pool, since it may hold the lock's transaction open. */
  release(): void;
}

export async function openLockSession(
  connect: () => Promise<pg.PoolClient>,
  onLost: (error: Error) => void,
): Promise<LockSession> {
  const client = await connect();
  // A server restart kills this connection too: say so instead of crashing on an unhandled 'error'.
  client.on('error', onLost);
  const db = kyselyOnClient(client);
  return {
    async take(job, withTable) {
      if (!withTable) {
        const key = `leadsmart:${job}`;
        const r = await sql<{
          locked: boolean;
        }>`SELECT pg_try_advisory_lock(hashtextextended(${key}, 0)) AS locked`.execute(db);
        return r.rows[0]?.locked === true;
      }
      await sql`INSERT INTO job_locks (job) VALUES (${job}) ON CONFLICT (job) DO NOTHING`.execute(db);
      await sql`BEGIN`.execute(db);
      // A server-wide idle_in_transaction_session_timeout must not end the lock's session while the run works.
      await sql`SET LOCAL idle_in_transaction_session_timeout = 0`.execute(db);
      try {
        await sql`SELECT 1 FROM job_locks WHERE job = ${job} FOR UPDATE NOWAIT`.execute(db);
        return true;
      } catch (error) {
        await sql`ROLLBACK`.execute(db).catch(() => undefined);
        if ((error as { code?: string }).code === '55P03') return false;
        throw error;
      }
    },
    cancelOthers(applicationName) {
      sql`SELECT pg_cancel_backend(pid) FROM pg_stat_activity
           WHERE application_name = ${applicationName} AND pid <> pg_backend_pid()`
        .execute(db)
        .catch(() => undefined);
    },
    release() {
      client.release(true);
    },
  };
}
