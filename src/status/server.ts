import { createHash, timingSafeEqual } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { assessJob, readinessProblems, SCHEDULE } from '../core/status/health.js';
import { renderStatusPage, type StatusView } from '../views/status/jobs.js';
import {
  BadRequest,
  encodeCursor,
  parseDate,
  parseId,
  parsePage,
  parseRecommendation,
} from '../core/status/requests.js';
import { notJudgedReason } from '../core/scoring/not-judged.js';
import type { Database } from '../db/tables.js';
import { createService, HttpError, type LogFn, type Refusals, searchParams } from '../http/service.js';
import { type Answer, html } from './http.js';
import { BasicAuth, type Viewer } from './auth.js';
import { createDashboard } from './dashboard.js';
import { listUsers } from '../db/repositories/users.repository.js';
import { receiverState } from '../db/repositories/crm.repository.js';
import { errorPage, type JobBanner } from '../views/dashboard/layout.js';
import { isConnectionError } from '../db/connection-errors.js';
import {
  latestScoredDate,
  listActionable,
  listCampaignScores,
  loadBackupOverview,
  loadCampaign,
  loadJobFacts,
  loadScoringOverview,
  type CampaignRow,
} from '../db/repositories/status.repository.js';

/**
 * The read-only status service: GET and HEAD only, JSON for machines, the dashboard's pages for people (HTTP Basic),
 * /api/* behind a bearer token and a per-address rate limit. Every answer carries security headers; no error answer
 * carries a stack trace or SQL.
 */

export interface StatusServerDeps {
  db: Kysely<Database>;
  now(): Date;
  /** STATUS_TOKEN; /api/* answers 401 to everything when it is unset. */
  token: string | undefined;
  /** /api/* requests per address per minute. */
  rateLimitPerMinute: number;
  /** How long an /api/* answer is reused for the same URL, in ms (scores change every 6 h; default 1000; 0 = never). */
  apiCacheMs?: number;
  /** TRUSTED_PROXIES: whose X-Forwarded-For names the client (the sign-in lock-out and the rate limit count it). */
  trustedProxies: readonly string[];
  log: LogFn;
}

const TITLES: Record<number, string> = {
  400: 'That request is not understood',
  401: 'Sign in',
  404: 'Not found',
  414: 'Address too long',
  429: 'Too many attempts',
  500: 'Something went wrong',
  503: 'The database is not answering',
};

/** The dashboard's pages: signed in with HTTP Basic. */
function isPagePath(path: string): boolean {
  return path === '/' || path === '/jobs' || path === '/scorecard.csv' || /^\/(campaigns|clients)\/[^/]+$/.test(path);
}

/** The jobs' health in one line: failed beats late beats on time. */
function jobBanner(jobs: StatusView['jobs']): JobBanner {
  const failed = jobs.filter((j) => j.health.lastRunFailed).map((j) => j.schedule.job);
  const late = jobs.filter((j) => !j.health.lastRunFailed && j.health.state !== 'ok').map((j) => j.schedule.job);
  if (failed.length > 0) return { state: 'failed', text: `Failed: ${failed.join(', ')}. See the jobs page.` };
  if (late.length > 0) return { state: 'late', text: `Late: ${late.join(', ')}. See the jobs page.` };
  return { state: 'ok', text: 'Every job ran on time.' };
}

/**
 * What the API's query parameters may be, as JSON schemas Fastify checks before a handler runs: an unknown parameter
 * or one given twice is a 400 naming it (see queryErrors); the values' meaning (a real date, a limit in range, a
 * cursor this API made) is checked by core/status/requests.
 */
const PARAM = {
  date: { type: 'string', maxLength: 40 },
  code: { type: 'string', maxLength: 40 },
  id: { type: 'string', maxLength: 400 },
  limit: { type: 'string', maxLength: 20 },
  cursor: { type: 'string', maxLength: 2000 },
} as const;

function queryOf(properties: Record<string, { type: 'string'; maxLength: number }>) {
  return { type: 'object', properties, additionalProperties: false } as const;
}

/**
 * A route's query (or path) parameters: the schema, and its errors in the words of the API's other 400s, naming
 * the parameter and what is wrong with it.
 */
function params(properties: Record<string, { type: 'string'; maxLength: number }>) {
  const allowed = Object.keys(properties);
  return {
    schema: queryOf(properties),
    error: (errors: FastifySchemaValidationError[]) => {
      const e = errors[0]!;
      const name = e.instancePath.replace(/^\//, '');
      if (e.keyword === 'additionalProperties')
        return new BadRequest(
          `unknown parameter "${String(e.params.additionalProperty).slice(0, 40)}"; ` +
            `allowed: ${allowed.join(', ') || 'none'}`,
        );
      if (e.keyword === 'type') return new BadRequest(`parameter "${name}" given more than once`);
      if (e.keyword === 'maxLength') return new BadRequest(`${name}: at most ${String(e.params.limit)} characters`);
      return new BadRequest(`${name}: ${e.message ?? 'not valid'}`);
    },
  };
}

/** Route options checking the query string against `properties` (and the path against `path`). */
function withQuery(
  properties: Record<string, { type: 'string'; maxLength: number }>,
  path?: Record<string, { type: 'string'; maxLength: number }>,
) {
  const q = params(properties);
  const p = path ? params(path) : null;
  return {
    schema: { querystring: q.schema, ...(p ? { params: p.schema } : {}) },
    schemaErrorFormatter: (errors: FastifySchemaValidationError[], where: string) =>
      where === 'params' && p ? p.error(errors) : q.error(errors),
  };
}

/** Recommendations /api/recommendations lists, most urgent first. */
const ACTIONABLE = ['PAUSE_CAMPAIGN', 'REDUCE_BUDGET', 'TEST_CHANGES', 'MONITOR_CLOSELY', 'INCREASE_BUDGET'] as const;

/** A value computed at most once per `ms`, shared by concurrent requests. */
function memo<T>(ms: number, now: () => number, fn: () => Promise<T>): () => Promise<T> {
  let at = -Infinity;
  let value: Promise<T> | null = null;
  return () => {
    const t = now();
    if (value === null || t - at >= ms) {
      at = t;
      value = fn();
      value.catch(() => {
        value = null;
      });
    }
    return value;
  };
}

function tokenMatches(expected: string | undefined, header: string | undefined): boolean {
  if (!expected || !header?.startsWith('Bearer ')) return false;
  // Digests have one length, so the comparison takes the same time whatever was sent.
  const a = createHash('sha256').update(header.slice('Bearer '.length)).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function promLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function json(body: unknown, status = 200): Answer {
  return { status, type: 'application/json; charset=utf-8', body: `${JSON.stringify(body, null, 2)}\n` };
}

function campaignJson(r: CampaignRow) {
  return {
    campaign_id: r.campaign_id,
    name: r.campaign_name,
    client_id: r.client_id,
    total_score: Number(r.total_score),
    recommendation: r.recommendation,
    // What a person is told to do (docs/decisions.md), beside the spec's recommendation; null before sql/011.
    action: r.action,
    action_gate: r.action_gate,
    not_judged_reason: notJudgedReason(r.flags, r.recommendation),
    flags: r.flags,
    is_new: r.is_new,
  };
}

export async function createStatusService(
  deps: StatusServerDeps,
): Promise<{ app: FastifyInstance; refusals: Refusals }> {
  const clock = () => deps.now().getTime();

  const overview = memo(1000, clock, async (): Promise<StatusView> => {
    const now = deps.now();
    const [facts, scoring, backup, crm] = await Promise.all([
      loadJobFacts(deps.db),
      loadScoringOverview(deps.db, null),
      loadBackupOverview(deps.db),
      // A database not migrated to sql/013 yet has no receiver to report: the rest of the page still shows.
      receiverState(deps.db).catch((e: unknown) => {
        if ((e as { code?: string }).code === '42P01') return null;
        throw e;
      }),
    ]);
    const iso = (d: Date | null) => d?.toISOString() ?? null;
    return {
      now: now.toISOString(),
      crm: crm && {
        lastHour: crm.lastHour,
        lastDay: crm.lastDay,
        pending: { count: crm.pending.count, oldest: iso(crm.pending.oldest) },
        deadLetters: { count: crm.deadLetters.count, oldest: iso(crm.deadLetters.oldest) },
        lastEventAt: iso(crm.lastEventAt),
        expired: crm.expired,
        refused: crm.refused,
      },
      database: 'up',
      jobs: SCHEDULE.map((schedule) => {
        const f = facts.get(schedule.job) ?? { job: schedule.job, lastRun: null, lastSuccessAt: null };
        return {
          schedule,
          health: assessJob(schedule, f, now),
          lastRun: f.lastRun && {
            startedAt: f.lastRun.startedAt.toISOString(),
            status: f.lastRun.status,
            exitCode: f.lastRun.exitCode,
            durationMs: f.lastRun.durationMs,
            error: f.lastRun.error,
          },
          lastSuccessAt: f.lastSuccessAt?.toISOString() ?? null,
        };
      }),
      scoring,
      backup: {
        lastBackup: backup.lastBackup && {
          key: backup.lastBackup.key,
          createdAt: backup.lastBackup.createdAt.toISOString(),
          size: backup.lastBackup.size,
          ageHours: (now.getTime() - backup.lastBackup.createdAt.getTime()) / 3_600_000,
        },
        lastDrill: backup.lastDrill && {
          key: backup.lastDrill.key,
          at: backup.lastDrill.at.toISOString(),
          ok: backup.lastDrill.ok,
          problems: backup.lastDrill.problems,
        },
      },
    };
  });
  const allFacts = memo(1000, clock, () => loadJobFacts(deps.db));
  const latestDate = memo(1000, clock, () => latestScoredDate(deps.db));
  const overviews = new Map<string, () => Promise<Awaited<ReturnType<typeof loadScoringOverview>>>>();
  const overviewOf = (date: string) => {
    if (!overviews.has(date)) {
      if (overviews.size > 100) overviews.clear();
      overviews.set(
        date,
        memo(1000, clock, () => loadScoringOverview(deps.db, date)),
      );
    }
    return overviews.get(date)!();
  };

  // Identical /api/* requests within apiCacheMs share one answer: under load the database sees one
  // query per URL per second instead of one per request.
  const apiCache = new Map<string, { at: number; answer: Promise<Answer> }>();
  const cacheMs = deps.apiCacheMs ?? 1000;
  function cachedApi(key: string, compute: () => Promise<Answer>) {
    const t = clock();
    const hit = apiCache.get(key);
    if (cacheMs > 0 && hit && t - hit.at < cacheMs) return hit.answer;
    if (apiCache.size >= 1000) apiCache.clear();
    const answer = compute();
    if (cacheMs > 0) {
      apiCache.set(key, { at: t, answer });
      answer.catch(() => apiCache.delete(key));
    }
    return answer;
  }

  const users = memo(
    5000,
    clock,
    async () => new Map((await listUsers(deps.db)).map((u) => [u.username.toLowerCase(), u])),
  );
  const auth = new BasicAuth({ users, now: clock, log: deps.log });
  async function signIn(request: FastifyRequest): Promise<Viewer> {
    const r = await auth.signIn(request.headers.authorization, request.ip);
    if (r.ok) return r.viewer;
    if (r.status === 429)
      throw new HttpError(429, `Too many failed sign-ins; try again in ${r.retryAfterSeconds} s.`, {
        'Retry-After': String(r.retryAfterSeconds),
      });
    throw new HttpError(401, `Sign in with your Leadsmart user name and password (${r.reason}).`, {
      'WWW-Authenticate': 'Basic realm="Leadsmart", charset="UTF-8"',
    });
  }
  const dashboard = createDashboard({
    db: deps.db,
    now: clock,
    banner: async () => jobBanner((await overview()).jobs),
  });

  async function readiness(): Promise<Answer> {
    {
      try {
        await sql`SELECT 1`.execute(deps.db);
      } catch (error) {
        if (isConnectionError(error)) return json({ ready: false, problems: ['database: not answering'] }, 503);
        throw error;
      }
      const v = await overview();
      const problems = readinessProblems(v.jobs.map((j) => j.health));
      return json({ ready: problems.length === 0, problems }, problems.length === 0 ? 200 : 503);
    }
  }

  /** /status: open for health checks; the error texts of failed runs only with the bearer token. */
  async function status(withDetails: boolean): Promise<Answer> {
    {
      const v = await overview();
      return json({
        now: v.now,
        jobs: v.jobs.map((j) => ({
          job: j.schedule.job,
          schedule: j.schedule.cron,
          state: j.health.state,
          stale: j.health.state !== 'ok',
          last_run_failed: j.health.lastRunFailed,
          summary: j.health.summary,
          last_run: j.lastRun && (withDetails ? j.lastRun : { ...j.lastRun, error: undefined }),
          last_success_at: j.lastSuccessAt,
        })),
        scoring: v.scoring,
        crm_webhook: v.crm && {
          events_last_hour: v.crm.lastHour,
          events_last_day: v.crm.lastDay,
          pending: v.crm.pending.count,
          oldest_pending: v.crm.pending.oldest,
          dead_letters: v.crm.deadLetters.count,
          oldest_dead_letter: v.crm.deadLetters.oldest,
          last_event_at: v.crm.lastEventAt,
          expired: v.crm.expired,
          refused_last_hour: v.crm.refused.lastHour,
          refused_last_day: v.crm.refused.lastDay,
        },
        backup: withDetails
          ? v.backup
          : { ...v.backup, lastDrill: v.backup.lastDrill && { ...v.backup.lastDrill, problems: undefined } },
      });
    }
  }

  async function metrics(): Promise<Answer> {
    {
      const v = await overview();
      const facts = await allFacts();
      const lines: string[] = [];
      const metric = (name: string, help: string, rows: [Record<string, string>, number][]) => {
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
        for (const [labels, value] of rows) {
          const l = Object.entries(labels)
            .map(([k, val]) => `${k}="${promLabel(val)}"`)
            .join(',');
          lines.push(`${name}${l ? `{${l}}` : ''} ${Number.isFinite(value) ? value : 'NaN'}`);
        }
      };
      const jobs = [...new Set([...SCHEDULE.map((s) => s.job), ...facts.keys()])].sort();
      metric(
        'leadsmart_job_last_success_timestamp_seconds',
        'When the job last finished successfully (Unix time).',
        jobs
          .filter((j) => facts.get(j)?.lastSuccessAt)
          .map((j) => [{ job: j }, facts.get(j)!.lastSuccessAt!.getTime() / 1000]),
      );
      metric(
        'leadsmart_job_last_exit_code',
        "Exit code of the job's latest finished run.",
        jobs
          .filter((j) => facts.get(j)?.lastRun?.exitCode != null)
          .map((j) => [{ job: j }, facts.get(j)!.lastRun!.exitCode!]),
      );
      metric(
        'leadsmart_job_last_duration_seconds',
        "Duration of the job's latest finished run.",
        jobs
          .filter((j) => facts.get(j)?.lastRun?.durationMs != null)
          .map((j) => [{ job: j }, facts.get(j)!.lastRun!.durationMs! / 1000]),
      );
      metric(
        'leadsmart_job_stale',
        "1 when the job's last success is older than its interval plus grace.",
        v.jobs.map((j) => [{ job: j.schedule.job }, j.health.state === 'ok' ? 0 : 1]),
      );
      if (v.scoring) {
        metric('leadsmart_campaigns_scored', 'Campaigns scored for the latest scored date.', [
          [{ date: v.scoring.date }, v.scoring.campaignsScored],
        ]);
        metric(
          'leadsmart_recommendations',
          'Campaigns per recommendation for the latest scored date.',
          Object.entries(v.scoring.recommendations).map(([r, n]) => [{ date: v.scoring!.date, recommendation: r }, n]),
        );
      }
      if (v.crm) {
        metric('leadsmart_crm_events_received', 'CRM webhook events received, by window.', [
          [{ window: '1h' }, v.crm.lastHour],
          [{ window: '24h' }, v.crm.lastDay],
        ]);
        metric('leadsmart_crm_events_pending', 'CRM events waiting for their lead.', [[{}, v.crm.pending.count]]);
        metric('leadsmart_crm_dead_letters', 'Invalid CRM events kept with their reason.', [
          [{}, v.crm.deadLetters.count],
        ]);
        metric('leadsmart_crm_events_expired', 'CRM events that expired waiting for their lead.', [
          [{}, v.crm.expired],
        ]);
        metric(
          'leadsmart_crm_requests_refused',
          'Requests crm-webhook refused, by status and window (401: a bad key or signature).',
          (['1h', '24h'] as const).flatMap((window) =>
            Object.entries(window === '1h' ? v.crm!.refused.lastHour : v.crm!.refused.lastDay).map(
              ([status, n]): [Record<string, string>, number] => [{ status, window }, n],
            ),
          ),
        );
        if (v.crm.lastEventAt)
          metric('leadsmart_crm_last_event_timestamp_seconds', 'When the last CRM event was received (Unix time).', [
            [{}, Date.parse(v.crm.lastEventAt) / 1000],
          ]);
      }
      if (v.backup.lastBackup)
        metric(
          'leadsmart_backup_last_success_timestamp_seconds',
          'When the latest good backup was taken (Unix time).',
          [[{}, Date.parse(v.backup.lastBackup.createdAt) / 1000]],
        );
      if (v.backup.lastDrill)
        metric('leadsmart_backup_last_drill_ok', '1 when the latest restore drill passed.', [
          [{}, v.backup.lastDrill.ok ? 1 : 0],
        ]);
      return { status: 200, type: 'text/plain; version=0.0.4; charset=utf-8', body: `${lines.join('\n')}\n` };
    }
  }

  async function jobsPage(viewer: Viewer): Promise<Answer> {
    {
      let v: StatusView;
      try {
        v = await overview();
      } catch (error) {
        if (!isConnectionError(error)) throw error;
        v = {
          now: deps.now().toISOString(),
          database: 'down',
          jobs: [],
          scoring: null,
          crm: null,
          backup: { lastBackup: null, lastDrill: null },
        };
      }
      return html(renderStatusPage(v, { agencyWide: viewer.clientIds === null }), v.database === 'down' ? 503 : 200);
    }
  }

  async function apiCampaigns(params: URLSearchParams): Promise<Answer> {
    {
      const page = parsePage(params, 1);
      const date = parseDate(params) ?? (await latestDate());
      if (date === null) return json({ date: null, items: [], next_cursor: null });
      const rows = await listCampaignScores(deps.db, {
        date,
        recommendation: parseRecommendation(params),
        clientId: parseId(params.get('client'), 'client'),
        limit: page.limit,
        after: page.after?.[0] ?? null,
      });
      const more = rows.length > page.limit;
      const items = rows.slice(0, page.limit);
      return json({
        date,
        items: items.map(campaignJson),
        next_cursor: more ? encodeCursor([items[items.length - 1]!.campaign_id]) : null,
      });
    }
  }

  async function apiRecommendations(params: URLSearchParams): Promise<Answer> {
    {
      const page = parsePage(params, 3);
      const type = parseRecommendation(params, 'type');
      const date = parseDate(params) ?? (await latestDate());
      if (date === null) return json({ date: null, counts: {}, items: [], next_cursor: null });
      const types: readonly string[] = type ? [type] : ACTIONABLE;
      let after: { type: string; score: string; campaignId: string } | null = null;
      if (page.after) {
        if (!types.includes(page.after[0]!) || !/^\d{1,3}(\.\d{1,2})?$/.test(page.after[1]!))
          throw new BadRequest('cursor: not a cursor this API returned for these parameters');
        after = { type: page.after[0]!, score: page.after[1]!, campaignId: page.after[2]! };
      }
      const items = await listActionable(deps.db, { date, types, limit: page.limit + 1, after });
      let next: string | null = null;
      if (items.length > page.limit) {
        items.length = page.limit;
        const last = items[items.length - 1]!;
        next = encodeCursor([last.recommendation, last.total_score, last.campaign_id]);
      }
      const overviewForDate = await overviewOf(date);
      return json({
        date,
        counts: overviewForDate?.recommendations ?? {},
        items: items.map(campaignJson),
        next_cursor: next,
      });
    }
  }

  async function apiCampaign(id: string): Promise<Answer> {
    {
      parseId(id, 'campaign id');
      const c = await loadCampaign(deps.db, id);
      if (c.campaign === null && c.history.length === 0) throw new HttpError(404, `no campaign ${id}`);
      const details = (c.latest?.recommendation_details ?? null) as {
        reason?: string;
        dimensions?: Record<string, { points: number; max: number; reason: string }>;
        flags?: string[];
        inputs?: unknown;
        evidence?: unknown;
      } | null;
      return json({
        campaign: c.campaign,
        latest: c.latest
          ? {
              date: c.latest.date,
              reason: details?.reason ?? null,
              dimensions: details?.dimensions ?? null,
              flags: details?.flags ?? [],
              inputs: details?.inputs ?? null,
              action: c.latest.action,
              evidence: details?.evidence ?? null,
            }
          : null,
        history: c.history.map((h) => ({
          date: h.date,
          total_score: Number(h.total_score),
          recommendation: h.recommendation,
          action: h.action,
          flags: h.flags,
        })),
      });
    }
  }

  const { app, refusals } = await createService({
    log: deps.log,
    trustedProxies: deps.trustedProxies,
    bodyLimit: 1024,
    maxInFlight: 256,
    unavailable: 'database unavailable; try again shortly',
    // People (pages, or a browser asking for HTML) get a page that says what to do; machines get JSON.
    pageFor: (request) => {
      const path = request.url.split('?')[0]!;
      // Everything but the machines' paths is a page: a mistyped page address gets a page too.
      const forPeople = isPagePath(path) || !/^\/(api\/|healthz$|readyz$|status$|metrics$)/.test(path);
      return forPeople
        ? (status, message) => errorPage(status, TITLES[status] ?? 'Something went wrong', message)
        : null;
    },
  });

  const send = (reply: FastifyReply, a: Answer) => {
    reply.code(a.status).type(a.type);
    if (a.headers) reply.headers(a.headers);
    return reply.send(a.body);
  };
  const viewerOf = (request: FastifyRequest) => request.viewer!;
  const hasToken = (request: FastifyRequest) => tokenMatches(deps.token, request.headers.authorization);
  app.get('/healthz', async (_request, reply) => send(reply, json({ status: 'ok' })));
  app.get('/readyz', async (_request, reply) => send(reply, await readiness()));
  app.get('/status', withQuery({}), async (request, reply) => send(reply, await status(hasToken(request))));
  app.get('/metrics', withQuery({}), async (_request, reply) => send(reply, await metrics()));

  // The dashboard: HTTP Basic, checked before anything is read.
  await app.register(async (pages) => {
    pages.addHook('preHandler', async (request) => {
      request.viewer = await signIn(request);
    });
    const page = async (request: FastifyRequest, reply: FastifyReply, path: string) => {
      const answer = await dashboard(path, searchParams(request), viewerOf(request));
      if (!answer) throw new HttpError(404, `no such page: ${path.slice(0, 100)}`);
      return send(reply, answer);
    };
    pages.get('/', (request, reply) => page(request, reply, '/'));
    pages.get('/scorecard.csv', (request, reply) => page(request, reply, '/scorecard.csv'));
    pages.get('/jobs', async (request, reply) => send(reply, await jobsPage(viewerOf(request))));
    pages.get<{ Params: { id: string } }>('/campaigns/:id', (request, reply) =>
      page(request, reply, `/campaigns/${encodeURIComponent(request.params.id)}`),
    );
    pages.get<{ Params: { id: string } }>('/clients/:id', (request, reply) =>
      page(request, reply, `/clients/${encodeURIComponent(request.params.id)}`),
    );
  });

  // The API: a per-address rate limit, counted apart with and without the token (everyone behind the runbook's ssh
  // tunnel is one address, and a flood without the token must not lock the token holder out), then the token.
  await app.register(async (api) => {
    await api.register(rateLimit, {
      max: deps.rateLimitPerMinute,
      timeWindow: 60_000,
      keyGenerator: (request) => `${request.ip} ${hasToken(request) ? 'token' : 'no-token'}`,
      errorResponseBuilder: (_request, context) =>
        new HttpError(429, `rate limit: at most ${deps.rateLimitPerMinute} requests a minute per address`, {
          'Retry-After': String(Math.max(1, Math.ceil(context.ttl / 1000))),
        }),
    });
    api.addHook('preHandler', async (request) => {
      if (!hasToken(request))
        throw new HttpError(401, 'a valid bearer token is required (Authorization: Bearer <STATUS_TOKEN>)', {
          'WWW-Authenticate': 'Bearer realm="leadsmart"',
        });
    });
    // Identical requests within apiCacheMs share one answer.
    const cached = (request: FastifyRequest, compute: () => Promise<Answer>) => cachedApi(request.url, compute);
    const page = { limit: PARAM.limit, cursor: PARAM.cursor };
    api.get(
      '/api/campaigns',
      withQuery({ date: PARAM.date, recommendation: PARAM.code, client: PARAM.id, ...page }),
      async (request, reply) => send(reply, await cached(request, () => apiCampaigns(searchParams(request)))),
    );
    api.get(
      '/api/recommendations',
      withQuery({ date: PARAM.date, type: PARAM.code, ...page }),
      async (request, reply) => send(reply, await cached(request, () => apiRecommendations(searchParams(request)))),
    );
    api.get<{ Params: { id: string } }>('/api/campaigns/:id', withQuery({}, { id: PARAM.id }), async (request, reply) =>
      send(reply, await cached(request, () => apiCampaign(request.params.id))),
    );
  });

  app.setNotFoundHandler(async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD')
      throw new HttpError(
        405,
        `method ${request.method.slice(0, 20)} not allowed: this service is read-only (GET, HEAD)`,
        {
          Allow: 'GET, HEAD',
        },
      );
    throw new HttpError(404, `no such page: ${request.url.split('?')[0]!.slice(0, 100)}`);
  });

  return { app, refusals };
}

declare module 'fastify' {
  interface FastifyRequest {
    viewer?: Viewer;
  }
}
