import { setTimeout as sleep } from 'node:timers/promises';
import Bottleneck from 'bottleneck';
import pRetry from 'p-retry';
import { classifyGraphError, describeGraphError, type GraphErrorInfo } from '../../core/facebook/errors.js';
import { pacingFor, readUsage, type PacingPolicy } from '../../core/facebook/usage.js';
import { archivedForm, forArchive, KEPT_HEADERS, stripToken } from './archive-format.js';
import { type CallStats, emptyCallStats } from '../../core/facebook/call-stats.js';

export { type CallStats, emptyCallStats };

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
  /**
   * A throttle that says access returns within this is waited out (at most twice per call); a longer one defers the
   * account.
   */
  maxThrottleWaitMs: number;
  /** Requests per batch POST (1–50); 1 sends every request on its own. */
  batchSize: number;
  pacing: PacingPolicy;
}

/** One request of a batch, answered on its own: the page, or why it failed for good. */
export type BatchAnswer = { ok: true; body: Record<string, unknown> } | { ok: false; error: GraphApiError };

/** The Graph API takes at most this many requests in one batch. */
export const MAX_BATCH = 50;

/**
 * What an answer must be: any JSON object, a page (`data` list), or a batch answer (a list with one entry per request).
 */
type Expect = 'object' | 'page' | 'batch';

/** A response as archived: no token in the URL, only the headers worth keeping. */
export interface ArchivedResponse {
  seq: number;
  accountId: string;
  endpoint: string;
  method: 'GET' | 'POST';
  url: string;
  status: number;
  headers: Record<string, string>;
  /** A POST's form (a report run's parameters, a batch's requests); never holds the token. */
  form?: Record<string, unknown>;
  fetchedAt: string;
  body: unknown;
}

/** A Graph API call failed for good; `info.kind` says what it means for the account. */
export class GraphApiError extends Error {
  constructor(
    readonly info: GraphErrorInfo,
    readonly path: string,
  ) {
    super(`${path}: ${describeGraphError(info)}`);
    this.name = 'GraphApiError';
  }
}

/** The account must not be called again this run (usage too high or a long throttle); the next run retries it. */
export class AccountDeferred extends Error {
  constructor(
    message: string,
    readonly appWide: boolean,
    readonly regainSeconds: number,
  ) {
    super(message);
    this.name = 'AccountDeferred';
  }
}

/** A header getter over a batch entry's `headers` list ([{name, value}]). */
function entryHeaders(headers: unknown): (name: string) => string | null {
  const list = Array.isArray(headers) ? (headers as { name?: unknown; value?: unknown }[]) : [];
  return (name) => {
    const h = list.find((x) => typeof x?.name === 'string' && x.name.toLowerCase() === name);
    return h === undefined ? null : String(h.value);
  };
}

function networkError(error: unknown, timeoutMs: number): GraphErrorInfo {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const timedOut =
    e?.name === 'TimeoutError' ||
    e?.cause?.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e?.cause?.code === 'UND_ERR_BODY_TIMEOUT';
  const detail = timedOut
    ? `no complete answer within ${timeoutMs} ms`
    : (e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(error));
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
  /**
   * Spacing between the starts of two calls, from the latest usage headers; enforced here, one call at a time by the
   * limiter.
   */
  private spacingMs = 0;
  private lastStart = 0;
  /** Calls the last request counted as (a batch of n counts n). */
  private lastWeight = 1;

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
    return (await this.request(
      this.ownUrl(url, endpoint),
      endpoint,
      options.list === true ? 'page' : 'object',
    )) as Record<string, unknown>;
  }

  /** POSTs a form (an asynchronous report run); same retries, pacing and archive as a GET. */
  async post(url: string, endpoint: string, form: Record<string, string>): Promise<Record<string, unknown>> {
    return (await this.request(this.ownUrl(url, endpoint), endpoint, 'object', form)) as Record<string, unknown>;
  }

  /**
   * GETs many pages (`data` lists) and answers each on its own. With a batch
   * size above 1 they go out as batch requests (`POST /` with
   * `batch=[…]`, up to 50 each): one round trip for many requests, though
   * Meta still counts each as a call, so the pacing spaces a batch as that
   * many calls. A request of a batch that timed out inside the API (a `null`
   * entry) or failed transiently is sent again in a later batch with
   * backoff; a throttled one is waited out or defers the account, as for a
   * single call. Other failures come back as that request's answer.
   */
  async getMany(requests: { url: string; endpoint: string }[]): Promise<BatchAnswer[]> {
    const size = Math.min(MAX_BATCH, this.settings.batchSize);
    if (size <= 1 || requests.length === 1) {
      const answers: BatchAnswer[] = [];
      for (const r of requests) {
        try {
          answers.push({ ok: true, body: await this.get(r.url, r.endpoint, { list: true }) });
        } catch (error) {
          if (!(error instanceof GraphApiError)) throw error;
          answers.push({ ok: false, error });
        }
      }
      return answers;
    }
    const targets = requests.map((r) => this.ownUrl(r.url, r.endpoint));
    const answers: BatchAnswer[] = new Array(requests.length);
    const attempts = new Array<number>(requests.length).fill(0);
    let pending = requests.map((_, i) => i);
    for (let round = 0, throttles = 0; pending.length > 0; round++) {
      const again: number[] = [];
      let throttle: GraphApiError | null = null;
      for (let start = 0; start < pending.length; start += size) {
        const group = pending.slice(start, start + size);
        if (throttle) {
          // Throttled: nothing more goes out until the wait is over.
          again.push(...group);
          continue;
        }
        const entries = await this.postBatch(group.map((i) => ({ url: targets[i]!, endpoint: requests[i]!.endpoint })));
        for (const [k, answer] of entries.entries()) {
          const i = group[k]!;
          const kind = answer.ok ? null : answer.error.info.kind;
          if (kind === 'transient' && attempts[i]! < this.settings.retries) {
            attempts[i]! += 1;
            this.stats.retries += 1;
            again.push(i);
          } else if (kind === 'throttle' && !answer.ok) {
            throttle = answer.error;
            again.push(i);
          } else {
            answers[i] = answer;
          }
        }
      }
      if (again.length === 0) break;
      if (throttle) await this.waitOutThrottle(throttle, throttles++);
      else await this.backoff(round);
      pending = again;
    }
    return answers;
  }

  /** One batch POST; its answer split into one answer per request. */
  private async postBatch(requests: { url: string; endpoint: string }[]): Promise<BatchAnswer[]> {
    const base = new URL(this.settings.baseUrl);
    const batch = requests.map((r) => {
      const u = new URL(r.url);
      return {
        method: 'GET',
        relative_url: `${u.pathname.slice(base.pathname.replace(/\/$/, '').length + 1)}${u.search}`,
      };
    });
    const form = { batch: JSON.stringify(batch), include_headers: 'true' };
    const endpoint = `batch-${[...new Set(requests.map((r) => r.endpoint))].join('-')}`;
    const entries = (await this.request(
      `${this.settings.baseUrl}/${this.settings.version}/`,
      endpoint,
      'batch',
      form,
      requests.length,
    )) as unknown[];
    return entries.map((entry, k) => this.entryAnswer(entry, requests[k]!.endpoint));
  }

  /** What one entry of a batch answer means: a page, or a classified failure (null = timed out inside the API). */
  private entryAnswer(entry: unknown, endpoint: string): BatchAnswer {
    const fail = (info: GraphErrorInfo): BatchAnswer => ({ ok: false, error: new GraphApiError(info, endpoint) });
    if (entry === null || typeof entry !== 'object')
      return fail({
        kind: 'transient',
        status: 0,
        message: 'the request timed out inside the batch (null answer)',
        appWide: false,
      });
    const e = entry as { code?: unknown; headers?: unknown; body?: unknown };
    const status = Number(e.code);
    const usage = this.observe(entryHeaders(e.headers), true);
    let body: unknown;
    try {
      body = typeof e.body === 'string' ? JSON.parse(e.body) : undefined;
    } catch {
      body = undefined;
    }
    const isObject = body !== null && typeof body === 'object' && !Array.isArray(body);
    if (status >= 200 && status < 300 && isObject && !('error' in (body as object))) {
      if (Array.isArray((body as { data?: unknown }).data)) return { ok: true, body: body as Record<string, unknown> };
      return fail({ kind: 'transient', status, message: 'malformed page: "data" is not a list', appWide: false });
    }
    return fail({
      ...classifyGraphError(Number.isFinite(status) ? status : 0, body),
      regainSeconds: usage.regainSeconds,
    });
  }

  /**
   * The URL without its token, after checking it points at the Graph API (paging.next embeds the token; it is sent as a
   * header instead, and never to another host).
   */
  private ownUrl(url: string, endpoint: string): string {
    const target = new URL(url);
    if (target.origin !== new URL(this.settings.baseUrl).origin) {
      throw new GraphApiError(
        {
          kind: 'request',
          status: 0,
          message: `refusing to follow a URL to another host (${target.origin})`,
          appWide: false,
        },
        endpoint,
      );
    }
    target.searchParams.delete('access_token');
    return target.toString();
  }

  private async backoff(round: number): Promise<void> {
    const ms = Math.min(this.settings.retryMaxMs, this.settings.retryBaseMs * 2 ** round) * (1 + Math.random());
    await sleep(ms, undefined, { signal: this.signal }).catch(() => undefined);
    if (this.signal.aborted) throw this.signal.reason as Error;
  }

  /** A throttle: waits when access returns soon (twice at most), else the account is deferred. */
  private async waitOutThrottle(error: GraphApiError, throttles: number): Promise<void> {
    this.stats.throttled += 1;
    const regainMs = (error.info.regainSeconds ?? 0) * 1000;
    const waitMs =
      regainMs > 0 ? regainMs : Math.min(this.settings.retryMaxMs, this.settings.retryBaseMs * 4 ** (throttles + 1));
    if (throttles >= 2 || waitMs > this.settings.maxThrottleWaitMs) {
      throw new AccountDeferred(
        `rate limited (${describeGraphError(error.info)}); access ` +
          `returns in about ${Math.ceil(waitMs / 60000)} min, so the ` +
          `account is left for the next run`,
        error.info.appWide,
        Math.ceil(waitMs / 1000),
      );
    }
    this.stats.waitedMs += waitMs;
    await sleep(waitMs, undefined, { signal: this.signal }).catch(() => undefined);
  }

  private async request(
    url: string,
    endpoint: string,
    expect: Expect,
    form?: Record<string, string>,
    weight = 1,
  ): Promise<unknown> {
    for (let throttles = 0; ; throttles++) {
      try {
        return await pRetry(() => this.limiter.schedule(() => this.once(url, endpoint, expect, form, weight)), {
          retries: this.settings.retries,
          minTimeout: this.settings.retryBaseMs,
          maxTimeout: this.settings.retryMaxMs,
          factor: 2,
          randomize: true,
          signal: this.signal,
          shouldRetry: ({ error }) =>
            error instanceof GraphApiError && error.info.kind === 'transient' && !this.signal.aborted,
          onFailedAttempt: ({ error, retriesLeft }) => {
            if (error instanceof GraphApiError && error.info.kind === 'transient' && retriesLeft > 0)
              this.stats.retries += 1;
          },
        });
      } catch (error) {
        if (this.signal.aborted) throw this.signal.reason as Error;
        if (!(error instanceof GraphApiError) || error.info.kind !== 'throttle') throw error;
        await this.waitOutThrottle(error, throttles);
      }
    }
  }

  private async once(
    url: string,
    endpoint: string,
    expect: Expect,
    form: Record<string, string> | undefined,
    weight: number,
  ): Promise<unknown> {
    if (this.deferral) throw this.deferral;
    if (this.signal.aborted) throw this.signal.reason as Error;
    // The spacing is per call as Meta counts them: after a batch of n, n times as long.
    const wait = this.lastStart + this.spacingMs * this.lastWeight - Date.now();
    if (wait > 0) {
      this.stats.waitedMs += wait;
      await sleep(wait, undefined, { signal: this.signal }).catch(() => undefined);
      if (this.signal.aborted) throw this.signal.reason as Error;
    }
    this.lastStart = Date.now();
    this.lastWeight = weight;
    this.stats.calls += 1;
    this.stats.meteredCalls += weight;
    const seq = ++this.seq;
    const record = (headers: Record<string, string>, body: unknown): Promise<void> =>
      this.archive({
        seq,
        accountId: this.accountId,
        endpoint,
        method: form ? 'POST' : 'GET',
        url: stripToken(url),
        status,
        headers,
        form: archivedForm(form),
        fetchedAt: new Date().toISOString(),
        body,
      });
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
      if (headers) this.observe((n) => headers!.get(n));
      await record({}, { network_error: info.message });
      throw new GraphApiError(info, endpoint);
    }
    const usage = this.observe((n) => headers.get(n));
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
    await record(kept, body === undefined ? { unparsed_body: text.slice(0, 2000) } : forArchive(body));
    const isObject = body !== null && typeof body === 'object' && !Array.isArray(body);
    if (status >= 200 && status < 300 && expect === 'batch' && Array.isArray(body)) {
      if (body.length !== weight)
        throw new GraphApiError(
          {
            kind: 'transient',
            status,
            message: `malformed batch answer: ${body.length} entries for ${weight} requests`,
            appWide: false,
          },
          endpoint,
        );
      return body;
    }
    if (status >= 200 && status < 300 && isObject && !('error' in (body as object)) && expect !== 'batch') {
      if (expect === 'page' && !Array.isArray((body as { data?: unknown }).data)) {
        throw new GraphApiError(
          { kind: 'transient', status, message: 'malformed page: "data" is not a list', appWide: false },
          endpoint,
        );
      }
      return body;
    }
    const info = classifyGraphError(status, body);
    throw new GraphApiError({ ...info, regainSeconds: usage.regainSeconds }, endpoint);
  }

  /**
   * Reads the usage headers, keeps the peaks, and sets the spacing of the next call (or the deferral).
   * `raiseOnly`: the headers of one entry of a batch, which can only raise the spacing the batch's other entries set.
   */
  private observe(header: (name: string) => string | null, raiseOnly = false): { regainSeconds: number } {
    const usage = readUsage(header, this.numericId);
    this.stats.malformedHeaders += usage.malformed.length;
    this.stats.peakUsagePct = Math.max(this.stats.peakUsagePct, usage.maxPct);
    for (const [k, v] of Object.entries(usage.parts)) this.stats.peaks[k] = Math.max(this.stats.peaks[k] ?? 0, v);
    const pace = pacingFor(usage.maxPct, this.settings.pacing);
    this.spacingMs = raiseOnly ? Math.max(this.spacingMs, pace.spacingMs) : pace.spacingMs;
    if (pace.defer && !this.deferral) {
      this.deferral = new AccountDeferred(
        `usage reached ${usage.maxPct} % (limit for this ` +
          `job: ${this.settings.pacing.deferAtPct} %); the account is left ` +
          `for the next run rather than pushed to its limit`,
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
