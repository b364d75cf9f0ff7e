import { randomBytes } from 'node:crypto';
import compress from '@fastify/compress';
import helmet from '@fastify/helmet';
import underPressure from '@fastify/under-pressure';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { BadRequest } from '../core/status/requests.js';
import { isConnectionError } from '../db/connection-errors.js';

/**
 * What both services (status-server, crm-webhook) share on Fastify: a request id on every answer, security headers
 * (@fastify/helmet), compression, overload control (@fastify/under-pressure and a bound on requests in progress), the
 * client address behind configured proxies only, one mapping from an error to its status, refusals counted and
 * logged, and the answer when the database is not there.
 */

/** An error answered with its own status (404, 401, 429 …) and headers; its message is meant for the caller. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export type LogFn = (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;

export interface ServiceSettings {
  log: LogFn;
  /**
   * TRUSTED_PROXIES: the addresses (or CIDR ranges) of the reverse proxies whose X-Forwarded-For is believed. Empty:
   * the socket's address is the client's, and X-Forwarded-For is ignored (anyone can send one).
   */
  trustedProxies: readonly string[];
  /** Largest request body, in bytes; past it a 413. */
  bodyLimit: number;
  /** Requests in progress at once; past it a 503 with Retry-After at once, instead of a queue without bound. */
  maxInFlight: number;
  /** Event-loop delay past which requests get a 503 (ms). */
  maxEventLoopDelayMs?: number;
  /** What a 503 for an unavailable database says (the rest of the answer is shared). */
  unavailable: string;
  /** An error page for people (HTML), or null when this request is answered in JSON. */
  pageFor?: (request: FastifyRequest) => ((status: number, message: string) => string) | null;
  /** Errors of the service's own kinds mapped to their answers (a malformed body → 400 …); null: not one of them. */
  classify?: (error: unknown) => { status: number; message: string; headers?: Record<string, string> } | null;
}

/** Refusals answered since start, by status: a rotated secret or a flood shows as numbers, not silence. */
export class Refusals {
  readonly byStatus = new Map<number, number>();
  private lastLogged = new Map<number, number>();
  private unlogged = new Map<number, number>();

  count(status: number): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }

  /** Whether to log this refusal: the first of its status every 10 s, with how many went unlogged before it. */
  logNow(status: number, nowMs: number): { log: boolean; skipped: number } {
    const last = this.lastLogged.get(status) ?? -Infinity;
    if (nowMs - last < 10_000) {
      this.unlogged.set(status, (this.unlogged.get(status) ?? 0) + 1);
      return { log: false, skipped: 0 };
    }
    const skipped = this.unlogged.get(status) ?? 0;
    this.lastLogged.set(status, nowMs);
    this.unlogged.set(status, 0);
    return { log: true, skipped };
  }
}

/** Statuses that are refusals of a request (counted and logged), as opposed to answers or failures of ours. */
const REFUSALS = new Set([400, 401, 403, 405, 413, 414, 415, 429, 431, 503]);

export const CSP = {
  defaultSrc: ["'none'"],
  styleSrc: ["'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
};

export async function createService(s: ServiceSettings): Promise<{ app: FastifyInstance; refusals: Refusals }> {
  const app = Fastify({
    logger: false,
    bodyLimit: s.bodyLimit,
    trustProxy: s.trustedProxies.length === 0 ? false : [...s.trustedProxies],
    // The id is ours: one sent by the client is not trusted (it would end up in our logs as if we had made it).
    requestIdHeader: false,
    genReqId: () => randomBytes(6).toString('hex'),
    // On close: idle keep-alive connections are closed at once; requests in progress finish, and their answers say
    // Connection: close.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    connectionTimeout: 30_000,
    keepAliveTimeout: 5000,
    requestTimeout: 30_000,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 1000 },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  const refusals = new Refusals();

  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: CSP },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
    // Behind TLS at the proxy; HSTS is the proxy's to send for the whole host.
    strictTransportSecurity: false,
  });
  await app.register(compress, { global: true, threshold: 1024, encodings: ['br', 'gzip', 'deflate'] });

  let inFlight = 0;
  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
    reply.header('Cache-Control', 'no-store');
    if (request.url.length > 4096)
      throw new HttpError(414, 'the address is longer than 4096 characters; use fewer or shorter filters');
    if (inFlight >= s.maxInFlight) {
      throw new HttpError(503, 'too many requests in progress; nothing was done; retry shortly', {
        'Retry-After': '2',
      });
    }
    inFlight += 1;
    let done = false;
    const release = () => {
      if (!done) {
        done = true;
        inFlight -= 1;
      }
    };
    reply.raw.once('finish', release);
    reply.raw.once('close', release);
  });

  await app.register(underPressure, {
    maxEventLoopDelay: s.maxEventLoopDelayMs ?? 1000,
    retryAfter: 5,
    exposeStatusRoute: false,
    pressureHandler: (request, reply, type, value) => {
      refusals.count(503);
      void sendError(request, reply, 503, `the service is overloaded (${type} ${Number(value).toFixed(0)}); retry`, {
        'Retry-After': '5',
      });
    },
  });

  const sendError = (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    message: string,
    headers: Record<string, string> = {},
  ) => {
    reply.code(status).headers(headers);
    const page = s.pageFor?.(request) ?? null;
    if (page) return reply.type('text/html; charset=utf-8').send(page(status, message));
    return reply.type('application/json; charset=utf-8').send({ error: message, request_id: request.id });
  };

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const own = s.classify?.(error) ?? null;
    if (own) return sendError(request, reply, own.status, own.message, own.headers);
    if (error instanceof HttpError) return sendError(request, reply, error.status, error.message, error.headers);
    if (error instanceof BadRequest) return sendError(request, reply, 400, error.message);
    if (error.validation) return sendError(request, reply, 400, error.message);
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return sendError(
        request,
        reply,
        413,
        `the body is over ${s.bodyLimit} bytes; send at most 1,000 events a request`,
      );
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500)
      return sendError(request, reply, error.statusCode, error.message);
    if (isConnectionError(error)) {
      s.log('warn', `database unavailable for ${request.method} ${request.routeOptions.url ?? '?'}: ${error.message}`, {
        request_id: request.id,
      });
      return sendError(request, reply, 503, s.unavailable, { 'Retry-After': '5' });
    }
    s.log('error', `${request.method} ${request.routeOptions.url ?? '?'} failed: ${error?.stack ?? String(error)}`, {
      request_id: request.id,
    });
    return sendError(request, reply, 500, `internal error; the log has the details under request id ${request.id}`);
  });

  app.addHook('onResponse', async (request, reply) => {
    const status = reply.statusCode;
    if (!REFUSALS.has(status)) return;
    refusals.count(status);
    const when = refusals.logNow(status, Date.now());
    if (when.log)
      s.log('warn', `refused ${request.method} ${request.url.split('?')[0]!.slice(0, 100)}: ${status}`, {
        request_id: request.id,
        status,
        address: request.ip,
        ...(when.skipped > 0 ? { refused_since_last_logged: when.skipped } : {}),
      });
  });

  return { app, refusals };
}

/** Query parameters as the URL carries them (repeated keys kept), for the strict checks of core/status/requests. */
export function searchParams(request: FastifyRequest): URLSearchParams {
  const q = request.url.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : request.url.slice(q + 1));
}
