import { inWords, RECOMMENDATION_WORDING } from '../../core/alerts/wording.js';
import { ACTION_COLORS } from '../../core/charts/palette.js';
import { barChart, legend, lineChart } from '../../core/charts/svg.js';
import { compact, moneyIn } from '../../core/money.js';
import type { Recommendation } from '../../core/scoring/types.js';
import { ActionBadge, actionWords, Banner, FlagBadge, type JobBanner, page } from './layout.js';

export interface CampaignView {
  username: string;
  banner: JobBanner;
  campaign: {
    id: string;
    name: string | null;
    clientId: string | null;
    clientName: string | null;
    status: string | null;
    currency: string | null;
    dailyBudget: number | null;
    startDate: string | null;
  };
  /** The score shown: the newest on or before the date asked for; null when the campaign was never scored. */
  latest: {
    date: string;
    score: number;
    action: Recommendation;
    recommendation: Recommendation;
    actionReason: string | null;
    flags: string[];
    dimensions: { name: string; points: number; max: number; reason: string }[];
    evidence: { label: string; text: string }[];
    evidenceWords: string | null;
    spend: number | null;
    qualifiedLeads: number | null;
    target: number | null;
  } | null;
  /** Up to 90 scored dates, oldest first. */
  scores: { date: string; score: number; action: Recommendation }[];
  /** Spend and qualified leads by day over the same dates. */
  days: { date: string; spend: number; qualified: number }[];
  /** The last 20 rows of score_history. */
  history: { date: string; scoredAt: string; score: number; recommendation: string; action: string | null }[];
  digests: { date: string; subject: string; status: string }[];
  verdictChange: string | null;
}

const DIMENSION_NAMES: Record<string, string> = {
  cost_efficiency: 'Cost efficiency',
  lead_quality: 'Lead quality',
  volume: 'Volume',
  trend: 'Trend',
  engagement: 'Engagement',
};

function DimensionBars({ dims }: { dims: NonNullable<CampaignView['latest']>['dimensions'] }) {
  return (
    <>
      {dims.map((d) => {
        const share = d.max > 0 ? Math.max(0, Math.min(1, d.points / d.max)) : 0;
        const color = share >= 0.67 ? '#15803d' : share >= 0.34 ? '#b45309' : '#b91c1c';
        return (
          <div class="dim">
            <div>
              <strong>{DIMENSION_NAMES[d.name] ?? d.name}</strong>{' '}
              <span class="muted">
                {d.points.toFixed(2)} of {d.max}
              </span>
            </div>
            <div class="bar" role="img" aria-label={`${d.points.toFixed(2)} of ${d.max} points`}>
              <span style={`width:${(share * 100).toFixed(1)}%;background:${color}`} />
            </div>
            <div class="small">{d.reason}</div>
          </div>
        );
      })}
    </>
  );
}

/** Where the action changed between consecutive scored dates: marks on the score chart. */
function actionChanges(scores: CampaignView['scores']) {
  const marks: { category: string; label: string; color: string }[] = [];
  scores.forEach((s, i) => {
    if (i > 0 && s.action !== scores[i - 1]!.action)
      marks.push({
        category: s.date,
        label: `action changed to ${RECOMMENDATION_WORDING[s.action].label}`,
        color: ACTION_COLORS[s.action],
      });
  });
  return marks;
}

/** CPQL over the 7 days up to each day: a daily CPQL is mostly "no lead today". */
function rollingCpql(days: CampaignView['days']): (number | null)[] {
  return days.map((_, i) => {
    let spend = 0;
    let q = 0;
    for (let k = Math.max(0, i - 6); k <= i; k++) {
      spend += days[k]!.spend;
      q += days[k]!.qualified;
    }
    return q > 0 ? spend / q : null;
  });
}

/** An SVG chart (src/core/charts makes it and escapes its own text) in its scrolling frame. */
function Chart({ svg }: { svg: string }) {
  return <div class="chart-wrap" dangerouslySetInnerHTML={{ __html: svg }} />;
}

function Charts({ v }: { v: CampaignView }) {
  const marks = actionChanges(v.scores);
  const dates = v.days.map((d) => d.date);
  const tick = (d: string) => d.slice(5);
  const currency = v.campaign.currency;
  const unit = currency ? ` (${currency})` : '';
  const target = v.latest?.target ?? null;
  return (
    <>
      {v.scores.length === 0 ? null : (
        <>
          <h2>
            Score over {v.scores.length} scored date{v.scores.length === 1 ? '' : 's'}
          </h2>
          <Chart
            svg={lineChart({
              label: `Total score by date; dashed lines mark the ${marks.length} change(s) of action`,
              categories: v.scores.map((s) => s.date),
              tickLabel: (d) => d.slice(5),
              series: [{ name: 'Score', color: '#1d4ed8', values: v.scores.map((s) => s.score) }],
              max: 100,
              format: (x) => String(Math.round(x)),
              marks,
            })}
          />
          {marks.length === 0 ? (
            <p class="muted small">The action did not change over these dates.</p>
          ) : (
            <p class="small">
              Action changes:{' '}
              {marks.map((m) => `${m.category} ${m.label.replace('action changed to ', '→ ')}`).join('; ')}
            </p>
          )}
        </>
      )}
      {v.days.length === 0 ? null : (
        <>
          <h2>Spend and qualified leads by day</h2>
          <h3>Spend{unit}</h3>
          <Chart
            svg={barChart({
              label: `Spend by day${unit}`,
              categories: dates,
              tickLabel: tick,
              series: [{ name: 'Spend', color: '#2563eb', values: v.days.map((d) => d.spend) }],
              layout: 'grouped',
              format: (x) => moneyIn(x, currency),
              axisFormat: compact,
              height: 180,
            })}
          />
          <h3>Qualified leads</h3>
          <Chart
            svg={barChart({
              label: 'Qualified leads by day',
              categories: dates,
              tickLabel: tick,
              series: [{ name: 'Qualified leads', color: '#15803d', values: v.days.map((d) => d.qualified) }],
              layout: 'grouped',
              format: (x) => String(Math.round(x)),
              integer: true,
              height: 160,
            })}
          />
          <h3>Cost per qualified lead{unit}, over the 7 days up to each day</h3>
          <Chart
            svg={lineChart({
              label: `Cost per qualified lead${unit} over the 7 days up to each day, against the target`,
              categories: dates,
              tickLabel: tick,
              series: [{ name: 'CPQL (7 days)', color: '#7c3aed', values: rollingCpql(v.days) }],
              format: (x) => moneyIn(x, currency),
              axisFormat: compact,
              ...(target === null
                ? {}
                : { reference: { value: target, label: `target ${moneyIn(target, currency)}` } }),
            })}
          />
          <div
            dangerouslySetInnerHTML={{
              __html: legend([
                { name: 'CPQL over the 7 days up to each day', color: '#7c3aed' },
                ...(target === null
                  ? []
                  : [{ name: `Target ${moneyIn(target, currency)} (dashed)`, color: '#374151' }]),
              ]),
            }}
          />
        </>
      )}
    </>
  );
}

function Tables({ v }: { v: CampaignView }) {
  return (
    <>
      <h2>The last scoring runs</h2>
      {v.history.length === 0 ? (
        <p class="muted">None kept.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">Scored at</th>
                <th scope="col" class="num">
                  Score
                </th>
                <th scope="col">Recommendation</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {v.history.map((r) => (
                <tr>
                  <td>{r.date}</td>
                  <td class="small">{r.scoredAt.replace('T', ' ').slice(0, 16)} UTC</td>
                  <td class="num">{r.score.toFixed(2)}</td>
                  <td>{actionWords(r.recommendation)}</td>
                  <td>{actionWords(r.action)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Digests that mentioned it</h2>
      {v.digests.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <ul>
          {v.digests.map((d) => (
            <li>
              {d.date}: {d.subject}
              {d.status === 'done' ? '' : ` (${d.status})`}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function Verdict({ v }: { v: CampaignView }) {
  const l = v.latest;
  if (!l)
    return (
      <div class="card">
        <p>Not scored yet.</p>
      </div>
    );
  return (
    <div class="card">
      <p>
        <ActionBadge action={l.action} /> <strong>Score {l.score.toFixed(2)}</strong> on {l.date}
        {l.recommendation !== l.action ? (
          <>
            {' '}
            <span class="muted">(the score alone says {RECOMMENDATION_WORDING[l.recommendation].label})</span>
          </>
        ) : null}
      </p>
      {l.actionReason ? <p>{inWords(l.actionReason)}</p> : null}
      {v.verdictChange ? (
        <p>
          <strong>What would change it:</strong> {v.verdictChange}
        </p>
      ) : null}
      {l.flags.length > 0 ? (
        <p>
          {l.flags.map((f) => (
            <FlagBadge flag={f} />
          ))}
        </p>
      ) : null}
    </div>
  );
}

function Evidence({ l }: { l: NonNullable<CampaignView['latest']> }) {
  return (
    <>
      <h2>The evidence</h2>
      <div class="card">
        {l.evidenceWords ? <p>{l.evidenceWords}</p> : null}
        {l.evidence.length > 0 ? (
          <dl class="facts">
            {l.evidence.map((e) => (
              <>
                <dt>{e.label}</dt>
                <dd>{e.text}</dd>
              </>
            ))}
          </dl>
        ) : (
          <p class="muted">No evidence stored for this score (scored before the decision layer).</p>
        )}
      </div>
      <h2>The five dimensions</h2>
      <div class="card grid">
        <DimensionBars dims={l.dimensions} />
      </div>
    </>
  );
}

/** One campaign: its verdict and why, the charts, its evidence, its runs and digests. */
export function renderCampaignPage(v: CampaignView): string {
  const c = v.campaign;
  const name = c.name ?? c.id;
  return page({
    title: name,
    username: v.username,
    children: (
      <>
        <Banner banner={v.banner} />
        <h1>{name}</h1>
        <dl class="facts small">
          <dt>Client</dt>
          <dd>
            {c.clientId === null ? (
              'no client'
            ) : (
              <a href={`/clients/${encodeURIComponent(c.clientId)}`}>{c.clientName ?? c.clientId}</a>
            )}
          </dd>
          <dt>Campaign id</dt>
          <dd>{c.id}</dd>
          <dt>Status</dt>
          <dd>{c.status ?? '—'}</dd>
          <dt>Daily budget</dt>
          <dd>{c.dailyBudget === null ? '—' : moneyIn(c.dailyBudget, c.currency)}</dd>
          <dt>Started</dt>
          <dd>{c.startDate ?? '—'}</dd>
        </dl>
        <Verdict v={v} />
        {v.latest ? <Evidence l={v.latest} /> : null}
        <Charts v={v} />
        <Tables v={v} />
      </>
    ),
  });
}
