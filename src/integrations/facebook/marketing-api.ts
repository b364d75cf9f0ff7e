import { rangeDays } from '../../core/facebook/records.js';
import { addDays } from '../../core/dates.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { GraphApiError, type AccountSession } from './graph-client.js';

/** Every effective status, so paused, archived and deleted campaigns are listed too (the API hides the last two by default). */
export const ALL_EFFECTIVE_STATUSES = [
  'ACTIVE', 'PAUSED', 'DELETED', 'PENDING_REVIEW', 'DISAPPROVED', 'PREAPPROVED', 'PENDING_BILLING_INFO',
  'CAMPAIGN_PAUSED', 'ARCHIVED', 'ADSET_PAUSED', 'IN_PROCESS', 'WITH_ISSUES',
];
export const CAMPAIGN_FIELDS = 'id,account_id,name,status,effective_status,objective,daily_budget,lifetime_budget,start_time,stop_time,updated_time';
export const INSIGHT_FIELDS = 'campaign_id,campaign_name,date_start,date_stop,impressions,clicks,spend,ctr,actions';
/** field_data (what people typed into the form) is never asked for: leads are counted, not read. */
export const LEAD_FIELDS = 'id,created_time,ad_id,adset_id,campaign_id,form_id,is_organic,platform';

export interface PagingOptions {
  /** Page size asked for; halved (to minLimit) only when the API asks for less data. */
  limit: number;
  minLimit: number;
}

/** Asynchronous report runs, the last resort when even one day is too much for a synchronous call. */
export interface AsyncReportOptions {
  /** First wait between two status polls; doubles up to 30 s. */
  pollMs: number;
  /** A report not "Job Completed" by then is submitted once more, then given up. */
  timeoutMs: number;
}

export interface AccountInfo {
  currency: string;
  timeZone: string;
  name: string | null;
}

export async function fetchAccount(session: AccountSession): Promise<AccountInfo> {
  const body = await session.get(session.url(session.accountId, { fields: 'id,account_id,name,currency,timezone_name' }), 'account');
  const currency = typeof body.currency === 'string' ? body.currency : null;
  const timeZone = typeof body.timezone_name === 'string' ? body.timezone_name : null;
  if (!currency || !timeZone) {
    throw new GraphApiError({ kind: 'transient', status: 200, message: 'ad account answer lacks currency or timezone_name', appWide: false }, 'account');
  }
  return { currency, timeZone, name: typeof body.name === 'string' ? body.name : null };
}

function pageData(body: Record<string, unknown>, endpoint: string): unknown[] {
  if (!Array.isArray(body.data)) throw new GraphApiError({ kind: 'transient', status: 200, message: '"data" is not a list', appWide: false }, endpoint);
  return body.data;
}

function nextUrl(body: Record<string, unknown>): string | null {
  const paging = body.paging as { next?: unknown } | undefined;
  return paging && typeof paging.next === 'string' && paging.next !== '' ? paging.next : null;
}

/**
 * Reads every page until `paging.next` is absent (a short or empty page is
 * not the end). Items are de-duplicated by `keyOf` (a row can appear on two
 * pages). A cursor that went stale (an item was deleted between pages)
 * restarts the listing, at most twice. When the API asks for less data the
 * page size is halved, down to `paging.minLimit`; below that the error goes
 * to the caller. Returns the page size that worked.
 */
export async function readAllPages(
  session: AccountSession,
  firstUrl: string,
  endpoint: string,
  paging: PagingOptions,
  keyOf: (item: unknown) => string,
): Promise<{ items: unknown[]; limit: number; pages: number }> {
  let limit = paging.limit;
  for (let restarts = 0; ; restarts++) {
    const seen = new Map<string, unknown>();
    const confirmedEnd = new Set<string>();
    let url: string | null = withLimit(firstUrl, limit);
    let pages = 0;
    try {
      while (url !== null) {
        let body: Record<string, unknown>;
        try {
          body = await session.get(url, endpoint, { list: true });
        } catch (error) {
          if (error instanceof GraphApiError && error.info.kind === 'reduce-data' && limit > paging.minLimit) {
            limit = Math.max(paging.minLimit, Math.floor(limit / 2));
            url = withLimit(url, limit);
            continue;
          }
          throw error;
        }
        pages += 1;
        const data = pageData(body, endpoint);
        for (const item of data) seen.set(keyOf(item), item);
        const next = nextUrl(body);
        // A full page without paging.next is either the exact end or an early end; one more call with its
        // `after` cursor tells them apart (an empty page without next is the end).
        const after = (body.paging as { cursors?: { after?: unknown } } | undefined)?.cursors?.after;
        if (next === null && data.length >= limit && typeof after === 'string' && !confirmedEnd.has(after)) {
          confirmedEnd.add(after);
          const confirm: URL = new URL(url as string);
          confirm.searchParams.set('after', after);
          url = confirm.toString();
          continue;
        }
        url = next === null ? null : withLimit(next, limit);
      }
      return { items: [...seen.values()], limit, pages };
    } catch (error) {
      if (error instanceof GraphApiError && error.info.kind === 'invalid-cursor' && restarts < 2) continue;
      throw error;
    }
  }
}

function withLimit(url: string, limit: number): string {
  const u = new URL(url);
  u.searchParams.set('limit', String(limit));
  return u.toString();
}

const idOf = (item: unknown): string => String((item as { id?: unknown })?.id ?? JSON.stringify(item));

export async function fetchCampaigns(session: AccountSession, paging: PagingOptions): Promise<unknown[]> {
  const url = session.url(`${session.accountId}/campaigns`, { fields: CAMPAIGN_FIELDS, effective_status: JSON.stringify(ALL_EFFECTIVE_STATUSES) });
  return (await readAllPages(session, url, 'campaigns', paging, idOf)).items;
}

export interface InsightsFetch {
  rows: unknown[];
  /** The date ranges actually asked for (smaller than the chunks when the API asked for less data). */
  ranges: { since: string; until: string }[];
  limit: number;
  /** Days read through asynchronous report runs. */
  reports: number;
}

/**
 * Account-level daily campaign insights for one date range: one call per
 * page for all campaigns, never one per campaign. "Reduce the amount of
 * data" is answered first by bisecting the date range (down to single
 * days), then by halving the page size.
 */
export async function fetchInsights(
  session: AccountSession,
  range: { since: string; until: string },
  paging: PagingOptions,
  asyncReports: AsyncReportOptions,
): Promise<InsightsFetch> {
  const out: InsightsFetch = { rows: [], ranges: [], limit: paging.limit, reports: 0 };
  const pending = [range];
  while (pending.length > 0) {
    const r = pending.shift()!;
    const url = session.url(`${session.accountId}/insights`, insightParams(r));
    const days = rangeDays(r);
    try {
      const got = await readAllPages(session, url, 'insights', { limit: out.limit, minLimit: days > 1 ? out.limit : paging.minLimit }, (row) => {
        const o = row as { campaign_id?: unknown; date_start?: unknown };
        return `${String(o?.campaign_id)}|${String(o?.date_start)}`;
      });
      out.rows.push(...got.items);
      out.ranges.push(r);
      out.limit = got.limit;
    } catch (error) {
      if (!(error instanceof GraphApiError) || error.info.kind !== 'reduce-data') throw error;
      if (days <= 1) {
        out.rows.push(...(await fetchInsightsReport(session, r, out.limit, asyncReports)));
        out.ranges.push(r);
        out.reports += 1;
        continue;
      }
      const half = Math.floor(days / 2);
      pending.unshift({ since: r.since, until: addDays(r.since, half - 1) }, { since: addDays(r.since, half), until: r.until });
    }
  }
  return out;
}

function insightParams(r: { since: string; until: string }): Record<string, string> {
  return {
    level: 'campaign',
    time_increment: '1',
    time_range: JSON.stringify({ since: r.since, until: r.until }),
    fields: INSIGHT_FIELDS,
    filtering: JSON.stringify([{ field: 'campaign.effective_status', operator: 'IN', value: ALL_EFFECTIVE_STATUSES }]),
  };
}

const reportFailure = (message: string): GraphApiError => new GraphApiError({ kind: 'transient', status: 200, message, appWide: false }, 'insights-report');

/**
 * One day of insights through an asynchronous report run: POST the same
 * parameters, poll the run until its status is "Job Completed" (a 100 %
 * completion while still "Job Running" is not done), then page its rows. A
 * failed, skipped or timed-out run is submitted once more. Polling right
 * after the POST can answer 100/33 (not there yet): that poll is repeated.
 */
async function fetchInsightsReport(session: AccountSession, r: { since: string; until: string }, limit: number, o: AsyncReportOptions): Promise<unknown[]> {
  let lastProblem = '';
  for (let attempt = 1; attempt <= 2; attempt++) {
    const created = await session.post(session.url(`${session.accountId}/insights`), 'insights-report', insightParams(r));
    const id = created.report_run_id;
    if ((typeof id !== 'string' && typeof id !== 'number') || !/^\d+$/.test(String(id))) throw reportFailure(`report run answer without a report_run_id: ${JSON.stringify(created).slice(0, 200)}`);
    const deadline = Date.now() + o.timeoutMs;
    let wait = o.pollMs;
    let status = '';
    while (Date.now() < deadline) {
      await sleep(wait, undefined, { signal: session.signal }).catch(() => undefined);
      if (session.signal.aborted) throw session.signal.reason as Error;
      wait = Math.min(wait * 2, 30_000);
      let run: Record<string, unknown>;
      try {
        run = await session.get(session.url(String(id)), 'insights-report-status');
      } catch (error) {
        if (error instanceof GraphApiError && error.info.code === 100 && error.info.subcode === 33) continue;
        throw error;
      }
      status = String(run.async_status);
      if (status === 'Job Completed') {
        const got = await readAllPages(session, session.url(`${String(id)}/insights`), 'insights-report-rows', { limit, minLimit: 25 }, (row) => {
          const x = row as { campaign_id?: unknown; date_start?: unknown };
          return `${String(x?.campaign_id)}|${String(x?.date_start)}`;
        });
        return got.items;
      }
      if (status === 'Job Failed' || status === 'Job Skipped') {
        lastProblem = `report run ${String(id)} for ${r.since}: ${status}${run.error_message ? ` (${String(run.error_code ?? '')}/${String(run.error_subcode ?? '')} ${String(run.error_message)})` : ''}`;
        break;
      }
    }
    if (status !== 'Job Failed' && status !== 'Job Skipped') lastProblem = `report run ${String(id)} for ${r.since} not completed within ${Math.round(o.timeoutMs / 1000)} s (last status: ${status || 'none'})`;
  }
  throw reportFailure(`${lastProblem}; submitted twice`);
}

export async function fetchAds(session: AccountSession, paging: PagingOptions): Promise<unknown[]> {
  const url = session.url(`${session.accountId}/ads`, { fields: 'id,campaign_id,effective_status', effective_status: JSON.stringify(ALL_EFFECTIVE_STATUSES) });
  return (await readAllPages(session, url, 'ads', paging, idOf)).items;
}

/** Leads of one ad created in (after, before), unix seconds; the caller's window overlaps the previous run's. */
export async function fetchLeads(session: AccountSession, adId: string, after: number, before: number, paging: PagingOptions): Promise<unknown[]> {
  const url = session.url(`${adId}/leads`, {
    fields: LEAD_FIELDS,
    filtering: JSON.stringify([
      { field: 'time_created', operator: 'GREATER_THAN', value: after },
      { field: 'time_created', operator: 'LESS_THAN', value: before },
    ]),
  });
  return (await readAllPages(session, url, 'leads', paging, idOf)).items;
}
