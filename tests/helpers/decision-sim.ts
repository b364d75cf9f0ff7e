import { seededRandom as random } from '../../src/core/random.js';
import { addDays } from '../../src/core/dates.js';
import { fromMicros, rational } from '../../src/core/rational.js';
import {
  actOn,
  addToPriorMoments,
  DEFAULT_DECISION_SETTINGS,
  type DecisionSettings,
  isCut,
  type PreviousDecision,
  type PriorMoments,
  priorCache,
  expectedRate,
  expectPending,
  type PendingDay,
  type Resolved,
  priorKey,
  qualificationLagDays,
  SMALL_SPENDER_MULTIPLE,
} from '../../src/core/scoring/index.js';
import {
  type CampaignFacts,
  type Recommendation,
  resolveScoringConfig,
  type ScoringConfig,
  scoreCampaign,
} from '../../src/core/scoring/index.js';

/**
 * Campaigns with a known true cost per qualified lead, scored daily for 28 days with the spec's rule and given an
 * action through the same code score-campaigns runs (scoreCampaign, then actOn with the previous scored date's
 * client priors and decision state): the simulation decision-quality asks for, to tune the gates and to measure
 * section 2's table on the same data for the recommendation and the action. Deterministic for a seed.
 *
 * Worlds (decision-quality v2): `base`; `late-statuses` (lead-level data whose qualification arrives a mean 5 days
 * after the lead, read as of each date, as it really happens); `small-spend` (3–40 a day); `noisy-spend` (heavy
 * day-to-day noise and weekend dips); `missed-run` (one scoring date of the 28 not run).
 */

export type CampaignClass = 'good' | 'bad' | 'turns-bad' | 'middling';
export type World = 'base' | 'late-statuses' | 'small-spend' | 'noisy-spend' | 'missed-run';
export const WORLDS: readonly World[] = ['base', 'late-statuses', 'small-spend', 'noisy-spend', 'missed-run'];

export interface SimCampaign {
  id: string;
  client: string;
  cls: CampaignClass;
  /** Mean spend a day. */
  dailySpend: number;
  /** True CPQL before and after the switch day (the same for all but turns-bad). */
  cpqlBefore: number;
  cpqlAfter: number;
  /** Index of the first day of the scored range (0–27) at which the cost changes; null when it never does. */
  switchDay: number | null;
}

export interface SimDay {
  spend: number;
  impressions: number;
  clicks: number;
  totalLeads: number;
  qualifiedLeads: number;
  /**
   * late-statuses: each lead's status arrival, in days after the start of its day (created time + lag), and whether
   * it qualifies; statuses before their arrival read as pending (`new`).
   */
  leads?: { arrives: number; qualified: boolean }[];
}

export interface SimResult {
  campaign: SimCampaign;
  /** One per scored date, in order (a missed date repeats the previous date's stored state). */
  recommendations: Recommendation[];
  actions: Recommendation[];
  /** The gate behind each action, and its reason. */
  gates: string[];
  reasons: string[];
}

const TARGET = 100;
const WINDOW = 30;
/** Days of history before the first scored date: the longer window of small spenders reaches 90 days back. */
const HISTORY = 90;
const SCORED_DATES = 28;
const FIRST_DATE = '2025-08-01';
/** Leads' status lag in the late-statuses world: exponential, mean 5 days. */
const MEAN_LAG_DAYS = 5;

function poisson(rand: () => number, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 50) {
    // Normal approximation for large means (Box–Muller), rounded and floored at 0.
    const z = Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * z));
  }
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k += 1;
    p *= rand();
  } while (p > l);
  return k - 1;
}

const uniform = (rand: () => number, lo: number, hi: number) => lo + (hi - lo) * rand();

/** The "high spend" tier of a world's measures: ≥ 45 a day, ≥ 15 among small advertisers. */
export const highSpendTier = (world: World): number => (world === 'small-spend' ? 15 : 45);

/** A population: `n` campaigns in clients of 20, classes and spend levels mixed in fixed shares. */
export function generateCampaigns(n: number, seed: number, world: World = 'base'): SimCampaign[] {
  const rand = random(seed);
  const campaigns: SimCampaign[] = [];
  for (let i = 0; i < n; i++) {
    const r = rand();
    const cls: CampaignClass = r < 0.3 ? 'good' : r < 0.55 ? 'bad' : r < 0.75 ? 'turns-bad' : 'middling';
    const level = rand();
    const dailySpend =
      world === 'small-spend'
        ? uniform(rand, 3, 40)
        : level < 1 / 3
          ? uniform(rand, 10, 25)
          : level < 2 / 3
            ? uniform(rand, 25, 45)
            : uniform(rand, 45, 150);
    const good = uniform(rand, 0.4, 0.8) * TARGET;
    const bad = uniform(rand, 2.5, 4.5) * TARGET;
    const cpqlBefore =
      cls === 'good' || cls === 'turns-bad' ? good : cls === 'bad' ? bad : uniform(rand, 0.9, 1.6) * TARGET;
    campaigns.push({
      id: `sim-${String(i).padStart(5, '0')}`,
      client: `client-${Math.floor(i / 20)}`,
      cls,
      dailySpend,
      cpqlBefore,
      cpqlAfter: cls === 'turns-bad' ? bad : cpqlBefore,
      switchDay: cls === 'turns-bad' ? 4 + Math.floor(rand() * 12) : null,
    });
  }
  return campaigns;
}

/** The campaign's days: HISTORY − 1 days before the first scored date, then the scored range. */
export function simulateDays(c: SimCampaign, seed: number, world: World = 'base'): SimDay[] {
  const rand = random(seed);
  const ctr = uniform(rand, 0.008, 0.02);
  const days: SimDay[] = [];
  for (let d = 0; d < HISTORY - 1 + SCORED_DATES; d++) {
    const scoredIndex = d - (HISTORY - 1);
    const cpql = c.switchDay !== null && scoredIndex >= c.switchDay ? c.cpqlAfter : c.cpqlBefore;
    let factor = Math.exp(0.25 * (rand() + rand() + rand() - 1.5));
    if (world === 'noisy-spend') {
      // Heavy day-to-day noise (log-normal, σ ≈ 0.5, mean 1) and weekends at about half the weekday spend.
      const z = Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
      const weekend = d % 7 === 5 || d % 7 === 6;
      factor = Math.exp(0.5 * z - 0.125) * (weekend ? 0.5 : 1.2);
    }
    const spend = Math.round(c.dailySpend * factor * 100) / 100;
    const qualifiedLeads = poisson(rand, spend / cpql);
    const impressions = Math.round(spend * uniform(rand, 80, 120));
    const totalLeads = qualifiedLeads + poisson(rand, qualifiedLeads * 0.8 + spend / 400);
    const day: SimDay = { spend, impressions, clicks: poisson(rand, impressions * ctr), totalLeads, qualifiedLeads };
    if (world === 'late-statuses') {
      day.leads = [];
      for (let k = 0; k < totalLeads; k++)
        day.leads.push({ arrives: rand() - MEAN_LAG_DAYS * Math.log(1 - rand()), qualified: k < qualifiedLeads });
    }
    days.push(day);
  }
  return days;
}

const micros = (n: number) => fromMicros(String(Math.round(n * 1e6)));
const sum = (xs: readonly SimDay[], f: (d: SimDay) => number) => xs.reduce((s, d) => s + f(d), 0);

/**
 * Lead-level reading as of the end of the day with index `end` (late-statuses): a lead of day `d` is qualified when
 * its status has arrived by then and says so; pending until its status arrives.
 */
function asOf(days: readonly SimDay[], end: number, d: number): { leads: number; qualified: number; pending: number } {
  const left = end + 1 - d; // days from the start of day d to the end of day `end`
  let qualified = 0;
  let pending = 0;
  for (const l of days[d]!.leads!) {
    if (l.arrives > left) pending += 1;
    else if (l.qualified) qualified += 1;
  }
  return { leads: days[d]!.leads!.length, qualified, pending };
}

/**
 * A client's qualification lag as score-campaigns measures it (readClientQualification): the 90th percentile of the
 * days from a lead's creation to its status, over leads of the last 180 days whose status has arrived, in whole days
 * (qualificationLagDays: ceiling, at most 30; the default with fewer than 10).
 */
function clientLag(all: readonly (readonly SimDay[])[], end: number, settings: DecisionSettings): number {
  const delays: number[] = [];
  for (const days of all)
    for (let d = Math.max(0, end - 179); d <= end; d++)
      for (const l of days[d]!.leads ?? []) {
        // Created at a uniform time of its day; `arrives` counts from the start of that day.
        if (l.arrives <= end + 1 - d) delays.push(l.arrives - 0.5);
      }
  delays.sort((a, b) => a - b);
  // percentile_cont(0.9), as the database computes it.
  const pos = 0.9 * (delays.length - 1);
  const lo = Math.floor(pos);
  const p90 =
    delays.length === 0
      ? null
      : delays[lo]! + (delays[Math.min(lo + 1, delays.length - 1)]! - delays[lo]!) * (pos - lo);
  return qualificationLagDays(delays.length, p90, settings.defaultLagDays);
}

/** A campaign's resolved leads of the 30-day window ending on day `end`, and the qualified among them. */
function resolvedIn(days: readonly SimDay[], end: number): Resolved {
  const r = { leads: 0, qualified: 0 };
  for (let d = end - WINDOW + 1; d <= end; d++) {
    const x = asOf(days, end, d);
    r.leads += x.leads - x.pending;
    r.qualified += x.qualified;
  }
  return r;
}

/** The facts score-campaigns would read for the scored date with index `i` (0 = the first scored date). */
function factsFor(
  c: SimCampaign,
  days: readonly SimDay[],
  i: number,
  previousTotal: bigint | null,
  world: World,
  lagDays: number,
  clientRate: number,
  settings: DecisionSettings,
): CampaignFacts {
  const end = HISTORY - 1 + i;
  const window = days.slice(end - WINDOW + 1, end + 1);
  const leadLevel = world === 'late-statuses';
  const counts = (from: number, to: number) => {
    let leads = 0;
    let qualified = 0;
    for (let d = end - to; d <= end - from; d++) {
      if (leadLevel) {
        const x = asOf(days, end, d);
        leads += x.leads;
        qualified += x.qualified;
      } else {
        leads += days[d]!.totalLeads;
        qualified += days[d]!.qualifiedLeads;
      }
    }
    return { leads, qualified };
  };
  const period = (from: number, to: number) => {
    const xs = days.slice(end - to, end - from + 1);
    const n = counts(from, to);
    return { spend: micros(sum(xs, (d) => d.spend)), qualifiedLeads: n.qualified, totalLeads: n.leads };
  };
  const w = counts(0, WINDOW - 1);
  const facts: CampaignFacts = {
    campaignId: c.id,
    mode: leadLevel ? 'lead-level' : 'aggregate',
    startDate: '2025-01-01',
    dailyBudget: micros(c.dailySpend * 1.5),
    clientTargetCpql: null,
    clientTargetCpl: null,
    currency: 'USD',
    leadCountRows: window.length,
    qualifiedCountRows: window.length,
    qualificationKnown: true,
    spend: micros(sum(window, (d) => d.spend)),
    impressions: BigInt(sum(window, (d) => d.impressions)),
    clicks: BigInt(sum(window, (d) => d.clicks)),
    totalLeads: w.leads,
    qualifiedLeads: w.qualified,
    spendRows: window.length,
    dataDays: window.length,
    nullSpendRows: 0,
    nullImpressionRows: 0,
    maxDaySpend: micros(Math.max(...window.map((d) => d.spend))),
    daySpend: micros(days[end]!.spend),
    spikeBase: { rows: 14, spend: micros(sum(days.slice(end - 14, end), (d) => d.spend)) },
    rowsLast14: 14,
    recent: period(0, 6),
    prior: period(7, 13),
    previousTotal: previousTotal === null ? null : rational(previousTotal, 100n),
  };
  // What score-campaigns adds for the evidence: the qualified leads expected among pending ones, and a small
  // spender's long window.
  const youngDays: PendingDay[] = [];
  if (leadLevel)
    for (let d = end - lagDays + 1; d <= end; d++)
      youngDays.push({ age: end - d, pending: asOf(days, end, d).pending });
  const pending = expectPending(youngDays, lagDays, leadLevel ? expectedRate(resolvedIn(days, end), clientRate) : 0);
  const small =
    sum(window, (d) => d.spend) < SMALL_SPENDER_MULTIPLE * settings.minSpendMultiple * TARGET &&
    settings.longWindowDays > 30;
  let long: NonNullable<CampaignFacts['evidence']>['long'] = null;
  if (small) {
    const n = counts(0, settings.longWindowDays - 1);
    long = {
      days: settings.longWindowDays,
      spend: micros(sum(days.slice(end - settings.longWindowDays + 1, end + 1), (d) => d.spend)),
      qualifiedLeads: n.qualified,
      totalLeads: n.leads,
    };
  }
  if (pending.leads > 0 || long !== null)
    facts.evidence = {
      pendingLeads: pending.leads,
      recentPendingLeads: pending.recentLeads,
      pendingQualified: pending.qualified,
      recentPendingQualified: pending.recentQualified,
      lagDays: leadLevel ? lagDays : null,
      long,
    };
  return facts;
}

function simConfig(settings: DecisionSettings): ScoringConfig {
  const r = resolveScoringConfig({
    target_cpql: TARGET,
    decision: {
      cut_probability: settings.cutProbability,
      min_spend_multiple: settings.minSpendMultiple,
      risk_probability: settings.riskProbability,
      recent_strictness: settings.recentStrictness,
      increase_probability: settings.increaseProbability,
      release_probability: settings.releaseProbability,
      persistence: settings.persistence,
      long_window_days: settings.longWindowDays,
      default_lag_days: settings.defaultLagDays,
    },
  });
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.config;
}

/** The scored date a missed-run world skips (the same for every campaign of a seed: one missed cron run). */
export const missedDate = (seed: number): number => 8 + (seed % 12);

/** Scores every campaign on every date and decides its action: what score-campaigns would store. */
export function runSimulation(
  campaigns: readonly SimCampaign[],
  seed: number,
  settings: DecisionSettings = DEFAULT_DECISION_SETTINGS,
  world: World = 'base',
): SimResult[] {
  const config = simConfig(settings);
  const days = campaigns.map((c, i) => simulateDays(c, seed * 100_003 + i, world));
  const results: SimResult[] = campaigns.map((campaign) => ({
    campaign,
    recommendations: [],
    actions: [],
    gates: [],
    reasons: [],
  }));
  const totals: (bigint | null)[] = campaigns.map(() => null);
  const previous: (PreviousDecision | null)[] = campaigns.map(() => null);
  const byClient = new Map<string, number[]>();
  for (const [i, c] of campaigns.entries()) byClient.set(c.client, [...(byClient.get(c.client) ?? []), i]);
  // The client priors come from the previous scored date's moments, as in score-campaigns.
  let moments = new Map<string, PriorMoments>();
  const skipped = world === 'missed-run' ? missedDate(seed) : -1;
  for (let d = 0; d < SCORED_DATES; d++) {
    const date = addDays(FIRST_DATE, d);
    if (d === skipped) {
      // Nothing is scored: the stored state stays that of the date before, and so does what a person reads.
      for (const r of results) {
        r.recommendations.push(r.recommendations[r.recommendations.length - 1] ?? 'INSUFFICIENT_DATA');
        r.actions.push(r.actions[r.actions.length - 1] ?? 'INSUFFICIENT_DATA');
        r.gates.push('missed');
        r.reasons.push('the scoring run of this date was missed');
      }
      for (let i = 0; i < totals.length; i++) totals[i] = null; // SCORE_JUMP compares with D−1 only
      continue;
    }
    const priors = priorCache(moments);
    const next = new Map<string, PriorMoments>();
    for (const [client, members] of byClient) {
      const lag =
        world === 'late-statuses'
          ? clientLag(
              members.map((i) => days[i]!),
              HISTORY - 1 + d,
              settings,
            )
          : 0;
      // The client's resolved qualification rate, pooled over its campaigns' windows (as score-campaigns does).
      let clientRate = 0;
      if (world === 'late-statuses') {
        const pooled = { leads: 0, qualified: 0 };
        for (const i of members) {
          const r = resolvedIn(days[i]!, HISTORY - 1 + d);
          pooled.leads += r.leads;
          pooled.qualified += r.qualified;
        }
        clientRate = pooled.leads === 0 ? 0 : pooled.qualified / pooled.leads;
      }
      const key = priorKey(client, 'USD');
      for (const i of members) {
        const c = campaigns[i]!;
        const facts = factsFor(c, days[i]!, d, totals[i]!, world, lag, clientRate, settings);
        const score = scoreCampaign(facts, date, config);
        totals[i] = score.totalHundredths;
        const act = actOn(score, facts, config, previous[i]!, (target) => priors(key, target));
        addToPriorMoments(next, key, act);
        previous[i] = { action: act.action, candidate: act.candidate, streak: act.streak ?? 1, trigger: act.trigger };
        results[i]!.recommendations.push(score.recommendation);
        results[i]!.actions.push(act.action);
        results[i]!.gates.push(act.gate);
        results[i]!.reasons.push(act.reason);
      }
    }
    moments = next;
  }
  return results;
}

/** Section 2's table for one series (the recommendation or the action) of every campaign. */
export interface QualityMeasures {
  /** Good campaigns ever told to reduce or pause. */
  goodEverCut: number;
  /** Changes between "cut" and "not cut" per stationary campaign per 28 days. */
  stationaryFlips: number;
  /** Bad campaigns spending at least the world's tier (45 a day; 15 for small advertisers): last 14 dates cut. */
  badHighSpendCutShare: number;
  /** Bad campaigns, every spend level: the same share. */
  badCutShare: number;
  /** Campaigns that turned bad, spending at least the tier: flagged (cut) within 10 days of the change. */
  turnedBadFlaggedWithin10: number;
  counts: { good: number; stationary: number; badHighSpend: number; bad: number; turnedBadHighSpend: number };
}

export function measure(
  results: readonly SimResult[],
  series: 'recommendations' | 'actions',
  tier = 45,
): QualityMeasures {
  const of = (r: SimResult) => r[series];
  const mean = (xs: number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((s, x) => s + x, 0) / xs.length);
  const good = results.filter((r) => r.campaign.cls === 'good');
  const stationary = results.filter((r) => r.campaign.cls !== 'turns-bad');
  const bad = results.filter((r) => r.campaign.cls === 'bad');
  const badHigh = bad.filter((r) => r.campaign.dailySpend >= tier);
  const turned = results.filter((r) => r.campaign.cls === 'turns-bad' && r.campaign.dailySpend >= tier);
  const lastCutShare = (r: SimResult) => of(r).slice(-14).filter(isCut).length / 14;
  const flips = (r: SimResult) => of(r).filter((a, i, xs) => i > 0 && isCut(a) !== isCut(xs[i - 1]!)).length;
  return {
    goodEverCut: mean(good.map((r) => (of(r).some(isCut) ? 1 : 0))),
    stationaryFlips: mean(stationary.map(flips)),
    badHighSpendCutShare: mean(badHigh.map(lastCutShare)),
    badCutShare: mean(bad.map(lastCutShare)),
    turnedBadFlaggedWithin10: mean(
      turned.map((r) => {
        const from = r.campaign.switchDay!;
        return of(r)
          .slice(from, from + 10)
          .some(isCut)
          ? 1
          : 0;
      }),
    ),
    counts: {
      good: good.length,
      stationary: stationary.length,
      badHighSpend: badHigh.length,
      bad: bad.length,
      turnedBadHighSpend: turned.length,
    },
  };
}
