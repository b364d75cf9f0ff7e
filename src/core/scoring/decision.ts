import { count } from '../money.js';
import type { WindowEvidence } from './evidence.js';
import type { Recommendation } from './types.js';

/**
 * The action: what a person is told to do, in the recommendation's vocabulary, decided from the spec's
 * recommendation, the evidence on the campaign's cost and what was said on the previous scored dates. Rules: never
 * cut on thin evidence; money at risk is always flagged; stable (persistence, hysteresis, one step at a time);
 * every action names the gate that decided it; INSUFFICIENT_DATA keeps the spec's rule, and a new campaign meets the
 * same gates as any other (v2).
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
  /**
   * Days of the longer window a small spender is judged on when its 30-day spend is below minSpendMultiple × T
   * (30 to 90; 30 switches it off).
   */
  longWindowDays: number;
  /**
   * The qualification lag, in days, of a client with too little history to measure its own (fewer than 10 leads
   * with a final status): leads younger than the lag and still pending are unknown, not unqualified (0 to 60).
   */
  defaultLagDays: number;
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
  longWindowDays: 90,
  defaultLagDays: 7,
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
  if (!(Number.isInteger(s.persistence) && s.persistence >= 1 && s.persistence <= 60))
    problems.push(`${prefix}persistence: ${String(s.persistence)} must be a whole number of scored dates, 1 to 60`);
  if (!(Number.isInteger(s.longWindowDays) && s.longWindowDays >= 30 && s.longWindowDays <= 90))
    problems.push(`${prefix}long_window_days: ${String(s.longWindowDays)} must be a whole number of days, 30 to 90`);
  if (!(Number.isInteger(s.defaultLagDays) && s.defaultLagDays >= 0 && s.defaultLagDays <= 60))
    problems.push(`${prefix}default_lag_days: ${String(s.defaultLagDays)} must be a whole number of days, 0 to 60`);
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

/**
 * A small spender (decision-quality v2, rule 8): its 30-day spend is below this many times the spend the gates need
 * (minSpendMultiple × T); its longer window is read too.
 */
export const SMALL_SPENDER_MULTIPLE = 2;

/** Which rule decided an action. */
export type Gate =
  | 'spec' // INSUFFICIENT_DATA, or nothing to weigh: the recommendation as it is
  | 'evidence' // the recommendation, and the evidence supports it
  | 'thin-evidence' // a cut the evidence does not support: MONITOR_CLOSELY
  | 'money-at-risk' // P(CPQL > 2T) high on enough spend: at least REDUCE_BUDGET
  | 'expensive' // P(CPQL > T) high on enough spend: at least REDUCE_BUDGET
  | 'increase-evidence' // INCREASE_BUDGET without P(CPQL ≤ T) high enough: CONTINUE_OPTIMIZE
  | 'one-step' // PAUSE_CAMPAIGN asked for before a REDUCE_BUDGET was given: REDUCE_BUDGET first
  | 'persistence' // the new action has not been called for long enough: the previous one stands
  | 'hysteresis' // a cut stands until the evidence falls well below the gate
  | 'off'; // the decision layer is switched off (SCORING_ACTIONS=off): the recommendation as it is

/** The window whose evidence decided a cut: the 30 days, the last 7, or the longer window of a small spender. */
export type EvidenceWindow = 'window' | 'recent' | 'long';

export interface DecisionInput {
  recommendation: Recommendation;
  isNew: boolean;
  /** Evidence on the scoring window (30 days), or null when the campaign is not judged on cost. */
  window: WindowEvidence | null;
  /** Evidence on the recent window (the last 7 days), or null likewise: a turn for the worse shows here first. */
  recent: WindowEvidence | null;
  /**
   * Evidence on the longer window (up to longWindowDays) of a campaign whose 30-day spend is below the spend the
   * gates need; null when not read (v2, small spenders).
   */
  long?: WindowEvidence | null;
  /** The longer window's length in days (for the reason). */
  longDays?: number;
  /** What the campaign is judged on: qualified leads against T (the default), or leads against T_L (lead mode). */
  basis?: 'qualified' | 'leads';
  /** The campaign's currency, for the amounts in the reason; null when unknown. */
  currency?: string | null;
  /**
   * Leads younger than the client's qualification lag still awaiting a final status, counted in the evidence as the
   * qualified leads `expected` among them: the reason says the decision waits for them. Null or 0 leads when none.
   */
  pending?: { leads: number; lagDays: number; expected: number } | null;
  /**
   * What was decided on the latest earlier scored date of the campaign (a missed run does not reset it), or null for
   * its first scored date: the action given, the candidate (what the evidence called for that day, before
   * persistence), its streak, and the window that triggered a cut.
   */
  previous: PreviousDecision | null;
}

/** One scored date's decision, as the next date reads it. */
export interface PreviousDecision {
  action: Recommendation;
  candidate: Recommendation;
  /**
   * Scored dates in a row, that one included, whose candidate was the same as its candidate: what persistence
   * counts. One date's row carries the whole run, so no earlier date needs to be read.
   */
  streak: number;
  /** The window whose evidence triggered the cut in force; null when none is stored (not a cut, or before v2). */
  trigger?: EvidenceWindow | null;
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
  /** For a cut: the window whose evidence triggered it (kept while the cut stands); else null. */
  trigger: EvidenceWindow | null;
}

const CUTS: ReadonlySet<Recommendation> = new Set(['REDUCE_BUDGET', 'PAUSE_CAMPAIGN']);
export const isCut = (r: Recommendation): boolean => CUTS.has(r);

const pct = (p: number) => p.toFixed(2);
/** Spend in a reason: whole units from 100 up ("3,035"), cents below. */
const amount = (n: number) => (n >= 100 ? count(n) : n.toFixed(2));

/** What the evidence is about: CPQL, or CPL in lead mode. */
const costOf = (basis: 'qualified' | 'leads' = 'qualified') => (basis === 'leads' ? 'CPL' : 'CPQL');

/** "4 qualified leads on 310 USD spent" (lead mode: "4 leads"). */
function countsOf(e: WindowEvidence, basis: 'qualified' | 'leads', currency: string | null): string {
  const n = e.qualifiedLeads;
  const what = basis === 'leads' ? 'lead' : 'qualified lead';
  const shown = Number.isInteger(n) ? String(n) : n.toFixed(1);
  return `${shown} ${what}${n === 1 ? '' : 's'} on ${amount(e.spend)}${currency ? ` ${currency}` : ''} spent`;
}

/** "4 qualified leads on 310 USD spent: P(CPQL > target) = 0.62" (lead mode: leads and CPL). */
export function describeEvidence(
  e: WindowEvidence,
  basis: 'qualified' | 'leads' = 'qualified',
  currency: string | null = null,
): string {
  return `${countsOf(e, basis, currency)}: P(${costOf(basis)} > target) = ${pct(e.pAboveTarget)}`;
}

interface Candidate {
  candidate: Recommendation;
  gate: Gate;
  why: string;
  trigger: EvidenceWindow | null;
}

/** The evidence of a window, when it has the spend the gates need; else null. */
function usable(e: WindowEvidence | null | undefined, s: DecisionSettings): WindowEvidence | null {
  return e !== null && e !== undefined && e.spendMultiple >= s.minSpendMultiple ? e : null;
}

/** " in the last 7 days", " in 90 days", or nothing for the 30-day window: where a window's numbers come from. */
function windowLabel(which: EvidenceWindow | null, input: DecisionInput): string {
  if (which === 'recent') return ' in the last 7 days';
  if (which === 'long') return ` in ${input.longDays ?? 90} days`;
  return '';
}

/** ", below 0.95"; with the probability to 4 places when 2 would show it equal to the gate ("= 0.95 (0.9497)"). */
function below(e: WindowEvidence, gate: number): string {
  const exact = pct(e.pAboveTarget) === pct(gate) ? ` (${e.pAboveTarget.toFixed(4)})` : '';
  return `${exact}, below ${pct(gate)}`;
}

/** describeEvidence of one of the input's windows, saying which one. */
function describeIn(input: DecisionInput, e: WindowEvidence, which: EvidenceWindow | null): string {
  return `${describeEvidence(e, input.basis, input.currency ?? null)}${windowLabel(which, input)}`;
}

/** Why a cut the score calls for has too little evidence behind it: the window it was weighed on, and its numbers. */
function thinEvidence(input: DecisionInput, long: WindowEvidence | null, s: DecisionSettings): string {
  const e = input.window;
  if (e === null) return 'no evidence on its cost';
  if (e.spendMultiple >= s.minSpendMultiple) return `${describeIn(input, e, null)}${below(e, s.cutProbability)}`;
  // Too little spend in 30 days: a small spender was weighed on its longer window too.
  if (long !== null) return `${describeIn(input, long, 'long')}${below(long, s.cutProbability)}`;
  const weighed = input.long ?? e;
  const which = input.long ? 'long' : null;
  return (
    `${describeIn(input, weighed, which)}, on ${weighed.spendMultiple.toFixed(1)} × the target, below ` +
    `${s.minSpendMultiple} ×`
  );
}

/** Today's candidate and the gate behind it, before persistence. */
function candidateOf(input: DecisionInput, s: DecisionSettings): Candidate {
  const rec = input.recommendation;
  const basis = input.basis ?? 'qualified';
  // The 30-day window first, then the last 7 days under stricter gates, then (a small spender, whose 30 days reach
  // less than twice the spend the gates need) the longer window; each only on enough spend. No arrays: this runs for
  // every campaign of every run.
  const window = usable(input.window, s);
  const recent = usable(input.recent, s);
  const long = usable(input.long, s);
  const recentCut = 1 - (1 - s.cutProbability) * (1 - s.recentStrictness);
  const recentRisk = 1 - (1 - s.riskProbability) * (1 - s.recentStrictness);
  let atRisk: WindowEvidence | null = null;
  let riskWindow: EvidenceWindow | null = null;
  if (window !== null && window.pAboveTwiceTarget >= s.riskProbability) [atRisk, riskWindow] = [window, 'window'];
  else if (recent !== null && recent.pAboveTwiceTarget >= recentRisk) [atRisk, riskWindow] = [recent, 'recent'];
  else if (long !== null && long.pAboveTwiceTarget >= s.riskProbability) [atRisk, riskWindow] = [long, 'long'];
  let expensive: WindowEvidence | null = null;
  let expensiveWindow: EvidenceWindow | null = null;
  if (window !== null && window.pAboveTarget >= s.cutProbability) [expensive, expensiveWindow] = [window, 'window'];
  else if (recent !== null && recent.pAboveTarget >= recentCut) [expensive, expensiveWindow] = [recent, 'recent'];
  else if (long !== null && long.pAboveTarget >= s.cutProbability) [expensive, expensiveWindow] = [long, 'long'];
  if (isCut(rec)) {
    if (expensive)
      return {
        candidate: rec,
        gate: 'evidence',
        why: describeIn(input, expensive, expensiveWindow),
        trigger: expensiveWindow,
      };
    return {
      candidate: 'MONITOR_CLOSELY',
      gate: 'thin-evidence',
      why: `recommendation ${rec}; ${thinEvidence(input, long, s)}`,
      trigger: null,
    };
  }
  if (atRisk)
    return {
      candidate: 'REDUCE_BUDGET',
      gate: 'money-at-risk',
      why:
        `${describeIn(input, atRisk, riskWindow)}, ` +
        `P(${costOf(basis)} > 2 × target) = ${pct(atRisk.pAboveTwiceTarget)}`,
      trigger: riskWindow,
    };
  if (expensive)
    return {
      candidate: 'REDUCE_BUDGET',
      gate: 'expensive',
      why: describeIn(input, expensive, expensiveWindow),
      trigger: expensiveWindow,
    };
  if (rec === 'INCREASE_BUDGET') {
    const e = input.window;
    const cost = costOf(basis);
    if (e && e.pAtMostTarget >= s.increaseProbability)
      return {
        candidate: rec,
        gate: 'evidence',
        why: `${countsOf(e, basis, input.currency ?? null)}: P(${cost} ≤ target) = ${pct(e.pAtMostTarget)}`,
        trigger: null,
      };
    return {
      candidate: 'CONTINUE_OPTIMIZE',
      gate: 'increase-evidence',
      why:
        'recommendation INCREASE_BUDGET; ' +
        (e
          ? `P(${cost} ≤ target) = ${pct(e.pAtMostTarget)}, below ${pct(s.increaseProbability)}`
          : 'no evidence on its cost'),
      trigger: null,
    };
  }
  return { candidate: rec, gate: 'spec', why: `recommendation ${rec}`, trigger: null };
}

/** The evidence of the window that triggered a cut (the 30 days when none is stored). */
function triggerEvidence(input: DecisionInput, trigger: EvidenceWindow | null | undefined): WindowEvidence | null {
  if (trigger === 'recent') return input.recent;
  if (trigger === 'long') return input.long ?? null;
  return input.window;
}

/** The action for one campaign on one scored date. */
export function decideAction(input: DecisionInput, s: DecisionSettings = DEFAULT_DECISION_SETTINGS): Decision {
  const decision = decide(input, s);
  // Unknown is not unqualified: say so when young leads still await their status and nothing is cut.
  const pending = input.pending;
  if (pending && pending.leads > 0 && !isCut(decision.action))
    decision.reason +=
      `; waits for statuses: ${pending.leads} lead${pending.leads === 1 ? '' : 's'} younger than the client's ` +
      `qualification lag (${pending.lagDays} day${pending.lagDays === 1 ? '' : 's'}) have no final status yet ` +
      `and count as the ${pending.expected.toFixed(1)} qualified their campaign's resolved leads lead one to expect`;
  return decision;
}

function decide(input: DecisionInput, s: DecisionSettings): Decision {
  // INSUFFICIENT_DATA told nobody to do anything: a campaign judged for the first time (its first delivery, a target
  // set, statuses arriving) starts from no action, as on its first scored date, instead of holding "insufficient data"
  // until persistence is met.
  const previous = input.previous?.action === 'INSUFFICIENT_DATA' ? null : input.previous;
  // Persistence counts dates in a row with the same candidate: REDUCE_BUDGET → PAUSE_CAMPAIGN and back are changes too.
  const streakOf = (candidate: Recommendation) =>
    previous !== null && previous.candidate === candidate ? previous.streak + 1 : 1;
  const keptTrigger = (action: Recommendation): EvidenceWindow | null =>
    isCut(action) && previous !== null && isCut(previous.action) ? (previous.trigger ?? 'window') : null;
  if (input.recommendation === 'INSUFFICIENT_DATA') {
    const candidate = input.recommendation;
    return {
      action: candidate,
      candidate,
      gate: 'spec',
      reason: 'not enough data to judge',
      streak: streakOf(candidate),
      trigger: null,
    };
  }
  let { candidate, gate, why, trigger } = candidateOf(input, s);
  if (input.isNew) why = `new campaign, same gates: ${why}`;
  // One step at a time: a pause only after a reduction was given.
  if (candidate === 'PAUSE_CAMPAIGN' && previous?.action !== 'REDUCE_BUDGET' && previous?.action !== 'PAUSE_CAMPAIGN') {
    candidate = 'REDUCE_BUDGET';
    gate = 'one-step';
    why = `PAUSE_CAMPAIGN called for; ${why}; REDUCE_BUDGET first`;
  }
  const streak = streakOf(candidate);
  // A campaign's first scored date (or the first after a long gap) starts from no action: a cut or an increase needs
  // persistence like any change (one noisy week must not cut a campaign on its first date); MONITOR_CLOSELY until
  // then.
  // Only a cut the 30-day window is all but sure of (P ≥ 1 − (1 − cut gate) / 5: 0.99 by default) is made at once.
  const sure =
    trigger === 'window' && input.window !== null && input.window.pAboveTarget >= 1 - (1 - s.cutProbability) / 5;
  if (previous === null && (isCut(candidate) || candidate === 'INCREASE_BUDGET') && !sure && streak < s.persistence)
    return {
      action: 'MONITOR_CLOSELY',
      candidate,
      gate: 'persistence',
      reason:
        `${candidate} called for on ${streak} of the ${s.persistence} scored dates in a row it needs (${why}); ` +
        'MONITOR_CLOSELY until then',
      streak,
      trigger: null,
    };
  if (previous === null || previous.action === candidate)
    return { action: candidate, candidate, gate, reason: why, streak, trigger: trigger ?? keptTrigger(candidate) };

  // Hysteresis: a cut stands until the evidence of the window that triggered it has fallen well below the gate.
  if (isCut(previous.action) && !isCut(candidate)) {
    const which = previous.trigger ?? 'window';
    const e = triggerEvidence(input, which);
    const cost = costOf(input.basis);
    const label = windowLabel(which, input);
    if (e && e.spendMultiple >= s.minSpendMultiple && e.pAboveTarget >= s.releaseProbability)
      return {
        action: previous.action,
        candidate,
        gate: 'hysteresis',
        reason:
          `${previous.action} stands until P(${cost} > target)${label} falls below ${pct(s.releaseProbability)}: ` +
          describeEvidence(e, input.basis, input.currency ?? null),
        streak,
        trigger: which,
      };
    // The evidence now says, as surely as a cut needs, that the campaign is not expensive (late CRM statuses, a
    // correction): the cut is lifted at once, without waiting for persistence.
    if (e && e.spendMultiple >= s.minSpendMultiple && e.pAboveTarget <= 1 - s.cutProbability)
      return {
        action: candidate,
        candidate,
        gate,
        reason:
          `${previous.action} lifted: ${describeEvidence(e, input.basis, input.currency ?? null)}${label}, at most ` +
          `${pct(1 - s.cutProbability)}; ${why}`,
        streak,
        trigger: null,
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
      trigger: keptTrigger(previous.action),
    };
  return { action: candidate, candidate, gate, reason: why, streak, trigger: trigger ?? keptTrigger(candidate) };
}
