import { seededRandom as random } from '../../src/core/random.js';
import { addDays } from '../../src/core/dates.js';
import { fromMicros, rational } from '../../src/core/rational.js';
import {
  DEFAULT_DECISION_SETTINGS,
  type DecisionSettings,
  decideAction,
  isCut,
} from '../../src/core/scoring/decision.js';
import type { PreviousDecision } from '../../src/core/scoring/decision.js';
import { empiricalPrior, type WindowEvidence, windowEvidence } from '../../src/core/scoring/evidence.js';
import {
  type CampaignFacts,
  type Recommendation,
  resolveScoringConfig,
  type ScoringConfig,
  scoreCampaign,
} from '../../src/core/scoring/index.js';

/**
 * Campaigns with a known true cost per qualified lead, scored daily for 28 days with the spec's rule and given an
 * action: the simulation decision-quality asks for, to tune the gates and to measure section 2's table on the same
 * data for the recommendation and the action. Deterministic for a seed.
 */

export type CampaignClass = 'good' | 'bad' | 'turns-bad' | 'middling';

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
}

export interface SimResult {
  campaign: SimCampaign;
  /** One per scored date, in order. */
  recommendations: Recommendation[];
  actions: Recommendation[];
  /** The gate behind each action. */
  gates: string[];
}

const TARGET = 100;
const WINDOW = 30;
const SCORED_DATES = 28;
const FIRST_DATE = '2025-08-01';

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

/** A population: `n` campaigns in clients of 20, classes and spend levels mixed in fixed shares. */
export function generateCampaigns(n: number, seed: number): SimCampaign[] {
  const rand = random(seed);
  const campaigns: SimCampaign[] = [];
  for (let i = 0; i < n; i++) {
    const r = rand();
    const cls: CampaignClass = r < 0.3 ? 'good' : r < 0.55 ? 'bad' : r < 0.75 ? 'turns-bad' : 'middling';
    const level = rand();
    const dailySpend =
      level < 1 / 3 ? uniform(rand, 10, 25) : level < 2 / 3 ? uniform(rand, 25, 45) : uniform(rand, 45, 150);
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

/** The campaign's days: WINDOW days before the first scored date, then the scored range. */
export function simulateDays(c: SimCampaign, seed: number): SimDay[] {
  const rand = random(seed);
  const ctr = uniform(rand, 0.008, 0.02);
  const days: SimDay[] = [];
  for (let d = 0; d < WINDOW - 1 + SCORED_DATES; d++) {
    const scoredIndex = d - (WINDOW - 1);
    const cpql = c.switchDay !== null && scoredIndex >= c.switchDay ? c.cpqlAfter : c.cpqlBefore;
    const spend = Math.round(c.dailySpend * Math.exp(0.25 * (rand() + rand() + rand() - 1.5)) * 100) / 100;
    const qualifiedLeads = poisson(rand, spend / cpql);
    const impressions = Math.round(spend * uniform(rand, 80, 120));
    days.push({
      spend,
      impressions,
      clicks: poisson(rand, impressions * ctr),
      totalLeads: qualifiedLeads + poisson(rand, qualifiedLeads * 0.8 + spend / 400),
      qualifiedLeads,
    });
  }
  return days;
}

const micros = (n: number) => fromMicros(String(Math.round(n * 1e6)));

/** The facts score-campaigns would read for the scored date with index `i` (0 = the first scored date). */
function factsFor(c: SimCampaign, days: readonly SimDay[], i: number, previousTotal: bigint | null): CampaignFacts {
  const end = WINDOW - 1 + i;
  const window = days.slice(end - WINDOW + 1, end + 1);
  const sum = (xs: readonly SimDay[], f: (d: SimDay) => number) => xs.reduce((s, d) => s + f(d), 0);
  const period = (from: number, to: number) => {
    const xs = days.slice(end - to, end - from + 1);
    return { spend: micros(sum(xs, (d) => d.spend)), qualifiedLeads: sum(xs, (d) => d.qualifiedLeads) };
  };
  return {
    campaignId: c.id,
    mode: 'aggregate',
    startDate: '2025-01-01',
    dailyBudget: micros(c.dailySpend * 1.5),
    clientTargetCpql: null,
    currency: 'USD',
    leadCountRows: window.length,
    spend: micros(sum(window, (d) => d.spend)),
    impressions: BigInt(sum(window, (d) => d.impressions)),
    clicks: BigInt(sum(window, (d) => d.clicks)),
    totalLeads: sum(window, (d) => d.totalLeads),
    qualifiedLeads: sum(window, (d) => d.qualifiedLeads),
    spendRows: window.length,
    dataDays: window.length,
    nullSpendRows: 0,
    nullImpressionRows: 0,
    maxDaySpend: micros(Math.max(...window.map((d) => d.spend))),
    recent: period(0, 6),
    prior: period(7, 13),
    previousTotal: previousTotal === null ? null : rational(previousTotal, 100n),
  };
}

function defaultConfig(): ScoringConfig {
  const r = resolveScoringConfig({ target_cpql: TARGET });
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.config;
}

/** Scores every campaign on every date and decides its action: what score-campaigns would store. */
export function runSimulation(
  campaigns: readonly SimCampaign[],
  seed: number,
  settings: DecisionSettings = DEFAULT_DECISION_SETTINGS,
): SimResult[] {
  const config = defaultConfig();
  const days = campaigns.map((c, i) => simulateDays(c, seed * 100_003 + i));
  const results: SimResult[] = campaigns.map((campaign) => ({ campaign, recommendations: [], actions: [], gates: [] }));
  const totals: (bigint | null)[] = campaigns.map(() => null);
  const previous: (PreviousDecision | null)[] = campaigns.map(() => null);
  const byClient = new Map<string, number[]>();
  for (const [i, c] of campaigns.entries()) byClient.set(c.client, [...(byClient.get(c.client) ?? []), i]);
  for (let d = 0; d < SCORED_DATES; d++) {
    const date = addDays(FIRST_DATE, d);
    const windows = campaigns.map((_, i) => {
      const xs = days[i]!.slice(d, d + WINDOW);
      return {
        spend: xs.reduce((s, x) => s + x.spend, 0),
        qualifiedLeads: xs.reduce((s, x) => s + x.qualifiedLeads, 0),
      };
    });
    for (const members of byClient.values()) {
      const prior = empiricalPrior(
        members.map((i) => windows[i]!),
        TARGET,
      );
      for (const i of members) {
        const c = campaigns[i]!;
        const score = scoreCampaign(factsFor(c, days[i]!, d, totals[i]!), date, config);
        totals[i] = score.totalHundredths;
        const recentDays = days[i]!.slice(d + WINDOW - 7, d + WINDOW);
        const evidence = (spend: number, q: number): WindowEvidence => windowEvidence(spend, q, TARGET, prior);
        const decision = decideAction(
          {
            recommendation: score.recommendation,
            isNew: score.isNew,
            window: evidence(windows[i]!.spend, windows[i]!.qualifiedLeads),
            recent: evidence(
              recentDays.reduce((s, x) => s + x.spend, 0),
              recentDays.reduce((s, x) => s + x.qualifiedLeads, 0),
            ),
            previous: previous[i]!,
          },
          settings,
        );
        previous[i] = { action: decision.action, candidate: decision.candidate, streak: decision.streak };
        results[i]!.recommendations.push(score.recommendation);
        results[i]!.actions.push(decision.action);
        results[i]!.gates.push(decision.gate);
      }
    }
  }
  return results;
}

/** Section 2's table for one series (the recommendation or the action) of every campaign. */
export interface QualityMeasures {
  /** Good campaigns ever told to reduce or pause. */
  goodEverCut: number;
  /** Changes between "cut" and "not cut" per stationary campaign per 28 days. */
  stationaryFlips: number;
  /** Bad campaigns spending ≥ 45 a day: share of the last 14 dates told to reduce or pause. */
  badHighSpendCutShare: number;
  /** Bad campaigns, every spend level: the same share. */
  badCutShare: number;
  /** Campaigns that turned bad, spending ≥ 45 a day: flagged (cut) within 10 days of the change. */
  turnedBadFlaggedWithin10: number;
  counts: { good: number; stationary: number; badHighSpend: number; bad: number; turnedBadHighSpend: number };
}

export function measure(results: readonly SimResult[], series: 'recommendations' | 'actions'): QualityMeasures {
  const of = (r: SimResult) => r[series];
  const mean = (xs: number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((s, x) => s + x, 0) / xs.length);
  const good = results.filter((r) => r.campaign.cls === 'good');
  const stationary = results.filter((r) => r.campaign.cls !== 'turns-bad');
  const bad = results.filter((r) => r.campaign.cls === 'bad');
  const badHigh = bad.filter((r) => r.campaign.dailySpend >= 45);
  const turned = results.filter((r) => r.campaign.cls === 'turns-bad' && r.campaign.dailySpend >= 45);
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
