import { FLAG_LABELS, RECOMMENDATION_WORDING } from '../../core/alerts/wording.js';
import {
  PAGE_SIZE,
  PAGE_SIZES,
  queryString,
  type ScorecardQuery,
  type ScorecardRow,
  type SortKey,
  URGENCY,
} from '../../core/dashboard/scorecard.js';
import { daysBetween, isIsoDate } from '../../core/dates.js';
import { count, intervalIn, money, moneyIn } from '../../core/money.js';
import { FLAGS, type Recommendation } from '../../core/scoring/types.js';
import { ActionBadge, Banner, FlagBadge, type JobBanner, page } from './layout.js';

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
  /** A client's own page: its id and the target it is scored against, said under the heading. */
  client: { id: string; target: string } | null;
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

function Header({ v, omitClient }: { v: ScorecardView; omitClient: boolean }) {
  return (
    <tr>
      {COLUMNS.map((c) => {
        const cls = c.num ? 'num' : undefined;
        if (c.key === null)
          return (
            <th scope="col" class={cls}>
              {c.label}
            </th>
          );
        const current = v.query.sort === c.key;
        const defaultDir = c.key === 'campaign' || c.key === 'client' || c.key === 'urgency' ? 'asc' : 'desc';
        const dir = current ? (v.query.dir === 'asc' ? 'desc' : 'asc') : defaultDir;
        const href = `${v.path}${queryString(v.query, { sort: c.key, dir, page: 1 }, omitClient)}`;
        const arrow = current ? (v.query.dir === 'asc' ? ' ▲' : ' ▼') : '';
        return (
          <th
            scope="col"
            class={cls}
            aria-sort={current ? (v.query.dir === 'asc' ? 'ascending' : 'descending') : undefined}
          >
            <a href={href}>
              {c.label}
              {arrow}
            </a>
          </th>
        );
      })}
    </tr>
  );
}

function Change({ r }: { r: ScorecardRow }) {
  if (r.previousScore === null) return <span class="muted">new</span>;
  const d = Math.round((r.score - r.previousScore) * 100) / 100;
  if (d === 0) return <span class="muted">±0</span>;
  return d > 0 ? <span class="up">▲ {d.toFixed(2)}</span> : <span class="down">▼ {Math.abs(d).toFixed(2)}</span>;
}

function Cpql({ r, interval }: { r: ScorecardRow; interval: RowExtras['interval'] }) {
  if (r.spend === null) return <span class="muted">—</span>;
  const target = r.target === null ? 'no target' : `target ${moneyIn(r.target, r.currency)}`;
  // Without a qualified lead the interval says little but "above some amount": not shown.
  const shown = r.cpql !== null && interval ? intervalIn(interval[0], interval[1], null) : null;
  return (
    <>
      {r.cpql === null ? (
        <span class="muted">no qualified lead yet</span>
      ) : (
        <strong class={r.target !== null && r.cpql > r.target ? 'down' : 'up'}>{moneyIn(r.cpql, r.currency)}</strong>
      )}
      <div class="muted small">{target}</div>
      {shown === null ? null : <div class="muted small">80 %: {shown}</div>}
    </>
  );
}

/** Data older than two days before the scored date is behind: said, and shown in amber. */
function DataUpTo({ dataUpTo, scored }: { dataUpTo: string | null; scored: string }) {
  if (dataUpTo === null) return <>—</>;
  const behind = isIsoDate(scored) ? daysBetween(scored, dataUpTo) : 0;
  if (behind <= 2) return <>{dataUpTo}</>;
  return (
    <>
      <span class="stale" title={`no data for the ${behind} days up to the scored date`}>
        {dataUpTo}
      </span>
      <div class="stale">{behind} days behind</div>
    </>
  );
}

function Row({ v, row: r, extras }: { v: ScorecardView } & ScorecardView['rows'][number]) {
  // Each cell names its column (data-label): on a phone the rows become cards that say what each value is.
  return (
    <tr>
      <th scope="row">
        <a href={`/campaigns/${encodeURIComponent(r.campaignId)}${v.query.date ? `?date=${v.query.date}` : ''}`}>
          {r.name ?? r.campaignId}
        </a>
        <div class="muted small">{r.campaignId}</div>
      </th>
      <td data-label="Client">
        {r.clientId === null ? (
          <span class="muted">—</span>
        ) : (
          <a href={`/clients/${encodeURIComponent(r.clientId)}`}>{r.clientName ?? r.clientId}</a>
        )}
      </td>
      <td class="num" data-label="Score">
        {r.score.toFixed(2)}
      </td>
      <td class="num" data-label="Change">
        <Change r={r} />
      </td>
      <td data-label="Action">
        <ActionBadge action={r.action} />
        {r.recommendation !== r.action ? (
          <div class="muted small">score alone: {RECOMMENDATION_WORDING[r.recommendation].label}</div>
        ) : null}
      </td>
      <td class="small" data-label="Weakest">
        {extras.weakest ?? ''}
      </td>
      <td class="num" data-label="Spend (30 d)">
        {money(r.spend)}
        {r.currency ? (
          <>
            {' '}
            <span class="muted small">{r.currency}</span>
          </>
        ) : null}
        {r.qualifiedLeads === null ? null : <div class="muted small">{r.qualifiedLeads} qualified</div>}
      </td>
      <td class="num" data-label="CPQL">
        <Cpql r={r} interval={extras.interval} />
      </td>
      <td data-label="Flags">
        {r.flags.map((f) => (
          <FlagBadge flag={f} />
        ))}
      </td>
      <td class="small" data-label="Data up to">
        <DataUpTo dataUpTo={extras.dataUpTo} scored={v.date} />
      </td>
    </tr>
  );
}

function Select(p: { name: string; label: string; current: string | null; options: [string, string][] }) {
  return (
    <label>
      {p.label}
      <select name={p.name}>
        <option value="">All</option>
        {p.options.map(([value, text]) => (
          <option value={value} selected={value === p.current}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

function Filters({ v }: { v: ScorecardView }) {
  const q = v.query;
  const actions = URGENCY.map((a): [string, string] => [a, RECOMMENDATION_WORDING[a as Recommendation].label]);
  return (
    // <search> is the landmark role="search" was (a browser without it shows a plain form).
    <search>
      <form class="filters" method="get" action={v.path}>
        {q.sort !== 'urgency' ? <input type="hidden" name="sort" value={q.sort} /> : null}
        {q.sort !== 'urgency' ? <input type="hidden" name="dir" value={q.dir} /> : null}
        {q.size !== PAGE_SIZE ? <input type="hidden" name="size" value={String(q.size)} /> : null}
        <label>
          Campaign name
          <input type="search" name="q" value={q.q ?? ''} maxLength={200} />
        </label>
        {v.clients === null ? null : (
          <Select
            name="client"
            label="Client"
            current={q.client}
            options={v.clients.map((c) => [c.id, c.name ?? c.id])}
          />
        )}
        <Select name="action" label="Action" current={q.action} options={actions} />
        <Select
          name="flag"
          label="Flag"
          current={q.flag}
          options={FLAGS.map((f) => [f, (FLAG_LABELS as Record<string, string>)[f] ?? f])}
        />
        <label>
          Date
          <input type="date" name="date" value={q.date ?? v.date} />
        </label>
        <button type="submit">Show</button>
        <a href={v.path}>Clear</a>
      </form>
    </search>
  );
}

function Pager({ v, omitClient }: { v: ScorecardView; omitClient: boolean }) {
  const href = (change: Partial<ScorecardQuery>) => `${v.path}${queryString(v.query, change, omitClient)}`;
  const csv = `/scorecard.csv${queryString({ ...v.query, page: 1, size: PAGE_SIZE }, {}, false)}`;
  return (
    <nav class="pages" aria-label="Pages">
      <span>
        Page {count(v.page)} of {count(v.pages)} · {count(v.total)} campaign{v.total === 1 ? '' : 's'}
      </span>
      {v.page > 1 ? (
        <>
          <a href={href({ page: 1 })}>« First</a>
          <a href={href({ page: v.page - 1 })} rel="prev">
            ‹ Previous
          </a>
        </>
      ) : null}
      {v.page < v.pages ? (
        <>
          <a href={href({ page: v.page + 1 })} rel="next">
            Next ›
          </a>
          <a href={href({ page: v.pages })}>Last »</a>
        </>
      ) : null}
      <span>
        Rows a page:{' '}
        {PAGE_SIZES.map((n, i) => (
          <>
            {i > 0 ? ' ' : null}
            {n === v.query.size ? <strong>{n}</strong> : <a href={href({ size: n, page: 1 })}>{n}</a>}
          </>
        ))}
      </span>
      <a href={csv} download>
        Export these {count(v.total)} as CSV
      </a>
    </nav>
  );
}

/** The scorecard: filters, the sortable table of one page of campaigns, paging and the CSV export. */
export function renderScorecard(v: ScorecardView): string {
  const omitClient = v.clients === null;
  return page({
    title: v.heading,
    username: v.username,
    children: (
      <>
        <Banner banner={v.banner} />
        <h1>{v.heading}</h1>
        {v.client === null ? null : (
          <p class="muted">
            Client <code>{v.client.id}</code>, scored against {v.client.target}.
          </p>
        )}
        <p class="muted">
          Scores for <strong>{v.date}</strong>
          {v.previous ? ` (changes since ${v.previous})` : ''}
          {v.newestData ? `; data up to ${v.newestData}` : ''}. Most urgent action first, then the most money at risk
          (spend over the 30-day window).
        </p>
        <Filters v={v} />
        <Pager v={v} omitClient={omitClient} />
        {v.rows.length === 0 ? (
          <div class="card">
            <p>No campaign matches these filters.</p>
          </div>
        ) : (
          <div class="table-wrap">
            <table class="cards">
              <caption class="sr-only">Campaigns scored on {v.date}</caption>
              <thead>
                <Header v={v} omitClient={omitClient} />
              </thead>
              <tbody>
                {v.rows.map((r) => (
                  <Row v={v} row={r.row} extras={r.extras} />
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager v={v} omitClient={omitClient} />
      </>
    ),
  });
}
