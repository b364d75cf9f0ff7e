import { FLAG_LABELS, RECOMMENDATION_WORDING } from '../alerts/wording.js';
import { FLAGS, type Recommendation } from '../scoring/types.js';
import { escapeHtml as h } from '../text/html.js';
import { actionBadge, banner, count, flagBadge, intervalIn, type JobBanner, money, moneyIn, page } from './layout.js';
import { daysBetween, isIsoDate } from '../dates.js';
import {
  PAGE_SIZE,
  PAGE_SIZES,
  queryString,
  type ScorecardQuery,
  type ScorecardRow,
  type SortKey,
  URGENCY,
} from './scorecard.js';

/** What one row shows beyond the scorecard's own fields (read for the page's rows only). */
export interface RowExtras {
  /** The weakest dimension's one-line reason. */
  weakest: string | null;
  /** The 80 % interval of the window's CPQL. */
  interval: [number | null, number | null] | null;
  dataUpTo: string | null;
}

export interface ScorecardView {
  username: string;
  /** The page's own path: / or /clients/{id}. */
  path: string;
  heading: string;
  /** Extra lines under the heading (a client's target). */
  intro: string;
  date: string;
  previous: string | null;
  newestData: string | null;
  query: ScorecardQuery;
  /** The client filter's choices: only clients the viewer may see. Absent on a client's own page. */
  clients: { id: string; name: string | null }[] | null;
  rows: { row: ScorecardRow; extras: RowExtras }[];
  page: number;
  pages: number;
  total: number;
  banner: JobBanner;
}

const COLUMNS: { key: SortKey | null; label: string; num?: boolean }[] = [
  { key: 'campaign', label: 'Campaign' },
  { key: 'client', label: 'Client' },
  { key: 'score', label: 'Score', num: true },
  { key: 'change', label: 'Change', num: true },
  { key: 'urgency', label: 'Action' },
  { key: null, label: 'Weakest dimension' },
  { key: 'spend', label: 'Spend (30 d)', num: true },
  { key: 'cpql', label: 'CPQL vs target', num: true },
  { key: null, label: 'Flags' },
  { key: null, label: 'Data up to' },
];

function header(v: ScorecardView, omitClient: boolean): string {
  return COLUMNS.map((c) => {
    const cls = c.num ? ' class="num"' : '';
    if (c.key === null) return `<th scope="col"${cls}>${h(c.label)}</th>`;
    const current = v.query.sort === c.key;
    const defaultDir = c.key === 'campaign' || c.key === 'client' || c.key === 'urgency' ? 'asc' : 'desc';
    const dir = current ? (v.query.dir === 'asc' ? 'desc' : 'asc') : defaultDir;
    const href = `${v.path}${queryString(v.query, { sort: c.key, dir, page: 1 }, omitClient)}`;
    const aria = current ? ` aria-sort="${v.query.dir === 'asc' ? 'ascending' : 'descending'}"` : '';
    const arrow = current ? (v.query.dir === 'asc' ? ' ▲' : ' ▼') : '';
    return `<th scope="col"${cls}${aria}><a href="${h(href)}">${h(c.label)}${arrow}</a></th>`;
  }).join('');
}

function changeCell(r: ScorecardRow): string {
  if (r.previousScore === null) return '<span class="muted">new</span>';
  const d = Math.round((r.score - r.previousScore) * 100) / 100;
  if (d === 0) return '<span class="muted">±0</span>';
  return d > 0 ? `<span class="up">▲ ${d.toFixed(2)}</span>` : `<span class="down">▼ ${Math.abs(d).toFixed(2)}</span>`;
}

function cpqlCell(r: ScorecardRow, interval: RowExtras['interval']): string {
  const target = r.target === null ? 'no target' : `target ${moneyIn(r.target, r.currency)}`;
  if (r.spend === null) return '<span class="muted">—</span>';
  const value =
    r.cpql === null
      ? '<span class="muted">no qualified lead yet</span>'
      : `<strong class="${r.target !== null && r.cpql > r.target ? 'down' : 'up'}">` +
        `${moneyIn(r.cpql, r.currency)}</strong>`;
  // Without a qualified lead the interval says little but "above some amount": not shown.
  const shown = r.cpql !== null && interval ? intervalIn(interval[0], interval[1], null) : null;
  const range = shown === null ? '' : `<div class="muted small">80 %: ${h(shown)}</div>`;
  return `${value}<div class="muted small">${h(target)}</div>${range}`;
}

/** Data older than two days before the scored date is behind: said, and shown in amber. */
function dataUpToCell(dataUpTo: string | null, scored: string): string {
  if (dataUpTo === null) return '—';
  const behind = isIsoDate(scored) ? daysBetween(scored, dataUpTo) : 0;
  if (behind <= 2) return h(dataUpTo);
  return (
    `<span class="stale" title="no data for the ${behind} days up to the scored date">${h(dataUpTo)}</span>` +
    `<div class="stale">${behind} days behind</div>`
  );
}

function rowHtml(v: ScorecardView, { row: r, extras }: ScorecardView['rows'][number]): string {
  const differs =
    r.recommendation !== r.action
      ? `<div class="muted small">score alone: ${h(RECOMMENDATION_WORDING[r.recommendation].label)}</div>`
      : '';
  const client =
    r.clientId === null
      ? '<span class="muted">—</span>'
      : `<a href="/clients/${encodeURIComponent(r.clientId)}">${h(r.clientName ?? r.clientId)}</a>`;
  return (
    `<tr><th scope="row"><a href="/campaigns/${encodeURIComponent(r.campaignId)}` +
    `${v.query.date ? `?date=${v.query.date}` : ''}">${h(r.name ?? r.campaignId)}</a>` +
    `<div class="muted small">${h(r.campaignId)}</div></th>` +
    `<td>${client}</td><td class="num">${r.score.toFixed(2)}</td><td class="num">${changeCell(r)}</td>` +
    `<td>${actionBadge(r.action)}${differs}</td><td class="small">${h(extras.weakest ?? '')}</td>` +
    `<td class="num">${money(r.spend)}${r.currency ? ` <span class="muted small">${h(r.currency)}</span>` : ''}` +
    `${r.qualifiedLeads === null ? '' : `<div class="muted small">${r.qualifiedLeads} qualified</div>`}</td>` +
    `<td class="num">${cpqlCell(r, extras.interval)}</td>` +
    `<td>${r.flags.map(flagBadge).join('')}</td>` +
    `<td class="small">${dataUpToCell(extras.dataUpTo, v.date)}</td></tr>`
  );
}

function select(name: string, label: string, current: string | null, options: [string, string][]): string {
  const opts = options
    .map(([value, text]) => `<option value="${h(value)}"${value === current ? ' selected' : ''}>${h(text)}</option>`)
    .join('');
  return `<label>${h(label)}<select name="${name}"><option value="">All</option>${opts}</select></label>`;
}

function filters(v: ScorecardView): string {
  const q = v.query;
  const clients =
    v.clients === null
      ? ''
      : select(
          'client',
          'Client',
          q.client,
          v.clients.map((c) => [c.id, c.name ?? c.id]),
        );
  const actions = URGENCY.map((a): [string, string] => [a, RECOMMENDATION_WORDING[a as Recommendation].label]);
  const keep = [
    q.sort !== 'urgency' ? `<input type="hidden" name="sort" value="${h(q.sort)}">` : '',
    q.sort !== 'urgency' ? `<input type="hidden" name="dir" value="${h(q.dir)}">` : '',
    q.size !== PAGE_SIZE ? `<input type="hidden" name="size" value="${q.size}">` : '',
  ].join('');
  return (
    `<form class="filters" method="get" action="${h(v.path)}" role="search">${keep}` +
    `<label>Campaign name<input type="search" name="q" value="${h(q.q ?? '')}" maxlength="200"></label>` +
    clients +
    select('action', 'Action', q.action, actions) +
    select(
      'flag',
      'Flag',
      q.flag,
      FLAGS.map((f) => [f, (FLAG_LABELS as Record<string, string>)[f] ?? f]),
    ) +
    `<label>Date<input type="date" name="date" value="${h(q.date ?? v.date)}"></label>` +
    '<button type="submit">Show</button>' +
    `<a href="${h(v.path)}">Clear</a></form>`
  );
}

function pager(v: ScorecardView, omitClient: boolean): string {
  const link = (p: number, text: string, rel = '') =>
    `<a href="${h(`${v.path}${queryString(v.query, { page: p }, omitClient)}`)}"${rel}>${text}</a>`;
  const parts = [
    `<span>Page ${count(v.page)} of ${count(v.pages)} · ` +
      `${count(v.total)} campaign${v.total === 1 ? '' : 's'}</span>`,
  ];
  if (v.page > 1) parts.push(link(1, '« First'), link(v.page - 1, '‹ Previous', ' rel="prev"'));
  if (v.page < v.pages) parts.push(link(v.page + 1, 'Next ›', ' rel="next"'), link(v.pages, 'Last »'));
  const sizes = PAGE_SIZES.map((n) =>
    n === v.query.size
      ? `<strong>${n}</strong>`
      : `<a href="${h(`${v.path}${queryString(v.query, { size: n, page: 1 }, omitClient)}`)}">${n}</a>`,
  ).join(' ');
  parts.push(`<span>Rows a page: ${sizes}</span>`);
  const csv = `/scorecard.csv${queryString({ ...v.query, page: 1, size: PAGE_SIZE }, {}, false)}`;
  parts.push(`<a href="${h(csv)}" download>Export these ${count(v.total)} as CSV</a>`);
  return `<nav class="pages" aria-label="Pages">${parts.join('')}</nav>`;
}

/** The scorecard: filters, the sortable table of one page of campaigns, paging and the CSV export. */
export function renderScorecard(v: ScorecardView): string {
  const omitClient = v.clients === null;
  const body =
    `${banner(v.banner)}<h1>${h(v.heading)}</h1>${v.intro}` +
    `<p class="muted">Scores for <strong>${h(v.date)}</strong>` +
    `${v.previous ? ` (changes since ${h(v.previous)})` : ''}` +
    `${v.newestData ? `; data up to ${h(v.newestData)}` : ''}. ` +
    'Most urgent action first, then the most money at risk (spend over the 30-day window).</p>' +
    filters(v) +
    pager(v, omitClient) +
    (v.rows.length === 0
      ? '<div class="card"><p>No campaign matches these filters.</p></div>'
      : `<div class="table-wrap"><table><caption class="sr-only">Campaigns scored on ${h(v.date)}</caption>` +
        `<thead><tr>${header(v, omitClient)}</tr></thead><tbody>${v.rows.map((r) => rowHtml(v, r)).join('')}` +
        '</tbody></table></div>') +
    pager(v, omitClient);
  return page({ title: v.heading, username: v.username, body });
}
