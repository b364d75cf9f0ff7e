import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import {
  type CrmEvent,
  type HubSpotSettings,
  MalformedBody,
  readHubSpotBody,
  readLeadsBody,
} from '../core/crm/events.js';
import { checkHubSpotSignature } from '../core/crm/hubspot-signature.js';
import { verifyPassword } from '../core/security/passwords.js';
import {
  activeKeyByPrefix,
  type CrmKey,
  type EventState,
  KeyRevoked,
  listKeys,
  recordRequest,
} from '../db/repositories/crm.repository.js';
import type { Database } from '../db/tables.js';
import { createService, HttpError, type LogFn, type Refusals } from '../http/service.js';
import { KeyChecks } from './key-checks.js';

/**
 * The receiver: POST /webhooks/leads (the project's format, a bearer key) and POST /webhooks/hubspot (HubSpot's
 * batches, its v3 signature). A request is answered 2xx only after its events are committed; a malformed body, a bad
 * key or signature is refused and stored nowhere; the database down is 503 with Retry-After.
 */

export const MAX_BODY = 1024 * 1024;

export interface CrmServerDeps {
  db: Kysely<Database>;
  now(): number;
  statusMap: ReadonlyMap<string, string>;
  hubspot: (HubSpotSettings & { secret: string | null; publicUrl: string | null }) | null;
  /** TRUSTED_PROXIES: whose X-Forwarded-For names the client. */
  trustedProxies: readonly string[];
  /** Requests in progress at once before new ones get 503 (the database pool's size, a few times over). */
  maxInFlight: number;
  log: LogFn;
}

/** Keys: `lsk_<8-character prefix>_<secret>`; the prefix finds the key, scrypt checks the whole. */
export const KEY_FORMAT = /^lsk_([a-z0-9]{8})_([A-Za-z0-9_-]{32,})$/;

declare module 'fastify' {
  interface FastifyRequest {
    crmKey?: CrmKey;
  }
}

export async function createCrmService(deps: CrmServerDeps): Promise<{ app: FastifyInstance; refusals: Refusals }> {
  const { app, refusals } = await createService({
    log: deps.log,
    trustedProxies: deps.trustedProxies,
    bodyLimit: MAX_BODY,
    maxInFlight: deps.maxInFlight,
    unavailable: 'database unavailable; nothing was stored; retry',
    classify: (e) =>
      e instanceof MalformedBody
        ? { status: 400, message: e.message }
        : e instanceof KeyRevoked
          ? { status: 401, message: 'the key is unknown or revoked' }
          : null,
  });

  let keys: { at: number; value: Promise<Map<string, CrmKey>> } | null = null;
  /** The active keys, read again every 5 s (revocation itself is checked in the request's own transaction). */
  const activeKeys = () => {
    if (!keys || deps.now() - keys.at >= 5000) {
      const value = listKeys(deps.db).then(
        (all) => new Map(all.filter((k) => k.revokedAt === null).map((k) => [k.prefix, k])),
      );
      value.catch(() => {
        keys = null;
      });
      keys = { at: deps.now(), value };
    }
    return keys.value;
  };
  const checks = new KeyChecks({ verify: verifyPassword, now: deps.now });

  async function keyFor(header: string | undefined): Promise<CrmKey> {
    const m = header?.startsWith('Bearer ') ? KEY_FORMAT.exec(header.slice(7).trim()) : null;
    if (!m) throw new HttpError(401, 'Authorization: Bearer <key> is required (bin/crm-webhook keys create)');
    // A key made a moment ago is not in the list yet: it is looked up by its prefix (one indexed row).
    const key = (await activeKeys()).get(m[1]!) ?? (await activeKeyByPrefix(deps.db, m[1]!));
    if (!key) throw new HttpError(401, 'the key is unknown or revoked');
    const verdict = await checks.check(m[0]!.slice(4), key);
    if (verdict === 'busy')
      throw new HttpError(503, 'too many key checks in progress; nothing was stored; retry shortly', {
        'Retry-After': '2',
      });
    if (verdict === 'bad') throw new HttpError(401, 'the key is unknown or revoked');
    return key;
  }

  // The raw body, as sent: HubSpot signs it byte for byte, and the inbox keeps it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  const commit = async (
    request: FastifyRequest,
    source: 'leads' | 'hubspot',
    key: CrmKey | null,
    events: CrmEvent[],
  ) => {
    // A sender that gave up waiting (a queue in front of the pool) retries: storing its request now would only add a
    // duplicate to its retry.
    if (request.raw.destroyed || request.raw.socket?.destroyed)
      throw new HttpError(503, 'the sender closed the connection; nothing was stored');
    const states = await recordRequest(deps.db, {
      source,
      sender: key ? `key:${key.keyId}` : senderOfHubSpot(events),
      keyId: key?.keyId ?? null,
      scope: key?.clientIds ?? null,
      body: request.body as string,
      events,
    });
    const count = (s: EventState) => states.filter((x) => x === s).length;
    const invalid = events
      .map((e, i) => ({ e, state: states[i] }))
      .filter((x) => x.state === 'invalid')
      .map(({ e }) => ({
        index: e.index,
        event_id: e.eventId,
        reason: e.reason ?? 'the lead belongs to a client this key may not write for',
      }));
    return {
      received: events.length,
      applied: count('applied'),
      pending: count('pending'),
      links: count('link'),
      duplicates: count('duplicate'),
      invalid,
    };
  };

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.post(
    '/webhooks/leads',
    {
      // The key is checked before the body is read: a stranger's megabyte is not read at all.
      onRequest: async (request) => {
        request.crmKey = await keyFor(request.headers.authorization);
      },
    },
    async (request) => {
      const events = readLeadsBody(bodyText(request), deps.statusMap, deps.now());
      return commit(request, 'leads', request.crmKey!, events);
    },
  );

  app.post('/webhooks/hubspot', async (request) => {
    const h = deps.hubspot;
    if (!h?.secret || !h.publicUrl)
      throw new HttpError(404, 'HubSpot is not set up here: set HUBSPOT_APP_SECRET and CRM_WEBHOOK_PUBLIC_URL');
    const body = bodyText(request);
    const check = checkHubSpotSignature(
      h.secret,
      {
        method: request.method,
        uri: `${h.publicUrl}${request.url}`,
        body,
        signature: header(request, 'x-hubspot-signature-v3'),
        timestamp: header(request, 'x-hubspot-request-timestamp'),
      },
      deps.now(),
    );
    if (!check.ok) throw new HttpError(401, check.reason);
    return commit(request, 'hubspot', null, readHubSpotBody(body, h, deps.statusMap));
  });

  app.setNotFoundHandler(async (request) => {
    if (request.method !== 'POST' && !(request.method === 'GET' && request.url === '/healthz')) {
      throw new HttpError(405, 'POST only', { Allow: 'POST' });
    }
    throw new HttpError(
      404,
      `no such endpoint: ${request.url.split('?')[0]!.slice(0, 100)}; POST /webhooks/leads or /webhooks/hubspot`,
    );
  });

  return { app, refusals };
}

/** A HubSpot batch's sender: its portal (every event of a delivery comes from one portal; the first valid names it). */
function senderOfHubSpot(events: CrmEvent[]): string {
  const portal = events.map((e) => /^(\d+):\d+:\d+$/.exec(e.eventId)?.[1]).find((p) => p !== undefined);
  return `portal:${portal ?? 'unknown'}`;
}

function bodyText(request: FastifyRequest): string {
  return typeof request.body === 'string' ? request.body : '';
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
