import { addDays, daysBetween } from '../dates.js';
import {
  compare,
  div,
  formatHundredths,
  isZero,
  mul,
  rational,
  roundToHundredths,
  sub,
  toNumber,
  ZERO,
  type Rational,
} from '../rational.js';
import { DIMENSIONS, targetFor, targetIn, type Dimension, type ScoringConfig } from './config.js';
import { curve } from './curve.js';
import type { CampaignFacts, CampaignScore, DimensionScore, Flag, Judgement, Recommendation } from './types.js';

export type ScoringPeriods = Readonly<Record<'window' | 'recent' | 'prior', Readonly<{ from: string; to: string }>>>;

let lastPeriods: { date: string; periods: ScoringPeriods } | null = null;

/** The 30-day window and the two 7-day trend periods ending on D (scoring.md section 1). */
export function scoringPeriods(date: string): ScoringPeriods {
  // A run scores one date for every campaign: compute the periods once.
  if (lastPeriods?.date === date) return lastPeriods.periods;
  const periods = Object.freeze({
    window: { from: addDays(date, -29), to: date },
    recent: { from: addDays(date, -6), to: date },
    prior: { from: addDays(date, -13), to: addDays(date, -7) },
  });
  lastPeriods = { date, periods };
  return periods;
}

const money = (r: Rational): string => formatHundredths(roundToHundredths(r));
const pts = (h: bigint): string => formatHundredths(h);
const HUNDRED = rational(100);
const pct = (r: Rational): string => `${toNumber(mul(r, HUNDRED), 2).toFixed(2)}%`;
const num = (r: Rational | null, decimals = 6): number | null => (r === null ? null : toNumber(r, decimals));

/** A dimension's maximum as a number; the configuration's few maxima are converted once, not per campaign. */
const maxima = new WeakMap<Rational, number>();
function maxPoints(max: Rational): number {
  let n = maxima.get(max);
  if (n === undefined) {
    n = toNumber(max, 2);
    maxima.set(max, n);
  }
  return n;
}

function ofMax(h: bigint, max: Rational): string {
  return `${pts(h)} of ${maxPoints(max)} points`;
}

interface Ratios {
  cpql: Rational | null;
  qualificationRate: Rational | null;
  ctr: Rational | null;
  recentEfficiency: Rational | null;
  priorEfficiency: Rational | null;
  trendChange: Rational | null;
}

function ratios(f: CampaignFacts): Ratios {
  const eff = (p: CampaignFacts['recent']): Rational | null =>
    isZero(p.spend) ? null : div(rational(p.qualifiedLeads), p.spend);
  const recentEfficiency = eff(f.recent);
  const priorEfficiency = eff(f.prior);
  return {
    cpql: f.qualifiedLeads === 0 ? null : div(f.spend, rational(f.qualifiedLeads)),
    qualificationRate: f.totalLeads === 0 ? null : rational(f.qualifiedLeads, f.totalLeads),
    ctr: f.impressions === 0n ? null : rational(f.clicks, f.impressions),
    recentEfficiency,
    priorEfficiency,
    trendChange:
      recentEfficiency && priorEfficiency && !isZero(priorEfficiency)
        ? div(sub(recentEfficiency, priorEfficiency), priorEfficiency)
        : null,
  };
}

/**
 * Lead mode (scoring.md section 2, v3): a NO_QUALIFIED_DATA campaign judged on its cost per lead reads every
 * qualified_leads of sections 4 and 6 as total_leads.
 */
function asLeadMode(f: CampaignFacts): CampaignFacts {
  return {
    ...f,
    qualifiedLeads: f.totalLeads,
    recent: { ...f.recent, qualifiedLeads: f.recent.totalLeads },
    prior: { ...f.prior, qualifiedLeads: f.prior.totalLeads },
  };
}

function scoreDimensions(
  f: CampaignFacts,
  r: Ratios,
  target: Rational,
  config: ScoringConfig,
  leadMode: boolean,
  currency: string,
): Record<Dimension, DimensionScore> {
  const c = config.curves;
  const on = (dim: Dimension, x: Rational): bigint => roundToHundredths(curve(x, c[dim].breakpoints));
  const lead = leadMode ? 'lead' : 'qualified lead';
  const unit = currency === '' ? '' : ` ${currency}`;

  let cost: DimensionScore;
  if (r.cpql === null) {
    cost = {
      hundredths: 0n,
      reason:
        `No ${leadMode ? 'leads' : 'qualified leads'} in the 30-day window, so there is no cost ` +
        `per ${lead}: ${ofMax(0n, c.cost_efficiency.max)}.`,
    };
  } else {
    const h = on('cost_efficiency', div(r.cpql, target));
    cost = {
      hundredths: h,
      reason:
        `Cost per ${lead} ${money(r.cpql)}${unit} against a target ` +
        `of ${money(target)}${unit} (${toNumber(div(r.cpql, target), 2)}× ` +
        `target): ${ofMax(h, c.cost_efficiency.max)}.`,
    };
  }

  let quality: DimensionScore;
  if (leadMode) {
    // Half the maximum (12.50 of 25 by default): neither good nor bad, since nothing says which leads qualified.
    const h = roundToHundredths(div(c.lead_quality.max, rational(2)));
    quality = {
      hundredths: h,
      reason:
        `Qualification unknown: ${f.totalLeads} lead${f.totalLeads === 1 ? '' : 's'} and no qualification data ` +
        `(import lead statuses or connect the CRM): ${ofMax(h, c.lead_quality.max)}.`,
    };
  } else if (r.qualificationRate === null) {
    quality = { hundredths: 0n, reason: `No leads in the 30-day window: ${ofMax(0n, c.lead_quality.max)}.` };
  } else {
    const h = on('lead_quality', r.qualificationRate);
    quality = {
      hundredths: h,
      reason:
        `${f.qualifiedLeads} of ${f.totalLeads} leads qualified ` +
        `(${pct(r.qualificationRate)}): ${ofMax(h, c.lead_quality.max)}.`,
    };
  }

  const volumeH = on('volume', rational(f.qualifiedLeads));
  const volume: DimensionScore = {
    hundredths: volumeH,
    reason:
      `${f.qualifiedLeads} ${leadMode ? '' : 'qualified '}` +
      `lead${f.qualifiedLeads === 1 ? '' : 's'} in 30 ` +
      `days: ${ofMax(volumeH, c.volume.max)}.`,
  };

  let trend: DimensionScore;
  if (isZero(f.prior.spend) || isZero(f.recent.spend)) {
    const h = roundToHundredths(config.trendNeutral);
    const which =
      isZero(f.prior.spend) && isZero(f.recent.spend)
        ? 'either 7-day period'
        : isZero(f.prior.spend)
          ? 'the prior 7 days'
          : 'the last 7 days';
    trend = {
      hundredths: h,
      reason: `No spend in ${which}, not enough history for a trend: neutral ${ofMax(h, c.trend.max)}.`,
    };
  } else if (f.prior.qualifiedLeads === 0) {
    const improved = f.recent.qualifiedLeads > 0;
    const h = roundToHundredths(improved ? config.trendFromZero : config.trendNeutral);
    const leads = leadMode ? 'leads' : 'qualified leads';
    trend = {
      hundredths: h,
      reason: improved
        ? `No ${leads} in the prior 7 days ` + `and ${f.recent.qualifiedLeads} in the last 7: ${ofMax(h, c.trend.max)}.`
        : `No ${leads} in either 7-day period: neutral ${ofMax(h, c.trend.max)}.`,
    };
  } else {
    const change = r.trendChange ?? ZERO;
    const h = on('trend', change);
    const per100 = (e: Rational | null): string => (e === null ? '0' : toNumber(mul(e, HUNDRED), 2).toFixed(2));
    const sign = compare(change, ZERO) >= 0 ? '+' : '';
    trend = {
      hundredths: h,
      reason:
        `${leadMode ? 'Leads' : 'Qualified leads'} per 100${unit} spent went ` +
        `from ${per100(r.priorEfficiency)} (prior 7 days) ` +
        `to ${per100(r.recentEfficiency)} (last 7 ` +
        `days), ${sign}${toNumber(mul(change, HUNDRED), 1).toFixed(1)}%: ${ofMax(h, c.trend.max)}.`,
    };
  }

  let engagement: DimensionScore;
  if (r.ctr === null) {
    engagement = { hundredths: 0n, reason: `No impressions in the 30-day window: ${ofMax(0n, c.engagement.max)}.` };
  } else {
    const h = on('engagement', r.ctr);
    engagement = {
      hundredths: h,
      reason:
        `Click-through rate ${pct(r.ctr)} (${f.clicks} clicks ` +
        `from ${f.impressions} impressions): ${ofMax(h, c.engagement.max)}.`,
    };
  }

  return { cost_efficiency: cost, lead_quality: quality, volume, trend, engagement };
}

/** SPEND_SPIKE needs at least this many of the 14 days before D with a spend (scoring.md section 7). */
const SPIKE_MIN_ROWS = 7;

function evaluateFlags(
  f: CampaignFacts,
  totalH: bigint | null,
  target: Rational | null,
  cannotJudge: Flag[],
  config: ScoringConfig,
): Flag[] {
  const flags: Flag[] = [];
  const lim = config.flags;
  if (f.nullSpendRows > 0) flags.push('MISSING_SPEND');
  if (f.nullImpressionRows > 0) flags.push('MISSING_IMPRESSIONS');
  // Relative to the campaign's own target, so that 1,000 IDR is not "high" (not evaluated without a T).
  if (
    target !== null &&
    f.totalLeads > 0 &&
    compare(div(f.spend, rational(f.totalLeads)), mul(target, lim.highCplMultiple)) > 0
  )
    flags.push('HIGH_CPL');
  if (f.impressions > 0n && compare(rational(f.clicks, f.impressions), lim.highCtr) > 0) flags.push('HIGH_CTR');
  if (
    f.dailyBudget !== null &&
    !isZero(f.dailyBudget) &&
    f.maxDaySpend !== null &&
    compare(f.maxDaySpend, mul(f.dailyBudget, lim.overspendFactor)) > 0
  ) {
    flags.push('OVERSPEND');
  }
  if (f.previousTotal !== null && totalH !== null) {
    const diff = sub(rational(totalH, 100), f.previousTotal);
    const abs = diff.n < 0n ? { n: -diff.n, d: diff.d } : diff;
    if (compare(abs, lim.scoreJump) > 0) flags.push('SCORE_JUMP');
  }
  flags.push(...cannotJudge);
  // v3: the day's spend well above the mean of at least 7 of the 14 days before; no row in the last 14 days.
  const base = f.spikeBase;
  if (
    f.daySpend !== null &&
    base.rows >= SPIKE_MIN_ROWS &&
    !isZero(base.spend) &&
    compare(mul(f.daySpend, rational(base.rows)), mul(base.spend, lim.spendSpikeFactor)) > 0
  )
    flags.push('SPEND_SPIKE');
  if (f.rowsLast14 === 0) flags.push('STALE_DATA');
  return flags;
}

/** scoring.md section 6, for a campaign that has data: the recommendation for a rounded total. */
export function recommend(
  totalH: bigint,
  isNew: boolean,
  config: ScoringConfig,
): { recommendation: Recommendation; reason: string } {
  const total = rational(totalH, 100);
  const t = config.thresholds;
  const at = (r: Rational): boolean => compare(total, r) >= 0;
  const shown = pts(totalH);
  const lim = (r: Rational): string => String(toNumber(r, 2));
  if (isNew && at(t.reduceBudget) && !at(t.increaseBudget)) {
    return {
      recommendation: 'MONITOR_CLOSELY',
      reason:
        `New campaign with a total of ${shown} ` +
        `(between ${lim(t.reduceBudget)} and ${lim(t.increaseBudget)}): ` +
        `watch it closely before changing the budget.`,
    };
  }
  if (at(t.increaseBudget))
    return {
      recommendation: 'INCREASE_BUDGET',
      reason: `Total ${shown} is at least ${lim(t.increaseBudget)}: increase the budget.`,
    };
  if (at(t.continueOptimize))
    return {
      recommendation: 'CONTINUE_OPTIMIZE',
      reason: `Total ${shown} is at least ${lim(t.continueOptimize)}: keep it running and keep optimizing.`,
    };
  if (at(t.testChanges))
    return {
      recommendation: 'TEST_CHANGES',
      reason: `Total ${shown} is at least ${lim(t.testChanges)}: test changes to creative, audience or bidding.`,
    };
  if (at(t.reduceBudget))
    return {
      recommendation: 'REDUCE_BUDGET',
      reason: `Total ${shown} is at least ${lim(t.reduceBudget)} but below ${lim(t.testChanges)}: reduce the budget.`,
    };
  return {
    recommendation: 'PAUSE_CAMPAIGN',
    reason: `Total ${shown} is below ${lim(t.reduceBudget)}: pause the campaign.`,
  };
}

/** Why an INSUFFICIENT_DATA campaign is not judged, and what would let it be (scoring.md section 2). */
function insufficientWhy(f: CampaignFacts, noDelivery: boolean, cannotJudge: readonly Flag[]): string {
  if (noDelivery)
    return f.spendRows === 0
      ? 'Insufficient data: no row in the 30-day window reports spend'
      : 'Insufficient data: no spend and no impressions in the 30-day window';
  if (cannotJudge.includes('NO_LEAD_DATA'))
    return (
      'Insufficient data: its source carries no lead counts (no leads ' +
      'column in any row of the 30-day window), so it is not judged on ' +
      'leads it was never asked to bring'
    );
  if (cannotJudge.includes('NO_QUALIFIED_DATA'))
    return (
      `Insufficient data: ${f.totalLeads} lead${f.totalLeads === 1 ? '' : 's'} but nothing says which ` +
      `qualified (${
        f.mode === 'aggregate'
          ? 'no qualified_leads in any row of the 30-day window'
          : 'the CRM has not sent a status for this client yet'
      }), so its cost per qualified lead is unknown, not infinite; import lead statuses or qualified_leads, ` +
      `connect the CRM, or set a target cost per lead (target_cpl) for ${f.currency ?? 'its'} currency to judge ` +
      'it on cost per lead'
    );
  return (
    `Insufficient data: no target cost per qualified lead for its ` +
    `currency (${f.currency ?? 'unknown'}); set target_cpql ` +
    `for ${f.currency ?? 'the campaign'}'s currency, "*", or the ` +
    `client's target`
  );
}

interface Judged {
  /** T, and where it came from; null when the campaign's currency has none (NO_TARGET). */
  resolved: ReturnType<typeof targetFor>;
  noDelivery: boolean;
  /** The flags of scoring.md section 2 that apply. */
  cannotJudge: Flag[];
  /** T_L of a NO_QUALIFIED_DATA campaign, or null. */
  cpl: ReturnType<typeof targetIn>;
  judgement: Judgement | null;
}

/** scoring.md section 2: whether and on what a campaign is judged. */
function judge(f: CampaignFacts, config: ScoringConfig): Judged {
  const resolved = targetFor(config, f.currency, f.clientTargetCpql);
  const target = resolved?.target ?? null;
  const noDelivery = f.spendRows === 0 || (isZero(f.spend) && f.impressions === 0n);
  const cannotJudge: Flag[] = [];
  const noLeadData = f.mode === 'aggregate' && f.leadCountRows === 0;
  if (noLeadData) cannotJudge.push('NO_LEAD_DATA');
  if (target === null) cannotJudge.push('NO_TARGET');
  // v3: leads whose qualification is unknown are never read as zero qualified.
  const noQualifiedData = !noLeadData && (f.mode === 'aggregate' ? f.qualifiedCountRows === 0 : !f.qualificationKnown);
  if (noQualifiedData) cannotJudge.push('NO_QUALIFIED_DATA');
  // T_L: the client's target_cpl, else the configuration's, by the same currency rules as T.
  const cpl = noQualifiedData ? targetIn(config.targetCpl, config.currency, f.currency, f.clientTargetCpl) : null;
  // What the campaign is judged on: cost per lead against T_L (lead mode), else cost per qualified lead against T.
  const judgement: Judgement | null =
    noDelivery || noLeadData
      ? null
      : noQualifiedData
        ? cpl === null
          ? null
          : { basis: 'leads', target: cpl.target }
        : target === null
          ? null
          : { basis: 'qualified', target };
  return { resolved, noDelivery, cannotJudge, cpl, judgement };
}

/** What a campaign's score judges it on (scoring.md section 2), without scoring it: null when not judged. */
export function judgementOf(f: CampaignFacts, config: ScoringConfig): Judgement | null {
  return judge(f, config).judgement;
}

/** Scores one campaign for date D per scoring.md. Pure and deterministic. */
export function scoreCampaign(f: CampaignFacts, date: string, config: ScoringConfig): CampaignScore {
  const periods = scoringPeriods(date);

  const ageDays = f.startDate === null ? null : daysBetween(date, f.startDate);
  const youngByAge = ageDays !== null && ageDays < config.newCampaign.maxAgeDays;
  const fewDays = f.dataDays < config.newCampaign.minDataDays;
  const isNew = youngByAge || fewDays;
  const newReason = youngByAge
    ? `started ${f.startDate}, ${ageDays} ` +
      `day${ageDays === 1 ? '' : 's'} before ${date} (new ` +
      `until ${config.newCampaign.maxAgeDays})`
    : fewDays
      ? `only ${f.dataDays} day${f.dataDays === 1 ? '' : 's'} of data in ` +
        `the window (new below ${config.newCampaign.minDataDays})`
      : null;

  const { resolved, noDelivery, cannotJudge, cpl, judgement } = judge(f, config);
  const target = resolved?.target ?? null;
  const leadMode = judgement?.basis === 'leads';
  const scored = leadMode ? asLeadMode(f) : f;
  const r = ratios(scored);

  let dimensions: Record<Dimension, DimensionScore>;
  let totalH: bigint;
  let recommendation: Recommendation;
  let reason: string;
  if (judgement === null) {
    const why = insufficientWhy(f, noDelivery, cannotJudge);
    dimensions = Object.fromEntries(DIMENSIONS.map((d) => [d, { hundredths: 0n, reason: `${why}.` }])) as Record<
      Dimension,
      DimensionScore
    >;
    totalH = 0n;
    recommendation = 'INSUFFICIENT_DATA';
    reason = `${why}; nothing to recommend until the campaign ${noDelivery ? 'delivers' : 'can be judged'}.`;
  } else {
    dimensions = scoreDimensions(scored, r, judgement.target, config, leadMode, f.currency ?? '');
    totalH = DIMENSIONS.reduce((sum, d) => sum + dimensions[d].hundredths, 0n);
    ({ recommendation, reason } = recommend(totalH, isNew, config));
    if (leadMode)
      reason +=
        ' Judged on cost per lead: qualification is unknown (import lead statuses or connect the CRM to judge it ' +
        'on qualified leads).';
  }
  const flags = evaluateFlags(f, totalH, target, cannotJudge, config);

  const details: Record<string, unknown> = {
    date,
    config_id: config.id,
    window: periods.window,
    recent_period: periods.recent,
    prior_period: periods.prior,
    mode: f.mode,
    currency: f.currency,
    target_cpql: target === null ? null : money(target),
    target_cpql_source: resolved?.source ?? null,
    // What the campaign is judged on: 'qualified' (CPQL against T), 'leads' (lead mode: cost per lead against
    // target_cpl), or null (not judged).
    basis: judgement?.basis ?? null,
    target_cpl: cpl === null ? null : money(cpl.target),
    target_cpl_source: cpl?.source ?? null,
    inputs: {
      spend: money(f.spend),
      impressions: Number(f.impressions),
      clicks: Number(f.clicks),
      total_leads: f.totalLeads,
      qualified_leads: f.qualifiedLeads,
      // In lead mode, the cost per lead (the spend over every lead).
      cpql: num(r.cpql, 4),
      qualification_rate: leadMode ? null : num(r.qualificationRate),
      ctr: num(r.ctr),
      spend_rows: f.spendRows,
      lead_count_rows: f.leadCountRows,
      qualified_count_rows: f.qualifiedCountRows,
      data_days: f.dataDays,
      daily_budget: f.dailyBudget === null ? null : money(f.dailyBudget),
      max_day_spend: f.maxDaySpend === null ? null : money(f.maxDaySpend),
      recent: {
        spend: money(f.recent.spend),
        qualified_leads: scored.recent.qualifiedLeads,
        efficiency: num(r.recentEfficiency),
      },
      prior: {
        spend: money(f.prior.spend),
        qualified_leads: scored.prior.qualifiedLeads,
        efficiency: num(r.priorEfficiency),
      },
      trend_change: num(r.trendChange),
      previous_total: f.previousTotal === null ? null : money(f.previousTotal),
    },
    dimensions: Object.fromEntries(
      DIMENSIONS.map((d) => [
        d,
        {
          points: Number(pts(dimensions[d].hundredths)),
          max: maxPoints(config.curves[d].max),
          reason: dimensions[d].reason,
        },
      ]),
    ),
    total: Number(pts(totalH)),
    is_new: isNew,
    is_new_reason: newReason,
    recommendation,
    reason,
    flags,
  };

  return {
    campaignId: f.campaignId,
    date,
    dimensions,
    totalHundredths: totalH,
    recommendation,
    isNew,
    flags,
    judgement,
    details,
  };
}
