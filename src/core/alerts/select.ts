import { addDays } from '../dates.js';
import type { Flag, Recommendation } from '../scoring/types.js';

/**
 * What needs a marketing manager's attention for one scoring date: pure
 * selection from stored scores, before any comparison with earlier digests.
 */

export type Priority = 'high' | 'medium' | 'opportunity';

/**
 * One scored campaign as send-alerts reads it (campaign_scores for D and the previous scored date, campaigns,
 * campaign_metrics).
 */
export interface CampaignAlertInput {
  campaignId: string;
  name: string | null;
  /** campaigns.client_id; null = campaigns without a client (they go to ALERT_TO). */
  clientId: string | null;
  /** campaigns.account_id (Facebook ad account), null for imported campaigns without one. */
  accountId: string | null;
  /** campaigns.status as stored (Facebook status or the CSV's), any case. */
  status: string | null;
  /** campaigns.end_date (YYYY-MM-DD) or null. */
  endDate: string | null;
  /** campaign_scores.total_score for D, in hundredths (8588 = 85.88). */
  totalHundredths: number;
  /**
   * What the person is told to do: the action of docs/decisions.md where one is stored (sections are chosen by it),
   * else the spec's recommendation.
   */
  recommendation: Recommendation;
  /** The spec's recommendation where it differs from the action, with the action's reason; else null. */
  overruled?: { recommendation: Recommendation; reason: string } | null;
  flags: Flag[];
  /** The score on the previous scored date, or null when the campaign was not scored then. */
  previous: { totalHundredths: number; recommendation: Recommendation } | null;
  /** Delivery in campaign_metrics around D (see gapWindow). */
  delivery: DeliveryFacts;
}

/** Delivery of one campaign: the gap window is the last `gapDays` days up to D, "before" the 11 days ahead of it. */
export interface DeliveryFacts {
  /** Some day before the gap window had spend > 0 or impressions > 0. */
  deliveredBefore: boolean;
  /** Rows present in the gap window (days × 1 at most). */
  gapRows: number;
  /** Days in the gap window with spend > 0 or impressions > 0. */
  gapDeliveringDays: number;
}

/** A stored run-level warning of score-campaigns (scoring_runs.warnings). */
export interface RunWarningInput {
  code: string;
  message: string;
}

/** Why a campaign is in the digest. `key` identifies the signal for the diff with the previous digest. */
export type Signal =
  | { kind: 'recommendation'; key: string; recommendation: Recommendation }
  | { kind: 'worsened'; key: string; from: Recommendation; to: Recommendation; levels: number; since: string }
  | { kind: 'score-jump'; key: string; from: number; to: number; since: string }
  | { kind: 'flag'; key: string; flag: Flag }
  | {
      kind: 'gap';
      key: string;
      scope: 'campaign' | 'account';
      held: Recommendation;
      from: string;
      to: string;
      missingDays: number;
      accountId: string | null;
    };

export interface AttentionItem {
  campaignId: string;
  name: string;
  priority: Priority;
  /** Orders items and decides escalation: higher is more urgent. */
  rank: number;
  signals: Signal[];
  totalHundredths: number;
  /** null when the campaign was not scored on the previous scored date. */
  previousTotalHundredths: number | null;
  recommendation: Recommendation;
  /** The spec's recommendation where the action differs, and why (CampaignAlertInput.overruled). */
  overruled: { recommendation: Recommendation; reason: string } | null;
}

/** A digest-level notice: a run-level warning of score-campaigns, or an account without delivery data. */
export interface Notice {
  key: string;
  kind: 'run-warning' | 'account-gap';
  message: string;
}

export interface Selection {
  /** Most urgent first. */
  items: AttentionItem[];
  notices: Notice[];
  /** Campaigns with a stopping status or past their end date: nothing to act on, not listed. */
  skippedStopped: number;
}

export interface SelectionOptions {
  /** The scoring date D. */
  date: string;
  /** The scored date before D, or null when D is the first. */
  previousDate: string | null;
  /** Days up to D without delivery that make a gap (ALERT_GAP_DAYS, default 2). */
  gapDays: number;
}

/** The recommendation ladder, best first; MONITOR_CLOSELY and INSUFFICIENT_DATA are not on it. */
export const LADDER: readonly Recommendation[] = [
  'INCREASE_BUDGET',
  'CONTINUE_OPTIMIZE',
  'TEST_CHANGES',
  'REDUCE_BUDGET',
  'PAUSE_CAMPAIGN',
];
const DESTRUCTIVE: readonly Recommendation[] = ['PAUSE_CAMPAIGN', 'REDUCE_BUDGET'];
const MEDIUM_RECOMMENDATIONS: readonly Recommendation[] = ['TEST_CHANGES', 'MONITOR_CLOSELY'];
const DATA_QUALITY_FLAGS: readonly Flag[] = [
  'MISSING_SPEND',
  'MISSING_IMPRESSIONS',
  'HIGH_CPL',
  'HIGH_CTR',
  'OVERSPEND',
  'NO_LEAD_DATA',
  'NO_TARGET',
  'NO_QUALIFIED_DATA',
];
/** Campaigns that cannot be judged on cost per qualified lead (scoring.md section 2): never a reason to act now. */
const NOT_JUDGED_FLAGS: readonly Flag[] = ['NO_LEAD_DATA', 'NO_TARGET', 'NO_QUALIFIED_DATA'];
const STOPPED_STATUSES = new Set([
  'paused',
  'campaign_paused',
  'archived',
  'deleted',
  'completed',
  'ended',
  'inactive',
  'stopped',
]);

const PRIORITY_WEIGHT: Record<Priority, number> = { high: 300, medium: 200, opportunity: 100 };
const SEVERITY: Record<Recommendation, number> = {
  PAUSE_CAMPAIGN: 6,
  REDUCE_BUDGET: 5,
  TEST_CHANGES: 4,
  MONITOR_CLOSELY: 3,
  INSUFFICIENT_DATA: 2,
  CONTINUE_OPTIMIZE: 1,
  INCREASE_BUDGET: 0,
};

/** Levels a recommendation fell on the ladder (positive = worse), or null when either is off the ladder. */
export function levelsWorsened(from: Recommendation, to: Recommendation): number | null {
  const a = LADDER.indexOf(from);
  const b = LADDER.indexOf(to);
  return a < 0 || b < 0 ? null : b - a;
}

/** The gap window of `date`: the last `gapDays` days, D included. */
export function gapWindow(date: string, gapDays: number): { from: string; to: string } {
  return { from: addDays(date, -(gapDays - 1)), to: date };
}

function hasGap(d: DeliveryFacts): boolean {
  return d.deliveredBefore && d.gapDeliveringDays === 0;
}

/** A campaign whose status says it is stopped, or that ended before the gap window: nothing to act on. */
export function isStoppedCampaign(c: Pick<CampaignAlertInput, 'status' | 'endDate'>, gapFrom: string): boolean {
  if (c.status !== null && STOPPED_STATUSES.has(c.status.trim().toLowerCase())) return true;
  return c.endDate !== null && c.endDate < gapFrom;
}

/**
 * Accounts whose every campaign that delivered before the gap window has
 * nothing in it: a failed fetch or a broken account, not N campaign problems.
 * Needs at least two such campaigns to tell it from one campaign stopping.
 */
function accountGaps(campaigns: readonly CampaignAlertInput[]): Map<string, number> {
  const byAccount = new Map<string, { delivering: number; gaps: number }>();
  for (const c of campaigns) {
    if (c.accountId === null || !c.delivery.deliveredBefore) continue;
    const a = byAccount.get(c.accountId) ?? { delivering: 0, gaps: 0 };
    a.delivering += 1;
    if (hasGap(c.delivery)) a.gaps += 1;
    byAccount.set(c.accountId, a);
  }
  const result = new Map<string, number>();
  for (const [id, a] of byAccount) if (a.delivering >= 2 && a.gaps === a.delivering) result.set(id, a.gaps);
  return result;
}

/**
 * Picks what a digest for these campaigns (one client's) must say, by
 * priority: high = PAUSE_CAMPAIGN, REDUCE_BUDGET, a fall of two or more
 * ladder levels since the previous scored date, SCORE_JUMP; medium =
 * TEST_CHANGES, MONITOR_CLOSELY, data-quality flags, data gaps;
 * opportunity = INCREASE_BUDGET with nothing else to report.
 *
 * A destructive recommendation (pause, reduce) that rests on a data gap —
 * the campaign delivered before and has no delivery for the last `gapDays`
 * days, rows missing or zero — is held back and the gap reported instead;
 * so is a fall or a downward jump of its score.
 */
export function selectAttention(
  campaigns: readonly CampaignAlertInput[],
  warnings: readonly RunWarningInput[],
  options: SelectionOptions,
): Selection {
  const { date, previousDate } = options;
  const window = gapWindow(date, options.gapDays);
  const gappedAccounts = accountGaps(campaigns);
  const items: AttentionItem[] = [];
  let skippedStopped = 0;

  for (const c of campaigns) {
    if (isStoppedCampaign(c, window.from)) {
      skippedStopped += 1;
      continue;
    }
    const signals: Signal[] = [];
    let priority: Priority | null = null;
    const raise = (p: Priority): void => {
      if (priority === null || PRIORITY_WEIGHT[p] > PRIORITY_WEIGHT[priority]) priority = p;
    };
    const gap = hasGap(c.delivery);
    const rec = c.recommendation;
    const held = gap && DESTRUCTIVE.includes(rec);

    if (held) {
      const scope = c.accountId !== null && gappedAccounts.has(c.accountId) ? 'account' : 'campaign';
      signals.push({
        kind: 'gap',
        key: 'gap',
        scope,
        held: rec,
        from: window.from,
        to: window.to,
        missingDays: options.gapDays - c.delivery.gapRows,
        accountId: c.accountId,
      });
      raise('medium');
    } else if (DESTRUCTIVE.includes(rec)) {
      signals.push({ kind: 'recommendation', key: `rec:${rec}`, recommendation: rec });
      raise('high');
    } else if (MEDIUM_RECOMMENDATIONS.includes(rec)) {
      signals.push({ kind: 'recommendation', key: `rec:${rec}`, recommendation: rec });
      raise('medium');
    }

    if (c.previous !== null && previousDate !== null && !held) {
      const levels = levelsWorsened(c.previous.recommendation, rec);
      if (levels !== null && levels >= 2) {
        signals.push({
          kind: 'worsened',
          key: `worsened@${date}`,
          from: c.previous.recommendation,
          to: rec,
          levels,
          since: previousDate,
        });
        raise('high');
      }
    }
    const notJudged = NOT_JUDGED_FLAGS.some((f) => c.flags.includes(f));
    if (c.flags.includes('SCORE_JUMP') && c.previous !== null && previousDate !== null && !notJudged) {
      const down = c.totalHundredths < c.previous.totalHundredths;
      if (!(gap && down)) {
        signals.push({
          kind: 'score-jump',
          key: `score-jump@${date}`,
          from: c.previous.totalHundredths,
          to: c.totalHundredths,
          since: previousDate,
        });
        raise('high');
      }
    }
    for (const flag of DATA_QUALITY_FLAGS) {
      if (c.flags.includes(flag)) {
        signals.push({ kind: 'flag', key: `flag:${flag}`, flag });
        raise('medium');
      }
    }
    if (priority === null && rec === 'INCREASE_BUDGET') {
      signals.push({ kind: 'recommendation', key: `rec:${rec}`, recommendation: rec });
      priority = 'opportunity';
    }
    if (priority === null) continue;
    const p: Priority = priority;
    items.push({
      campaignId: c.campaignId,
      name: c.name ?? c.campaignId,
      priority: p,
      rank: PRIORITY_WEIGHT[p] + (held ? SEVERITY.TEST_CHANGES : SEVERITY[rec]) * 10 + signals.length,
      signals,
      totalHundredths: c.totalHundredths,
      previousTotalHundredths: c.previous?.totalHundredths ?? null,
      recommendation: rec,
      overruled: c.overruled ?? null,
    });
  }
  items.sort(compareItems);

  const notices: Notice[] = warnings.map((w) => ({
    key: `warning:${w.code}`,
    kind: 'run-warning',
    message: w.message,
  }));
  for (const [accountId, n] of [...gappedAccounts].sort(([a], [b]) => a.localeCompare(b))) {
    if (!campaigns.some((c) => c.accountId === accountId && !isStoppedCampaign(c, window.from))) continue;
    notices.push({
      key: `account-gap:${accountId}`,
      kind: 'account-gap',
      message:
        `Ad account ${accountId}: none of its ${n} delivering campaigns ` +
        `has spend or impressions ` +
        `for ${describeRange(window.from, window.to)}. That is usually a ` +
        `failed fetch or a problem with the account, not the campaigns: ` +
        `check the last fetch-facebook run before acting.`,
    });
  }
  return { items, notices, skippedStopped };
}

export function compareItems(a: AttentionItem, b: AttentionItem): number {
  return (
    b.rank - a.rank ||
    a.totalHundredths - b.totalHundredths ||
    a.name.localeCompare(b.name) ||
    a.campaignId.localeCompare(b.campaignId)
  );
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "15 Nov 2025" from an ISO date. */
export function formatDay(date: string, withYear = true): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return `${d} ${MONTHS[m - 1]}${withYear ? ` ${y}` : ''}`;
}

/** "15 Nov" or "14–15 Nov" or "30 Nov – 1 Dec". */
export function describeRange(from: string, to: string): string {
  if (from === to) return formatDay(to, false);
  const [, fm] = from.split('-');
  const [, tm] = to.split('-');
  return fm === tm
    ? `${Number(from.slice(8))}–${formatDay(to, false)}`
    : `${formatDay(from, false)} – ${formatDay(to, false)}`;
}
