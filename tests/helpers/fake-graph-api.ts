/**
 * A stand-in for the Meta Graph / Marketing API on loopback that speaks its
 * wire format: cursor paging with `paging.next` URLs, numbers as strings,
 * usage headers on every answer (errors too), Graph error bodies, and
 * injectable faults (shared/notes/facebook-api.md §5). Used by the tests,
 * the benchmark and `make demo` (bundled to dist/dev/fake-graph-api.js).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { closeServer, listenOnLoopback } from './loopback.js';

export interface FakeCampaign {
  id: string;
  name: string;
  status: string;
  effective_status: string;
  objective: string;
  daily_budget?: string;
  lifetime_budget?: string;
  start_time: string;
  stop_time?: string;
  updated_time: string;
}

export interface FakeLead {
  id: string;
  created_time: string;
  ad_id: string;
  adset_id: string;
  campaign_id: string;
  form_id: string;
  is_organic: boolean;
  platform: string;
  field_data: { name: string; values: string[] }[];
}

export interface FakeAccount {
  /** Digits, without act_. */
  id: string;
  name: string;
  currency: string;
  timezone_name: string;
  campaigns: FakeCampaign[];
  /** Insights rows as the API sends them (level=campaign, one day each). */
  insights: Record<string, unknown>[];
  ads: { id: string; campaign_id: string; effective_status: string }[];
  leads: FakeLead[];
  /** Tokens allowed to read this account; undefined = every valid token. */
  tokens?: string[];
}

export interface UsageSetting {
  /** Percentage put in every usage header. */
  pct: number;
  /** Added to pct after every call to the account. */
  perCall?: number;
  /** estimated_time_to_regain_access in the BUC header, minutes. */
  regainMinutes?: number;
  /** Send a usage header that is not JSON. */
  malformed?: boolean;
  /** Send no usage headers at all. */
  none?: boolean;
}

export type FaultType =
  | 'graph-error' // status + error object (+ usage headers)
  | 'http' // status + raw body (empty, HTML) — a proxy's answer
  | 'hang' // accept, never answer
  | 'stall-body' // headers and half the body, then nothing
  | 'drip' // the body one byte every dripMs
  | 'close-mid-body' // half the body, then the socket is destroyed
  | 'truncated-json' // 200 with half the JSON
  | 'empty-200'
  | 'html-200'
  | 'data-not-array'
  | 'short-page' // half the page's rows, next still present
  | 'empty-page' // no rows, next still present
  | 'drop-next' // the page without paging.next (an early end)
  | 'repeat-row' // the previous page's last row again at the start
  | 'invalid-cursor' // 400 code 100 "Invalid cursors values"
  | 'delete-campaign' // marks campaignId DELETED, then answers normally
  // inside a batch: the request's entry is null (timed out in the API); hang-like faults do the same there
  | 'batch-null';

export interface Fault {
  /** Regular expression matched against the path after the version, e.g. "^act_\\d+/insights$". */
  path: string;
  method?: string;
  type: FaultType;
  /** Fire from the nth matching call (1-based). Default 1. */
  nth?: number;
  /** How many times to fire. Default 1. */
  times?: number;
  /** Fire with this probability instead (0–1). */
  probability?: number;
  status?: number;
  error?: Record<string, unknown>;
  body?: string;
  headers?: Record<string, string>;
  dripMs?: number;
  campaignId?: string;
}

export interface LoggedRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  token: string | null;
  at: number;
  /** Set on a request that arrived inside a batch POST: the index of that POST in the log. */
  inBatch?: number;
}

/** Requests per batch POST the Graph API accepts. */
export const MAX_BATCH = 50;

export interface FakeGraphOptions {
  accounts: FakeAccount[];
  validTokens?: string[];
  /** token → error_subcode for an expired/invalidated token (190). */
  expiredTokens?: Record<string, number | null>;
  /** "Reduce the amount of data" when an insights time_range is longer than this many days. */
  maxRangeDays?: number;
  /** … or its limit is above this. */
  maxInsightsLimit?: number;
  /** Page size cap of listing endpoints (the API caps at 500 for most). */
  maxLimit?: number;
  /** Milliseconds added to every answer. */
  latencyMs?: number;
  /**
   * Status sequences of asynchronous report runs, one per POST in order (the
   * last one is reused): each poll answers the next status, the last repeats.
   * Default: Job Not Started, Job Running (at 100 %), Job Completed.
   */
  asyncScripts?: string[][];
  /** The first poll of every report run answers 100/33 (not found yet), as the API can right after the POST. */
  asyncFirstPollNotFound?: boolean;
  /** Answer report_run_id as a JSON number instead of a string. */
  asyncIdAsNumber?: boolean;
  /**
   * Answer every field whatever `fields` asks for (as some API versions do for leads): a client must still keep PII out
   * of its archive.
   */
  ignoreFields?: boolean;
}

const HIDDEN = new Set(['ARCHIVED', 'DELETED']);
/** The values each edge accepts (the official SDKs' Campaign.EffectiveStatus and Ad.EffectiveStatus enums). */
const CAMPAIGN_STATUSES = new Set(['ACTIVE', 'PAUSED', 'DELETED', 'ARCHIVED', 'IN_PROCESS', 'WITH_ISSUES']);
const AD_STATUSES = new Set([
  ...CAMPAIGN_STATUSES,
  'PENDING_REVIEW',
  'DISAPPROVED',
  'PREAPPROVED',
  'PENDING_BILLING_INFO',
  'CAMPAIGN_PAUSED',
  'ADSET_PAUSED',
]);

/** A status list as the real API reads it: a value the edge does not know is refused with 100/1487561, as Meta does. */
function statusList(raw: string | undefined, accepted: ReadonlySet<string>): string[] | null {
  if (raw === undefined) return null;
  const list = JSON.parse(raw) as string[];
  const bad = list.find((s) => !accepted.has(s));
  if (bad !== undefined) {
    throw {
      status: 400,
      code: 100,
      subcode: 1487561,
      message: 'Invalid parameter',
      more: {
        error_user_title: 'Run Status not valid',
        error_user_msg: `The run status ${bad} is not valid for this object.`,
        is_transient: false,
      },
    };
  }
  return list;
}
const cmp = (a: unknown, b: unknown): number => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);
const encodeCursor = (offset: number): string =>
  Buffer.from(JSON.stringify({ offset, snapshot: 'fake' })).toString('base64url');
function decodeCursor(c: string): number | null {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString()) as { offset?: unknown };
    return typeof v.offset === 'number' && v.offset >= 0 ? v.offset : null;
  } catch {
    return null;
  }
}

export class FakeGraphApi {
  server!: Server;
  url = '';
  readonly requests: LoggedRequest[] = [];
  private faults: (Fault & { seen: number; fired: number })[] = [];
  private usage = new Map<string, UsageSetting>();
  private sockets = new Set<Socket>();
  private accounts = new Map<string, FakeAccount>();
  private cache: { key: string; rows: Record<string, unknown>[] } | null = null;
  private reports = new Map<
    string,
    { account: FakeAccount; params: Record<string, string>; script: string[]; polls: number; notFoundServed?: boolean }
  >();

  constructor(private options: FakeGraphOptions) {
    this.reset(options);
  }

  reset(options: FakeGraphOptions = this.options): void {
    this.options = options;
    this.accounts = new Map(options.accounts.map((a) => [a.id, a]));
    this.faults = [];
    this.cache = null;
    this.reports.clear();
    this.usage.clear();
    this.requests.length = 0;
  }

  addFault(...faults: Fault[]): void {
    for (const f of faults) this.faults.push({ ...f, seen: 0, fired: 0 });
  }

  /** Milliseconds added to every answer from now on. */
  setLatency(ms: number): void {
    this.options = { ...this.options, latencyMs: ms };
  }

  setUsage(accountId: string, usage: UsageSetting): void {
    this.usage.set(accountId.replace(/^act_/, ''), usage);
  }

  account(id: string): FakeAccount {
    return this.accounts.get(id.replace(/^act_/, ''))!;
  }

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.url = await listenOnLoopback(this.server, port);
    return this.url;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await closeServer(this.server);
  }

  private usageHeaders(accountId: string | null, type: string): Record<string, string> {
    const u = accountId ? this.usage.get(accountId) : undefined;
    if (u?.none) return {};
    const pct = u?.pct ?? 1;
    if (u && accountId && u.perCall) u.pct += u.perCall;
    if (u?.malformed) return { 'x-app-usage': '{not json', 'x-ad-account-usage': 'garbage' };
    const h: Record<string, string> = {
      'x-app-usage': JSON.stringify({ call_count: pct, total_time: pct, total_cputime: pct }),
    };
    if (accountId) {
      h['x-ad-account-usage'] = JSON.stringify({
        acc_id_util_pct: pct,
        reset_time_duration: (u?.regainMinutes ?? 0) * 60,
        ads_api_access_tier: 'development_access',
      });
      h['x-business-use-case-usage'] = JSON.stringify({
        [accountId]: [
          {
            type,
            call_count: pct,
            total_cputime: pct,
            total_time: pct,
            estimated_time_to_regain_access: u?.regainMinutes ?? 0,
            ads_api_access_tier: 'development_access',
          },
        ],
      });
      if (type === 'ads_insights')
        h['x-fb-ads-insights-throttle'] = JSON.stringify({
          app_id_util_pct: pct,
          acc_id_util_pct: pct,
          ads_api_access_tier: 'development_access',
        });
    }
    return h;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', this.url);
    if (u.pathname.startsWith('/__fake/')) return this.control(u.pathname, req, res);
    const m = /^\/v\d+\.\d+\/(.*)$/.exec(u.pathname);
    const path = m?.[1] ?? u.pathname.slice(1);
    const params = Object.fromEntries(u.searchParams);
    if (req.method === 'POST') {
      let form = '';
      for await (const chunk of req) form += String(chunk);
      Object.assign(params, Object.fromEntries(new URLSearchParams(form)));
    }
    const auth = req.headers.authorization;
    const token = params.access_token ?? (auth?.startsWith('Bearer ') ? auth.slice(7) : null);
    this.requests.push({ method: req.method ?? 'GET', path, params, token, at: Date.now() });
    if (this.options.latencyMs) await new Promise((r) => setTimeout(r, this.options.latencyMs));

    const accountMatch = /^act_(\d+)(?:\/|$)/.exec(path);
    const owner = accountMatch?.[1] ?? this.ownerOf(path.split('/')[0]!);
    const type = path.endsWith('/insights') ? 'ads_insights' : path.endsWith('/leads') ? 'leadgen' : 'ads_management';
    const usage = this.usageHeaders(owner, type);
    const send = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, {
        'content-type': typeof body === 'string' ? 'text/html' : 'application/json; charset=UTF-8',
        'x-fb-trace-id': 'FAKEtrace',
        ...usage,
        ...extra,
      });
      res.end(text);
    };
    const graphError = (
      status: number,
      code: number,
      message: string,
      subcode?: number,
      more: Record<string, unknown> = {},
    ): void =>
      send(status, {
        error: {
          message,
          type: 'OAuthException',
          code,
          ...(subcode === undefined ? {} : { error_subcode: subcode }),
          fbtrace_id: 'FAKEtrace',
          ...more,
        },
      });

    // Tokens first, as the real API does.
    if (!token) {
      graphError(400, 2500, 'An active access token must be used to query information about the current user.');
      return;
    }
    const expired = this.options.expiredTokens?.[token];
    if (expired !== undefined) {
      graphError(
        400,
        190,
        'Error validating access token: Session has expired on Friday, 13-Mar-26 10:00:00 PDT.',
        expired ?? undefined,
      );
      return;
    }
    if (!(this.options.validTokens ?? ['TEST-TOKEN']).includes(token)) {
      graphError(400, 190, 'Invalid OAuth access token - Cannot parse access token');
      return;
    }

    const fault = this.takeFault(req.method ?? 'GET', path);
    if (fault) {
      switch (fault.type) {
        case 'graph-error':
          return send(
            fault.status ?? 400,
            { error: { type: 'OAuthException', fbtrace_id: 'FAKEtrace', ...fault.error } },
            fault.headers,
          );
        case 'http':
          res.writeHead(fault.status ?? 502, { 'content-type': 'text/html', ...usage, ...fault.headers });
          return void res.end(fault.body ?? '');
        case 'hang':
          return;
        case 'empty-200':
          return send(200, '', { 'content-type': 'application/json' });
        case 'html-200':
          return send(200, '<html><body>Sorry, something went wrong.</body></html>');
        case 'data-not-array':
          return send(200, { data: { unexpected: true } });
        case 'invalid-cursor': {
          graphError(400, 100, 'Invalid cursors values');
          return;
        }
        case 'delete-campaign': {
          const c = owner ? this.accounts.get(owner)?.campaigns.find((x) => x.id === fault.campaignId) : undefined;
          if (c) Object.assign(c, { status: 'DELETED', effective_status: 'DELETED' });
          break;
        }
        default:
          break;
      }
    }

    if (req.method === 'POST' && path.replace(/\/$/, '') === '' && params.batch !== undefined)
      return this.batch(params, token, u, this.requests.length - 1, send, graphError);

    let result: { status: number; body: unknown } | null;
    try {
      result = this.route(req.method ?? 'GET', path, params, token, owner, u, fault?.type);
    } catch (e) {
      const err = e as {
        status: number;
        code: number;
        message: string;
        subcode?: number;
        more?: Record<string, unknown>;
      };
      graphError(err.status ?? 400, err.code ?? 100, err.message, err.subcode, err.more);
      return;
    }
    if (!result) {
      graphError(
        400,
        100,
        `Unsupported get request. Object with ID '${path.split('/')[0]}' ` +
          `does not exist, cannot be loaded due to missing permissions, or ` +
          `does not support this operation.`,
        33,
      );
      return;
    }
    const text = JSON.stringify(result.body);
    if (fault && ['stall-body', 'drip', 'close-mid-body', 'truncated-json'].includes(fault.type)) {
      res.writeHead(200, { 'content-type': 'application/json', ...usage });
      const half = text.slice(0, Math.floor(text.length / 2));
      if (fault.type === 'truncated-json') return void res.end(half);
      if (fault.type === 'stall-body') return void res.write(half);
      if (fault.type === 'close-mid-body') {
        res.write(half);
        return void setTimeout(() => res.socket?.destroy(), 5);
      }
      let i = 0;
      const timer = setInterval(() => {
        if (i >= text.length || res.destroyed) {
          clearInterval(timer);
          return void res.end();
        }
        res.write(text[i++]!);
      }, fault.dripMs ?? 50);
      res.on('close', () => clearInterval(timer));
      return;
    }
    send(result.status, result.body);
  }

  /**
   * POST / with batch=[{method, relative_url}, …] (at most 50): every
   * request answered on its own as {code, headers, body: "<JSON text>"}, or
   * null when it "timed out" (a hang-like or batch-null fault on its path).
   * Each request is logged and counted for usage like a call of its own.
   */
  private batch(
    params: Record<string, string>,
    token: string,
    u: URL,
    at: number,
    send: (status: number, body: unknown, extra?: Record<string, string>) => void,
    graphError: (status: number, code: number, message: string) => void,
  ): void {
    let list: unknown;
    try {
      list = JSON.parse(params.batch!);
    } catch {
      graphError(400, 100, 'The parameter batch must be a JSON array');
      return;
    }
    if (!Array.isArray(list) || list.length === 0) {
      graphError(400, 100, 'The parameter batch must be a non-empty JSON array');
      return;
    }
    if (list.length > MAX_BATCH) {
      graphError(400, 100, `Too many requests in batch message. Maximum batch size is ${MAX_BATCH}`);
      return;
    }
    const withHeaders = params.include_headers !== 'false';
    const answers = (list as { method?: string; relative_url?: string }[]).map((item) => {
      const rel = new URL(`${u.origin}/${String(item.relative_url ?? '').replace(/^\//, '')}`);
      const m = /^\/v\d+\.\d+\/(.*)$/.exec(rel.pathname);
      const path = m?.[1] ?? rel.pathname.slice(1);
      const method = (item.method ?? 'GET').toUpperCase();
      const sub = Object.fromEntries(rel.searchParams);
      this.requests.push({ method, path, params: sub, token, at: Date.now(), inBatch: at });
      const owner = /^act_(\d+)(?:\/|$)/.exec(path)?.[1] ?? this.ownerOf(path.split('/')[0]!);
      const headers = this.usageHeaders(
        owner,
        path.endsWith('/insights') ? 'ads_insights' : path.endsWith('/leads') ? 'leadgen' : 'ads_management',
      );
      const entry = (code: number, body: unknown): Record<string, unknown> => ({
        code,
        ...(withHeaders
          ? {
              headers: Object.entries({ 'Content-Type': 'application/json; charset=UTF-8', ...headers }).map(
                ([name, value]) => ({ name, value }),
              ),
            }
          : {}),
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const error = (code: number, e: Record<string, unknown>): Record<string, unknown> =>
        entry(code, { error: { type: 'OAuthException', fbtrace_id: 'FAKEtrace', ...e } });
      const fault = this.takeFault(method, path);
      switch (fault?.type) {
        case 'graph-error':
          return error(fault.status ?? 400, fault.error ?? {});
        case 'http':
          return entry(fault.status ?? 502, fault.body ?? '');
        case 'batch-null':
        case 'hang':
        case 'stall-body':
        case 'drip':
        case 'close-mid-body':
          return null;
        case 'empty-200':
          return entry(200, '');
        case 'html-200':
          return entry(200, '<html><body>Sorry, something went wrong.</body></html>');
        case 'data-not-array':
          return entry(200, { data: { unexpected: true } });
        case 'invalid-cursor':
          return error(400, { code: 100, message: 'Invalid cursors values' });
        default:
          break;
      }
      try {
        const result = this.route(method, path, sub, token, owner, rel, fault?.type);
        if (!result)
          return error(400, {
            code: 100,
            error_subcode: 33,
            message:
              `Unsupported get request. Object with ID '${path.split('/')[0]}' ` +
              `does not exist, cannot be loaded due to missing permissions, or ` +
              `does not support this operation.`,
          });
        const text = JSON.stringify(result.body);
        return entry(
          result.status,
          fault?.type === 'truncated-json' ? text.slice(0, Math.floor(text.length / 2)) : text,
        );
      } catch (e) {
        const err = e as {
          status?: number;
          code?: number;
          message: string;
          subcode?: number;
          more?: Record<string, unknown>;
        };
        return error(err.status ?? 400, {
          code: err.code ?? 100,
          message: err.message,
          ...(err.subcode === undefined ? {} : { error_subcode: err.subcode }),
          ...err.more,
        });
      }
    });
    send(200, answers);
  }

  private ownerOf(id: string): string | null {
    for (const a of this.accounts.values()) {
      if (a.campaigns.some((c) => c.id === id) || a.ads.some((x) => x.id === id)) return a.id;
    }
    return null;
  }

  private takeFault(method: string, path: string): Fault | null {
    for (const f of this.faults) {
      if (f.method && f.method !== method) continue;
      if (!new RegExp(f.path).test(path)) continue;
      f.seen += 1;
      if (f.fired >= (f.times ?? 1)) continue;
      if (f.probability !== undefined ? Math.random() < f.probability : f.seen >= (f.nth ?? 1)) {
        f.fired += 1;
        return f;
      }
    }
    return null;
  }

  private page(
    items: Record<string, unknown>[],
    params: Record<string, string>,
    u: URL,
    token: string,
    cap: number,
    faultType?: FaultType,
  ): { status: number; body: unknown } {
    const limit = Math.min(Number(params.limit ?? 25) || 25, cap);
    let offset = 0;
    if (params.after !== undefined) {
      const o = decodeCursor(params.after);
      if (o === null) throw { status: 400, code: 100, message: 'Invalid cursors values' };
      offset = o;
    }
    const fields = params.fields && !this.options.ignoreFields ? params.fields.split(',') : null;
    const project = (item: Record<string, unknown>): Record<string, unknown> =>
      fields ? Object.fromEntries(Object.entries(item).filter(([k]) => fields.includes(k) || k === 'id')) : item;
    let data = items.slice(offset, offset + limit).map(project);
    const end = offset + limit;
    const next = new URL(u.toString());
    next.searchParams.set('after', encodeCursor(end));
    next.searchParams.set('access_token', token);
    const paging: Record<string, unknown> = {
      cursors: { before: encodeCursor(offset), after: encodeCursor(Math.min(end, items.length)) },
    };
    if (end < items.length && faultType !== 'drop-next') paging.next = next.toString();
    if (offset > 0) paging.previous = u.toString();
    if (faultType === 'short-page') data = data.slice(0, Math.ceil(data.length / 2));
    if (faultType === 'empty-page') data = [];
    if (faultType === 'repeat-row' && offset > 0) data = [project(items[offset - 1]!), ...data];
    if ((faultType === 'short-page' || faultType === 'empty-page') && end >= items.length)
      paging.next = next.toString();
    // A short or empty page still moves on to the rows after it.
    if (faultType === 'short-page' || faultType === 'empty-page') {
      const skipped = items.slice(offset + data.length, end);
      if (skipped.length > 0) {
        next.searchParams.set('after', encodeCursor(offset + data.length));
        paging.next = next.toString();
      }
    }
    return { status: 200, body: { data, paging } };
  }

  private route(
    method: string,
    path: string,
    params: Record<string, string>,
    token: string,
    owner: string | null,
    u: URL,
    faultType?: FaultType,
  ): { status: number; body: unknown } | null {
    const parts = path.split('/');
    const account = owner ? this.accounts.get(owner) : undefined;
    if (account?.tokens && !account.tokens.includes(token))
      throw {
        status: 403,
        code: 200,
        message: `(#200) Permissions error: the user has not granted ads_read on act_${account.id}`,
      };
    const cap = this.options.maxLimit ?? 500;
    if (parts[0]!.startsWith('act_')) {
      if (!account) return null;
      const edge = parts[1];
      if (edge === undefined && method === 'GET') {
        return {
          status: 200,
          body: {
            id: `act_${account.id}`,
            account_id: account.id,
            name: account.name,
            currency: account.currency,
            timezone_name: account.timezone_name,
          },
        };
      }
      if (edge === 'campaigns' && method === 'GET') {
        const statuses = statusList(params.effective_status, CAMPAIGN_STATUSES);
        const items = account.campaigns.filter((c) =>
          statuses ? statuses.includes(c.effective_status) : !HIDDEN.has(c.effective_status),
        );
        return this.page(
          items.map((c) => ({ ...c, account_id: account.id })) as never,
          params,
          u,
          token,
          cap,
          faultType,
        );
      }
      if (edge === 'ads' && method === 'GET') {
        const statuses = statusList(params.effective_status, AD_STATUSES);
        return this.page(
          account.ads.filter((a) =>
            statuses ? statuses.includes(a.effective_status) : !HIDDEN.has(a.effective_status),
          ) as never,
          params,
          u,
          token,
          cap,
          faultType,
        );
      }
      if (edge === 'insights' && method === 'GET')
        return this.insights(account, account.insights, params, u, token, faultType);
      if (edge === 'insights' && method === 'POST') {
        const id = String(6044775548000 + this.reports.size + 1);
        const scripts = this.options.asyncScripts ?? [['Job Not Started', 'Job Running', 'Job Completed']];
        this.reports.set(id, {
          account,
          params,
          script: scripts[Math.min(this.reports.size, scripts.length - 1)]!,
          polls: 0,
        });
        return { status: 200, body: { report_run_id: this.options.asyncIdAsNumber ? Number(id) : id } };
      }
      return null;
    }
    const report = this.reports.get(parts[0]!);
    if (report && method === 'GET' && parts[1] === undefined) {
      if (this.options.asyncFirstPollNotFound && !report.notFoundServed) {
        report.notFoundServed = true;
        throw {
          status: 400,
          code: 100,
          subcode: 33,
          message: `Unsupported get request. Object with ID '${parts[0]}' does not exist`,
        };
      }
      const status = report.script[Math.min(report.polls++, report.script.length - 1)]!;
      const range = JSON.parse(report.params.time_range!) as { since: string; until: string };
      const failed =
        status === 'Job Failed'
          ? {
              error_code: -3,
              error_subcode: 1504045,
              error_message: 'Report Too Large',
              error_user_title: 'Report Too Large',
            }
          : {};
      const percent = status === 'Job Not Started' || status === 'Job Failed' ? 0 : 100;
      return {
        status: 200,
        body: {
          id: parts[0],
          account_id: report.account.id,
          async_status: status,
          async_percent_completion: percent,
          date_start: range.since,
          date_stop: range.until,
          ...failed,
        },
      };
    }
    if (report && method === 'GET' && parts[1] === 'insights') {
      if (report.script[Math.min(report.polls - 1, report.script.length - 1)] !== 'Job Completed')
        throw { status: 400, code: 100, message: 'Report run is not completed' };
      const { limit: _l, ...query } = report.params;
      return this.insights(
        report.account,
        report.account.insights,
        { ...query, limit: params.limit ?? '25', ...(params.after ? { after: params.after } : {}) },
        u,
        token,
        faultType,
        false,
      );
    }
    if (parts[1] === 'insights' && account && method === 'GET') {
      return this.insights(
        account,
        account.insights.filter((r) => r.campaign_id === parts[0]),
        params,
        u,
        token,
        faultType,
      );
    }
    if (parts[1] === 'leads' && account && method === 'GET') {
      let leads = account.leads.filter((l) => l.ad_id === parts[0] || l.form_id === parts[0]);
      const filters = params.filtering
        ? (JSON.parse(params.filtering) as { field: string; operator: string; value: number }[])
        : [];
      for (const f of filters) {
        if (f.field !== 'time_created') throw { status: 400, code: 100, message: `Invalid filtering field ${f.field}` };
        const t = (l: FakeLead): number => Date.parse(l.created_time.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) / 1000;
        leads = leads.filter((l) =>
          f.operator === 'GREATER_THAN'
            ? t(l) > f.value
            : f.operator === 'GREATER_THAN_OR_EQUAL'
              ? t(l) >= f.value
              : f.operator === 'LESS_THAN'
                ? t(l) < f.value
                : true,
        );
      }
      return this.page(leads as never, params, u, token, cap, faultType);
    }
    return null;
  }

  private insights(
    account: FakeAccount,
    rows: Record<string, unknown>[],
    params: Record<string, string>,
    u: URL,
    token: string,
    faultType?: FaultType,
    sync = true,
  ): { status: number; body: unknown } {
    if (params.level !== 'campaign') throw { status: 400, code: 100, message: 'This fake serves level=campaign only' };
    if (params.time_increment !== '1')
      throw { status: 400, code: 100, message: 'This fake serves time_increment=1 only' };
    if (!params.time_range) throw { status: 400, code: 100, message: 'time_range is required by this fake' };
    const range = JSON.parse(params.time_range) as { since: string; until: string };
    const days = (Date.parse(range.until) - Date.parse(range.since)) / 86_400_000 + 1;
    const limit = Number(params.limit ?? 25);
    if (
      sync &&
      ((this.options.maxRangeDays && days > this.options.maxRangeDays) ||
        (this.options.maxInsightsLimit && limit > this.options.maxInsightsLimit))
    ) {
      throw {
        status: 500,
        code: 1,
        message: "Please reduce the amount of data you're asking for, then retry your request",
      };
    }
    let statuses: string[] | null = null;
    if (params.filtering) {
      const f = (JSON.parse(params.filtering) as { field: string; value: string[] }[]).find(
        (x) => x.field === 'campaign.effective_status',
      );
      statuses = f ? statusList(JSON.stringify(f.value), CAMPAIGN_STATUSES) : null;
    }
    // Every page of one query reads the same sorted rows (the fixture does not change between pages of a test).
    const key = `${account.id}|${rows.length}|${params.time_range}|${params.filtering}`;
    if (this.cache?.key === key) return this.page(this.cache.rows, params, u, token, 100_000, faultType);
    const status = new Map(account.campaigns.map((c) => [c.id, c.effective_status]));
    const selected = rows
      .filter((r) => (r.date_start as string) >= range.since && (r.date_start as string) <= range.until)
      .filter((r) => {
        const s = status.get(r.campaign_id as string) ?? 'ACTIVE';
        return statuses ? statuses.includes(s) : !HIDDEN.has(s);
      })
      .sort((a, b) => cmp(a.date_start, b.date_start) || cmp(a.campaign_id, b.campaign_id));
    this.cache = { key, rows: selected };
    return this.page(selected, params, u, token, 100_000, faultType);
  }

  private async control(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const body = text ? (JSON.parse(text) as unknown) : null;
    const ok = (v: unknown = { ok: true }): void => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(v));
    };
    if (path === '/__fake/reset') return ok(this.reset());
    if (path === '/__fake/faults') return ok(this.addFault(...((Array.isArray(body) ? body : [body]) as Fault[])));
    if (path === '/__fake/usage') {
      const b = body as { account: string } & UsageSetting;
      return ok(this.setUsage(b.account, b));
    }
    if (path === '/__fake/requests') return ok(this.requests);
    res.writeHead(404);
    res.end();
  }
}

/** A deterministic pseudo-random sequence, so generated accounts are the same on every run. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4_294_967_296;
  };
}

/**
 * An ad account with `campaigns` lead campaigns (every 4th paused, every
 * 9th archived, every 11th deleted) delivering on most of the `days` days
 * ending `until`, one ad each, and Lead Ads leads with form answers (PII).
 */
export function generateAccount(o: {
  id: string;
  campaigns: number;
  days: number;
  until: string;
  currency?: string;
  timezone?: string;
  seed?: number;
  name?: string;
  deliveryRate?: number;
}): FakeAccount {
  const rnd = random(o.seed ?? 42);
  const campaigns: FakeCampaign[] = [];
  const insights: Record<string, unknown>[] = [];
  const ads: FakeAccount['ads'] = [];
  const leads: FakeLead[] = [];
  const start = new Date(Date.parse(`${o.until}T00:00:00Z`) - (o.days + 10) * 86_400_000).toISOString().slice(0, 10);
  for (let i = 1; i <= o.campaigns; i++) {
    const id = `1202${o.id.slice(-6).padStart(6, '0')}${String(i).padStart(6, '0')}`;
    const status = i % 11 === 0 ? 'DELETED' : i % 9 === 0 ? 'ARCHIVED' : i % 4 === 0 ? 'PAUSED' : 'ACTIVE';
    const budgetCents = 2000 + Math.floor(rnd() * 20) * 500;
    campaigns.push({
      id,
      name: `Leads ${o.id.slice(-4)} #${i}`,
      status,
      effective_status: status,
      objective: i % 7 === 0 ? 'OUTCOME_TRAFFIC' : 'OUTCOME_LEADS',
      daily_budget: String(budgetCents),
      start_time: `${start}T09:00:00+0000`,
      updated_time: `${start}T09:00:00+0000`,
    });
    const adId = `1203${o.id.slice(-6).padStart(6, '0')}${String(i).padStart(6, '0')}`;
    ads.push({ id: adId, campaign_id: id, effective_status: status });
    for (let d = 0; d < o.days; d++) {
      if (rnd() >= (o.deliveryRate ?? 0.92)) continue; // no delivery that day: no row
      const date = new Date(Date.parse(`${o.until}T00:00:00Z`) - d * 86_400_000).toISOString().slice(0, 10);
      const impressions = 500 + Math.floor(rnd() * 5000);
      const clicks = Math.floor(impressions * (0.005 + rnd() * 0.03));
      const spendCents = Math.floor((budgetCents / 100) * (0.4 + rnd() * 0.6) * 100);
      const nLeads = Math.floor(clicks * rnd() * 0.2);
      const row: Record<string, unknown> = {
        account_id: o.id,
        campaign_id: id,
        campaign_name: `Leads ${o.id.slice(-4)} #${i}`,
        date_start: date,
        date_stop: date,
        impressions: String(impressions),
        // As the API answers: link clicks and all clicks (which include likes, expansions and profile clicks).
        inline_link_clicks: String(Math.floor(clicks * 0.8)),
        clicks: String(clicks),
        spend: (spendCents / 100).toFixed(2).replace(/\.?0+$/, ''),
        ctr: ((clicks / impressions) * 100).toFixed(6),
      };
      if (nLeads > 0) {
        row.actions = [
          { action_type: 'link_click', value: String(clicks) },
          { action_type: 'lead', value: String(nLeads) },
          { action_type: 'onsite_conversion.lead_grouped', value: String(nLeads) },
          { action_type: 'leadgen_grouped', value: String(nLeads) },
        ];
        if (i % 7 !== 0 && d < 3) {
          for (let k = 0; k < Math.min(nLeads, 2); k++) {
            leads.push({
              id: `98${id.slice(-8)}${date.replace(/-/g, '')}${k}`,
              created_time: `${date}T1${k}:22:41+0000`,
              ad_id: adId,
              adset_id: `1205${String(i).padStart(6, '0')}`,
              campaign_id: id,
              form_id: '555000000000001',
              is_organic: false,
              platform: 'fb',
              field_data: [
                { name: 'full_name', values: [`Person ${i}-${k}`] },
                { name: 'email', values: [`person${i}.${k}@example.test`] },
                { name: 'phone_number', values: ['+15550100'] },
              ],
            });
          }
        }
      }
      insights.push(row);
    }
  }
  return {
    id: o.id,
    name: o.name ?? `Account ${o.id}`,
    currency: o.currency ?? 'EUR',
    timezone_name: o.timezone ?? 'Europe/Berlin',
    campaigns,
    insights,
    ads,
    leads,
  };
}
