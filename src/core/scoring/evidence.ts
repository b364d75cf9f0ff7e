import { gammaP, inverseGammaP, logGamma } from './gamma.js';

/**
 * How sure the scores can be about a campaign's cost per qualified lead (CPQL): a Gamma–Poisson model. Qualified
 * leads Q on spend S arrive at a rate λ (leads per unit of spend) with a Gamma(shape a0, rate b0) prior; the
 * posterior is Gamma(a0 + Q, b0 + S), and CPQL = 1 / λ. Then
 *
 *   P(CPQL > T) = P(λ < 1/T) = P(a0 + Q, (b0 + S) / T)     (the regularised incomplete gamma function)
 *
 * which for whole a0 + Q is P(Poisson((b0 + S) / T) ≥ a0 + Q). Closed form, exact to double precision: no sampling.
 */

/** A Gamma prior on the rate of qualified leads per unit of spend. */
export interface GammaPrior {
  /** Shape a0: how many qualified leads the prior weighs as (at most MAX_PRIOR_SHAPE). */
  shape: number;
  /** Rate b0: how much spend the prior weighs as, in the campaign's currency. */
  rate: number;
  /** Where it came from: the client's own campaigns (method of moments), or the target alone. */
  source: 'client' | 'target';
}

/** A prior weighs at most as much as two qualified leads: one campaign's verdict is driven by its own data. */
export const MAX_PRIOR_SHAPE = 2;

/** The prior when the client's campaigns say nothing usable: one lead's worth, centred on the target's rate. */
export function targetPrior(target: number): GammaPrior {
  return { shape: 1, rate: target, source: 'target' };
}

/**
 * What a client prior is built from: sums over the client's campaigns (one currency) with window spend above 0. A
 * scoring run adds its campaigns as it scores them and stores the sums (client_priors), so the next run reads one
 * row per client instead of every campaign.
 */
export interface PriorMoments {
  /** Campaigns with spend: the others carry no information on a rate. */
  campaigns: number;
  spend: number;
  qualifiedLeads: number;
  /** Σ Q/S, Σ (Q/S)², Σ 1/S over those campaigns. */
  sumRate: number;
  sumRateSquared: number;
  sumInverseSpend: number;
}

export const emptyMoments = (): PriorMoments => ({
  campaigns: 0,
  spend: 0,
  qualifiedLeads: 0,
  sumRate: 0,
  sumRateSquared: 0,
  sumInverseSpend: 0,
});

/** Adds one campaign's window spend and qualified leads to `m` (nothing when it spent nothing). */
export function addToMoments(m: PriorMoments, spend: number, qualifiedLeads: number): void {
  if (!(spend > 0)) return;
  const rate = qualifiedLeads / spend;
  m.campaigns += 1;
  m.spend += spend;
  m.qualifiedLeads += qualifiedLeads;
  m.sumRate += rate;
  m.sumRateSquared += rate * rate;
  m.sumInverseSpend += 1 / spend;
}

/**
 * Empirical Bayes: the Gamma prior whose mean and spread match the client's campaigns (method of moments on the
 * campaigns' lead rates, with the Poisson noise of each campaign's own count taken out of the spread), capped at
 * MAX_PRIOR_SHAPE leads' weight. Falls back to targetPrior when fewer than two campaigns have spend, or none has a
 * qualified lead.
 */
export function priorFromMoments(m: PriorMoments, target: number): GammaPrior {
  const n = m.campaigns;
  if (n < 2 || m.qualifiedLeads === 0) return targetPrior(target);
  const mean = m.qualifiedLeads / m.spend;
  const averageRate = m.sumRate / n;
  const spread = (m.sumRateSquared - n * averageRate * averageRate) / (n - 1);
  // Var(Q/S) = Var(λ) + E[λ]/S: what is left after each campaign's Poisson noise is the spread of true rates.
  const noise = (mean * m.sumInverseSpend) / n;
  const between = spread - noise;
  const shape = between > 0 ? Math.min(MAX_PRIOR_SHAPE, (mean * mean) / between) : MAX_PRIOR_SHAPE;
  return { shape, rate: shape / mean, source: 'client' };
}

/** priorFromMoments of a list of campaigns' window spend and qualified leads. */
export function empiricalPrior(
  campaigns: readonly { spend: number; qualifiedLeads: number }[],
  target: number,
): GammaPrior {
  const m = emptyMoments();
  for (const c of campaigns) addToMoments(m, c.spend, c.qualifiedLeads);
  return priorFromMoments(m, target);
}

/** The evidence on one window of a campaign. */
export interface WindowEvidence {
  /** Window spend, in the campaign's currency. */
  spend: number;
  qualifiedLeads: number;
  /** P(true CPQL > T). */
  pAboveTarget: number;
  /** P(true CPQL > 2 T): money at risk. */
  pAboveTwiceTarget: number;
  /** P(true CPQL ≤ T). */
  pAtMostTarget: number;
  /** The 80 % credible interval of the CPQL: its 10th and 90th percentiles (the upper one may be Infinity). */
  cpqlLow: number;
  cpqlHigh: number;
  /** spend / T: below 3, a campaign at exactly T has a 5 % chance of no qualified lead at all. */
  spendMultiple: number;
}

/** What depends on a posterior's shape alone: ln Γ(shape) and the 10th and 90th percentiles of Gamma(shape, 1). */
interface ShapeConstants {
  lnGamma: number;
  q10: number;
  q90: number;
}

/**
 * The shape constants met so far. A run meets few shapes (a client's prior shape plus a whole number of leads) many
 * times: 100,000 campaigns have a few thousand, and the two inversions are most of the evidence's cost. The values
 * are exact, not approximations; the cache only avoids computing them twice. Emptied when it reaches its bound.
 */
const shapeCache = new Map<number, ShapeConstants>();
const MAX_CACHED_SHAPES = 100_000;

function shapeConstants(shape: number): ShapeConstants {
  let c = shapeCache.get(shape);
  if (c === undefined) {
    const lnGamma = logGamma(shape);
    c = { lnGamma, q10: inverseGammaP(shape, 0.1, lnGamma), q90: inverseGammaP(shape, 0.9, lnGamma) };
    if (shapeCache.size >= MAX_CACHED_SHAPES) shapeCache.clear();
    shapeCache.set(shape, c);
  }
  return c;
}

/** The evidence on one window: `spend` and `qualifiedLeads` of the window, the target T and the prior. */
export function windowEvidence(
  spend: number,
  qualifiedLeads: number,
  target: number,
  prior: GammaPrior,
): WindowEvidence {
  if (!(target > 0)) throw new RangeError(`windowEvidence: the target must be positive, got ${target}`);
  if (!(spend >= 0) || !(qualifiedLeads >= 0))
    throw new RangeError(`windowEvidence: spend and leads must not be negative (${spend}, ${qualifiedLeads})`);
  const shape = prior.shape + qualifiedLeads;
  const rate = prior.rate + spend;
  const { lnGamma, q10, q90 } = shapeConstants(shape);
  // λ < 1/T ⇔ CPQL > T; λ is Gamma(shape, rate), so rate · λ is Gamma(shape, 1).
  const pAboveTarget = gammaP(shape, rate / target, lnGamma);
  const pAboveTwiceTarget = gammaP(shape, rate / (2 * target), lnGamma);
  const pAtMostTarget = 1 - pAboveTarget;
  // CPQL's 10th percentile is 1 / λ's 90th, and its 90th is 1 / λ's 10th.
  const lambda90 = q90 / rate;
  const lambda10 = q10 / rate;
  return {
    spend,
    qualifiedLeads,
    pAboveTarget,
    pAboveTwiceTarget,
    pAtMostTarget,
    cpqlLow: 1 / lambda90,
    cpqlHigh: lambda10 > 0 ? 1 / lambda10 : Number.POSITIVE_INFINITY,
    spendMultiple: spend / target,
  };
}
