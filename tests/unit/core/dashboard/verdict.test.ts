import { describe, expect, test } from '@jest/globals';
import { type VerdictFacts, whatWouldChange } from '../../../../src/core/dashboard/verdict.js';

const facts = (over: Partial<VerdictFacts>): VerdictFacts => ({
  action: 'CONTINUE_OPTIMIZE',
  recommendation: 'CONTINUE_OPTIMIZE',
  score: 66.5,
  isNew: false,
  spend: 3000,
  qualifiedLeads: 20,
  target: 100,
  startDate: '2025-08-01',
  currency: 'USD',
  ...over,
});

describe('whatWouldChange', () => {
  test('a cut: the qualified leads that would put the CPQL at the target at this spend', () => {
    // 3,003 spent, target 100: 31 leads make CPQL 96.9 ≤ 100 (30 would be 100.1); 12 now, so 19 more.
    expect(whatWouldChange(facts({ action: 'REDUCE_BUDGET', spend: 3003, qualifiedLeads: 12 }))).toBe(
      'The cut would be lifted once the evidence says its cost per qualified lead is at or below the target of ' +
        '100 USD: at 3,003 USD spent over 30 days that means about 19 more qualified leads (31 in all, against 12 ' +
        'now).',
    );
  });

  test('an increase: the number of qualified leads at which the CPQL would be above the target', () => {
    // 3,003 / 30 = 100.1 > 100; 3,003 / 31 = 96.9: 30 or fewer is above.
    expect(whatWouldChange(facts({ action: 'INCREASE_BUDGET', spend: 3003, qualifiedLeads: 60 }))).toContain(
      '30 qualified leads or fewer (against 60 now) would put it above the target',
    );
    // Exactly 3,000 / 30 = 100 is at the target, not above: 29 or fewer.
    expect(whatWouldChange(facts({ action: 'INCREASE_BUDGET', spend: 3000, qualifiedLeads: 60 }))).toContain(
      '29 qualified leads or fewer',
    );
  });

  test('on the score alone: the distance to the bands above and below', () => {
    expect(whatWouldChange(facts({ score: 66.5, target: null }))).toBe(
      'On the score alone: 13.50 more points (80) would make it increase budget; 6.50 fewer (below 60) would make ' +
        'it test changes.',
    );
    expect(
      whatWouldChange(facts({ action: 'PAUSE_CAMPAIGN', recommendation: 'PAUSE_CAMPAIGN', score: 12, spend: null })),
    ).toBe('On the score alone: 8.00 more points (20) would make it reduce budget.');
  });

  test('a new campaign: the date it is judged like the others; nothing honest to say without a start date', () => {
    const m = facts({
      action: 'MONITOR_CLOSELY',
      recommendation: 'MONITOR_CLOSELY',
      isNew: true,
      startDate: '2025-11-10',
    });
    expect(whatWouldChange(m)).toBe(
      'It is new: from 2025-11-24 (14 days after its start) it is judged like any other campaign.',
    );
    expect(whatWouldChange({ ...m, startDate: null })).toBeNull();
  });

  test('insufficient data, or an action from the evidence without a target: null', () => {
    expect(whatWouldChange(facts({ action: 'INSUFFICIENT_DATA', recommendation: 'INSUFFICIENT_DATA' }))).toBeNull();
    expect(whatWouldChange(facts({ action: 'REDUCE_BUDGET', target: null }))).toBeNull();
  });
});
