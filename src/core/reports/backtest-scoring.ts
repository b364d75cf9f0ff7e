import type { ActionCounts, BacktestMeasures, BandMeasures, Estimate } from '../scoring/backtest.js';
import type { JobReport } from './job-report.js';

/** One configuration's replay. */
export interface BacktestRun {
  /** "B" (--config, or the defaults) or "A" (--against). */
  label: string;
  configId: string;
  source: string;
  measures: BacktestMeasures;
  /** Each replayed date's count of every action. */
  timeline: ActionCounts[];
  /** Judged dates by the band of their total score. */
  bands: BandMeasures[];
}

/** What backtestScoring returns. */
export interface BacktestResult {
  from: string;
  to: string;
  horizon: number;
  clientId: string | null;
  /**
   * The newest date with metrics, and the last date whose horizon has matured for the client with the shortest
   * qualification lag (a client's dates are judged once its own lag has passed).
   */
  newestData: string;
  lastJudgedDate: string;
  /** The qualification lags maturity waited for: measured per client with lead-level history, else the default. */
  maturity: { defaultLagDays: number; clients: { clientId: string; lagDays: number }[] };
  /** Days replayed before --from, not judged; or 0 and the scored date whose stored state the replay started from. */
  warmup: { days: number; storedStateFrom?: string | null };
  dates: number;
  campaigns: number;
  runs: BacktestRun[];
  /** Campaigns whose action differs between the two configurations (empty with one). */
  differing: { campaignId: string; name: string | null; dates: number; firstDate: string }[];
  /** What the backtest cannot measure, said plainly. */
  limitations: string[];
}

/** The five measures: key, what it means, and whether it is a share (shown as a percentage). */
export const MEASURE_ROWS: [keyof BacktestMeasures, string, boolean][] = [
  ['cutPrecision', 'cut precision (told to cut; CPQL over the horizon above target)', true],
  ['falseCutRate', 'false-cut rate (good over the range; told to cut on some date)', true],
  ['increasePrecision', 'increase precision (told to increase; CPQL over the horizon at or below target)', true],
  ['flipRate', 'flip rate (action changes per campaign per 28 dates)', false],
  ['alertBurden', 'alert burden (cut or increase actions per client per date)', false],
];

/** A measure as text: value [interval] (counts). */
export function cell(e: Estimate, percent: boolean): string {
  if (e.value === null) return `— (0 of 0)`;
  const f = (v: number | null) => (v === null ? '?' : percent ? `${(v * 100).toFixed(1)} %` : v.toFixed(2));
  const counts = percent ? ` (${e.numerator} of ${e.denominator})` : '';
  return `${f(e.value)} [${f(e.low)}–${f(e.high)}]${counts}`;
}

function estimateJson(e: Estimate) {
  return { value: e.value, interval_90: [e.low, e.high], numerator: e.numerator, denominator: e.denominator };
}

export const INTERVALS_NOTE =
  'Intervals: 90 %, bootstrap over campaigns (the dates of one campaign are not independent); where it collapses ' +
  'to a point (as at 0 % or 100 %), the Wilson interval of a share or the exact Poisson one of a rate.';

/** How the replay started (warm or cold) and what "matured" waited for: two sentences, for the text and the page. */
export function replayNotes(r: BacktestResult): [string, string] {
  const start =
    r.warmup.days > 0
      ? `Warm start: ${r.warmup.days} days before ${r.from} replayed, not judged.`
      : r.warmup.storedStateFrom
        ? `Warm start: the decision state stored for ${r.warmup.storedStateFrom}.`
        : `Cold start: no warm-up (--warmup 0) and no decision state stored before ${r.from}; the first dates' ` +
          'actions are those of campaigns scored for the first time.';
  const lags = r.maturity.clients.map((c) => `${c.clientId} ${c.lagDays}`).join(', ');
  const maturity =
    `Matured: a horizon ends a client's qualification lag before the newest data (${r.maturity.defaultLagDays} ` +
    `days without lead-level history${lags ? `; measured, in days: ${lags}` : ''}).`;
  return [start, maturity];
}

/** A table of the five measures per configuration, the differing campaigns, and what cannot be measured. */
export function reportBacktest(r: BacktestResult): JobReport {
  const head =
    `Backtest of ${r.dates} dates, ${r.from} to ${r.to}${r.clientId ? ` (client ${r.clientId})` : ''}, ` +
    `${r.campaigns} campaigns, horizon ${r.horizon} days; judged up to ${r.lastJudgedDate} ` +
    `(data ends ${r.newestData}).`;
  const lines = [head, ...replayNotes(r), ''];
  for (const run of r.runs) lines.push(`${run.label}: configuration ${run.configId} (${run.source})`);
  lines.push('');
  for (const [key, label, percent] of MEASURE_ROWS) {
    lines.push(`${label}`);
    for (const run of r.runs) lines.push(`  ${run.label}: ${cell(run.measures[key] as Estimate, percent)}`);
  }
  lines.push('', INTERVALS_NOTE);
  if (r.runs.length > 1) {
    lines.push(
      '',
      `Campaigns whose action differs between ${r.runs[0]!.label} and ${r.runs[1]!.label}: ${r.differing.length}`,
    );
    for (const d of r.differing.slice(0, 20))
      lines.push(`  ${d.name ?? d.campaignId} (${d.campaignId}): ${d.dates} date(s), first ${d.firstDate}`);
  }
  lines.push('', 'What this cannot measure:', ...r.limitations.map((l) => `  - ${l}`));
  const first = r.runs[0]!.measures;
  return {
    counts: {
      dates: r.dates,
      campaigns: r.campaigns,
      judged_dates: first.judgedDates,
      differing_campaigns: r.differing.length,
    },
    summary: {
      from: r.from,
      to: r.to,
      horizon: r.horizon,
      client: r.clientId,
      newest_data: r.newestData,
      last_judged_date: r.lastJudgedDate,
      maturity: {
        default_lag_days: r.maturity.defaultLagDays,
        clients: r.maturity.clients.map((c) => ({ client_id: c.clientId, lag_days: c.lagDays })),
      },
      warmup_days: r.warmup.days,
      stored_state_from: r.warmup.storedStateFrom ?? null,
      dates: r.dates,
      campaigns: r.campaigns,
      runs: r.runs.map((run) => ({
        label: run.label,
        config_id: run.configId,
        config_source: run.source,
        judged_dates: run.measures.judgedDates,
        unjudged_dates: run.measures.unjudgedDates,
        cut_precision: estimateJson(run.measures.cutPrecision),
        false_cut_rate: estimateJson(run.measures.falseCutRate),
        increase_precision: estimateJson(run.measures.increasePrecision),
        flip_rate: estimateJson(run.measures.flipRate),
        alert_burden: estimateJson(run.measures.alertBurden),
        score_bands: run.bands.map((b, i) => ({
          scores: [b.low, run.bands[i + 1]?.low ?? 100],
          judged_dates: b.judged,
          expensive_dates: b.expensive,
          cut: b.cut,
          increase: b.increase,
        })),
        actions_by_date: run.timeline.map((d) => ({ date: d.date, ...d.counts })),
      })),
      differing: r.differing.map((d) => ({
        campaign_id: d.campaignId,
        name: d.name,
        dates: d.dates,
        first_date: d.firstDate,
      })),
      limitations: r.limitations,
    },
    text: lines.join('\n'),
  };
}
