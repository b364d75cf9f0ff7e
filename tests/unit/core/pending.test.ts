import { describe, expect, test } from '@jest/globals';
import {
  CLIENT_RATE_WEIGHT,
  expectedRate,
  expectPending,
  qualificationLagDays,
} from '../../../src/core/scoring/pending.js';

// Unknown is not unqualified (decision-quality v2, rule 6): the pure rules score-campaigns and the simulation share.
describe('qualificationLagDays', () => {
  test("the 90th percentile of a client's days to a final status, rounded up, at most 30 days", () => {
    expect(qualificationLagDays(40, 4.2, 7)).toBe(5);
    expect(qualificationLagDays(40, 0, 7)).toBe(0);
    expect(qualificationLagDays(40, 75.5, 7)).toBe(30);
  });
  test('with fewer than 10 leads with a final status (or none), the default lag', () => {
    expect(qualificationLagDays(9, 2, 7)).toBe(7);
    expect(qualificationLagDays(50, null, 7)).toBe(7);
  });
});

describe('expectPending', () => {
  const days = [
    { age: 0, pending: 3 },
    { age: 6, pending: 2 },
    { age: 7, pending: 4 },
    { age: 12, pending: 5 },
  ];
  test('counts the pending leads younger than the lag, the last 7 days apart, at the expected rate', () => {
    expect(expectPending(days, 10, 0.5)).toEqual({
      leads: 9,
      recentLeads: 5,
      qualified: 4.5,
      recentQualified: 2.5,
      rate: 0.5,
    });
  });
  test('older pending leads count as unqualified, and a lag of 0 expects nothing', () => {
    expect(expectPending(days, 1, 0.5).leads).toBe(3);
    expect(expectPending(days, 0, 0.5)).toMatchObject({ leads: 0, qualified: 0 });
  });
});

describe('expectedRate', () => {
  test("a campaign's resolved rate, shrunk towards its client's by a few leads' weight", () => {
    // 20 resolved, 10 qualified (0.5); client at 0.3: (10 + 5 × 0.3) / (20 + 5).
    expect(expectedRate({ leads: 20, qualified: 10 }, 0.3)).toBeCloseTo(11.5 / 25, 12);
    expect(CLIENT_RATE_WEIGHT).toBe(5);
  });
  test('with no resolved lead of its own, the client rate', () => {
    expect(expectedRate({ leads: 0, qualified: 0 }, 0.3)).toBeCloseTo(0.3, 12);
  });
});
