import { seededRandom as random } from '../random.js';
import { isCut } from './decision.js';
import { inverseGammaP } from './gamma.js';
import { RECOMMENDATIONS, type Recommendation } from './types.js';

/**
 * The measures of a backtest (docs/decisions.md, "Backtest"): each action a replayed date gave is judged against what
 * the campaign did over the horizon after it, on matured data. Pure: the replay hands in one track per campaign.
 */

/** Spend and qualified leads over a stretch of days. */
export interface Outcome {
  spend: number;
  qualifiedLeads: number;
}

/** One campaign over the replayed dates. */
export interface CampaignTrack {
  campaignId: string;
  clientId: string | null;
  /** Its target T (null: not judged on cost; its actions still count for flips and burden). */
  target: number | null;
  /** The action on each replayed date (index = date), null when the campaign was not scored that date. */
  actions: (Recommendation | null)[];
  /** What followed each date over the horizon; null when that horizon has not matured (or the date was not scored). */
  horizon: (Outcome | null)[];
  /** Over the whole range: what decides whether the campaign was good (CPQL ≤ T). */
  whole: Outcome;
}

/** A ratio over campaigns, with its counts and a 90 % bootstrap interval (campaigns resampled, their dates kept). */
export interface Estimate {
  value: number | null;
  low: number | null;
  high: number | null;
  numerator: number;
  denominator: number;
}

export interface BacktestMeasures {
  /** Of the judged dates told to reduce or pause: the share whose horizon CPQL was above T. */
  cutPrecision: Estimate;
  /** Of the campaigns whose CPQL over the range was at or below T: the share told to cut on some date. */
  falseCutRate: Estimate;
  /** Of the judged dates told to increase: the share whose horizon CPQL stayed at or below T. */
  increasePrecision: Estimate;
  /** Action changes per campaign per 28 scored dates. */
  flipRate: Estimate;
  /** Cut or increase actions per client per scored date. */
  alertBurden: Estimate;
  /** Dates judged (their horizon matured and spent at least T) and dates that could not be. */
  judgedDates: number;
  unjudgedDates: number;
}

/** A horizon is judged when it spent at least the target: less says too little either way. */
const judged = (o: Outcome | null, target: number | null): o is Outcome =>
  o !== null && target !== null && o.spend >= target;
/** Expensive: CPQL above T, or no qualified lead on at least T of spend. */
const expensive = (o: Outcome, target: number): boolean =>
  o.qualifiedLeads > 0 ? o.spend > target * o.qualifiedLeads : o.spend >= target;

type Part = { num: number; den: number };

/** One campaign's share of each measure: what the bootstrap resamples. */
export type CampaignParts = Record<Exclude<keyof BacktestMeasures, 'judgedDates' | 'unjudgedDates'>, Part> & {
  judged: number;
  unjudged: number;
};

/**
 * One campaign's counts, built a date at a time as the replay goes (constant memory whatever the number of dates):
 * `add` each replayed date's action and what followed it, then `parts` with the outcome over the whole range.
 */
export class CampaignAccumulator {
  private readonly cut = { num: 0, den: 0 };
  private readonly increase = { num: 0, den: 0 };
  private changes = 0;
  private scored = 0;
  private previous: Recommendation | null = null;
  private everCut = false;
  private alerts = 0;
  private judged = 0;
  private unjudged = 0;

  constructor(readonly target: number | null) {}

  add(action: Recommendation, horizon: Outcome | null): void {
    this.scored += 1;
    if (this.previous !== null && action !== this.previous) this.changes += 1;
    this.previous = action;
    if (isCut(action)) this.everCut = true;
    if (isCut(action) || action === 'INCREASE_BUDGET') this.alerts += 1;
    if (!judged(horizon, this.target)) {
      this.unjudged += 1;
      return;
    }
    this.judged += 1;
    if (isCut(action)) {
      this.cut.den += 1;
      if (expensive(horizon, this.target!)) this.cut.num += 1;
    } else if (action === 'INCREASE_BUDGET') {
      this.increase.den += 1;
      if (!expensive(horizon, this.target!)) this.increase.num += 1;
    }
  }

  parts(whole: Outcome): CampaignParts {
    const t = this.target;
    const good = t !== null && whole.spend >= t && !expensive(whole, t);
    return {
      cutPrecision: { ...this.cut },
      falseCutRate: { num: good && this.everCut ? 1 : 0, den: good ? 1 : 0 },
      increasePrecision: { ...this.increase },
      flipRate: { num: this.changes, den: Math.max(0, this.scored - 1) },
      alertBurden: { num: this.alerts, den: this.scored },
      judged: this.judged,
      unjudged: this.unjudged,
    };
  }
}

function contributions(t: CampaignTrack): CampaignParts {
  const acc = new CampaignAccumulator(t.target);
  t.actions.forEach((a, i) => {
    if (a !== null) acc.add(a, t.horizon[i] ?? null);
  });
  return acc.parts(t.whole);
}

/** z of a two-sided 90 % interval. */
const Z90 = 1.6448536269514722;

/** The Wilson 90 % interval of a share `k` of `n`: never a point at 0 % or 100 %. */
export function wilson90(k: number, n: number): [number, number] {
  const p = k / n;
  const z2 = Z90 * Z90;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z90 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** The exact (Garwood) 90 % interval of a rate: `k` events over `exposure`; its upper end is above 0 at k = 0. */
export function poisson90(k: number, exposure: number): [number, number] {
  const low = k === 0 ? 0 : inverseGammaP(k, 0.05) / exposure;
  return [low, inverseGammaP(k + 1, 0.95) / exposure];
}

/**
 * A ratio over campaigns with its 90 % interval: a bootstrap over campaigns (the dates of one campaign are not
 * independent). Where the bootstrap collapses to a point (every resample the same, as at 0 % or 100 %), the interval
 * is the Wilson one of the share, or the exact Poisson one of the rate: a point would claim a certainty 12 dates of
 * 40 campaigns do not give.
 */
function estimate(parts: readonly Part[], reps: number, seed: number, kind: 'share' | 'rate', scale = 1): Estimate {
  const numerator = parts.reduce((s, p) => s + p.num, 0);
  const denominator = parts.reduce((s, p) => s + p.den, 0);
  const value = denominator > 0 ? (numerator / denominator) * scale : null;
  if (value === null || parts.length === 0) return { value, low: null, high: null, numerator, denominator };
  const rand = random(seed);
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    let num = 0;
    let den = 0;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[Math.floor(rand() * parts.length)]!;
      num += p.num;
      den += p.den;
    }
    if (den > 0) samples.push((num / den) * scale);
  }
  samples.sort((x, y) => x - y);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? null;
  let low = at(0.05);
  let high = at(0.95);
  if (low === high) {
    const [l, h] = kind === 'share' ? wilson90(numerator, denominator) : poisson90(numerator, denominator);
    low = l * scale;
    high = h * scale;
  }
  return { value, low, high, numerator, denominator };
}

/**
 * The five measures over every track, each with a 90 % interval from `reps` bootstrap resamples of the campaigns.
 * Alert burden is per client: its ratio is scaled by campaigns per client.
 */
export function measureBacktest(tracks: readonly CampaignTrack[], reps = 1000, seed = 1): BacktestMeasures {
  return measureParts(tracks.map(contributions), new Set(tracks.map((t) => t.clientId ?? '')).size, reps, seed);
}

/** The measures from each campaign's parts (CampaignAccumulator), `clients` the number of clients among them. */
export function measureParts(
  parts: readonly CampaignParts[],
  clients: number,
  reps = 1000,
  seed = 1,
): BacktestMeasures {
  const pick = (k: Exclude<keyof CampaignParts, 'judged' | 'unjudged'>) => parts.map((p) => p[k]);
  return {
    cutPrecision: estimate(pick('cutPrecision'), reps, seed, 'share'),
    falseCutRate: estimate(pick('falseCutRate'), reps, seed + 1, 'share'),
    increasePrecision: estimate(pick('increasePrecision'), reps, seed + 2, 'share'),
    // Changes per date gap × 28.
    flipRate: estimate(pick('flipRate'), reps, seed + 3, 'rate', 28),
    // Alerts per campaign-date × campaigns per client = alerts per client per date.
    alertBurden: estimate(pick('alertBurden'), reps, seed + 4, 'rate', parts.length / Math.max(1, clients)),
    judgedDates: parts.reduce((n, p) => n + p.judged, 0),
    unjudgedDates: parts.reduce((n, p) => n + p.unjudged, 0),
  };
}

/** The spec's recommendation bands of the total score (scoring.md section 6): 0–20, 20–40, 40–60, 60–80, 80–100. */
export const SCORE_BANDS = [0, 20, 40, 60, 80] as const;

/** One score band's judged dates: how often the horizon was expensive, and how right cuts and increases were. */
export interface BandMeasures {
  /** The band's lowest total (inclusive); it runs to the next band's (or to 100). */
  low: number;
  judged: number;
  expensive: number;
  cut: { num: number; den: number };
  increase: { num: number; den: number };
}

/**
 * Precision by score band: each judged date counted in the band of that date's total score. Constant memory: five
 * bands, whatever the number of dates and campaigns.
 */
export class BandTally {
  private readonly bands: BandMeasures[] = SCORE_BANDS.map((low) => ({
    low,
    judged: 0,
    expensive: 0,
    cut: { num: 0, den: 0 },
    increase: { num: 0, den: 0 },
  }));

  add(total: number, action: Recommendation, horizon: Outcome | null, target: number | null): void {
    if (!judged(horizon, target)) return;
    let i = SCORE_BANDS.length - 1;
    while (i > 0 && total < SCORE_BANDS[i]!) i -= 1;
    const band = this.bands[i]!;
    const dear = expensive(horizon, target!);
    band.judged += 1;
    if (dear) band.expensive += 1;
    if (isCut(action)) {
      band.cut.den += 1;
      if (dear) band.cut.num += 1;
    } else if (action === 'INCREASE_BUDGET') {
      band.increase.den += 1;
      if (!dear) band.increase.num += 1;
    }
  }

  result(): BandMeasures[] {
    return this.bands.map((b) => ({ ...b, cut: { ...b.cut }, increase: { ...b.increase } }));
  }
}

/** How many campaigns got each action on one replayed date. */
export interface ActionCounts {
  date: string;
  counts: Record<Recommendation, number>;
}

/** An empty count of every action. */
export const noActions = (): Record<Recommendation, number> =>
  Object.fromEntries(RECOMMENDATIONS.map((r) => [r, 0])) as Record<Recommendation, number>;
