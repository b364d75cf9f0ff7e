import { isIsoDate } from '../dates.js';
import { RECOMMENDATIONS, type Recommendation } from '../scoring/types.js';

/**
 * What the values of status-server's query parameters mean, checked strictly: a malformed one is a 400 with a
 * message, never a guess (which parameters a route takes at all, its JSON schema says). And the counter of failed
 * sign-ins. Pure: the caller passes the clock.
 */

export class BadRequest extends Error {}

export interface Page {
  limit: number;
  /** Decoded keyset cursor, or null for the first page. */
  after: string[] | null;
}

const MAX_LIMIT = 500;

/**
 * For the pages people open from links: parameters they do not know (a mail's `utm_source`, an ad's `fbclid`) are
 * ignored, and only a known one given twice is refused.
 */
export function checkKnownParams(params: URLSearchParams, known: readonly string[]): void {
  for (const key of known)
    if (params.getAll(key).length > 1) throw new BadRequest(`parameter "${key}" given more than once`);
}

export function parseDate(params: URLSearchParams): string | null {
  const d = params.get('date');
  if (d === null) return null;
  if (!isIsoDate(d)) throw new BadRequest(`date=${d.slice(0, 40)}: expected YYYY-MM-DD`);
  return d;
}

export function parseRecommendation(params: URLSearchParams, name = 'recommendation'): Recommendation | null {
  const r = params.get(name);
  if (r === null) return null;
  if (!(RECOMMENDATIONS as readonly string[]).includes(r))
    throw new BadRequest(`${name}=${r.slice(0, 40)}: expected one of ${RECOMMENDATIONS.join(', ')}`);
  return r as Recommendation;
}

/** A client or campaign id: printable, at most 200 characters. */
export function parseId(value: string | null, name: string): string | null {
  if (value === null) return null;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  if (value === '' || value.length > 200 || /[\u0000-\u001f\u007f]/.test(value))
    throw new BadRequest(`${name}: expected a non-empty id of at most 200 printable characters`);
  return value;
}

export function encodeCursor(values: readonly string[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function parsePage(params: URLSearchParams, arity: number, defaultLimit = 100): Page {
  const l = params.get('limit');
  let limit = defaultLimit;
  if (l !== null) {
    if (!/^\d{1,4}$/.test(l) || Number(l) < 1 || Number(l) > MAX_LIMIT)
      throw new BadRequest(`limit=${l.slice(0, 20)}: expected a whole number from 1 to ${MAX_LIMIT}`);
    limit = Number(l);
  }
  const c = params.get('cursor');
  if (c === null) return { limit, after: null };
  let after: unknown;
  try {
    if (!/^[A-Za-z0-9_-]{1,2000}$/.test(c)) throw new Error('shape');
    after = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
  } catch {
    throw new BadRequest('cursor: not a cursor this API returned; use next_cursor from the previous page');
  }
  // Only strings this API could have put there: no control characters (a NUL reached PostgreSQL and answered 500).
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  const fits = (x: unknown): boolean => typeof x === 'string' && x.length <= 400 && !/[\u0000-\u001f\u007f]/.test(x);
  if (!Array.isArray(after) || after.length !== arity || !after.every(fits))
    throw new BadRequest('cursor: not a cursor this API returned; use next_cursor from the previous page');
  return { limit, after: after as string[] };
}

/**
 * A fixed-window counter per client address: `limit` requests per
 * `windowMs`. Entries expire with their window, so memory stays bounded by
 * the addresses seen in one window.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  take(key: string, nowMs: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    let w = this.windows.get(key);
    if (w === undefined || nowMs - w.start >= this.windowMs) {
      if (this.windows.size > 10_000) this.sweep(nowMs);
      w = { start: nowMs, count: 0 };
      this.windows.set(key, w);
    }
    w.count += 1;
    if (w.count <= this.limit) return { ok: true };
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((w.start + this.windowMs - nowMs) / 1000)) };
  }

  /** Takes back one `take` of the current window (a request that turned out not to count). */
  giveBack(key: string): void {
    const w = this.windows.get(key);
    if (w !== undefined && w.count > 0) w.count -= 1;
  }

  /** Forgets the key's window: what it counted no longer counts. */
  reset(key: string): void {
    this.windows.delete(key);
  }

  private sweep(nowMs: number): void {
    for (const [k, w] of this.windows) if (nowMs - w.start >= this.windowMs) this.windows.delete(k);
  }
}
