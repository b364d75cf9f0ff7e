import { NOT_JUDGED } from '../scoring/not-judged.js';
import type { Flag, Recommendation } from '../scoring/types.js';
import { describeRange, formatDay, type Signal } from './select.js';

/** How a recommendation reads in a digest: a short label and the action in a sentence. */
export const RECOMMENDATION_WORDING: Record<Recommendation, { label: string; action: string }> = {
  PAUSE_CAMPAIGN: { label: 'Pause campaign', action: 'Pause it: the results do not justify the spend.' },
  REDUCE_BUDGET: { label: 'Reduce budget', action: 'Cut the budget while you find out what is not working.' },
  TEST_CHANGES: { label: 'Test changes', action: 'Test changes to creative, audience or bidding.' },
  MONITOR_CLOSELY: { label: 'Monitor closely', action: 'New campaign: watch it before changing the budget.' },
  CONTINUE_OPTIMIZE: { label: 'Continue & optimize', action: 'Keep it running and keep optimizing.' },
  INCREASE_BUDGET: { label: 'Increase budget', action: 'Strong performer: consider a bigger budget.' },
  INSUFFICIENT_DATA: { label: 'Insufficient data', action: 'Not enough delivery to judge yet.' },
};

/**
 * A stored reason in a person's words: the vocabulary's codes (REDUCE_BUDGET) become their labels in lower case
 * ("reduce budget"), so an e-mail never shows a code.
 */
export function inWords(reason: string): string {
  return reason.replace(CODES, (code) => `"${RECOMMENDATION_WORDING[code as Recommendation].label.toLowerCase()}"`);
}

const CODES = new RegExp(`\\b(${Object.keys(RECOMMENDATION_WORDING).join('|')})\\b`, 'g');

export const FLAG_WORDING: Record<Flag, string> = {
  MISSING_SPEND: 'Spend is missing on some days of the last 30: the score may be off until the data is complete.',
  MISSING_IMPRESSIONS:
    'Impressions are missing on some days of the last 30: the score may be off until the data is complete.',
  HIGH_CPL: 'Cost per lead is above 10 × the target: check the lead tracking before trusting the numbers.',
  HIGH_CTR: 'Click-through rate is above 50%: likely a tracking error or invalid clicks.',
  OVERSPEND: 'Spent more than 1.5 × the daily budget on at least one day.',
  SCORE_JUMP: 'The score moved by more than 50 points in a day.',
  NO_LEAD_DATA: NOT_JUDGED.NO_LEAD_DATA!,
  NO_TARGET: NOT_JUDGED.NO_TARGET!,
  SPEND_SPIKE: "The day's spend is more than 1.5 × its average of the 14 days before: money is leaving fast.",
  STALE_DATA: 'No data for the last 14 days: it is scored on older days; check the fetch or import.',
  NO_QUALIFIED_DATA:
    'Qualification unknown: nothing says which of its leads qualified, so it is never read as zero qualified. It ' +
    'is judged on cost per lead where target_cpl is set for its currency, and not judged otherwise: import lead ' +
    'statuses, connect the CRM, or set target_cpl.',
};

/** A flag in a few words, for a table's cell; FLAG_WORDING has the sentence. */
export const FLAG_LABELS: Record<Flag, string> = {
  MISSING_SPEND: 'Spend missing',
  MISSING_IMPRESSIONS: 'Impressions missing',
  HIGH_CPL: 'Very high CPL',
  HIGH_CTR: 'CTR implausible',
  OVERSPEND: 'Overspent budget',
  SCORE_JUMP: 'Score jumped',
  NO_LEAD_DATA: 'No lead data',
  NO_TARGET: 'No target',
  SPEND_SPIKE: 'Spend spike',
  STALE_DATA: 'Stale data',
  NO_QUALIFIED_DATA: 'Qualification unknown',
};

export const DIMENSION_LABELS: Record<string, string> = {
  cost_efficiency: 'Cost',
  lead_quality: 'Lead quality',
  volume: 'Volume',
  trend: 'Trend',
  engagement: 'Engagement',
};

/** Hundredths as "85.88". */
export function points(h: number): string {
  const sign = h < 0 ? '-' : '';
  const abs = Math.abs(h);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** A signed change: "+12.30", "−4.05" (a real minus sign), "±0.00". */
export function signedPoints(h: number): string {
  if (h === 0) return '±0.00';
  return `${h > 0 ? '+' : '\u2212'}${points(Math.abs(h))}`;
}

/** One sentence per signal, for the card's "why". */
export function describeSignal(s: Signal): string {
  switch (s.kind) {
    case 'recommendation':
      return RECOMMENDATION_WORDING[s.recommendation].action;
    case 'worsened':
      return (
        `Dropped ${s.levels} levels since ${formatDay(s.since, false)}: ` +
        `from ${RECOMMENDATION_WORDING[s.from].label} ` +
        `to ${RECOMMENDATION_WORDING[s.to].label}.`
      );
    case 'score-jump':
      return (
        `Score ${s.to < s.from ? 'fell' : 'rose'} from ${points(s.from)} ` +
        `to ${points(s.to)} since ${formatDay(s.since, false)} ` +
        `(${signedPoints(s.to - s.from)}): check the data for both days ` +
        `before acting.`
      );
    case 'flag':
      return FLAG_WORDING[s.flag];
    case 'gap': {
      const when = describeRange(s.from, s.to);
      const what = s.missingDays > 0 ? 'no delivery data' : 'zero spend and zero impressions';
      const source =
        s.scope === 'account'
          ? `the whole ad account ${s.accountId ?? ''} has ${what} for ${when}, which usually means a failed fetch`
          : `the campaign delivered before but has ${what} for ${when}`;
      return `"${RECOMMENDATION_WORDING[s.held].label}" is held back: it rests on a data gap, ${source}.`;
    }
  }
}
