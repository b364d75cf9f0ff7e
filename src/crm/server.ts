import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
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
import { isConnectionError } from '../db/connection-errors.js';
import {
  activeKeyByPrefix,
  type CrmKey,
  type EventState,
  listKeys,
  recordRequest,
} from '../db/repositories/crm.repository.js';
import type { Database } from '../db/tables.js';

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
  log(level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>): void;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Reads the body up to MAX_BODY; past it, a 413 (the rest is not read). */
function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_BODY)
    return Promise.reject(new Refusal(413, `the body is over ${MAX_BODY} bytes; send at most 1,000 events a request`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        req.removeAllListeners('data');
        req.pause();
        reject(new Refusal(413, `the body is over ${MAX_BODY} bytes; send at most 1,000 events a request`));
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Keys: `lsk_<8-character prefix>_<secret>`; the prefix finds the key, scrypt checks the whole. */
export const KEY_FORMAT = /^lsk_([a-z0-9]{8})_([A-Za-z0-9_-]{32,})$/;

export function createCrmHandler(deps: CrmServerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  let keys: { at: number; value: Promise<Map<string, CrmKey>> } | null = null;
  /** The active keys, read again every 5 s: a revoked key stops within 5 s. */
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
  // A verified key is remembered (HMAC under a key made at start) while it stays active with the same hash.
  const secret = randomBytes(32);
  const verified = new Map<string, { keyId: string; hash: string }>();

  async function keyFor(header: string | undefined): Promise<CrmKey> {
    const m = header?.startsWith('Bearer ') ? KEY_FORMAT.exec(header.slice(7).trim()) : null;
    if (!m) throw new Refusal(401, 'Authorization: Bearer <key> is required (bin/crm-webhook keys create)');
    // A key made a moment ago is not in the list yet: it is looked up by its prefix (one indexed row).
    const key = (await activeKeys()).get(m[1]!) ?? (await activeKeyByPrefix(deps.db, m[1]!));
    const cacheKey = createHmac('sha256', secret).update(header!).digest('base64');
    const hit = verified.get(cacheKey);
    if (key && hit && hit.keyId === key.keyId && hit.hash === key.hash) return key;
    if (!key || !(await verifyPassword(m[0]!.slice(4), key.hash)))
      throw new Refusal(401, 'the key is unknown or revoked');
    if (verified.size > 1000) verified.clear();
    verified.set(cacheKey, { keyId: key.keyId, hash: key.hash });
    return key;
  }

  async function handle(req: IncomingMessage, path: string): Promise<{ status: number; body: unknown }> {
    let source: 'leads' | 'hubspot';
    let key: CrmKey | null = null;
    let events: CrmEvent[];
    if (path === '/webhooks/leads') {
      source = 'leads';
      key = await keyFor(req.headers.authorization);
      const body = await readBody(req);
      events = readLeadsBody(body, deps.statusMap, deps.now());
      return commit(source, key, body, events);
    }
    if (path === '/webhooks/hubspot') {
      source = 'hubspot';
      const h = deps.hubspot;
      if (!h?.secret || !h.publicUrl)
        throw new Refusal(404, 'HubSpot is not set up here: set HUBSPOT_APP_SECRET and CRM_WEBHOOK_PUBLIC_URL');
      const body = await readBody(req);
      const check = checkHubSpotSignature(
        h.secret,
        {
          method: req.method ?? 'POST',
          uri: `${h.publicUrl}${req.url ?? path}`,
          body,
          signature: header(req, 'x-hubspot-signature-v3'),
          timestamp: header(req, 'x-hubspot-request-timestamp'),
        },
        deps.now(),
      );
      if (!check.ok) throw new Refusal(401, check.reason);
      events = readHubSpotBody(body, h, deps.statusMap);
      return commit(source, null, body, events);
    }
    throw new Refusal(404, `no such endpoint: ${path.slice(0, 100)}; POST /webhooks/leads or /webhooks/hubspot`);
  }

  async function commit(source: 'leads' | 'hubspot', key: CrmKey | null, body: string, events: CrmEvent[]) {
    const states = await recordRequest(deps.db, {
      source,
      keyId: key?.keyId ?? null,
      scope: key?.clientIds ?? null,
      body,
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
      status: 200,
      body: {
        received: events.length,
        applied: count('applied'),
        pending: count('pending'),
        links: count('link'),
        duplicates: count('duplicate'),
        invalid,
      },
    };
  }

  return (req, res) => {
    const requestId = randomBytes(6).toString('hex');
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = `${JSON.stringify(body)}\n`;
      res.writeHead(status, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': String(Buffer.byteLength(text)),
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
        'X-Request-Id': requestId,
        ...headers,
      });
      res.end(text);
    };
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && path === '/healthz') return answer(200, { status: 'ok' });
    if (req.method !== 'POST') {
      req.resume();
      return answer(405, { error: 'POST only', request_id: requestId }, { Allow: 'POST' });
    }
    handle(req, path).then(
      (r) => answer(r.status, r.body),
      (e: unknown) => {
        const close = (status: number, body: unknown, headers: Record<string, string> = {}) => {
          // A body not read to its end: close the connection rather than read on.
          if (!req.complete) headers.Connection = 'close';
          // Closed once the answer is out: destroying at once could drop it unsent.
          if (!req.complete) res.once('finish', () => req.destroy());
          answer(status, body, headers);
        };
        if (e instanceof Refusal) close(e.status, { error: e.message, request_id: requestId }, e.headers);
        else if (e instanceof MalformedBody) close(400, { error: e.message, request_id: requestId });
        else if (isConnectionError(e)) {
          deps.log('warn', `database unavailable: ${(e as Error).message}`, { request_id: requestId });
          close(
            503,
            { error: 'database unavailable; nothing was stored; retry', request_id: requestId },
            {
              'Retry-After': '5',
            },
          );
        } else {
          deps.log('error', `POST ${path} failed: ${(e as Error)?.stack ?? String(e)}`, { request_id: requestId });
          close(500, { error: 'internal error; nothing was stored; retry', request_id: requestId });
        }
      },
    );
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
