import { isIsoDate } from '../dates.js';
import { FLAGS, RECOMMENDATIONS, type Recommendation } from '../scoring/types.js';
import { BadRequest, checkKnownParams, parseId } from '../status/requests.js';
import { guardFormula } from '../text/csv.js';

/**
 * The scorecard: one row per campaign for a scored date, filtered, sorted and paged in memory (the server keeps the
 * date's rows; see src/status/scorecard-cache.ts). Pure.
 */

export interface ScorecardRow {
  campaignId: string;
  name: string | null;
  clientId: string | null;
  clientName: string | null;
  score: number;
  /** The score on the previous scored date; null when the campaign was not scored then. */
  previousScore: number | null;
  action: Recommendation;
  recommendation: Recommendation;
  flags: readonly string[];
  /** Spend and qualified leads over the 30-day scoring window; null on scores from before sql/011. */
  spend: number | null;
  qualifiedLeads: number | null;
  /** spend ÷ qualified leads; null without a qualified lead. */
  cpql: number | null;
  target: number | null;
  currency: string | null;
  /** The name and id in lower case, made once (searchText): a search reads it for every row. */
  search: string;
}

/** What the name search looks in: a row's name and id, lower case. */
export const searchText = (name: string | null, campaignId: string): string =>
  `${name ?? ''}\u0000${campaignId}`.toLowerCase();

/** Most urgent first: cuts, then changes to test, then the opportunity, then what needs no act. */
export const URGENCY: readonly Recommendation[] = [
  'PAUSE_CAMPAIGN',
  'REDUCE_BUDGET',
  'TEST_CHANGES',
  'INCREASE_BUDGET',
  'MONITOR_CLOSELY',
  'CONTINUE_OPTIMIZE',
  'INSUFFICIENT_DATA',
];
const URGENCY_RANK = new Map(URGENCY.map((a, i) => [a, i]));

export const SORTS = ['urgency', 'campaign', 'client', 'score', 'change', 'action', 'spend', 'cpql'] as const;
export type SortKey = (typeof SORTS)[number];

export interface ScorecardQuery {
  date: string | null;
  client: string | null;
  action: Recommendation | null;
  flag: string | null;
  /** Text searched for in campaign names (and ids), case-insensitively. */
  q: string | null;
  sort: SortKey;
  dir: 'asc' | 'desc';
  page: number;
  /** Rows per page: one of PAGE_SIZES. */
  size: number;
}

export const PAGE_SIZES = [10, 25, 50, 100, 200] as const;
export const PAGE_SIZE = 50;
const PARAMS = ['date', 'client', 'action', 'flag', 'q', 'sort', 'dir', 'page', 'size'];

/**
 * The scorecard's query string: a malformed value is a 400 naming the parameter; parameters it does not know (a
 * tracking parameter a link picked up, `client` on a client's own page) are ignored.
 */
export function parseScorecardQuery(params: URLSearchParams, fixedClient: string | null = null): ScorecardQuery {
  checkKnownParams(params, PARAMS);
  const text = (name: string): string | null => {
    const v = params.get(name);
    return v === null || v.trim() === '' ? null : v.trim();
  };
  const date = text('date');
  if (date !== null && !isIsoDate(date)) throw new BadRequest(`date=${date.slice(0, 40)}: expected YYYY-MM-DD`);
  const action = text('action');
  if (action !== null && !(RECOMMENDATIONS as readonly string[]).includes(action))
    throw new BadRequest(`action=${action.slice(0, 40)}: expected one of ${RECOMMENDATIONS.join(', ')}`);
  const flag = text('flag');
  if (flag !== null && !(FLAGS as readonly string[]).includes(flag))
    throw new BadRequest(`flag=${flag.slice(0, 40)}: expected one of ${FLAGS.join(', ')}`);
  const q = text('q');
  if (q !== null && q.length > 200) throw new BadRequest('q: at most 200 characters');
  const sort = text('sort') ?? 'urgency';
  if (!(SORTS as readonly string[]).includes(sort))
    throw new BadRequest(`sort=${sort.slice(0, 40)}: expected one of ${SORTS.join(', ')}`);
  const dir = text('dir') ?? (sort === 'campaign' || sort === 'client' || sort === 'urgency' ? 'asc' : 'desc');
  if (dir !== 'asc' && dir !== 'desc') throw new BadRequest(`dir=${dir.slice(0, 40)}: expected asc or desc`);
  const pageText = text('page') ?? '1';
  if (!/^\d{1,7}$/.test(pageText) || Number(pageText) < 1)
    throw new BadRequest(`page=${pageText.slice(0, 40)}: expected a page number from 1`);
  const sizeText = text('size') ?? String(PAGE_SIZE);
  if (!(PAGE_SIZES as readonly number[]).includes(Number(sizeText)) || !/^\d+$/.test(sizeText))
    throw new BadRequest(`size=${sizeText.slice(0, 40)}: expected one of ${PAGE_SIZES.join(', ')} rows a page`);
  return {
    size: Number(sizeText),
    date,
    client: fixedClient ?? parseId(text('client'), 'client'),
    action: action as Recommendation | null,
    flag,
    q,
    sort: sort as SortKey,
    dir,
    page: Number(pageText),
  };
}

/** The query as a query string (empty values and defaults left out), with some parameters changed. */
export function queryString(q: ScorecardQuery, change: Partial<ScorecardQuery> = {}, omitClient = false): string {
  const m = { ...q, ...change };
  const p = new URLSearchParams();
  if (m.date) p.set('date', m.date);
  if (m.client && !omitClient) p.set('client', m.client);
  if (m.action) p.set('action', m.action);
  if (m.flag) p.set('flag', m.flag);
  if (m.q) p.set('q', m.q);
  if (m.sort !== 'urgency') p.set('sort', m.sort);
  const defaultDir = m.sort === 'campaign' || m.sort === 'client' || m.sort === 'urgency' ? 'asc' : 'desc';
  if (m.dir !== defaultDir) p.set('dir', m.dir);
  if (m.size !== PAGE_SIZE) p.set('size', String(m.size));
  if (m.page !== 1) p.set('page', String(m.page));
  const s = p.toString();
  return s === '' ? '' : `?${s}`;
}

/** What decides the filtered set (the cache key of a filter): everything but sort and page. */
export const filterKey = (q: ScorecardQuery): string =>
  JSON.stringify([q.client, q.action, q.flag, q.q?.toLowerCase() ?? null]);

/** The rows a query keeps, as indexes into `rows`, in the rows' order. `visible` is the viewer's scope. */
export function filterRows(
  rows: readonly ScorecardRow[],
  q: ScorecardQuery,
  visible: (clientId: string | null) => boolean,
): number[] {
  const needle = q.q?.toLowerCase() ?? null;
  const out: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (!visible(r.clientId)) continue;
    if (q.client !== null && r.clientId !== q.client) continue;
    if (q.action !== null && r.action !== q.action) continue;
    if (q.flag !== null && !r.flags.includes(q.flag)) continue;
    if (needle !== null && !r.search.includes(needle)) continue;
    out.push(i);
  }
  return out;
}

const change = (r: ScorecardRow): number | null => (r.previousScore === null ? null : r.score - r.previousScore);
const text = (a: string | null, b: string | null) => (a ?? '').localeCompare(b ?? '', 'en');

/** Compares two rows on one column; nulls (no value) always last, whatever the direction. */
function comparator(sort: SortKey, dir: 'asc' | 'desc'): (a: ScorecardRow, b: ScorecardRow) => number {
  const sign = dir === 'asc' ? 1 : -1;
  const num = (f: (r: ScorecardRow) => number | null) => (a: ScorecardRow, b: ScorecardRow) => {
    const x = f(a);
    const y = f(b);
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    return sign * (x - y);
  };
  const byId = (a: ScorecardRow, b: ScorecardRow) => (a.campaignId < b.campaignId ? -1 : 1);
  // Money at risk: the window's spend, the most first.
  const money = (a: ScorecardRow, b: ScorecardRow) => (b.spend ?? -1) - (a.spend ?? -1);
  const first = {
    urgency: (a: ScorecardRow, b: ScorecardRow) =>
      sign * (URGENCY_RANK.get(a.action)! - URGENCY_RANK.get(b.action)!) || money(a, b),
    campaign: (a: ScorecardRow, b: ScorecardRow) => sign * text(a.name ?? a.campaignId, b.name ?? b.campaignId),
    client: (a: ScorecardRow, b: ScorecardRow) =>
      sign * text(a.clientName ?? a.clientId, b.clientName ?? b.clientId) || money(a, b),
    score: num((r) => r.score),
    change: num(change),
    action: (a: ScorecardRow, b: ScorecardRow) =>
      sign * text(a.action, b.action) || URGENCY_RANK.get(a.action)! - URGENCY_RANK.get(b.action)! || money(a, b),
    spend: num((r) => r.spend),
    cpql: num((r) => r.cpql),
  }[sort];
  return (a, b) => first(a, b) || byId(a, b);
}

/** `indexes` sorted in place by the query's column and direction; ties by campaign id, so pages never overlap. */
export function sortRows(rows: readonly ScorecardRow[], indexes: number[], q: ScorecardQuery): number[] {
  const cmp = comparator(q.sort, q.dir);
  return indexes.sort((i, j) => cmp(rows[i]!, rows[j]!));
}

/** One page of a sorted selection; the last page when `page` is past the end. */
export function pageOf(
  sorted: readonly number[],
  page: number,
  size = PAGE_SIZE,
): { indexes: number[]; page: number; pages: number; total: number } {
  const pages = Math.max(1, Math.ceil(sorted.length / size));
  const p = Math.min(page, pages);
  return { indexes: sorted.slice((p - 1) * size, p * size), page: p, pages, total: sorted.length };
}

export const CSV_HEADER = [
  'campaign_id',
  'campaign',
  'client_id',
  'client',
  'score',
  'score_change',
  'action',
  'recommendation',
  'spend_30d',
  'qualified_leads_30d',
  'cpql',
  'target_cpql',
  'currency',
  'flags',
] as const;

const fixed = (v: number | null, digits = 2) => (v === null ? '' : v.toFixed(digits));

/** A row of the CSV export, every text cell guarded against formulas. */
export function csvRecord(r: ScorecardRow): string[] {
  const d = change(r);
  // Text from the ad account or the CRM is guarded against formulas; the numbers are ours, and "-0.14" is a number a
  // spreadsheet must read as one.
  const text = (v: string | null) => guardFormula(v ?? '');
  return [
    text(r.campaignId),
    text(r.name),
    text(r.clientId),
    text(r.clientName),
    fixed(r.score),
    fixed(d),
    r.action,
    r.recommendation,
    fixed(r.spend),
    r.qualifiedLeads === null ? '' : String(r.qualifiedLeads),
    fixed(r.cpql),
    fixed(r.target),
    text(r.currency),
    text(r.flags.join(' ')),
  ];
}
