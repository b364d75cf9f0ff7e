import type { Recommendation } from '../scoring/types.js';
import { compareItems, type AttentionItem, type Notice, type Priority, type Selection } from './select.js';

/**
 * A digest as remembered for the next one (alert_digests.items): enough to
 * tell new, escalated and resolved items apart, nothing more.
 */
export interface DigestSnapshot {
  /** The scoring date the digest was for. */
  date: string;
  items: SnapshotItem[];
  /** Notice keys (run warnings, account gaps). */
  notices: string[];
}

export interface SnapshotItem {
  campaignId: string;
  name: string;
  priority: Priority;
  rank: number;
  signals: string[];
  totalHundredths: number;
  recommendation: Recommendation;
}

/**
 * new: not in the last digest; escalated: higher priority or rank;
 * updated: not worse, but with a signal the last digest did not carry (a
 * score jump, a new flag); improved / unchanged: still open, nothing new.
 */
export type Change = 'new' | 'escalated' | 'updated' | 'improved' | 'unchanged';

/** Changes that get a full card and count as news. */
export function isFresh(change: Change): boolean {
  return change === 'new' || change === 'escalated' || change === 'updated';
}

export interface ItemChange {
  item: AttentionItem;
  change: Change;
  /** Signal keys the previous digest did not have. */
  newSignals: string[];
  before: SnapshotItem | null;
}

export interface ResolvedItem {
  before: SnapshotItem;
  /** Where the campaign stands now; null when it was not scored for this date. */
  now: { totalHundredths: number; recommendation: Recommendation } | null;
  /** True when it left the report because its status says it is stopped. */
  stopped: boolean;
}

export interface DigestPlan {
  /** Send a digest at all. */
  send: boolean;
  /** Why not, for the log, when send is false. */
  skipReason: string | null;
  /** Every current item with its change since the baseline, most urgent first. */
  changes: ItemChange[];
  resolved: ResolvedItem[];
  notices: (Notice & { isNew: boolean })[];
  /** Campaigns needing attention (high + medium) that are new or escalated: the number the subject leads with. */
  needAttention: number;
  snapshot: DigestSnapshot;
}

/** Where the campaigns of the last digest stand now, for resolved items. */
export type CurrentStanding = ReadonlyMap<
  string,
  { totalHundredths: number; recommendation: Recommendation; stopped: boolean }
>;

const ATTENTION: readonly Priority[] = ['high', 'medium'];
const PRIORITY_ORDER: Record<Priority, number> = { high: 3, medium: 2, opportunity: 1 };

export function snapshotOf(date: string, selection: Selection): DigestSnapshot {
  return {
    date,
    items: selection.items.map((i) => ({
      campaignId: i.campaignId,
      name: i.name,
      priority: i.priority,
      rank: i.rank,
      signals: i.signals.map((s) => s.key),
      totalHundredths: i.totalHundredths,
      recommendation: i.recommendation,
    })),
    notices: selection.notices.map((n) => n.key),
  };
}

function classify(item: AttentionItem, before: SnapshotItem | undefined): ItemChange {
  if (before === undefined) return { item, change: 'new', newSignals: item.signals.map((s) => s.key), before: null };
  const had = new Set(before.signals);
  const newSignals = item.signals.filter((s) => !had.has(s.key)).map((s) => s.key);
  const up = PRIORITY_ORDER[item.priority] - PRIORITY_ORDER[before.priority];
  let change: Change;
  if (up > 0 || (up === 0 && item.rank > before.rank)) change = 'escalated';
  // A signal the last digest did not carry (a score jump, a new flag, a gap) is news even when the campaign
  // improved; a different recommendation is not, on its own: the rank already says which way it went.
  else if (newSignals.some((k) => !k.startsWith('rec:'))) change = 'updated';
  else if (up < 0 || item.rank < before.rank) change = 'improved';
  else change = 'unchanged';
  return { item, change, newSignals, before };
}

/**
 * The diff of this date's selection against the last digest sent to the
 * client (`baseline`, null for the first digest): see Change; an
 * opportunity that became a problem is new as a problem. Resolved items
 * were in the baseline's high or medium sections and are not any more. A
 * digest is sent when something is new, escalated, updated or resolved; a
 * second digest for the same date (`baseline.date === date`) only for news,
 * not for resolved items alone, so restated data does not make every run of
 * the day mail again (the next date's digest reports them).
 */
export function planDigest(
  date: string,
  selection: Selection,
  baseline: DigestSnapshot | null,
  standing: CurrentStanding,
): DigestPlan {
  const beforeById = new Map((baseline?.items ?? []).map((i) => [i.campaignId, i]));
  const changes = selection.items.map((item) => {
    const before = beforeById.get(item.campaignId);
    // An opportunity that turned into a problem is new as a problem.
    if (before !== undefined && before.priority === 'opportunity' && item.priority !== 'opportunity')
      return classify(item, undefined);
    return classify(item, before);
  });
  const currentAttention = new Set(
    selection.items.filter((i) => ATTENTION.includes(i.priority)).map((i) => i.campaignId),
  );
  const resolved: ResolvedItem[] = (baseline?.items ?? [])
    .filter((b) => ATTENTION.includes(b.priority) && !currentAttention.has(b.campaignId))
    .map((b) => {
      const now = standing.get(b.campaignId);
      return {
        before: b,
        now: now === undefined ? null : { totalHundredths: now.totalHundredths, recommendation: now.recommendation },
        stopped: now?.stopped ?? false,
      };
    })
    .sort(
      (a, b) => a.before.name.localeCompare(b.before.name) || a.before.campaignId.localeCompare(b.before.campaignId),
    );
  const hadNotices = new Set(baseline?.notices ?? []);
  const notices = selection.notices.map((n) => ({ ...n, isNew: !hadNotices.has(n.key) }));

  const fresh = changes.filter((c) => isFresh(c.change));
  const needAttention = fresh.filter((c) => ATTENTION.includes(c.item.priority)).length;
  const newNotices = notices.filter((n) => n.isNew).length;
  const sameDate = baseline !== null && baseline.date === date;
  let skipReason: string | null = null;
  if (sameDate && fresh.length === 0 && newNotices === 0)
    skipReason = `nothing new or escalated since the digest already sent for ${date}`;
  else if (!sameDate && fresh.length === 0 && newNotices === 0 && resolved.length === 0) {
    skipReason =
      baseline === null
        ? 'nothing needs attention'
        : `nothing new, escalated or resolved since the digest for ${baseline.date}`;
  }
  changes.sort((a, b) => compareItems(a.item, b.item));
  return {
    send: skipReason === null,
    skipReason,
    changes,
    resolved,
    notices,
    needAttention,
    snapshot: snapshotOf(date, selection),
  };
}
