import { parseDecimal, type Rational } from '../../src/core/rational.js';
import type { CampaignFacts, PeriodFacts } from '../../src/core/scoring/types.js';

type Period = Omit<PeriodFacts, 'totalLeads'> & { totalLeads?: number };

/** A healthy aggregate-mode campaign; tests override what they examine. */
export function makeFacts(
  overrides: Partial<
    Omit<
      CampaignFacts,
      'spend' | 'dailyBudget' | 'maxDaySpend' | 'previousTotal' | 'clientTargetCpql' | 'recent' | 'prior' | 'daySpend'
    >
  > & {
    recent?: Period;
    prior?: Period;
    clientTargetCpl?: string | null;
    daySpend?: string | null;
    spend?: string;
    dailyBudget?: string | null;
    maxDaySpend?: string | null;
    previousTotal?: string | null;
    clientTargetCpql?: string | null;
    recentSpend?: string;
    priorSpend?: string;
  } = {},
): CampaignFacts {
  const dec = (s: string | null | undefined): Rational | null =>
    s === null || s === undefined ? null : parseDecimal(s);
  const {
    spend,
    dailyBudget,
    maxDaySpend,
    previousTotal,
    clientTargetCpql,
    clientTargetCpl,
    recentSpend,
    priorSpend,
    recent,
    prior,
    daySpend,
    ...rest
  } = overrides;
  // A period's leads default to its qualified leads × 80/30, the window's own ratio.
  const period = (p: Period): PeriodFacts => ({
    ...p,
    totalLeads: p.totalLeads ?? Math.round((p.qualifiedLeads * 8) / 3),
  });
  return {
    campaignId: 'c1',
    mode: 'aggregate',
    startDate: '2025-09-16',
    dailyBudget: dec(dailyBudget ?? null),
    clientTargetCpql: dec(clientTargetCpql ?? null),
    clientTargetCpl: dec(clientTargetCpl ?? null),
    currency: 'USD',
    leadCountRows: 30,
    qualifiedCountRows: 30,
    qualificationKnown: true,
    spend: parseDecimal(spend ?? '3000'),
    impressions: 400000n,
    clicks: 6000n,
    totalLeads: 80,
    qualifiedLeads: 30,
    spendRows: 30,
    dataDays: 30,
    nullSpendRows: 0,
    nullImpressionRows: 0,
    maxDaySpend: dec(maxDaySpend === undefined ? '100' : maxDaySpend),
    // D's spend at the 14 days' average: no SPEND_SPIKE unless a test says so.
    daySpend: dec(daySpend === undefined ? '100' : daySpend),
    spikeBase: { rows: 14, spend: parseDecimal('1400') },
    rowsLast14: 14,
    previousTotal: dec(previousTotal ?? null),
    ...rest,
    recent: period(recent ?? { spend: parseDecimal(recentSpend ?? '700'), qualifiedLeads: 9 }),
    prior: period(prior ?? { spend: parseDecimal(priorSpend ?? '700'), qualifiedLeads: 6 }),
  };
}
