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

/**
 * One accepted request, all or nothing: its raw body into crm_inbox, each new event into crm_events (an event id
 * seen before is a duplicate and changes nothing), the status changes of known leads into lead_status_changes, the
 * links into crm_lead_links. One statement, so one round trip and its own transaction; a request with links also
 * applies the pending events they resolve, in one transaction with it. Returns each event's state, in order.
 */
export async function recordRequest(
  db: Kysely<Database>,
  r: { source: 'leads' | 'hubspot'; keyId: string | null; scope: string[] | null; body: string; events: CrmEvent[] },
): Promise<EventState[]> {
  if (r.events.some((e) => e.kind === 'link' && e.reason === null))
    return db.transaction().execute(async (trx) => {
      const states = await recordStatement(trx, r);
      if (states.includes('link')) await applyPending(trx);
      return states;
    });
  return recordStatement(db, r);
}

async function recordStatement(
  db: Kysely<Database>,
  r: { source: 'leads' | 'hubspot'; keyId: string | null; scope: string[] | null; body: string; events: CrmEvent[] },
): Promise<EventState[]> {
  // The first of two events with one id in a request counts; the second is a duplicate.
  const first = new Map<string, CrmEvent>();
  for (const e of r.events) if (!first.has(e.eventId)) first.set(e.eventId, e);
  const events = [...first.values()];
  const col = <T>(f: (e: CrmEvent) => T) => events.map(f);
  const rows = await sql<{ event_id: string; state: EventState }>`
    WITH inbox AS (
      INSERT INTO crm_inbox (source, key_id, body, events, invalid)
      VALUES (${r.source}, ${r.keyId}::bigint, ${r.body}, ${r.events.length},
              ${r.events.filter((e) => e.reason).length})
      RETURNING inbox_id
    ),
    input AS (
      SELECT * FROM unnest(${col((e) => e.eventId)}::text[], ${col((e) => e.crm)}::text[],
                           ${col((e) => e.crmRecordId)}::text[], ${col((e) => e.leadId)}::text[],
                           ${col((e) => e.kind)}::text[], ${col((e) => e.rawStatus)}::text[],
                           ${col((e) => e.status)}::text[], ${col((e) => e.changedAt)}::timestamptz[],
                           ${col((e) => e.reason)}::text[], ${col((e) => e.index)}::int[])
        AS t(event_id, crm, crm_record_id, lead_id, kind, raw_status, status, changed_at, reason, ord)
    ),
    resolved AS (
      SELECT i.*, CASE WHEN i.kind = 'link' THEN i.lead_id ELSE coalesce(i.lead_id, l.lead_id) END AS lead,
             cl.lead_id IS NOT NULL AS known, c.client_id
        FROM input i
        LEFT JOIN crm_lead_links l ON i.lead_id IS NULL AND l.crm = i.crm AND l.crm_record_id = i.crm_record_id
        LEFT JOIN campaign_leads cl ON i.kind = 'status' AND cl.lead_id = coalesce(i.lead_id, l.lead_id)
        LEFT JOIN campaigns c ON c.campaign_id = cl.campaign_id
    ),
    judged AS (
      SELECT r.*, (r.reason IS NULL AND r.kind = 'status' AND r.known AND ${r.scope}::text[] IS NOT NULL
                   AND NOT (coalesce(r.client_id, '') = ANY(${r.scope}::text[]))) AS out_of_scope
        FROM resolved r
    ),
    ins AS (
      INSERT INTO crm_events (source, event_id, inbox_id, crm, crm_record_id, lead_id, raw_status, status, changed_at,
                              state, reason, key_id, applied_at)
      SELECT ${r.source}, event_id, (SELECT inbox_id FROM inbox), crm, crm_record_id,
             CASE WHEN kind = 'link' OR known THEN lead ELSE lead_id END, raw_status, status, changed_at,
             CASE WHEN reason IS NOT NULL OR out_of_scope THEN 'invalid' WHEN kind = 'link' THEN 'link'
                  WHEN known THEN 'applied' ELSE 'pending' END,
             CASE WHEN out_of_scope THEN 'the lead belongs to a client this key may not write for' ELSE reason END,
             ${r.keyId}::bigint,
             CASE WHEN reason IS NULL AND NOT out_of_scope AND (kind = 'link' OR known) THEN now() END
        FROM judged ORDER BY ord
      ON CONFLICT (source, event_id) DO NOTHING
      RETURNING event_id, state, lead_id, status, changed_at, crm, crm_record_id
    ),
    links AS (
      INSERT INTO crm_lead_links (crm, crm_record_id, lead_id, source)
      SELECT crm, crm_record_id, lead_id, 'webhook' FROM ins WHERE state = 'link'
      ON CONFLICT (crm, crm_record_id) DO UPDATE SET lead_id = EXCLUDED.lead_id, source = 'webhook', updated_at = now()
    ),
    applied AS (
      -- Two statuses at the same instant for one lead: the first recorded stays.
      INSERT INTO lead_status_changes (lead_id, status, changed_at)
      SELECT lead_id, status, changed_at FROM ins WHERE state = 'applied'
      ON CONFLICT (lead_id, changed_at) DO NOTHING
    )
    SELECT event_id, state FROM ins`.execute(db);
  const states = new Map(rows.rows.map((x) => [x.event_id, x.state]));
  const seen = new Set<string>();
  return r.events.map((e) => {
    const state = seen.has(e.eventId) ? 'duplicate' : (states.get(e.eventId) ?? 'duplicate');
    seen.add(e.eventId);
    return state;
  });
}

/**
 * Applies the pending events whose lead is now known (the fetch or an import brought it, or a link was learned), in
 * the caller's transaction. Returns how many were applied (and how many turned out to be outside their key's clients).
 */
export async function applyPending(trx: Transaction<Database>): Promise<{ applied: number; refused: number }> {
  const r = await sql<{ applied: string; refused: string }>`
    WITH known AS (
      SELECT e.source, e.event_id, cl.lead_id AS lead,
             (k.client_ids IS NOT NULL AND NOT (coalesce(c.client_id, '') = ANY(k.client_ids))) AS out_of_scope
        FROM crm_events e
        LEFT JOIN crm_lead_links l ON e.lead_id IS NULL AND l.crm = e.crm AND l.crm_record_id = e.crm_record_id
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
        FROM known k WHERE e.source = k.source AND e.event_id = k.event_id
      RETURNING e.lead_id, e.status, e.changed_at, e.state
    ),
    ins AS (
      INSERT INTO lead_status_changes (lead_id, status, changed_at)
      SELECT lead_id, status, changed_at FROM upd WHERE state = 'applied'
      ON CONFLICT (lead_id, changed_at) DO NOTHING
    )
    SELECT count(*) FILTER (WHERE state = 'applied')::text AS applied,
           count(*) FILTER (WHERE state = 'invalid')::text AS refused FROM upd`.execute(trx);
  return { applied: Number(r.rows[0]!.applied), refused: Number(r.rows[0]!.refused) };
}

export interface ReceiverState {
  lastHour: number;
  lastDay: number;
  pending: { count: number; oldest: Date | null };
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
  }>`
    SELECT (SELECT coalesce(sum(events), 0) FROM crm_inbox WHERE received_at > now() - interval '1 hour')::text
             AS last_hour,
           (SELECT coalesce(sum(events), 0) FROM crm_inbox WHERE received_at > now() - interval '1 day')::text
             AS last_day,
           (SELECT count(*) FROM crm_events WHERE state = 'pending')::text AS pending,
           (SELECT min(received_at) FROM crm_events WHERE state = 'pending') AS pending_oldest,
           (SELECT count(*) FROM crm_events WHERE state = 'invalid')::text AS invalid,
           (SELECT min(received_at) FROM crm_events WHERE state = 'invalid') AS invalid_oldest,
           (SELECT max(received_at) FROM crm_inbox) AS last_event`.execute(db);
  const x = r.rows[0]!;
  return {
    lastHour: Number(x.last_hour),
    lastDay: Number(x.last_day),
    pending: { count: Number(x.pending), oldest: x.pending_oldest },
    deadLetters: { count: Number(x.invalid), oldest: x.invalid_oldest },
    lastEventAt: x.last_event,
  };
}
