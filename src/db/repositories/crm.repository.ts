import { type Kysely, sql, type Transaction } from 'kysely';
import type { CrmEvent } from '../../core/crm/events.js';
import type { Database } from '../tables.js';

/**
 * crm-webhook's tables (sql/013): the keys, the inbox of raw requests, the events (applied, pending, invalid, links)
 * and the links from CRM records to Lead Ads leads.
 */

export interface CrmKey {
  keyId: string;
  name: string;
  prefix: string;
  hash: string;
  /** null: every client. */
  clientIds: string[] | null;
  createdAt: Date;
  revokedAt: Date | null;
}

export async function listKeys(db: Kysely<Database>): Promise<CrmKey[]> {
  const r = await sql<{
    key_id: string;
    name: string;
    prefix: string;
    key_hash: string;
    client_ids: string[] | null;
    created_at: Date;
    revoked_at: Date | null;
  }>`SELECT key_id::text, name, prefix, key_hash, client_ids, created_at, revoked_at
        FROM crm_keys ORDER BY name`.execute(db);
  return r.rows.map((k) => ({
    keyId: k.key_id,
    name: k.name,
    prefix: k.prefix,
    hash: k.key_hash,
    clientIds: k.client_ids,
    createdAt: k.created_at,
    revokedAt: k.revoked_at,
  }));
}

/** The active key with this prefix, or null. */
export async function activeKeyByPrefix(db: Kysely<Database>, prefix: string): Promise<CrmKey | null> {
  const all = await sql<{
    key_id: string;
    name: string;
    key_hash: string;
    client_ids: string[] | null;
    created_at: Date;
  }>`
    SELECT key_id::text, name, key_hash, client_ids, created_at FROM crm_keys
     WHERE prefix = ${prefix} AND revoked_at IS NULL`.execute(db);
  const k = all.rows[0];
  return k
    ? {
        keyId: k.key_id,
        name: k.name,
        prefix,
        hash: k.key_hash,
        clientIds: k.client_ids,
        createdAt: k.created_at,
        revokedAt: null,
      }
    : null;
}

/** False when the name is taken. */
export async function createKey(
  db: Kysely<Database>,
  k: { name: string; prefix: string; hash: string; clientIds: string[] | null },
): Promise<boolean> {
  const r = await sql`
    INSERT INTO crm_keys (name, prefix, key_hash, client_ids) VALUES (${k.name}, ${k.prefix}, ${k.hash}, ${k.clientIds})
    ON CONFLICT (name) DO NOTHING`.execute(db);
  return Number(r.numAffectedRows ?? 0) === 1;
}

/** False when there is no such key, or it was revoked already. */
export async function revokeKey(db: Kysely<Database>, name: string): Promise<boolean> {
  const r = await sql`UPDATE crm_keys SET revoked_at = now() WHERE name = ${name} AND revoked_at IS NULL`.execute(db);
  return Number(r.numAffectedRows ?? 0) === 1;
}

export type EventState = 'applied' | 'pending' | 'invalid' | 'link' | 'duplicate';

/** The key a request came with was revoked after it was checked: nothing was stored. */
export class KeyRevoked extends Error {}

export interface RecordedRequest {
  source: 'leads' | 'hubspot';
  /** Whose event ids these are: 'key:<key_id>' or 'portal:<portal id>' (ids are unique per sender only). */
  sender: string;
  keyId: string | null;
  scope: string[] | null;
  body: string;
  events: CrmEvent[];
}

/**
 * One accepted request, all or nothing: its raw body into crm_inbox, each new event into crm_events (an event id
 * the same sender sent before is a duplicate and changes nothing), the status changes of known leads into
 * lead_status_changes, the links into crm_lead_links. One statement, so one round trip and its own transaction; a
 * request with links also applies the pending events they resolve, in one transaction with it (and says so of its
 * own events). The key is read again by the statement itself: once `keys revoke` has committed, a request stores
 * nothing (KeyRevoked). It is not locked: a row lock shared by every request (FOR SHARE) made a MultiXact per
 * request and tripled the tail latency under load (bench/RESULTS.md). Returns each event's state, in order.
 */
export async function recordRequest(db: Kysely<Database>, r: RecordedRequest): Promise<EventState[]> {
  if (r.events.some((e) => e.kind === 'link' && e.reason === null))
    return db.transaction().execute(async (trx) => {
      const { states, ids } = await recordStatement(trx, r);
      const records = r.events
        .filter((e, i) => e.kind === 'link' && states[i] === 'link' && e.crmRecordId !== null)
        .map((e) => ({ crm: e.crm, recordId: e.crmRecordId! }));
      if (records.length === 0) return states;
      const applied = new Set(
        (await applyPending(trx, { records }))
          .filter((x) => x.source === r.source && x.sender === r.sender)
          .map((x) => x.eventId),
      );
      // Events of this very request that its links resolved: applied, not pending.
      return states.map((state, i) => (state === 'pending' && applied.has(ids[i]!) ? 'applied' : state));
    });
  return (await recordStatement(db, r)).states;
}

async function recordStatement(
  db: Kysely<Database>,
  r: RecordedRequest,
  /** A dead letter replayed: its events go back under their own request, without a new one or a key check. */
  replayOf: string | null = null,
): Promise<{ states: EventState[]; ids: string[] }> {
  // The first of two events with one id in a request counts; the second is a duplicate.
  const first = new Map<string, CrmEvent>();
  for (const e of r.events) if (!first.has(e.eventId)) first.set(e.eventId, e);
  const events = [...first.values()];
  const col = <T>(f: (e: CrmEvent) => T) => events.map(f);
  const rows = await sql<{ event_id: string; state: EventState | 'revoked' }>`
    WITH key_ok AS (
      SELECT key_id FROM crm_keys WHERE key_id = ${r.keyId}::bigint AND revoked_at IS NULL
    ),
    inbox AS (${
      replayOf === null
        ? sql`
      INSERT INTO crm_inbox (source, key_id, body, events, invalid)
      SELECT ${r.source}, ${r.keyId}::bigint, ${r.body}, ${r.events.length}, ${r.events.filter((e) => e.reason).length}
       WHERE ${r.keyId}::bigint IS NULL OR EXISTS (SELECT 1 FROM key_ok)
      RETURNING inbox_id`
        : sql`SELECT ${replayOf}::bigint AS inbox_id`
    }),
    input AS (
      SELECT * FROM unnest(${col((e) => e.eventId)}::text[], ${col((e) => e.crm)}::text[],
                           ${col((e) => e.crmRecordId)}::text[], ${col((e) => e.leadId)}::text[],
                           ${col((e) => e.kind)}::text[], ${col((e) => e.rawStatus)}::text[],
                           ${col((e) => e.status)}::text[], ${col((e) => e.changedAt)}::timestamptz[],
                           ${col((e) => e.reason)}::text[], ${col((e) => e.index)}::int[])
        AS t(event_id, crm, crm_record_id, lead_id, kind, raw_status, status, changed_at, reason, ord)
       WHERE EXISTS (SELECT 1 FROM inbox)
    ),
    resolved AS (
      SELECT i.*, CASE WHEN i.kind = 'link' THEN i.lead_id ELSE coalesce(i.lead_id, l.lead_id) END AS lead,
             cl.lead_id IS NOT NULL AS known, c.client_id
        FROM input i
        -- The record's link in its own CRM (a HubSpot portal), else one imported for 'hubspot' without a portal.
        LEFT JOIN LATERAL (
          SELECT l.lead_id FROM crm_lead_links l
           WHERE l.crm_record_id = i.crm_record_id AND (l.crm = i.crm OR (l.crm = 'hubspot' AND i.crm LIKE 'hubspot:%'))
           ORDER BY l.crm = i.crm DESC LIMIT 1
        ) l ON i.lead_id IS NULL
        LEFT JOIN campaign_leads cl ON i.kind = 'status' AND cl.lead_id = coalesce(i.lead_id, l.lead_id)
        LEFT JOIN campaigns c ON c.campaign_id = cl.campaign_id
    ),
    judged AS (
      SELECT r.*, (r.reason IS NULL AND r.kind = 'status' AND r.known AND ${r.scope}::text[] IS NOT NULL
                   AND NOT (coalesce(r.client_id, '') = ANY(${r.scope}::text[]))) AS out_of_scope
        FROM resolved r
    ),
    ins AS (
      INSERT INTO crm_events (source, sender, event_id, inbox_id, crm, crm_record_id, lead_id, raw_status, status,
                              changed_at, state, reason, key_id, applied_at)
      SELECT ${r.source}, ${r.sender}, event_id, (SELECT inbox_id FROM inbox), crm, crm_record_id,
             CASE WHEN kind = 'link' OR known THEN lead ELSE lead_id END, raw_status, status, changed_at,
             CASE WHEN reason IS NOT NULL OR out_of_scope THEN 'invalid' WHEN kind = 'link' THEN 'link'
                  WHEN known THEN 'applied' ELSE 'pending' END,
             CASE WHEN out_of_scope THEN 'the lead belongs to a client this key may not write for' ELSE reason END,
             ${r.keyId}::bigint,
             CASE WHEN reason IS NULL AND NOT out_of_scope AND (kind = 'link' OR known) THEN now() END
        FROM judged ORDER BY ord
      ON CONFLICT (source, sender, event_id) DO NOTHING
      RETURNING event_id, state, lead_id, status, changed_at, crm, crm_record_id
    ),
    links AS (
      INSERT INTO crm_lead_links (crm, crm_record_id, lead_id, source)
      SELECT DISTINCT ON (crm, crm_record_id) crm, crm_record_id, lead_id, 'webhook' FROM ins WHERE state = 'link'
      ON CONFLICT (crm, crm_record_id) DO UPDATE SET lead_id = EXCLUDED.lead_id, source = 'webhook', updated_at = now()
    ),
    applied AS (
      -- A status at the same instant as one recorded before replaces it (the CRM corrected itself); two in one
      -- request at one instant: the later in the request.
      INSERT INTO lead_status_changes (lead_id, status, changed_at)
      SELECT DISTINCT ON (i.lead_id, i.changed_at) i.lead_id, i.status, i.changed_at
        FROM ins i JOIN input USING (event_id)
       WHERE i.state = 'applied'
       ORDER BY i.lead_id, i.changed_at, input.ord DESC
      ON CONFLICT (lead_id, changed_at) DO UPDATE SET status = EXCLUDED.status, recorded_at = now()
    )
    SELECT event_id, state FROM ins
    UNION ALL
    SELECT '', 'revoked' WHERE NOT EXISTS (SELECT 1 FROM inbox)`.execute(db);
  if (rows.rows.some((x) => x.state === 'revoked')) throw new KeyRevoked('the key was revoked');
  const states = new Map(rows.rows.map((x) => [x.event_id, x.state as EventState]));
  const seen = new Set<string>();
  return {
    states: r.events.map((e) => {
      const state = seen.has(e.eventId) ? 'duplicate' : (states.get(e.eventId) ?? 'duplicate');
      seen.add(e.eventId);
      return state;
    }),
    ids: r.events.map((e) => e.eventId),
  };
}

export interface DeadLetter {
  source: 'leads' | 'hubspot';
  sender: string;
  eventId: string;
  inboxId: string;
  keyId: string | null;
  /** The key's clients now (null: every client, or no key). */
  scope: string[] | null;
  receivedAt: Date;
  reason: string;
  /** The raw request it came in. */
  body: string;
}

/** The dead letters (invalid events) received since `since` (null: all), oldest first, with their requests. */
export async function listDeadLetters(
  db: Kysely<Database>,
  opts: { since: Date | null; limit: number },
): Promise<DeadLetter[]> {
  const r = await sql<{
    source: 'leads' | 'hubspot';
    sender: string;
    event_id: string;
    inbox_id: string;
    key_id: string | null;
    client_ids: string[] | null;
    received_at: Date;
    reason: string;
    body: string;
  }>`
    SELECT e.source, e.sender, e.event_id, e.inbox_id::text, e.key_id::text, k.client_ids, e.received_at,
           coalesce(e.reason, '') AS reason, i.body
      FROM crm_events e JOIN crm_inbox i USING (inbox_id) LEFT JOIN crm_keys k ON k.key_id = e.key_id
     WHERE e.state = 'invalid' AND (${opts.since?.toISOString() ?? null}::timestamptz IS NULL
                                    OR e.received_at >= ${opts.since?.toISOString() ?? null}::timestamptz)
     ORDER BY e.received_at, e.inbox_id, e.event_id
     LIMIT ${opts.limit}`.execute(db);
  return r.rows.map((x) => ({
    source: x.source,
    sender: x.sender,
    eventId: x.event_id,
    inboxId: x.inbox_id,
    keyId: x.key_id,
    scope: x.client_ids,
    receivedAt: x.received_at,
    reason: x.reason,
    body: x.body,
  }));
}

/**
 * Dead letters read again (the settings they failed on were fixed): each event that now reads as valid replaces its
 * dead letter, under the same sender, id and request, and is applied, kept pending or learnt as a link as if it had
 * just come; those still invalid stay as they are. One transaction. Returns the new states, in order.
 */
export async function replayDeadLetters(
  trx: Transaction<Database>,
  letters: { letter: DeadLetter; event: CrmEvent }[],
): Promise<EventState[]> {
  const states: EventState[] = [];
  for (const { letter, event } of letters) {
    await sql`
      DELETE FROM crm_events
       WHERE source = ${letter.source} AND sender = ${letter.sender} AND event_id = ${letter.eventId}
         AND state = 'invalid'`.execute(trx);
    const request: RecordedRequest = {
      source: letter.source,
      sender: letter.sender,
      keyId: letter.keyId,
      scope: letter.scope,
      body: letter.body,
      events: [event],
    };
    const [state] = (await recordStatement(trx, request, letter.inboxId)).states;
    if (state === 'link' && event.crmRecordId !== null)
      await applyPending(trx, { records: [{ crm: event.crm, recordId: event.crmRecordId }] });
    states.push(state!);
  }
  return states;
}

/** Which pending events to look at: those of these leads (newly known), or of these CRM records (newly linked). */
export interface PendingScope {
  leadIds?: readonly string[];
  records?: readonly { crm: string; recordId: string }[];
}

/**
 * Applies the pending events of the scope whose lead is now known (the fetch or an import brought it, or a link
 * was learned), in the caller's transaction: found through indexes, whatever the number of other pending events.
 * Returns the events it settled (applied, or refused as outside their key's clients).
 */
export async function applyPending(
  trx: Transaction<Database>,
  scope: PendingScope,
): Promise<{ source: string; sender: string; eventId: string; state: 'applied' | 'invalid' }[]> {
  const leadIds = [...(scope.leadIds ?? [])];
  const records = scope.records ?? [];
  if (leadIds.length === 0 && records.length === 0) return [];
  const r = await sql<{ source: string; sender: string; event_id: string; state: 'applied' | 'invalid' }>`
    WITH scope_leads AS (SELECT unnest(${leadIds}::text[]) AS lead_id),
    scope_records AS (
      SELECT * FROM unnest(${records.map((x) => x.crm)}::text[], ${records.map((x) => x.recordId)}::text[])
        AS t(crm, crm_record_id)
      UNION
      SELECT l.crm, l.crm_record_id FROM crm_lead_links l JOIN scope_leads s USING (lead_id)
    ),
    candidates AS (
      SELECT e.source, e.sender, e.event_id FROM crm_events e JOIN scope_leads s USING (lead_id)
       WHERE e.state = 'pending'
      UNION
      SELECT e.source, e.sender, e.event_id FROM scope_records r
        JOIN crm_events e ON e.state = 'pending' AND e.lead_id IS NULL AND e.crm_record_id = r.crm_record_id
         AND (e.crm = r.crm OR (r.crm = 'hubspot' AND e.crm LIKE 'hubspot:%'))
    ),
    known AS (
      SELECT e.source, e.sender, e.event_id, cl.lead_id AS lead,
             (k.client_ids IS NOT NULL AND NOT (coalesce(c.client_id, '') = ANY(k.client_ids))) AS out_of_scope
        FROM crm_events e
        JOIN candidates USING (source, sender, event_id)
        LEFT JOIN LATERAL (
          SELECT l.lead_id FROM crm_lead_links l
           WHERE l.crm_record_id = e.crm_record_id AND (l.crm = e.crm OR (l.crm = 'hubspot' AND e.crm LIKE 'hubspot:%'))
           ORDER BY l.crm = e.crm DESC LIMIT 1
        ) l ON e.lead_id IS NULL
        JOIN campaign_leads cl ON cl.lead_id = coalesce(e.lead_id, l.lead_id)
        JOIN campaigns c ON c.campaign_id = cl.campaign_id
        LEFT JOIN crm_keys k ON k.key_id = e.key_id
       WHERE e.state = 'pending'
       FOR UPDATE OF e SKIP LOCKED
    ),
    upd AS (
      UPDATE crm_events e
         SET lead_id = k.lead, applied_at = now(),
             state = CASE WHEN k.out_of_scope THEN 'invalid' ELSE 'applied' END,
             reason = CASE WHEN k.out_of_scope THEN 'the lead belongs to a client this key may not write for' END
        FROM known k WHERE e.source = k.source AND e.sender = k.sender AND e.event_id = k.event_id
      RETURNING e.source, e.sender, e.event_id, e.lead_id, e.status, e.changed_at, e.state, e.received_at
    ),
    ins AS (
      INSERT INTO lead_status_changes (lead_id, status, changed_at)
      SELECT DISTINCT ON (lead_id, changed_at) lead_id, status, changed_at FROM upd WHERE state = 'applied'
       ORDER BY lead_id, changed_at, received_at DESC
      ON CONFLICT (lead_id, changed_at) DO UPDATE SET status = EXCLUDED.status, recorded_at = now()
    )
    SELECT source, sender, event_id, state FROM upd`.execute(trx);
  return r.rows.map((x) => ({ source: x.source, sender: x.sender, eventId: x.event_id, state: x.state }));
}

/** Adds refusals (by status) to their minute's counts. */
export async function addRefusals(db: Kysely<Database>, minute: Date, byStatus: ReadonlyMap<number, number>) {
  const entries = [...byStatus].filter(([, n]) => n > 0);
  if (entries.length === 0) return;
  await sql`
    INSERT INTO crm_refusals AS r (minute, status, count)
    SELECT ${minute.toISOString()}::timestamptz, s, n
      FROM unnest(${entries.map(([k]) => k)}::int[], ${entries.map(([, n]) => n)}::int[]) AS t(s, n)
    ON CONFLICT (minute, status) DO UPDATE SET count = r.count + EXCLUDED.count`.execute(db);
}

export interface CrmRetention {
  /** CRM_WEBHOOK_KEEP_DAYS: events (applied, links, dead letters, expired), their requests and refusal counts. */
  keepDays: number;
  /** CRM_PENDING_EXPIRE_DAYS: a pending event whose lead has not come by then expires (kept, no longer matched). */
  pendingExpireDays: number;
}

/**
 * crm-webhook's housekeeping, in batches of 5,000 rows (each its own short transaction, so nothing waits long on
 * it): pending events past their expiry become 'expired'; events, requests and refusal counts older than the
 * retention are deleted (a pending event stays until it expires). Returns what it did.
 */
export async function pruneCrm(
  db: Kysely<Database>,
  r: CrmRetention,
): Promise<{ expired: number; events: number; requests: number }> {
  const batches = async (statement: () => Promise<number>) => {
    let total = 0;
    for (;;) {
      const n = await statement();
      total += n;
      if (n < 5000) return total;
    }
  };
  const affected = (x: { numAffectedRows?: bigint }) => Number(x.numAffectedRows ?? 0);
  const expired = await batches(async () =>
    affected(
      await sql`
        UPDATE crm_events SET state = 'expired'
         WHERE ctid = ANY(ARRAY(SELECT ctid FROM crm_events
                                 WHERE state = 'pending'
                                   AND received_at < now() - make_interval(days => ${r.pendingExpireDays})
                                 LIMIT 5000))`.execute(db),
    ),
  );
  const events = await batches(async () =>
    affected(
      await sql`
        DELETE FROM crm_events
         WHERE ctid = ANY(ARRAY(SELECT ctid FROM crm_events
                                 WHERE state <> 'pending' AND received_at < now() - make_interval(days => ${r.keepDays})
                                 LIMIT 5000))`.execute(db),
    ),
  );
  const requests = await batches(async () =>
    affected(
      await sql`
        DELETE FROM crm_inbox
         WHERE inbox_id = ANY(ARRAY(
                 SELECT i.inbox_id FROM crm_inbox i
                  WHERE i.received_at < now() - make_interval(days => ${r.keepDays})
                    AND NOT EXISTS (SELECT 1 FROM crm_events e WHERE e.inbox_id = i.inbox_id)
                  LIMIT 5000))`.execute(db),
    ),
  );
  await sql`DELETE FROM crm_refusals WHERE minute < now() - make_interval(days => ${r.keepDays})`.execute(db);
  return { expired, events, requests };
}

export interface ReceiverState {
  lastHour: number;
  lastDay: number;
  pending: { count: number; oldest: Date | null };
  /** Pending events that expired without their lead (CRM_PENDING_EXPIRE_DAYS). */
  expired: number;
  /** Requests refused in the last hour and day, by status (401 a rotated secret, 400 a changed format …). */
  refused: { lastHour: Record<string, number>; lastDay: Record<string, number> };
  deadLetters: { count: number; oldest: Date | null };
  lastEventAt: Date | null;
}

/** What status-server says about the receiver. */
export async function receiverState(db: Kysely<Database>): Promise<ReceiverState> {
  const r = await sql<{
    last_hour: string;
    last_day: string;
    pending: string;
    pending_oldest: Date | null;
    invalid: string;
    invalid_oldest: Date | null;
    last_event: Date | null;
    expired: string;
    refused_hour: Record<string, number> | null;
    refused_day: Record<string, number> | null;
  }>`
    SELECT (SELECT coalesce(sum(events), 0) FROM crm_inbox WHERE received_at > now() - interval '1 hour')::text
             AS last_hour,
           (SELECT coalesce(sum(events), 0) FROM crm_inbox WHERE received_at > now() - interval '1 day')::text
             AS last_day,
           (SELECT count(*) FROM crm_events WHERE state = 'pending')::text AS pending,
           (SELECT min(received_at) FROM crm_events WHERE state = 'pending') AS pending_oldest,
           (SELECT count(*) FROM crm_events WHERE state = 'invalid')::text AS invalid,
           (SELECT min(received_at) FROM crm_events WHERE state = 'invalid') AS invalid_oldest,
           (SELECT max(received_at) FROM crm_inbox) AS last_event,
           (SELECT count(*) FROM crm_events WHERE state = 'expired')::text AS expired,
           (SELECT jsonb_object_agg(status, n) FROM (
              SELECT status, sum(count)::int AS n FROM crm_refusals WHERE minute > now() - interval '1 hour'
               GROUP BY status) h) AS refused_hour,
           (SELECT jsonb_object_agg(status, n) FROM (
              SELECT status, sum(count)::int AS n FROM crm_refusals WHERE minute > now() - interval '1 day'
               GROUP BY status) d) AS refused_day`.execute(db);
  const x = r.rows[0]!;
  return {
    lastHour: Number(x.last_hour),
    lastDay: Number(x.last_day),
    pending: { count: Number(x.pending), oldest: x.pending_oldest },
    deadLetters: { count: Number(x.invalid), oldest: x.invalid_oldest },
    lastEventAt: x.last_event,
    expired: Number(x.expired),
    refused: { lastHour: x.refused_hour ?? {}, lastDay: x.refused_day ?? {} },
  };
}
