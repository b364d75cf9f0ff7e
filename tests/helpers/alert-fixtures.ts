import type { CampaignAlertInput, ScoreDetails } from '../../src/core/alerts/index.js';

// Builders for the pure alert core: one scored campaign, its stored details, and a
// digest scenario with every kind of item, used by the unit tests, the golden
// files and the browser test. The scoring date is 2025-11-15, the previous one 2025-11-14.
export const DATE = '2025-11-15';
export const PREVIOUS = '2025-11-14';

export function campaign(id: string, over: Partial<CampaignAlertInput> = {}): CampaignAlertInput {
  return {
    campaignId: id,
    name: id.replace(/-/g, ' '),
    clientId: 'acme',
    accountId: null,
    status: 'ACTIVE',
    endDate: null,
    totalHundredths: 6500,
    recommendation: 'CONTINUE_OPTIMIZE',
    flags: [],
    previous: { totalHundredths: 6400, recommendation: 'CONTINUE_OPTIMIZE' },
    delivery: { deliveredBefore: true, gapRows: 2, gapDeliveringDays: 2 },
    ...over,
  };
}

export function details(points: [number, number, number, number, number]): ScoreDetails {
  const [c, q, v, t, e] = points;
  return {
    reason: 'Total from the five dimensions.',
    dimensions: {
      cost_efficiency: { points: c, max: 25, reason: `Cost per qualified lead scored ${c.toFixed(2)} of 25 points.` },
      lead_quality: { points: q, max: 25, reason: `Lead quality scored ${q.toFixed(2)} of 25 points.` },
      volume: { points: v, max: 20, reason: `Volume scored ${v.toFixed(2)} of 20 points.` },
      trend: { points: t, max: 20, reason: `Trend scored ${t.toFixed(2)} of 20 points.` },
      engagement: { points: e, max: 10, reason: `Engagement scored ${e.toFixed(2)} of 10 points.` },
    },
  };
}

/** One client's campaigns with every kind of digest item. */
export function scenario(): CampaignAlertInput[] {
  return [
    campaign('Spring-Sale-Retargeting', {
      totalHundredths: 1240,
      recommendation: 'PAUSE_CAMPAIGN',
      previous: { totalHundredths: 2450, recommendation: 'REDUCE_BUDGET' },
    }),
    campaign('Lookalike-Audience-2', {
      totalHundredths: 3510,
      recommendation: 'REDUCE_BUDGET',
      previous: { totalHundredths: 8120, recommendation: 'INCREASE_BUDGET' },
      flags: [],
    }),
    campaign('Black-Friday-Teaser', {
      totalHundredths: 2210,
      recommendation: 'REDUCE_BUDGET',
      previous: { totalHundredths: 7950, recommendation: 'CONTINUE_OPTIMIZE' },
      flags: ['SCORE_JUMP'],
    }),
    campaign('Webinar-Signups', {
      totalHundredths: 1500,
      recommendation: 'PAUSE_CAMPAIGN',
      delivery: { deliveredBefore: true, gapRows: 0, gapDeliveringDays: 0 },
    }),
    campaign('Video-Views-Q4', {
      totalHundredths: 4520,
      recommendation: 'TEST_CHANGES',
      previous: { totalHundredths: 4600, recommendation: 'TEST_CHANGES' },
    }),
    campaign('Giveaway-Clicks', { totalHundredths: 6150, recommendation: 'CONTINUE_OPTIMIZE', flags: ['HIGH_CTR'] }),
    campaign('New-Clinic-Launch', { totalHundredths: 5200, recommendation: 'MONITOR_CLOSELY', previous: null }),
    campaign('Brand-Search', {
      totalHundredths: 9120,
      recommendation: 'INCREASE_BUDGET',
      previous: { totalHundredths: 9050, recommendation: 'INCREASE_BUDGET' },
    }),
    campaign('Evergreen-Leads', { totalHundredths: 6600, recommendation: 'CONTINUE_OPTIMIZE' }),
    campaign('Old-Promo', { totalHundredths: 900, recommendation: 'PAUSE_CAMPAIGN', status: 'PAUSED' }),
  ];
}

export const SCENARIO_DETAILS = new Map<string, ScoreDetails>([
  ['Spring-Sale-Retargeting', details([0, 2.4, 4, 5, 1])],
  ['Lookalike-Audience-2', details([6.2, 8.1, 9, 7.8, 4])],
  ['Black-Friday-Teaser', details([3, 5.1, 6, 3, 5])],
  ['Webinar-Signups', details([2, 3, 4, 3, 3])],
  ['Video-Views-Q4', details([12, 10.2, 9, 10, 4])],
  ['Giveaway-Clicks', details([18, 15.5, 12, 6, 10])],
  ['New-Clinic-Launch', details([15, 12, 6, 12, 7])],
  ['Brand-Search', details([25, 23.2, 20, 13, 10])],
]);
