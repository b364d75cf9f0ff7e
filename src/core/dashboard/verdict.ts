import { RECOMMENDATION_WORDING } from '../alerts/wording.js';
import { isCut } from '../scoring/decision.js';
import type { Recommendation } from '../scoring/types.js';
import { count, money } from '../money.js';

/** What decides a campaign's verdict today, as the campaign page knows it. */
export interface VerdictFacts {
  action: Recommendation;
  recommendation: Recommendation;
  score: number;
  isNew: boolean;
  /** The 30-day window's spend and qualified leads (null before sql/011). */
  spend: number | null;
  qualifiedLeads: number | null;
  target: number | null;
  startDate: string | null;
  currency: string | null;
}

const amount = (n: number) => (n < 100 ? money(n) : count(n));
const label = (a: Recommendation) => RECOMMENDATION_WORDING[a].label.toLowerCase();
const leads = (n: number) => `${n} qualified lead${n === 1 ? '' : 's'}`;

/** The spec's score bands (scoring.md section 6): the recommendation a total in each band gets. */
const BANDS: [number, Recommendation][] = [
  [80, 'INCREASE_BUDGET'],
  [60, 'CONTINUE_OPTIMIZE'],
  [40, 'TEST_CHANGES'],
  [20, 'REDUCE_BUDGET'],
  [0, 'PAUSE_CAMPAIGN'],
];

/**
 * What would change the verdict, in one sentence, where it can be said from what is stored: the qualified leads a
 * cut needs to be lifted (at the window's spend, CPQL at the target), the leads an increase must keep, or how far
 * the score is from the next band. Null where no honest sentence exists (no target, no spend, not judged).
 */
export function whatWouldChange(f: VerdictFacts): string | null {
  const money = (n: number) => `${amount(n)}${f.currency ? ` ${f.currency}` : ''}`;
  if (f.action === 'INSUFFICIENT_DATA') return null;
  if (f.action === 'MONITOR_CLOSELY' && f.isNew) {
    if (!f.startDate) return null;
    const judged = new Date(Date.parse(f.startDate) + 14 * 86_400_000).toISOString().slice(0, 10);
    return `It is new: from ${judged} (14 days after its start) it is judged like any other campaign.`;
  }
  if (f.spend !== null && f.qualifiedLeads !== null && f.target !== null && f.spend > 0) {
    const needed = Math.ceil(f.spend / f.target - 1e-9);
    if (isCut(f.action)) {
      const more = Math.max(1, needed - f.qualifiedLeads);
      return (
        `The cut would be lifted once the evidence says its cost per qualified lead is at or below the target of ` +
        `${money(f.target)}: at ${money(f.spend)} spent over 30 days that means about ${more} more ` +
        `qualified lead${more === 1 ? '' : 's'} ` +
        `(${needed} in all, against ${f.qualifiedLeads} now).`
      );
    }
    if (f.action === 'INCREASE_BUDGET') {
      // Above the target once q < spend ÷ target: at most ceil(spend ÷ target) − 1 qualified leads.
      const above = Math.max(0, needed - 1);
      return (
        `It keeps "increase budget" while its cost per qualified lead stays well under the target of ` +
        `${money(f.target)}; at ${money(f.spend)} spent over 30 days, ${leads(above)} or fewer (against ` +
        `${f.qualifiedLeads} now) would put it above the target.`
      );
    }
  }
  if (f.action === f.recommendation) {
    const i = BANDS.findIndex(([low]) => f.score >= low);
    const up = i > 0 ? BANDS[i - 1] : undefined;
    const down = BANDS[i]!;
    const parts: string[] = [];
    if (up) parts.push(`${(up[0] - f.score).toFixed(2)} more points (${up[0]}) would make it ${label(up[1])}`);
    if (i < BANDS.length - 1)
      parts.push(`${(f.score - down[0]).toFixed(2)} fewer (below ${down[0]}) would make it ${label(BANDS[i + 1]![1])}`);
    if (parts.length > 0) return `On the score alone: ${parts.join('; ')}.`;
  }
  return null;
}
