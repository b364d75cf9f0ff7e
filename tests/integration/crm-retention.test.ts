import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { applyPending, pruneCrm, receiverState } from '../../src/db/repositories/crm.repository.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { loadSample } from '../helpers/run-job.js';

// crm-webhook's housekeeping against a real database: what retention deletes and keeps, pending events expiring
// (counted, no longer matched), and the match of pending events staying index-backed with many others waiting.
let t: TestDatabase;

/** One request with its events, received `daysAgo` days ago. */
async function request(
  daysAgo: number,
  events: { id: string; state: string; lead?: string | null }[],
  db: TestDatabase = t,
) {
  const inbox = await sql<{ id: string }>`
    INSERT INTO crm_inbox (source, body, events, invalid, received_at)
    VALUES ('leads', '{}', ${events.length}, 0, now() - make_interval(days => ${daysAgo}))
    RETURNING inbox_id::text AS id`.execute(db.db);
  for (const e of events)
    await sql`
      INSERT INTO crm_events (source, sender, event_id, inbox_id, crm, lead_id, status, changed_at, state, received_at)
      VALUES ('leads', 'key:1', ${e.id}, ${inbox.rows[0]!.id}, 'crm', ${e.lead ?? 'NOT-KNOWN'}, 'qualified',
              '2025-11-01T00:00:00Z', ${e.state}, now() - make_interval(days => ${daysAgo}))`.execute(db.db);
  return inbox.rows[0]!.id;
}
const states = async (db: TestDatabase) =>
  Object.fromEntries(
    (await sql<{ event_id: string; state: string }>`SELECT event_id, state FROM crm_events`.execute(db.db)).rows.map(
      (r) => [r.event_id, r.state],
    ),
  );

beforeAll(async () => {
  t = await createTestDatabase();
  await loadSample(t.url);
}, 60_000);
afterAll(async () => {
  await t?.drop();
});

test('retention: old events and their requests go, a pending one expires first, recent ones stay', async () => {
  // A database of its own: the other tests' events would count here.
  const own = await createTestDatabase();
  try {
    const old = await request(
      100,
      [
        { id: 'old-applied', state: 'applied', lead: 'L000001' },
        { id: 'old-dead', state: 'invalid' },
      ],
      own,
    );
    const mixed = await request(100, [{ id: 'old-pending', state: 'pending' }], own);
    await request(40, [{ id: 'waiting-40-days', state: 'pending' }], own);
    await request(
      5,
      [
        { id: 'recent-pending', state: 'pending' },
        { id: 'recent-applied', state: 'applied', lead: 'L000001' },
      ],
      own,
    );
    await sql`INSERT INTO crm_refusals (minute, status, count)
            VALUES (now() - interval '100 days', 401, 7), (date_trunc('minute', now()), 401, 2)`.execute(own.db);

    const r = await pruneCrm(own.db, { keepDays: 90, pendingExpireDays: 30 });
    expect(r).toEqual({ expired: 2, events: 3, requests: 2 });
    expect(await states(own)).toEqual({
      'waiting-40-days': 'expired',
      'recent-pending': 'pending',
      'recent-applied': 'applied',
    });
    const inboxes = (await sql<{ id: string }>`SELECT inbox_id::text AS id FROM crm_inbox`.execute(own.db)).rows.map(
      (x) => x.id,
    );
    expect(inboxes).not.toContain(old);
    expect(inboxes).not.toContain(mixed);
    expect(inboxes).toHaveLength(2);
    const state = await receiverState(own.db);
    expect(state.expired).toBe(1);
    expect(state.pending.count).toBe(1);
    expect(state.refused.lastDay).toEqual({ '401': 2 });
    // Run again: nothing left to do.
    expect(await pruneCrm(own.db, { keepDays: 90, pendingExpireDays: 30 })).toEqual({
      expired: 0,
      events: 0,
      requests: 0,
    });
  } finally {
    await own.drop();
  }
});

test('an expired event is no longer matched when its lead arrives', async () => {
  await request(1, [{ id: 'will-expire', state: 'expired', lead: 'L000002' }]);
  const applied = await t.db.transaction().execute((trx) => applyPending(trx, { leadIds: ['L000002'] }));
  expect(applied).toEqual([]);
});

test('matching a newly known lead reads its own pending events through an index, not all of them', async () => {
  // 20,000 pending events of other leads waiting.
  const inbox = await request(1, []);
  await sql`
    INSERT INTO crm_events (source, sender, event_id, inbox_id, crm, crm_record_id, lead_id, status, changed_at, state)
    SELECT 'leads', 'key:1', 'bulk-' || g, ${inbox}, 'crm', CASE WHEN g % 2 = 0 THEN 'rec-' || g END,
           CASE WHEN g % 2 = 1 THEN 'ghost-' || g END, 'qualified', '2025-11-01T00:00:00Z', 'pending'
      FROM generate_series(1, 20000) g`.execute(t.db);
  await sql`ANALYZE crm_events`.execute(t.db);
  await request(1, [{ id: 'mine', state: 'pending', lead: 'L000003' }]);
  // PostgreSQL's own count of sequential scans of crm_events, flushed at the end of each transaction.
  const seqScans = async () => {
    await sql`SELECT pg_stat_force_next_flush()`.execute(t.db);
    await new Promise((res) => setTimeout(res, 50));
    return Number(
      (
        await sql<{ n: string }>`
          SELECT seq_scan::text AS n FROM pg_stat_user_tables WHERE relname = 'crm_events'`.execute(t.db)
      ).rows[0]!.n,
    );
  };
  const before = await seqScans();
  const applied = await t.db.transaction().execute(async (trx) => {
    const r = await applyPending(trx, { leadIds: ['L000003'] });
    await sql`SELECT pg_stat_force_next_flush()`.execute(trx);
    return r;
  });
  expect(applied.map((x) => x.eventId)).toEqual(['mine']);
  expect((await seqScans()) - before).toBe(0);
  // A newly linked record too.
  const viaRecord = await t.db.transaction().execute(async (trx) => {
    await sql`INSERT INTO crm_lead_links (crm, crm_record_id, lead_id) VALUES ('crm', 'rec-2', 'L000004')`.execute(trx);
    const r = await applyPending(trx, { records: [{ crm: 'crm', recordId: 'rec-2' }] });
    await sql`SELECT pg_stat_force_next_flush()`.execute(trx);
    return r;
  });
  expect(viaRecord.map((x) => x.eventId)).toEqual(['bulk-2']);
  expect((await seqScans()) - before).toBe(0);
});
