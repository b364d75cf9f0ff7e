import { parseDecimal, type Rational } from '../../src/core/rational.js';
import type { CampaignFacts } from '../../src/core/scoring/types.js';

/** A healthy aggregate-mode campaign; tests override what they examine. */
export function makeFacts(
  overrides: Partial<
    Omit<CampaignFacts, 'spend' | 'dailyBudget' | 'maxDaySpend' | 'previousTotal' | 'clientTargetCpql'>
  > & {
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
  const { spend, dailyBudget, maxDaySpend, previousTotal, clientTargetCpql, recentSpend, priorSpend, ...rest } =
    overrides;
  return {
    campaignId: 'c1',
    mode: 'aggregate',
    startDate: '2025-09-16',
    dailyBudget: dec(dailyBudget ?? null),
    clientTargetCpql: dec(clientTargetCpql ?? null),
    currency: 'USD',
    leadCountRows: 30,
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
    previousTotal: dec(previousTotal ?? null),
    ...rest,
    recent: rest.recent ?? { spend: parseDecimal(recentSpend ?? '700'), qualifiedLeads: 9 },
    prior: rest.prior ?? { spend: parseDecimal(priorSpend ?? '700'), qualifiedLeads: 6 },
  };
}
