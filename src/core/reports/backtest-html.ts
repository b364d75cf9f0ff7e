import { RECOMMENDATION_WORDING } from '../alerts/wording.js';
import { ACTION_COLORS, ACTION_ORDER } from '../charts/palette.js';
import { barChart, CHART_CSS, legend } from '../charts/svg.js';
import type { BandMeasures, Estimate } from '../scoring/backtest.js';
import { escapeHtml as h } from '../text/html.js';
import {
  type BacktestResult,
  type BacktestRun,
  cell,
  INTERVALS_NOTE,
  MEASURE_ROWS,
  replayNotes,
} from './backtest-scoring.js';

/**
 * The backtest as one self-contained HTML page (`--html FILE`): the measures with their intervals and counts, the
 * actions over time and precision by score band as inline SVG charts (each with its numbers in a table beside it), the
 * campaigns whose action differs, and what the backtest cannot measure. No script and nothing fetched: it can be
 * mailed, archived or opened on a machine without network.
 */

const CSS =
  'body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827;background:#fff;margin:0;' +
  'line-height:1.45}main{max-width:960px;margin:0 auto;padding:1rem}h1{font-size:1.4rem;margin:.5rem 0}' +
  'h2{font-size:1.15rem;margin:1.75rem 0 .5rem;border-bottom:1px solid #e5e7eb;padding-bottom:.25rem}' +
  'h3{font-size:1rem;margin:1rem 0 .25rem}p.lead{color:#374151;margin:.25rem 0}' +
  '.table-wrap{overflow-x:auto}table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0}' +
  'th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #e5e7eb;vertical-align:top}' +
  'td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}' +
  'thead th{background:#f3f4f6}details{margin:.25rem 0 1rem}summary{cursor:pointer;color:#1d4ed8}' +
  `code{font-size:.85em}.muted{color:#4b5563}${CHART_CSS}`;

const percent = (v: number) => `${Math.round(v * 100)} %`;
const share = (num: number, den: number): number | null => (den > 0 ? num / den : null);
const bandName = (bands: readonly BandMeasures[], i: number) => `${bands[i]!.low}–${bands[i + 1]?.low ?? 100}`;

function measuresTable(r: BacktestResult): string {
  const head = r.runs.map((run) => `<th scope="col">${h(run.label)}: <code>${h(run.configId)}</code></th>`).join('');
  const rows = MEASURE_ROWS.map(([key, label, isShare]) => {
    const [name, why] = label.split(' (');
    const cells = r.runs
      .map((run) => `<td class="num">${h(cell(run.measures[key] as Estimate, isShare))}</td>`)
      .join('');
    return `<tr><th scope="row">${h(name!)}<div class="muted">${h(`(${why}`)}</div></th>${cells}</tr>`;
  });
  return (
    `<div class="table-wrap"><table><caption class="muted">Value [90 % interval] (counts)</caption>` +
    `<thead><tr><th scope="col">Measure</th>${head}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`
  );
}

function actionsOverTime(run: BacktestRun): string {
  const dates = run.timeline.map((d) => d.date);
  const series = ACTION_ORDER.map((a) => ({
    name: RECOMMENDATION_WORDING[a].label,
    color: ACTION_COLORS[a],
    values: run.timeline.map((d) => d.counts[a]),
  }));
  const shown = series.filter((s) => s.values.some((v) => v > 0));
  const chart = barChart({
    label: `Campaigns by action on each replayed date, configuration ${run.label}`,
    categories: dates,
    tickLabel: (d) => d.slice(5),
    series: shown,
    layout: 'stacked',
    format: (v) => String(Math.round(v)),
  });
  const head = shown.map((s) => `<th scope="col" class="num">${h(s.name)}</th>`).join('');
  const rows = run.timeline
    .map(
      (d, i) =>
        `<tr><th scope="row">${h(d.date)}</th>${shown.map((s) => `<td class="num">${s.values[i]}</td>`).join('')}</tr>`,
    )
    .join('');
  return (
    `<h3>Configuration ${h(run.label)}</h3><div class="chart-wrap">${chart}</div>${legend(shown)}` +
    `<details><summary>The numbers by date</summary><div class="table-wrap"><table>` +
    `<thead><tr><th scope="col">Date</th>${head}</tr></thead><tbody>${rows}</tbody></table></div></details>`
  );
}

const BAND_SERIES = [
  { key: 'expensive', name: 'Horizon above target (all actions)', color: '#6b7280' },
  { key: 'cut', name: 'Cut precision', color: ACTION_COLORS.REDUCE_BUDGET },
  { key: 'increase', name: 'Increase precision', color: ACTION_COLORS.INCREASE_BUDGET },
] as const;

function bandValue(b: BandMeasures, key: (typeof BAND_SERIES)[number]['key']): number | null {
  if (key === 'expensive') return share(b.expensive, b.judged);
  return share(b[key].num, b[key].den);
}

function precisionByBand(run: BacktestRun): string {
  const categories = run.bands.map((_, i) => bandName(run.bands, i));
  const series = BAND_SERIES.map((s) => ({
    name: s.name,
    color: s.color,
    values: run.bands.map((b) => bandValue(b, s.key)),
  }));
  const chart = barChart({
    label: `Precision by score band, configuration ${run.label}`,
    categories,
    series,
    layout: 'grouped',
    max: 1,
    format: percent,
  });
  const counts = (num: number, den: number) => (den > 0 ? `${percent(num / den)} (${num} of ${den})` : '— (0 of 0)');
  const rows = run.bands
    .map(
      (b, i) =>
        `<tr><th scope="row">${h(categories[i]!)}</th><td class="num">${b.judged}</td>` +
        `<td class="num">${counts(b.expensive, b.judged)}</td><td class="num">${counts(b.cut.num, b.cut.den)}</td>` +
        `<td class="num">${counts(b.increase.num, b.increase.den)}</td></tr>`,
    )
    .join('');
  return (
    `<h3>Configuration ${h(run.label)}</h3><div class="chart-wrap">${chart}</div>${legend(series)}` +
    '<div class="table-wrap"><table><thead><tr><th scope="col">Score</th>' +
    '<th scope="col" class="num">Judged dates</th>' +
    `<th scope="col" class="num">Horizon above target</th><th scope="col" class="num">Cut precision</th>` +
    `<th scope="col" class="num">Increase precision</th></tr></thead><tbody>${rows}</tbody></table></div>`
  );
}

function differing(r: BacktestResult): string {
  if (r.runs.length < 2) return '';
  const [b, a] = [r.runs[0]!.label, r.runs[1]!.label];
  const rows = r.differing
    .slice(0, 100)
    .map(
      (d) =>
        `<tr><td>${h(d.name ?? '')}</td><td><code>${h(d.campaignId)}</code></td>` +
        `<td class="num">${d.dates}</td><td>${h(d.firstDate)}</td></tr>`,
    )
    .join('');
  const more =
    r.differing.length > 100 ? `<p class="muted">The first 100 of ${r.differing.length}; --json lists all.</p>` : '';
  return (
    `<h2>Campaigns whose action differs between ${h(b)} and ${h(a)}: ${r.differing.length}</h2>` +
    (r.differing.length === 0
      ? '<p>None: both configurations gave every campaign the same action on every date.</p>'
      : `<div class="table-wrap"><table><thead><tr><th scope="col">Campaign</th><th scope="col">Id</th>` +
        `<th scope="col" class="num">Dates</th><th scope="col">First</th></tr></thead><tbody>${rows}</tbody>` +
        `</table></div>${more}`)
  );
}

export function renderBacktestHtml(r: BacktestResult): string {
  const title = `Backtest ${r.from} to ${r.to}${r.clientId ? `, client ${r.clientId}` : ''}`;
  const configs = r.runs
    .map((run) => `<li>${h(run.label)}: configuration <code>${h(run.configId)}</code> (${h(run.source)})</li>`)
    .join('');
  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">` +
    `<title>${h(title)}</title><style>${CSS}</style></head><body><main>` +
    `<h1>${h(title)}</h1>` +
    `<p class="lead">${r.dates} dates replayed, ${r.campaigns} campaigns, horizon ${r.horizon} days; ` +
    `judged up to ${h(r.lastJudgedDate)} (the data ends ${h(r.newestData)}).</p>` +
    `<p class="muted">${replayNotes(r).map(h).join(' ')}</p><ul>${configs}</ul>` +
    `<h2>Measures</h2>${measuresTable(r)}` +
    `<p class="muted">${h(INTERVALS_NOTE)}</p>` +
    `<h2>Actions over time</h2>${r.runs.map(actionsOverTime).join('')}` +
    '<h2>Precision by score band</h2><p class="muted">Each judged date counted in the band of its total score. ' +
    'Cut precision: of the cuts, the share whose horizon was above target; increase precision: of the increases, ' +
    'the share whose horizon stayed at or below it.</p>' +
    r.runs.map(precisionByBand).join('') +
    differing(r) +
    `<h2>What this cannot measure</h2><ul>${r.limitations.map((l) => `<li>${h(l)}</li>`).join('')}</ul>` +
    '</main></body></html>\n'
  );
}
