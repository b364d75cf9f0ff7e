import { rangeDays } from '../../core/facebook/records.js';
import { addDays } from '../../core/dates.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { GraphApiError, type AccountSession } from './graph-client.js';

/**
 * Every effective status each edge accepts, so paused, archived and deleted objects are listed too (the API hides the
 * last two by default). Each edge takes only its own values: a campaign listing (or a `campaign.effective_status`
 * filter) sent an ad-level value such as ADSET_PAUSED is refused with 100/1487561 "Run Status not valid".
 * (The official SDKs' enums: Campaign.EffectiveStatus and Ad.EffectiveStatus.)
 */
export const CAMPAIGN_EFFECTIVE_STATUSES = ['ACTIVE', 'PAUSED', 'DELETED', 'ARCHIVED', 'IN_PROCESS', 'WITH_ISSUES'];
export const AD_EFFECTIVE_STATUSES = [
  'ACTIVE',
  'PAUSED',
  'DELETED',
  'PENDING_REVIEW',
  'DISAPPROVED',
  'PREAPPROVED',
  'PENDING_BILLING_INFO',
  'CAMPAIGN_PAUSED',
  'ARCHIVED',
  'ADSET_PAUSED',
  'IN_PROCESS',
  'WITH_ISSUES',
];
export const CAMPAIGN_FIELDS =
  'id,account_id,name,status,effective_status,objective,daily_budget,lifetime_budget,start_time,stop_time,updated_time';
/**
 * `inline_link_clicks` is what campaign_metrics.clicks holds (as an export's "Link clicks"); `clicks` (all clicks) is
 * kept beside it.
 */
export const INSIGHT_FIELDS =
  'campaign_id,campaign_name,date_start,date_stop,impressions,inline_link_clicks,clicks,spend,ctr,actions';
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
  const body = await session.get(
    session.url(session.accountId, { fields: 'id,account_id,name,currency,timezone_name' }),
    'account',
  );
  const currency = typeof body.currency === 'string' ? body.currency : null;
  const timeZone = typeof body.timezone_name === 'string' ? body.timezone_name : null;
  if (!currency || !timeZone) {
    throw new GraphApiError(
      { kind: 'transient', status: 200, message: 'ad account answer lacks currency or timezone_name', appWide: false },
      'account',
    );
  }
  return { currency, timeZone, name: typeof body.name === 'string' ? body.name : null };
}

function pageData(body: Record<string, unknown>, endpoint: string): unknown[] {
  if (!Array.isArray(body.data))
    throw new GraphApiError(
      { kind: 'transient', status: 200, message: '"data" is not a list', appWide: false },
      endpoint,
    );
  return body.data;
}

function nextUrl(body: Record<string, unknown>): string | null {
  const paging = body.paging as { next?: unknown } | undefined;
  return paging && typeof paging.next === 'string' && paging.next !== '' ? paging.next : null;
}

/**
 * The state of one listing read page by page until `paging.next` is absent
 * (a short or empty page is not the end). Items are de-duplicated by
 * `keyOf` (a row can appear on two pages). A full page without
 * paging.next is either the exact end or an early end: one more page from
 * its `after` cursor tells them apart. A cursor that went stale (an item
 * was deleted between pages) restarts the listing, at most twice. When the
 * API asks for less data the page size is halved, down to `minLimit`.
 * Shared by the one-at-a-time reader and the batched one.
 */
export class Pager {
  /** The next page to ask for; null once the listing is complete. */
  url: string | null;
  limit: number;
  pages = 0;
  private seen = new Map<string, unknown>();
  private confirmedEnd = new Set<string>();
  private restarts = 0;

  constructor(
    private readonly firstUrl: string,
    readonly endpoint: string,
    private readonly paging: PagingOptions,
    private readonly keyOf: (item: unknown) => string,
  ) {
    this.limit = paging.limit;
    this.url = withLimit(firstUrl, this.limit);
  }

  get items(): unknown[] {
    return [...this.seen.values()];
  }

  /** Takes one page (the answer to `url`) and moves `url` on. */
  accept(body: Record<string, unknown>): void {
    const url = this.url as string;
    this.pages += 1;
    const data = pageData(body, this.endpoint);
    for (const item of data) this.seen.set(this.keyOf(item), item);
    const next = nextUrl(body);
    const after = (body.paging as { cursors?: { after?: unknown } } | undefined)?.cursors?.after;
    if (next === null && data.length >= this.limit && typeof after === 'string' && !this.confirmedEnd.has(after)) {
      this.confirmedEnd.add(after);
      const confirm = new URL(url);
      confirm.searchParams.set('after', after);
      this.url = confirm.toString();
      return;
    }
    this.url = next === null ? null : withLimit(next, this.limit);
  }

  /**
   * A failed page: true when the listing can go on (smaller pages, or from the start); false when the error is the
   * caller's.
   */
  recover(error: unknown): boolean {
    if (!(error instanceof GraphApiError)) return false;
    if (error.info.kind === 'reduce-data' && this.limit > this.paging.minLimit) {
      this.limit = Math.max(this.paging.minLimit, Math.floor(this.limit / 2));
      this.url = withLimit(this.url as string, this.limit);
      return true;
    }
    if (error.info.kind === 'invalid-cursor' && this.restarts < 2) {
      this.restarts += 1;
      this.seen.clear();
      this.confirmedEnd.clear();
      this.pages = 0;
      this.url = withLimit(this.firstUrl, this.limit);
      return true;
    }
    return false;
  }
}

/** Reads one listing to its end, one page at a time (see Pager). Returns the page size that worked. */
export async function readAllPages(
  session: AccountSession,
  firstUrl: string,
  endpoint: string,
  paging: PagingOptions,
  keyOf: (item: unknown) => string,
): Promise<{ items: unknown[]; limit: number; pages: number }> {
  const pager = new Pager(firstUrl, endpoint, paging, keyOf);
  while (pager.url !== null) {
    let body: Record<string, unknown>;
    try {
      body = await session.get(pager.url, endpoint, { list: true });
    } catch (error) {
      if (pager.recover(error)) continue;
      throw error;
    }
    pager.accept(body);
  }
  return { items: pager.items, limit: pager.limit, pages: pager.pages };
}

/**
 * Reads many listings to their ends together: the next page of every
 * unfinished listing goes out in one batch request (up to the session's
 * batch size), until none is left. Saves round trips, not quota: Meta counts
 * every entry of a batch as a call, and the session paces accordingly.
 */
export async function readAllPagesBatched(session: AccountSession, pagers: Pager[]): Promise<void> {
  for (;;) {
    const open = pagers.filter((p) => p.url !== null);
    if (open.length === 0) return;
    const answers = await session.getMany(open.map((p) => ({ url: p.url as string, endpoint: p.endpoint })));
    for (const [i, answer] of answers.entries()) {
      const pager = open[i]!;
      if (answer.ok) pager.accept(answer.body);
      else if (!pager.recover(answer.error)) throw answer.error;
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
  const url = session.url(`${session.accountId}/campaigns`, {
    fields: CAMPAIGN_FIELDS,
    effective_status: JSON.stringify(CAMPAIGN_EFFECTIVE_STATUSES),
  });
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
      const got = await readAllPages(
        session,
        url,
        'insights',
        { limit: out.limit, minLimit: days > 1 ? out.limit : paging.minLimit },
        (row) => {
          const o = row as { campaign_id?: unknown; date_start?: unknown };
          return `${String(o?.campaign_id)}|${String(o?.date_start)}`;
        },
      );
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
      pending.unshift(
        { since: r.since, until: addDays(r.since, half - 1) },
        { since: addDays(r.since, half), until: r.until },
      );
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
    filtering: JSON.stringify([
      { field: 'campaign.effective_status', operator: 'IN', value: CAMPAIGN_EFFECTIVE_STATUSES },
    ]),
  };
}

const reportFailure = (message: string): GraphApiError =>
  new GraphApiError({ kind: 'transient', status: 200, message, appWide: false }, 'insights-report');

/**
 * One day of insights through an asynchronous report run: POST the same
 * parameters, poll the run until its status is "Job Completed" (a 100 %
 * completion while still "Job Running" is not done), then page its rows. A
 * failed, skipped or timed-out run is submitted once more. Polling right
 * after the POST can answer 100/33 (not there yet): that poll is repeated.
 */
async function fetchInsightsReport(
  session: AccountSession,
  r: { since: string; until: string },
  limit: number,
  o: AsyncReportOptions,
): Promise<unknown[]> {
  let lastProblem = '';
  for (let attempt = 1; attempt <= 2; attempt++) {
    const created = await session.post(
      session.url(`${session.accountId}/insights`),
      'insights-report',
      insightParams(r),
    );
    const id = created.report_run_id;
    if ((typeof id !== 'string' && typeof id !== 'number') || !/^\d+$/.test(String(id)))
      throw reportFailure(`report run answer without a report_run_id: ${JSON.stringify(created).slice(0, 200)}`);
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
        const got = await readAllPages(
          session,
          session.url(`${String(id)}/insights`),
          'insights-report-rows',
          { limit, minLimit: 25 },
          (row) => {
            const x = row as { campaign_id?: unknown; date_start?: unknown };
            return `${String(x?.campaign_id)}|${String(x?.date_start)}`;
          },
        );
        return got.items;
      }
      if (status === 'Job Failed' || status === 'Job Skipped') {
        const code = `${String(run.error_code ?? '')}/${String(run.error_subcode ?? '')}`;
        lastProblem =
          `report run ${String(id)} for ${r.since}: ${status}` +
          (run.error_message ? ` (${code} ${String(run.error_message)})` : '');
        break;
      }
    }
    if (status !== 'Job Failed' && status !== 'Job Skipped')
      lastProblem =
        `report run ${String(id)} for ${r.since} not completed ` +
        `within ${Math.round(o.timeoutMs / 1000)} s (last ` +
        `status: ${status || 'none'})`;
  }
  throw reportFailure(`${lastProblem}; submitted twice`);
}

export async function fetchAds(session: AccountSession, paging: PagingOptions): Promise<unknown[]> {
  const url = session.url(`${session.accountId}/ads`, {
    fields: 'id,campaign_id,effective_status',
    effective_status: JSON.stringify(AD_EFFECTIVE_STATUSES),
  });
  return (await readAllPages(session, url, 'ads', paging, idOf)).items;
}

/**
 * A listing of the leads of one ad created in (after, before), unix seconds; the caller's window overlaps the previous
 * run's.
 */
export function leadsPager(
  session: AccountSession,
  adId: string,
  after: number,
  before: number,
  paging: PagingOptions,
): Pager {
  const url = session.url(`${adId}/leads`, {
    fields: LEAD_FIELDS,
    filtering: JSON.stringify([
      { field: 'time_created', operator: 'GREATER_THAN', value: after },
      { field: 'time_created', operator: 'LESS_THAN', value: before },
    ]),
  });
  return new Pager(url, 'leads', paging, idOf);
}

/**
 * The leads of many ads (there is no account-level leads edge), their first
 * pages and every further page asked for in batches. Returns them per ad id.
 */
export async function fetchLeads(
  session: AccountSession,
  adIds: string[],
  after: number,
  before: number,
  paging: PagingOptions,
): Promise<Map<string, unknown[]>> {
  const pagers = adIds.map((id) => leadsPager(session, id, after, before, paging));
  await readAllPagesBatched(session, pagers);
  return new Map(adIds.map((id, i) => [id, pagers[i]!.items]));
}
