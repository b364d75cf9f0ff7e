import type { Kysely } from 'kysely';
import { addRefusals, type CrmRetention, pruneCrm } from '../db/repositories/crm.repository.js';
import type { Database } from '../db/tables.js';
import type { LogFn, Refusals } from '../http/service.js';

/** How often the refusal counts are written, and how often old events are pruned. */
const FLUSH_MS = 10_000;
const PRUNE_MS = 60 * 60_000;

/**
 * crm-webhook's background work while it serves: its refusal counts written every 10 s (status-server shows them),
 * and retention run a minute after start and then hourly. Several instances may run: both are additive or
 * idempotent. A failure is logged and tried again next time; it never stops the receiver.
 */
export function startHousekeeping(deps: {
  db: Kysely<Database>;
  refusals: Refusals;
  retention: CrmRetention;
  now: () => Date;
  log: LogFn;
}): { stop(): Promise<void> } {
  const written = new Map<number, number>();
  let busy: Promise<unknown> = Promise.resolve();
  const flush = async () => {
    const delta = new Map<number, number>();
    for (const [status, n] of deps.refusals.byStatus) delta.set(status, n - (written.get(status) ?? 0));
    if ([...delta.values()].every((n) => n === 0)) return;
    const minute = new Date(Math.floor(deps.now().getTime() / 60_000) * 60_000);
    await addRefusals(deps.db, minute, delta);
    for (const [status, n] of delta) written.set(status, (written.get(status) ?? 0) + n);
  };
  const prune = async () => {
    const r = await pruneCrm(deps.db, deps.retention);
    if (r.expired + r.events + r.requests > 0)
      deps.log('info', `pruned: ${r.expired} pending events expired, ${r.events} events and ${r.requests} requests`, {
        ...r,
      });
  };
  const run = (what: string, task: () => Promise<void>) => {
    busy = busy
      .then(task)
      .catch((e: unknown) => deps.log('warn', `${what} failed, tried again later: ${(e as Error).message}`));
  };
  const flushTimer = setInterval(() => run('writing the refusal counts', flush), FLUSH_MS);
  const firstPrune = setTimeout(() => run('pruning', prune), 60_000);
  const pruneTimer = setInterval(() => run('pruning', prune), PRUNE_MS);
  for (const t of [flushTimer, firstPrune, pruneTimer]) t.unref();
  return {
    async stop() {
      clearInterval(flushTimer);
      clearTimeout(firstPrune);
      clearInterval(pruneTimer);
      run('writing the refusal counts', flush);
      await busy;
    },
  };
}
