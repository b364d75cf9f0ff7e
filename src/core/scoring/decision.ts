import type { WindowEvidence } from './evidence.js';
import type { Recommendation } from './types.js';

/**
 * The action: what a person is told to do, in the recommendation's vocabulary, decided from the spec's
 * recommendation, the evidence on the campaign's cost and what was said on the previous scored dates. Rules: never
 * cut on thin evidence; money at risk is always flagged; stable (persistence, hysteresis, one step at a time);
 * every action names the gate that decided it; new campaigns and INSUFFICIENT_DATA keep the spec's rule.
 */

/** The gates, all configuration (stored with the configuration identity). */
export interface DecisionSettings {
  /** P(CPQL > T) at or above which a campaign is expensive: a cut may stand (0–1). */
  cutProbability: number;
  /** Window spend ÷ T below which no campaign is judged on cost (≥ 0; 3: a campaign at T has 5 % odds of no lead). */
  minSpendMultiple: number;
  /** P(CPQL > 2 T) at or above which a campaign is money at risk: at least REDUCE_BUDGET (0–1). */
  riskProbability: number;
  /**
   * The same gates on the recent window (the last 7 days) are stricter by this much: a week of a few leads is
   * noisier, and a good campaign must not be cut for one bad week (0–1; the recent cut gate is
   * 1 − (1 − cutProbability) × (1 − recentStrictness), likewise for the risk gate).
   */
  recentStrictness: number;
  /** P(CPQL ≤ T) at or above which INCREASE_BUDGET may stand (0–1). */
  increaseProbability: number;
  /** A cut is lifted only once P(CPQL > T) has fallen below this (0–1, below cutProbability): hysteresis. */
  releaseProbability: number;
  /** Scored dates, this one included, a new action must have been called for before it replaces the old (≥ 1). */
  persistence: number;
}

/**
 * Tuned on the simulation of tests/helpers/decision-sim.ts (2,000 campaigns, three seeds; bench/RESULTS.md has the
 * table): a cut needs P(CPQL > T) ≥ 0.95 on the 30-day window (≥ 0.965 on the last 7 days) with spend ≥ 3 T, and a
 * change of action must be called for on 3 scored dates running.
 */
export const DEFAULT_DECISION_SETTINGS: Readonly<DecisionSettings> = Object.freeze({
  cutProbability: 0.95,
  minSpendMultiple: 3,
  riskProbability: 0.9,
  recentStrictness: 0.3,
  increaseProbability: 0.8,
  releaseProbability: 0.6,
  persistence: 3,
});

/** Every problem with a set of gates, in words that name the key and what it must be; empty when they make sense. */
export function decisionSettingsProblems(s: DecisionSettings, prefix = 'decision.'): string[] {
  const problems: string[] = [];
  const probability = (key: keyof DecisionSettings) => {
    const v = s[key];
    if (!(typeof v === 'number' && v >= 0 && v <= 1))
      problems.push(`${prefix}${snake(key)}: ${String(v)} is not a probability (0 to 1)`);
  };
  probability('cutProbability');
  probability('riskProbability');
  probability('increaseProbability');
  probability('releaseProbability');
  probability('recentStrictness');
  if (!(typeof s.minSpendMultiple === 'number' && s.minSpendMultiple >= 0))
    problems.push(`${prefix}min_spend_multiple: ${String(s.minSpendMultiple)} must be 0 or more`);
  if (!(Number.isInteger(s.persistence) && s.persistence >= 1))
    problems.push(`${prefix}persistence: ${String(s.persistence)} must be a whole number of scored dates, 1 or more`);
  if (problems.length === 0 && s.releaseProbability >= s.cutProbability)
    problems.push(
      `${prefix}release_probability: ${s.releaseProbability} must be below cut_probability (${s.cutProbability}), ` +
        'or a cut would be lifted as soon as it is made',
    );
  return problems;
}

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Which rule decided an action. */
export type Gate =
  | 'spec' // new campaign or INSUFFICIENT_DATA, or nothing to weigh: the recommendation as it is
  | 'evidence' // the recommendation, and the evidence supports it
  | 'thin-evidence' // a cut the evidence does not support: MONITOR_CLOSELY
  | 'money-at-risk' // P(CPQL > 2T) high on enough spend: at least REDUCE_BUDGET
  | 'expensive' // P(CPQL > T) high on enough spend: at least REDUCE_BUDGET
  | 'increase-evidence' // INCREASE_BUDGET without P(CPQL ≤ T) high enough: CONTINUE_OPTIMIZE
  | 'one-step' // PAUSE_CAMPAIGN asked for before a REDUCE_BUDGET was given: REDUCE_BUDGET first
  | 'persistence' // the new action has not been called for long enough: the previous one stands
  | 'hysteresis' // a cut stands until the evidence falls well below the gate
  | 'off'; // the decision layer is switched off (SCORING_ACTIONS=off): the recommendation as it is

export interface DecisionInput {
  recommendation: Recommendation;
  isNew: boolean;
  /** Evidence on the scoring window (30 days), or null when there is no target or no lead data. */
  window: WindowEvidence | null;
  /** Evidence on the recent window (the last 7 days), or null likewise: a turn for the worse shows here first. */
  recent: WindowEvidence | null;
  /**
   * What was decided on the previous scored date (D−1), or null for a campaign's first scored date (or when D−1 was
   * not scored): the action given, the candidate (what the evidence called for that day, before persistence), and
   * its streak.
   */
  previous: PreviousDecision | null;
}

/** One scored date's decision, as the next date reads it. */
export interface PreviousDecision {
  action: Recommendation;
  candidate: Recommendation;
  /**
   * Scored dates in a row, that one included, whose candidate called for the same change as its candidate: what
   * persistence counts. One date's row carries the whole run, so no earlier date needs to be read.
   */
  streak: number;
}

export interface Decision {
  action: Recommendation;
  /** What today's evidence calls for, before persistence and hysteresis. */
  candidate: Recommendation;
  gate: Gate;
  /** The reason, in words, naming the gate and the numbers that decided it. */
  reason: string;
  /** The candidate's streak, this date included (PreviousDecision.streak): stored for the next date. */
  streak: number;
}

const CUTS: ReadonlySet<Recommendation> = new Set(['REDUCE_BUDGET', 'PAUSE_CAMPAIGN']);
export const isCut = (r: Recommendation): boolean => CUTS.has(r);

const pct = (p: number) => p.toFixed(2);
const money = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(2));

/** "4 qualified leads on 310 spent: P(CPQL > target) = 0.62". */
export function describeEvidence(e: WindowEvidence): string {
  return (
    `${e.qualifiedLeads} qualified lead${e.qualifiedLeads === 1 ? '' : 's'} on ${money(e.spend)} spent: ` +
    `P(CPQL > target) = ${pct(e.pAboveTarget)}`
  );
}

/** Today's candidate and the gate behind it, before persistence. */
function candidateOf(
  input: DecisionInput,
  s: DecisionSettings,
): { candidate: Recommendation; gate: Gate; why: string } {
  const rec = input.recommendation;
  // The 30-day window first, then the last 7 days under stricter gates; only on enough spend. (No arrays or closures
  // here: this runs for every campaign of every run.)
  const window = input.window !== null && input.window.spendMultiple >= s.minSpendMultiple ? input.window : null;
  const recent = input.recent !== null && input.recent.spendMultiple >= s.minSpendMultiple ? input.recent : null;
  const recentCut = 1 - (1 - s.cutProbability) * (1 - s.recentStrictness);
  const recentRisk = 1 - (1 - s.riskProbability) * (1 - s.recentStrictness);
  const atRisk =
    window !== null && window.pAboveTwiceTarget >= s.riskProbability
      ? window
      : recent !== null && recent.pAboveTwiceTarget >= recentRisk
        ? recent
        : undefined;
  const expensive =
    window !== null && window.pAboveTarget >= s.cutProbability
      ? window
      : recent !== null && recent.pAboveTarget >= recentCut
        ? recent
        : undefined;
  if (isCut(rec)) {
    if (expensive) return { candidate: rec, gate: 'evidence', why: describeEvidence(expensive) };
    const e = input.window;
    const detail = !e
      ? 'no evidence on its cost'
      : e.spendMultiple < s.minSpendMultiple
        ? `${describeEvidence(e)}, on ${e.spendMultiple.toFixed(1)} × the target, below ${s.minSpendMultiple} ×`
        : `${describeEvidence(e)}, below ${pct(s.cutProbability)}`;
    return { candidate: 'MONITOR_CLOSELY', gate: 'thin-evidence', why: `recommendation ${rec}; ${detail}` };
  }
  if (atRisk)
    return {
      candidate: 'REDUCE_BUDGET',
      gate: 'money-at-risk',
      why: `${describeEvidence(atRisk)}, P(CPQL > 2 × target) = ${pct(atRisk.pAboveTwiceTarget)}`,
    };
  if (expensive) return { candidate: 'REDUCE_BUDGET', gate: 'expensive', why: describeEvidence(expensive) };
  if (rec === 'INCREASE_BUDGET') {
    const e = input.window;
    if (e && e.pAtMostTarget >= s.increaseProbability)
      return {
        candidate: rec,
        gate: 'evidence',
        why:
          `${e.qualifiedLeads} qualified leads on ${money(e.spend)} spent: ` +
          `P(CPQL ≤ target) = ${pct(e.pAtMostTarget)}`,
      };
    return {
      candidate: 'CONTINUE_OPTIMIZE',
      gate: 'increase-evidence',
      why:
        'recommendation INCREASE_BUDGET; ' +
        (e
          ? `P(CPQL ≤ target) = ${pct(e.pAtMostTarget)}, below ${pct(s.increaseProbability)}`
          : 'no evidence on its cost'),
    };
  }
  return { candidate: rec, gate: 'spec', why: `recommendation ${rec}` };
}

/** The action for one campaign on one scored date. */
export function decideAction(input: DecisionInput, s: DecisionSettings = DEFAULT_DECISION_SETTINGS): Decision {
  const previous = input.previous;
  const streakOf = (candidate: Recommendation) =>
    previous !== null && sameSide(previous.candidate, candidate) ? previous.streak + 1 : 1;
  if (input.isNew || input.recommendation === 'INSUFFICIENT_DATA') {
    const why = input.isNew ? 'a new campaign keeps its recommendation' : 'not enough data to judge';
    const candidate = input.recommendation;
    return { action: candidate, candidate, gate: 'spec', reason: why, streak: streakOf(candidate) };
  }
  let { candidate, gate, why } = candidateOf(input, s);
  // One step at a time: a pause only after a reduction was given.
  if (candidate === 'PAUSE_CAMPAIGN' && previous?.action !== 'REDUCE_BUDGET' && previous?.action !== 'PAUSE_CAMPAIGN') {
    candidate = 'REDUCE_BUDGET';
    gate = 'one-step';
    why = `PAUSE_CAMPAIGN called for; ${why}; REDUCE_BUDGET first`;
  }
  const streak = streakOf(candidate);
  if (previous === null || previous.action === candidate)
    return { action: candidate, candidate, gate, reason: why, streak };

  // Hysteresis: a cut stands until the evidence has fallen well below the gate.
  if (isCut(previous.action) && !isCut(candidate)) {
    const e = input.window;
    if (e && e.spendMultiple >= s.minSpendMultiple && e.pAboveTarget >= s.releaseProbability)
      return {
        action: previous.action,
        candidate,
        gate: 'hysteresis',
        reason:
          `${previous.action} stands until P(CPQL > target) falls below ${pct(s.releaseProbability)}: ` +
          describeEvidence(e),
        streak,
      }; // The evidence now says, as surely as a cut needs, that the campaign is not expensive (late CRM statuses, a
    // correction): the cut is lifted at once, without waiting for persistence.
    if (e && e.spendMultiple >= s.minSpendMultiple && e.pAboveTarget <= 1 - s.cutProbability)
      return {
        action: candidate,
        candidate,
        gate,
        reason: `${previous.action} lifted: ${describeEvidence(e)}, at most ${pct(1 - s.cutProbability)}; ${why}`,
        streak,
      };
  }
  // Persistence: the change must have been called for on `persistence` scored dates running, this one included.
  if (streak < s.persistence)
    return {
      action: previous.action,
      candidate,
      gate: 'persistence',
      reason:
        `${candidate} called for on ${streak} of the ${s.persistence} scored dates in a row it needs (${why}); ` +
        `${previous.action} stands until then`,
      streak,
    };
  return { action: candidate, candidate, gate, reason: why, streak };
}

/** Two candidates call for the same change when both cut, both increase, or are the same. */
function sameSide(a: Recommendation, b: Recommendation): boolean {
  return a === b || (isCut(a) && isCut(b));
}
