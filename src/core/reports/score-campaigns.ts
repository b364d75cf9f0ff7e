import { formatHundredths } from '../rational.js';
import { type Flag, notJudgedReason, RECOMMENDATIONS, type Recommendation, type RunSummary } from '../scoring/index.js';
import { displayWidth, fitToWidth, terminalSafe } from '../text/columns.js';
import type { JobReport } from './job-report.js';

/** What a scoring run keeps of each score once it is written: enough for the summary and --list. */
export interface ScoreOutcome {
  campaignId: string;
  name: string | null;
  totalHundredths: bigint;
  recommendation: Recommendation;
  /** What a person is told to do (docs/decisions.md). */
  action: Recommendation;
  /** Why, naming the gate; only kept for --list. */
  actionReason: string | null;
  flags: Flag[];
  /** The weakest dimension's reason, only kept for --list. */
  weakest: string | null;
  currency: string | null;
}

/** What scoreCampaigns returns. */
export interface ScoreCampaignsResult {
  /** The scoring date D. */
  date: string;
  dryRun: boolean;
  configId: string;
  /** A --config path, SCORING_CONFIG's, or "defaults". */
  configSource: string;
  summary: RunSummary;
  outcomes: readonly ScoreOutcome[];
  /** --list: one line per campaign in the text. */
  list: boolean;
}

const NAME_WIDTH = 34;

/**
 * One line per campaign: its name cut to NAME_WIDTH cells by grapheme and display width (emoji and wide characters
 * keep the columns straight), then its id in full, so two names that only differ past the cut stay apart.
 */
export function formatScoreTable(outcomes: readonly ScoreOutcome[]): string {
  const sorted = [...outcomes].sort((a, b) =>
    a.totalHundredths === b.totalHundredths
      ? a.campaignId.localeCompare(b.campaignId)
      : a.totalHundredths > b.totalHundredths
        ? -1
        : 1,
  );
  const idWidth = Math.max('campaign id'.length, ...sorted.map((s) => displayWidth(terminalSafe(s.campaignId))));
  const line = (name: string, id: string, score: string, action: string, rec: string, rest: string): string =>
    `${fitToWidth(name, NAME_WIDTH)}  ${fitToWidth(id, idWidth)}  ${fitToWidth(score, 6, 'right')}  ` +
    `${action.padEnd(17)} ${rec.padEnd(17)} ${rest}`.trimEnd();
  const rows = sorted.map((s) => {
    const flags = s.flags.length > 0 ? ` [${s.flags.join(',')}]` : '';
    // An action other than the recommendation says why (its gate); a campaign not judged on leads or on a target
    // says why instead of a weakest point.
    const why =
      s.action !== s.recommendation
        ? (s.actionReason ?? '')
        : (notJudgedReason(s.flags, s.recommendation) ?? s.weakest ?? '');
    const score = formatHundredths(s.totalHundredths);
    // The recommendation column is filled only where it differs from the action.
    const rec = s.action === s.recommendation ? '' : s.recommendation;
    // Names and ids come from the ad account or a CSV: printed on a terminal, never as its control sequences.
    return line(
      terminalSafe(s.name ?? ''),
      terminalSafe(s.campaignId),
      score,
      s.action,
      rec,
      terminalSafe(`${why}${flags}`),
    );
  });
  return [
    line('campaign', 'campaign id', 'score', 'action', 'recommendation', 'why (the weakest point, or the gate)'),
    ...rows,
  ].join('\n');
}

/** Campaigns per action, in the vocabulary's order, every action listed. */
function countActions(outcomes: readonly ScoreOutcome[]): Record<Recommendation, number> {
  const counts = Object.fromEntries(RECOMMENDATIONS.map((r) => [r, 0])) as Record<Recommendation, number>;
  for (const o of outcomes) counts[o.action] += 1;
  return counts;
}

const listed = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

function formatSummary(summary: RunSummary, actions: Record<Recommendation, number>, dryRun: boolean): string {
  const recs = Object.entries(summary.recommendations)
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  const flags = Object.entries(summary.flags)
    .filter(([, n]) => n > 0)
    .map(([f, n]) => `${f} ${n}`)
    .join(', ');
  return [
    `${dryRun ? 'Would score' : 'Scored'} ${summary.campaignsScored} ` +
      `campaign${summary.campaignsScored === 1 ? '' : 's'} for ${summary.date} (configuration ${summary.configId}).`,
    `Actions: ${listed(actions) || 'none'}.`,
    `Recommendations: ${recs || 'none'}.`,
    `Flags: ${flags || 'none'}.`,
    ...summary.warnings.map((w) => `WARNING ${w.code}: ${w.message}`),
  ].join('\n');
}

/** The summary, counts and --json document of a scoring run; with --list, the table of campaigns. */
export function reportScoreCampaigns(r: ScoreCampaignsResult): JobReport {
  const { summary } = r;
  const actions = countActions(r.outcomes);
  return {
    counts: {
      campaigns_scored: summary.campaignsScored,
      warnings: summary.warnings.length,
      ...Object.fromEntries(Object.entries(summary.recommendations).map(([k, v]) => [k.toLowerCase(), v])),
      ...Object.fromEntries(Object.entries(actions).map(([k, v]) => [`action_${k.toLowerCase()}`, v])),
    },
    summary: {
      date: r.date,
      dry_run: r.dryRun,
      config_id: r.configId,
      config_source: r.configSource,
      campaigns_scored: summary.campaignsScored,
      actions,
      recommendations: summary.recommendations,
      flags: summary.flags,
      warnings: summary.warnings,
      previous_scored_date: summary.previousScoredDate,
      previous_scored_count: summary.previousScoredCount,
    },
    text:
      formatSummary(summary, actions, r.dryRun) +
      (r.list && r.outcomes.length > 0 ? `\n\n${formatScoreTable(r.outcomes)}` : ''),
  };
}
