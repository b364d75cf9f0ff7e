import { setTimeout as sleep } from 'node:timers/promises';
import Bottleneck from 'bottleneck';
import pRetry from 'p-retry';
import { classifyGraphError, describeGraphError, type GraphErrorInfo } from '../../core/facebook/errors.js';
import { pacingFor, readUsage, USAGE_HEADERS, type PacingPolicy } from '../../core/facebook/usage.js';

/** How hard to try and how long to wait. Defaults suit the production API; tests shrink the times. */
export interface GraphClientSettings {
  /** e.g. https://graph.facebook.com */
  baseUrl: string;
  /** e.g. v25.0 */
  version: string;
  token: string;
  /** Whole request, connect to last body byte. */
  requestTimeoutMs: number;
  /** Retries of a transient failure (so retries + 1 attempts). */
  retries: number;
  /** First backoff; doubles per retry, with jitter, up to retryMaxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** A throttle that says access returns within this is waited out (at most twice per call); a longer one defers the account. */
  maxThrottleWaitMs: number;
  pacing: PacingPolicy;
}

/** A response as archived: no token in the URL, only the headers worth keeping. */
export interface ArchivedResponse {
  seq: number;
  accountId: string;
  endpoint: string;
  method: 'GET' | 'POST';
  url: string;
  status: number;
  headers: Record<string, string>;
  fetchedAt: string;
  body: unknown;
}

/** A Graph API call failed for good; `info.kind` says what it means for the account. */
export class GraphApiError extends Error {
  constructor(readonly info: GraphErrorInfo, readonly path: string) {
    super(`${path}: ${describeGraphError(info)}`);
    this.name = 'GraphApiError';
  }
}

/** The account must not be called again this run (usage too high or a long throttle); the next run retries it. */
export class AccountDeferred extends Error {
  constructor(message: string, readonly appWide: boolean, readonly regainSeconds: number) {
    super(message);
    this.name = 'AccountDeferred';
  }
}

/** Per-account numbers for the run summary. */
export interface CallStats {
  /** HTTP requests sent, retries included. */
  calls: number;
  /** Re-sent after a transient failure. */
  retries: number;
  /** Throttle errors received. */
  throttled: number;
  /** Time spent waiting for a throttle or pacing, ms. */
  waitedMs: number;
  /** Highest usage percentage seen in any header. */
  peakUsagePct: number;
  /** Highest value per header key. */
  peaks: Record<string, number>;
  malformedHeaders: number;
}

export function emptyCallStats(): CallStats {
  return { calls: 0, retries: 0, throttled: 0, waitedMs: 0, peakUsagePct: 0, peaks: {}, malformedHeaders: 0 };
}

const KEPT_HEADERS = [...USAGE_HEADERS, 'content-type', 'x-fb-trace-id', 'x-fb-rev', 'x-fb-request-id'];

/** Strips the token from a URL; the rest (fields, time_range, cursors) is kept for the audit trail. */
export function stripToken(url: string): string {
  try {
    const u = new URL(url);
    for (const k of ['access_token', 'appsecret_proof']) u.searchParams.delete(k);
    return u.toString();
  } catch {
    return url.replace(/((?:access_token|appsecret_proof)=)[^&\s]+/g, '$1[REDACTED]');
  }
}

/** paging.next and paging.previous embed the access token. */
function withoutPagingTokens(body: unknown): unknown {
  const paging = (body as { paging?: Record<string, unknown> } | null)?.paging;
  if (!paging || typeof paging !== 'object') return body;
  const clean = { ...paging };
  for (const k of ['next', 'previous']) if (typeof clean[k] === 'string') clean[k] = stripToken(clean[k] as string);
  return { ...(body as object), paging: clean };
}

/** Removes the answers people typed into Lead Ads forms; only the field names stay. */
export function withoutLeadPii(body: unknown): unknown {
  if (!body || typeof body !== 'object') return body;
  const o = body as { data?: unknown };
  if (!Array.isArray(o.data)) return body;
  return {
    ...o,
    data: o.data.map((item) => {
      if (!item || typeof item !== 'object') return item;
      const { field_data: fieldData, custom_disclaimer_responses: _c, ...rest } = item as Record<string, unknown>;
      return Array.isArray(fieldData) ? { ...rest, field_names: fieldData.map((f) => (f as { name?: unknown })?.name ?? null) } : rest;
    }),
  };
}

function networkError(error: unknown, timeoutMs: number): GraphErrorInfo {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const timedOut = e?.name === 'TimeoutError' || e?.cause?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.cause?.code === 'UND_ERR_BODY_TIMEOUT';
  const detail = timedOut ? `no complete answer within ${timeoutMs} ms` : (e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(error));
  return { kind: 'transient', status: 0, message: `network: ${detail}`, appWide: false };
}

/**
 * One ad account's connection to the Graph API: one request in flight at a
 * time (bottleneck), spacing that grows with the usage headers, transient
 * failures retried with exponential backoff and jitter (p-retry), throttles
 * waited out when short and turned into AccountDeferred when long.
 */
export class AccountSession {
  readonly stats: CallStats = emptyCallStats();
  private readonly limiter = new Bottleneck({ maxConcurrent: 1, minTime: 0 });
  private readonly numericId: string;
  private deferral: AccountDeferred | null = null;
  private seq = 0;
  /** Spacing between the starts of two calls, from the latest usage headers; enforced here, one call at a time by the limiter. */
  private spacingMs = 0;
  private lastStart = 0;

  constructor(
    readonly accountId: string,
    private readonly settings: GraphClientSettings,
    /** The run's signal (SIGTERM or the --timeout deadline): every wait and request ends with it. */
    readonly signal: AbortSignal,
    private readonly archive: (entry: ArchivedResponse) => Promise<void>,
  ) {
    this.numericId = accountId.replace(/^act_/, '');
  }

  /** A URL under the Graph API for a relative path such as `act_1/campaigns`. */
  url(path: string, params: Record<string, string> = {}): string {
    const u = new URL(`${this.settings.baseUrl}/${this.settings.version}/${path}`);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u.toString();
  }

  /**
   * GETs a Graph API URL (a built one or a paging.next) and returns the
   * parsed JSON object. `list`: the answer must carry a `data` list (a page);
   * anything else counts as a malformed, transient answer.
   */
  async get(url: string, endpoint: string, options: { list?: boolean } = {}): Promise<Record<string, unknown>> {
    return this.request(url, endpoint, options.list === true);
  }

  /** POSTs a form (an asynchronous report run); same retries, pacing and archive as a GET. */
  async post(url: string, endpoint: string, form: Record<string, string>): Promise<Record<string, unknown>> {
    return this.request(url, endpoint, false, form);
  }

  private async request(url: string, endpoint: string, list: boolean, form?: Record<string, string>): Promise<Record<string, unknown>> {
    const target = new URL(url);
    // paging.next embeds the token; it is sent as a header instead, and never to another host.
    if (target.origin !== new URL(this.settings.baseUrl).origin) {
      throw new GraphApiError({ kind: 'request', status: 0, message: `refusing to follow a URL to another host (${target.origin})`, appWide: false }, endpoint);
    }
    target.searchParams.delete('access_token');
    for (let throttles = 0; ; throttles++) {
      try {
        return await pRetry(() => this.limiter.schedule(() => this.once(target.toString(), endpoint, list, form)), {
          retries: this.settings.retries,
          minTimeout: this.settings.retryBaseMs,
          maxTimeout: this.settings.retryMaxMs,
          factor: 2,
          randomize: true,
          signal: this.signal,
          shouldRetry: ({ error }) => error instanceof GraphApiError && error.info.kind === 'transient' && !this.signal.aborted,
          onFailedAttempt: ({ error, retriesLeft }) => {
            if (error instanceof GraphApiError && error.info.kind === 'transient' && retriesLeft > 0) this.stats.retries += 1;
          },
        });
      } catch (error) {
        if (this.signal.aborted) throw this.signal.reason as Error;
        if (!(error instanceof GraphApiError) || error.info.kind !== 'throttle') throw error;
        this.stats.throttled += 1;
        const regainMs = (error.info.regainSeconds ?? 0) * 1000;
        const waitMs = regainMs > 0 ? regainMs : Math.min(this.settings.retryMaxMs, this.settings.retryBaseMs * 4 ** (throttles + 1));
        if (throttles >= 2 || waitMs > this.settings.maxThrottleWaitMs) {
          throw new AccountDeferred(
            `rate limited (${describeGraphError(error.info)}); access returns in about ${Math.ceil(waitMs / 60000)} min, so the account is left for the next run`,
            error.info.appWide,
            Math.ceil(waitMs / 1000),
          );
        }
        this.stats.waitedMs += waitMs;
        await sleep(waitMs, undefined, { signal: this.signal }).catch(() => undefined);
      }
    }
  }

  private async once(url: string, endpoint: string, list: boolean, form?: Record<string, string>): Promise<Record<string, unknown>> {
    if (this.deferral) throw this.deferral;
    if (this.signal.aborted) throw this.signal.reason as Error;
    const wait = this.lastStart + this.spacingMs - Date.now();
    if (wait > 0) {
      this.stats.waitedMs += wait;
      await sleep(wait, undefined, { signal: this.signal }).catch(() => undefined);
      if (this.signal.aborted) throw this.signal.reason as Error;
    }
    this.lastStart = Date.now();
    this.stats.calls += 1;
    const seq = ++this.seq;
    const record = (headers: Record<string, string>, body: unknown): Promise<void> =>
      this.archive({ seq, accountId: this.accountId, endpoint, method: form ? 'POST' : 'GET', url: stripToken(url), status, headers, fetchedAt: new Date().toISOString(), body });
    let status = 0;
    let text = '';
    let headers: Headers | null = null;
    try {
      const res = await fetch(url, {
        method: form ? 'POST' : 'GET',
        body: form ? new URLSearchParams(form) : undefined,
        headers: { authorization: `Bearer ${this.settings.token}`, accept: 'application/json' },
        signal: AbortSignal.any([this.signal, AbortSignal.timeout(this.settings.requestTimeoutMs)]),
      });
      status = res.status;
      headers = res.headers;
      text = await res.text();
    } catch (error) {
      if (this.signal.aborted) throw this.signal.reason as Error;
      const info = networkError(error, this.settings.requestTimeoutMs);
      if (headers) this.observe(headers);
      await record({}, { network_error: info.message });
      throw new GraphApiError(info, endpoint);
    }
    const usage = this.observe(headers);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const kept: Record<string, string> = {};
    for (const h of KEPT_HEADERS) {
      const v = headers.get(h);
      if (v !== null) kept[h] = v;
    }
    await record(kept, body === undefined ? { unparsed_body: text.slice(0, 2000) } : withoutPagingTokens(withoutLeadPii(body)));
    const isObject = body !== null && typeof body === 'object' && !Array.isArray(body);
    if (status >= 200 && status < 300 && isObject && !('error' in (body as object))) {
      if (list && !Array.isArray((body as { data?: unknown }).data)) {
        throw new GraphApiError({ kind: 'transient', status, message: 'malformed page: "data" is not a list', appWide: false }, endpoint);
      }
      return body as Record<string, unknown>;
    }
    const info = classifyGraphError(status, body);
    throw new GraphApiError({ ...info, regainSeconds: usage.regainSeconds }, endpoint);
  }

  /** Reads the usage headers, keeps the peaks, and sets the spacing of the next call (or the deferral). */
  private observe(headers: Headers): { regainSeconds: number } {
    const usage = readUsage((n) => headers.get(n), this.numericId);
    this.stats.malformedHeaders += usage.malformed.length;
    this.stats.peakUsagePct = Math.max(this.stats.peakUsagePct, usage.maxPct);
    for (const [k, v] of Object.entries(usage.parts)) this.stats.peaks[k] = Math.max(this.stats.peaks[k] ?? 0, v);
    const pace = pacingFor(usage.maxPct, this.settings.pacing);
    this.spacingMs = pace.spacingMs;
    if (pace.defer && !this.deferral) {
      this.deferral = new AccountDeferred(
        `usage reached ${usage.maxPct} % (limit for this job: ${this.settings.pacing.deferAtPct} %); the account is left for the next run rather than pushed to its limit`,
        false,
        usage.regainSeconds,
      );
    }
    return { regainSeconds: usage.regainSeconds };
  }

  async close(): Promise<void> {
    await this.limiter.stop({ dropWaitingJobs: true }).catch(() => undefined);
  }
}
