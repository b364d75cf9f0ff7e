import { Readable } from 'node:stream';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import type { Kysely } from 'kysely';
import { evidenceInWords, parseScoreDetails } from '../core/alerts/view.js';
import { type CampaignView, renderCampaignPage } from '../views/dashboard/campaign.js';
import type { JobBanner } from '../views/dashboard/layout.js';
import {
  CSV_HEADER,
  csvRecord,
  pageOf,
  parseScorecardQuery,
  type ScorecardQuery,
} from '../core/dashboard/scorecard.js';
import { type RowExtras, renderScorecard } from '../views/dashboard/scorecard.js';
import { whatWouldChange } from '../core/dashboard/verdict.js';
import { intervalIn } from '../core/money.js';
import { addDays } from '../core/dates.js';
import { parseDecimal, toNumber } from '../core/rational.js';
import { type Recommendation, resolveScoringConfig, type ScoringConfig, targetFor } from '../core/scoring/index.js';
import { BadRequest, checkKnownParams, parseDate, parseId } from '../core/status/requests.js';
import { readDailyOutcomes } from '../db/repositories/backtest.repository.js';
import {
  loadCampaignPage,
  loadClient,
  loadConfigs,
  loadRowDetails,
  newestMetricsDay,
  type RowDetails,
} from '../db/repositories/dashboard.repository.js';
import type { Database } from '../db/tables.js';
import { maySee, type Viewer } from './auth.js';
import { HttpError } from '../http/service.js';
import { type Answer, html } from './http.js';
import { ScorecardCache } from './scorecard-cache.js';

/** Rows of the CSV export written between two turns of the event loop. */
const CSV_BATCH = 500;

/**
 * The pages people open every morning: the scorecard (/), a client's (/clients/{id}), a campaign's (/campaigns/{id})
 * and the CSV export of any scorecard view (/scorecard.csv). Every read is limited to what the viewer may see: a
 * client-limited user gets a 404 for anything else, the same answer as for what does not exist.
 */
export function createDashboard(deps: { db: Kysely<Database>; now: () => number; banner: () => Promise<JobBanner> }) {
  const cache = new ScorecardCache(deps.db, deps.now);
  let newest: { at: number; value: Promise<string | null> } | null = null;
  const newestData = () => {
    if (!newest || deps.now() - newest.at > 5000) {
      newest = { at: deps.now(), value: newestMetricsDay(deps.db) };
      newest.value.catch(() => {
        newest = null;
      });
    }
    return newest.value;
  };
  const scopeKey = (v: Viewer) => (v.clientIds === null ? '*' : [...v.clientIds].sort().join('\u0001'));
  const visible = (v: Viewer) => (clientId: string | null) => maySee(v, clientId);
  // A stored configuration never changes under its id: each is read and resolved once.
  const configs = new Map<string, Promise<ScoringConfig | null>>();
  const configById = (id: string) => {
    let c = configs.get(id);
    if (!c) {
      if (configs.size > 100) configs.clear();
      c = loadConfigs(deps.db, [id]).then((m) => {
        const stored = m.get(id);
        const r = stored === undefined ? null : resolveScoringConfig(stored);
        return r?.ok ? r.config : null;
      });
      c.catch(() => configs.delete(id));
      configs.set(id, c);
    }
    return c;
  };
  const notFound = (what: string) => new HttpError(404, `${what} does not exist, or is not yours to see.`);

  async function scorecard(
    q: ScorecardQuery,
    viewer: Viewer,
    at: { path: string; heading: string; client: { id: string; target: string } | null; fixedClient: boolean },
  ): Promise<Answer> {
    if (q.client !== null && !maySee(viewer, q.client)) throw notFound(`Client ${q.client}`);
    const snapshot = await cache.snapshot(q.date);
    if (snapshot === null && q.date !== null)
      throw new HttpError(404, `Nothing was scored on ${q.date}. Leave the date empty for the newest.`);
    const sorted = snapshot ? cache.select(snapshot, q, scopeKey(viewer), visible(viewer)) : [];
    const p = pageOf(sorted, q.page, q.size);
    const rows = p.indexes.map((i) => snapshot!.rows[i]!);
    const details = snapshot
      ? await loadRowDetails(
          deps.db,
          snapshot.date,
          rows.map((r) => r.campaignId),
        )
      : new Map<string, RowDetails>();
    return html(
      renderScorecard({
        username: viewer.username,
        path: at.path,
        heading: at.heading,
        client: at.client,
        // Nothing scored yet: an empty scorecard that says so.
        date: snapshot?.date ?? '—',
        previous: snapshot?.previous ?? null,
        newestData: await newestData(),
        query: { ...q, page: p.page },
        clients: at.fixedClient || !snapshot ? null : clientChoices(snapshot.rows, viewer),
        rows: rows.map((row) => ({ row, extras: extrasOf(details.get(row.campaignId)) })),
        page: p.page,
        pages: p.pages,
        total: p.total,
        banner: await deps.banner(),
      }),
    );
  }

  /** The clients in a date's rows the viewer may see, by name: the client filter's choices. */
  const choices = new WeakMap<object, Map<string, { id: string; name: string | null }[]>>();
  function clientChoices(rows: readonly { clientId: string | null; clientName: string | null }[], viewer: Viewer) {
    let byScope = choices.get(rows);
    if (!byScope) {
      byScope = new Map();
      choices.set(rows, byScope);
    }
    const key = scopeKey(viewer);
    let list = byScope.get(key);
    if (!list) {
      const seen = new Map<string, string | null>();
      for (const r of rows) if (r.clientId !== null && maySee(viewer, r.clientId)) seen.set(r.clientId, r.clientName);
      list = [...seen]
        .map(([id, name]) => ({ id, name }))
        .sort((a, b) => (a.name ?? a.id).localeCompare(b.name ?? b.id));
      byScope.set(key, list);
    }
    return list;
  }

  async function csv(q: ScorecardQuery, viewer: Viewer): Promise<Answer> {
    if (q.client !== null && !maySee(viewer, q.client)) throw notFound(`Client ${q.client}`);
    const snapshot = await cache.snapshot(q.date);
    if (snapshot === null)
      throw new HttpError(404, q.date ? `Nothing was scored on ${q.date}.` : 'Nothing scored yet.');
    const sorted = cache.select(snapshot, q, scopeKey(viewer), visible(viewer));
    // 500 rows at a time, the event loop let go between them: four exports of 100,000 rows at once leave every other
    // request (and /healthz) waiting milliseconds, not seconds.
    const chunks = (async function* () {
      yield stringifyCsv([[...CSV_HEADER]]);
      for (let i = 0; i < sorted.length; i += CSV_BATCH) {
        yield stringifyCsv(sorted.slice(i, i + CSV_BATCH).map((k) => csvRecord(snapshot.rows[k]!)));
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    return {
      status: 200,
      type: 'text/csv; charset=utf-8',
      body: Readable.from(chunks, { objectMode: false }),
      headers: { 'Content-Disposition': `attachment; filename="scorecard-${snapshot.date}.csv"` },
    };
  }

  async function campaign(id: string, params: URLSearchParams, viewer: Viewer): Promise<Answer> {
    checkKnownParams(params, ['date']);
    const asked = parseDate(params);
    // The scored date only, not its 100,000 rows: a campaign page reads its own.
    const date = (await cache.scoredDate(asked)).date ?? asked ?? '9999-12-31';
    const data = await loadCampaignPage(deps.db, id, date);
    if (data.campaign === null || !maySee(viewer, data.campaign.client_id)) throw notFound(`Campaign ${id}`);
    const c = data.campaign;
    const latestRow = data.scores[0] ?? null;
    const latestDetails = data.latestDetails;
    const scores = [...data.scores].reverse();
    let target: number | null = null;
    let days: CampaignView['days'] = [];
    if (latestRow) {
      const config = await configById(latestRow.config_id);
      if (config) {
        const t = targetFor(config, c.currency, c.client_target === null ? null : parseDecimal(c.client_target));
        target = t === null ? null : toNumber(t.target);
        // Dates compare as text (YYYY-MM-DD): the later of the oldest score shown and 89 days back.
        const from = [scores[0]!.date, addDays(latestRow.date, -89)].sort()[1]!;
        const series = (await readDailyOutcomes(deps.db, from, latestRow.date, config.qualifiedStatuses, null, id)).get(
          id,
        );
        if (series)
          days = Array.from({ length: series.spend.length }, (_, i) => ({
            date: addDays(from, i),
            spend: series.spend[i]!,
            qualified: series.qualified[i]!,
          }));
      }
    }
    const details = latestDetails ? parseScoreDetails(latestDetails) : null;
    const spend = latestRow?.window_spend == null ? null : Number(latestRow.window_spend);
    const leads = latestRow?.window_qualified_leads ?? null;
    const view: CampaignView = {
      username: viewer.username,
      banner: await deps.banner(),
      campaign: {
        id: c.campaign_id,
        name: c.campaign_name,
        clientId: c.client_id,
        clientName: c.client_name,
        status: c.status,
        currency: c.currency,
        dailyBudget: c.daily_budget === null ? null : Number(c.daily_budget),
        startDate: c.start_date,
      },
      latest: latestRow && {
        date: latestRow.date,
        score: Number(latestRow.total_score),
        action: (latestRow.action ?? latestRow.recommendation) as Recommendation,
        recommendation: latestRow.recommendation as Recommendation,
        actionReason: latestRow.action_reason,
        flags: latestRow.flags,
        dimensions: Object.entries(details?.dimensions ?? {}).map(([name, d]) => ({ name, ...d })),
        evidence: evidenceLines(latestDetails),
        evidenceWords: evidenceInWords(latestDetails),
        spend,
        qualifiedLeads: leads,
        target,
      },
      scores: scores.map((s) => ({
        date: s.date,
        score: Number(s.total_score),
        action: (s.action ?? s.recommendation) as Recommendation,
      })),
      days,
      history: data.history.map((r) => ({
        date: r.date,
        scoredAt: r.scored_at,
        score: Number(r.total_score),
        recommendation: r.recommendation,
        action: r.action,
      })),
      digests: data.digests,
      verdictChange: latestRow
        ? whatWouldChange({
            action: (latestRow.action ?? latestRow.recommendation) as Recommendation,
            recommendation: latestRow.recommendation as Recommendation,
            score: Number(latestRow.total_score),
            isNew: latestRow.is_new,
            spend,
            qualifiedLeads: leads,
            target,
            startDate: c.start_date,
            currency: c.currency,
          })
        : null,
    };
    return html(renderCampaignPage(view));
  }

  async function client(id: string, params: URLSearchParams, viewer: Viewer): Promise<Answer> {
    if (!maySee(viewer, id)) throw notFound(`Client ${id}`);
    const q = parseScorecardQuery(params, id);
    const row = await loadClient(deps.db, id);
    if (!row) throw notFound(`Client ${id}`);
    const target =
      row.target_cpql === null ? 'the configuration’s default target' : `a target CPQL of ${row.target_cpql}`;
    return scorecard(q, viewer, {
      path: `/clients/${encodeURIComponent(id)}`,
      heading: row.client_name ?? id,
      client: { id, target },
      fixedClient: true,
    });
  }

  // The newest date's rows are read at start, so the first person of the morning does not wait for them.
  cache.snapshot(null).catch(() => undefined);

  /** A page route, or null when the path is not one of the dashboard's. */
  return async function route(path: string, params: URLSearchParams, viewer: Viewer): Promise<Answer | null> {
    if (path === '/')
      return scorecard(parseScorecardQuery(params), viewer, {
        path: '/',
        heading: 'Campaign scorecard',
        client: null,
        fixedClient: false,
      });
    if (path === '/scorecard.csv') return csv(parseScorecardQuery(params), viewer);
    const m = /^\/(campaigns|clients)\/([^/]+)$/.exec(path);
    if (!m) return null;
    let id: string;
    try {
      id = decodeURIComponent(m[2]!);
    } catch {
      throw new BadRequest(`${m[1] === 'campaigns' ? 'campaign' : 'client'} id: not a valid URL-encoded id`);
    }
    parseId(id, m[1] === 'campaigns' ? 'campaign id' : 'client id');
    return m[1] === 'campaigns' ? campaign(id, params, viewer) : client(id, params, viewer);
  };
}

function extrasOf(d: RowDetails | undefined): RowExtras {
  let weakest: string | null = null;
  let worst = Number.POSITIVE_INFINITY;
  for (const x of Object.values(d?.dimensions ?? {})) {
    const share = x.max > 0 ? x.points / x.max : 1;
    if (share < worst) {
      worst = share;
      weakest = x.reason;
    }
  }
  const window = (d?.evidence as { window?: { cpql_80?: [number | null, number | null] } } | null)?.window;
  return { weakest, interval: window?.cpql_80 ?? null, dataUpTo: d?.dataUpTo ?? null };
}

/** The stored evidence (docs/decisions.md) as labelled lines, amounts with their currency. */
function evidenceLines(details: unknown): { label: string; text: string }[] {
  type Window = { p_above?: number; p_above_2x?: number; cpql_80?: unknown; days?: number };
  const d = details as {
    currency?: string | null;
    inputs?: { qualified_leads?: number; total_leads?: number; recent?: { qualified_leads?: number } };
    evidence?: { basis?: string; window?: Window; recent?: Window; long?: Window };
  } | null;
  const e = d?.evidence;
  if (!e || typeof e !== 'object') return [];
  const leadMode = e.basis === 'leads';
  const cost = leadMode ? 'CPL' : 'CPQL';
  const pct = (p: unknown) => (typeof p === 'number' ? `${Math.round(p * 100)} %` : '—');
  const out: { label: string; text: string }[] = [];
  for (const [key, name] of [
    ['window', '30-day window'],
    ['recent', 'last 7 days'],
    ['long', 'longer window'],
  ] as const) {
    const w = e[key];
    if (!w) continue;
    // A window without a qualified lead has no cost yet: its interval's numbers would say nothing useful.
    const counted =
      key === 'recent'
        ? d?.inputs?.recent?.qualified_leads
        : leadMode
          ? d?.inputs?.total_leads
          : d?.inputs?.qualified_leads;
    const range = Array.isArray(w.cpql_80)
      ? intervalIn(w.cpql_80[0] as number | null, w.cpql_80[1] as number | null, d?.currency)
      : null;
    const interval =
      counted === 0
        ? `; no ${leadMode ? 'lead' : 'qualified lead'} yet`
        : range === null
          ? ''
          : `; ${cost} 80 % interval ${range}`;
    out.push({
      label: key === 'long' && typeof w.days === 'number' ? `Over the last ${w.days} days` : `Over the ${name}`,
      text: `${pct(w.p_above)} likely above target, ${pct(w.p_above_2x)} above twice the target${interval}`,
    });
  }
  return out;
}
