import { createHash } from 'node:crypto';

/**
 * What crm-webhook receives, read into one shape: the project's own format (POST /webhooks/leads) and HubSpot's
 * webhook batches (POST /webhooks/hubspot). Pure: the caller has the raw body, the settings and the clock.
 */

/** One event of a request, valid (reason null) or not. */
export interface CrmEvent {
  /** Its place in the request (0-based), for the answer. */
  index: number;
  /** Unique per source: a retried event has the same id and changes nothing. */
  eventId: string;
  /** The CRM the record id belongs to ('hubspot', or the sender's `crm`, default 'crm'). */
  crm: string;
  crmRecordId: string | null;
  leadId: string | null;
  /** status: a lead-status change; link: the record's Lead Ads lead id (a HubSpot property holding it). */
  kind: 'status' | 'link';
  rawStatus: string | null;
  /** The project's status (CRM_STATUS_MAP applied); null when invalid or a link. */
  status: string | null;
  /** ISO instant. */
  changedAt: string | null;
  /** Why the event is invalid (kept as a dead letter), or null. */
  reason: string | null;
}

/** A body that is refused as a whole (400): nothing is stored. */
export class MalformedBody extends Error {}

export const MAX_EVENTS = 1000;
const ID = /^[\x21-\x7e][\x20-\x7e]{0,199}$/;

/** The project's statuses (docs/csv-import.md, lead-status) that a CRM value may map to. */
export const PROJECT_STATUSES = ['new', 'contacted', 'qualified', 'converted', 'lost', 'unqualified'] as const;

/**
 * HubSpot's lead status values (hs_lead_status) and the project's own names, mapped by default; CRM_STATUS_MAP adds
 * to them or replaces them. Compared in lower case.
 */
export const DEFAULT_STATUS_MAP: Readonly<Record<string, string>> = {
  new: 'new',
  open: 'new',
  contacted: 'contacted',
  attempted_to_contact: 'contacted',
  in_progress: 'contacted',
  connected: 'contacted',
  qualified: 'qualified',
  open_deal: 'qualified',
  converted: 'converted',
  customer: 'converted',
  lost: 'lost',
  unqualified: 'unqualified',
  bad_timing: 'lost',
};

/**
 * CRM_STATUS_MAP: `crm value=project status` pairs separated by commas, e.g. `Hot Lead=qualified,Won=converted`.
 * Returns the merged map and every problem (each naming the pair and the fix).
 */
export function parseStatusMap(text: string | undefined): { map: Map<string, string>; problems: string[] } {
  const map = new Map(Object.entries(DEFAULT_STATUS_MAP));
  const problems: string[] = [];
  if (text === undefined || text.trim() === '') return { map, problems };
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.lastIndexOf('=');
    const from = pair.slice(0, Math.max(0, eq)).trim().toLowerCase();
    const to = pair
      .slice(eq + 1)
      .trim()
      .toLowerCase();
    if (eq < 0 || from === '' || to === '')
      problems.push(`CRM_STATUS_MAP: "${pair.trim()}" is not crm value=project status`);
    else if (!(PROJECT_STATUSES as readonly string[]).includes(to))
      problems.push(`CRM_STATUS_MAP: "${pair.trim()}" maps to ${to}; expected one of ${PROJECT_STATUSES.join(', ')}`);
    else map.set(from, to);
  }
  return { map, problems };
}

/** The id a dead letter without a usable id of its own is kept under: the same event sent again is the same. */
const fingerprint = (value: unknown): string =>
  `sha256:${createHash('sha256')
    .update(JSON.stringify(value) ?? 'undefined')
    .digest('hex')
    .slice(0, 32)}`;

function instant(value: unknown, nowMs: number): { iso: string } | { reason: string } {
  if (
    typeof value !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(value)
  )
    return { reason: 'changed_at: expected an ISO 8601 instant with its zone, e.g. 2025-11-15T10:00:00Z' };
  // Date.parse rolls 2025-02-30 over to March: the calendar date and the clock are checked first.
  const [y, m, d, hh, mm] = value.match(/\d+/g)!.slice(0, 5).map(Number) as [number, number, number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  const ms = Date.parse(value);
  if (day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d || hh > 23 || mm > 59 || Number.isNaN(ms))
    return { reason: `changed_at ${value}: not a real date and time` };
  if (ms > nowMs + 86_400_000) return { reason: `changed_at ${value}: more than a day in the future` };
  // Microseconds are kept (PostgreSQL stores them): two changes within a millisecond stay two, in their order.
  const micro = /\.\d{3}(\d{1,3})/.exec(value)?.[1]?.padEnd(3, '0') ?? '';
  return { iso: new Date(ms).toISOString().replace('Z', `${micro}Z`) };
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new MalformedBody(`the body is not JSON (${(error as Error).message})`);
  }
}

/** POST /webhooks/leads: `{"events": [{event_id, lead_id | crm_record_id, status, changed_at, crm?}]}`. */
export function readLeadsBody(body: string, statusMap: ReadonlyMap<string, string>, nowMs: number): CrmEvent[] {
  const doc = parseJson(body) as { events?: unknown } | null;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !Array.isArray(doc.events))
    throw new MalformedBody('expected {"events": [ … ]}');
  if (doc.events.length === 0) throw new MalformedBody('"events" is empty');
  if (doc.events.length > MAX_EVENTS)
    throw new MalformedBody(`${doc.events.length} events; at most ${MAX_EVENTS} a request: send them in parts`);
  return doc.events.map((raw, index): CrmEvent => {
    const e = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as Record<string, unknown>;
    const text = (k: string) => (typeof e[k] === 'string' ? (e[k] as string).trim() : null);
    const eventId = text('event_id');
    const crm = text('crm') ?? 'crm';
    const base: CrmEvent = {
      index,
      eventId: eventId !== null && ID.test(eventId) ? eventId : fingerprint(raw),
      crm,
      crmRecordId: text('crm_record_id'),
      leadId: text('lead_id'),
      kind: 'status',
      rawStatus: text('status'),
      status: null,
      changedAt: null,
      reason: null,
    };
    const invalid = (reason: string): CrmEvent => ({ ...base, reason });
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return invalid('not an object');
    if (eventId === null || !ID.test(eventId))
      return invalid('event_id: expected a non-empty printable string of at most 200 characters');
    if (!ID.test(crm)) return invalid('crm: expected a short printable name');
    if ((base.leadId === null) === (base.crmRecordId === null))
      return invalid('give exactly one of lead_id and crm_record_id');
    for (const [k, v] of [
      ['lead_id', base.leadId],
      ['crm_record_id', base.crmRecordId],
    ] as const)
      if (v !== null && !ID.test(v)) return invalid(`${k}: expected a printable id of at most 200 characters`);
    if (base.rawStatus === null || base.rawStatus === '') return invalid('status: missing');
    const status = statusMap.get(base.rawStatus.toLowerCase());
    if (status === undefined)
      return invalid(`status "${base.rawStatus.slice(0, 60)}" is not mapped; add it to CRM_STATUS_MAP`);
    const at = instant(e.changed_at, nowMs);
    if ('reason' in at) return invalid(at.reason);
    return { ...base, status, changedAt: at.iso };
  });
}

export interface HubSpotSettings {
  /** The contact property holding the lead status (default hs_lead_status). */
  statusProperty: string;
  /** A contact property holding the Lead Ads lead id, when the CRM keeps one. */
  leadIdProperty: string | null;
}

/**
 * POST /webhooks/hubspot: HubSpot's batch, a JSON array of events. A `contact.propertyChange` (or, from an app on
 * HubSpot's newer platform, an `object.propertyChange` of object type 0-1, a contact) of the status property is a
 * status change of the contact (objectId); of the lead-id property, a link from the contact to its lead. Any other
 * event is kept as invalid, saying what it was, so a subscription set up wrong shows in the dead letters.
 */
export function readHubSpotBody(
  body: string,
  settings: HubSpotSettings,
  statusMap: ReadonlyMap<string, string>,
): CrmEvent[] {
  const doc = parseJson(body);
  if (!Array.isArray(doc)) throw new MalformedBody('expected a JSON array of HubSpot events');
  if (doc.length === 0) throw new MalformedBody('the batch is empty');
  if (doc.length > MAX_EVENTS) throw new MalformedBody(`${doc.length} events; at most ${MAX_EVENTS} a request`);
  return doc.map((raw, index): CrmEvent => {
    const e = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as Record<string, unknown>;
    const num = (k: string) => (typeof e[k] === 'number' && Number.isSafeInteger(e[k]) ? (e[k] as number) : null);
    const [eventId, portalId, subscriptionId, objectId, occurredAt] = [
      num('eventId'),
      num('portalId'),
      num('subscriptionId'),
      num('objectId'),
      num('occurredAt'),
    ];
    // HubSpot does not promise eventId is unique alone: it is, with the portal and the subscription.
    const id =
      eventId !== null && portalId !== null && subscriptionId !== null
        ? `${portalId}:${subscriptionId}:${eventId}`
        : fingerprint(raw);
    const value = typeof e.propertyValue === 'string' ? e.propertyValue.trim() : null;
    const base: CrmEvent = {
      index,
      eventId: id,
      // Contact ids are per portal: an app installed in two portals sees two contacts 951.
      crm: portalId === null ? 'hubspot' : `hubspot:${portalId}`,
      crmRecordId: objectId === null ? null : String(objectId),
      leadId: null,
      kind: 'status',
      rawStatus: value,
      status: null,
      changedAt: occurredAt === null ? null : new Date(occurredAt).toISOString(),
      reason: null,
    };
    const invalid = (reason: string): CrmEvent => ({ ...base, reason });
    if (eventId === null || portalId === null || subscriptionId === null)
      return invalid('eventId, portalId and subscriptionId: expected numbers');
    if (objectId === null) return invalid('objectId: expected the contact id, a number');
    if (occurredAt === null || occurredAt < 946_684_800_000) return invalid('occurredAt: expected milliseconds');
    const type = typeof e.subscriptionType === 'string' ? e.subscriptionType : '';
    const property = typeof e.propertyName === 'string' ? e.propertyName : '';
    // Apps on HubSpot's newer platform send the generic object.propertyChange naming the object type (0-1: contacts).
    if (type === 'object.propertyChange' && e.objectTypeId !== '0-1')
      return invalid(
        `object.propertyChange of object type ${typeof e.objectTypeId === 'string' ? e.objectTypeId : '(none)'} ` +
          'is not a contact (0-1); subscribe to contacts only',
      );
    if (type !== 'contact.propertyChange' && type !== 'object.propertyChange')
      return invalid(`${type || 'an event'} is not a contact.propertyChange; subscribe to those only`);
    if (property === settings.leadIdProperty) {
      if (value === null || !ID.test(value)) return invalid(`${property}: expected a lead id`);
      return { ...base, kind: 'link', leadId: value, rawStatus: null };
    }
    if (property !== settings.statusProperty)
      return invalid(`property ${property || '(none)'} is neither ${settings.statusProperty} nor a lead id property`);
    if (value === null || value === '') return invalid(`${property}: the new value is empty`);
    const status = statusMap.get(value.toLowerCase());
    if (status === undefined) return invalid(`status "${value.slice(0, 60)}" is not mapped; add it to CRM_STATUS_MAP`);
    return { ...base, status };
  });
}
