import { describe, expect, test } from '@jest/globals';
import {
  addToMoments,
  empiricalPrior,
  emptyMoments,
  MAX_PRIOR_SHAPE,
  priorFromMoments,
  targetPrior,
  windowEvidence,
} from '../../../src/core/scoring/evidence.js';

// Reference values computed once with scipy 1.17.1 on this machine (scipy.special.gammainc for the probabilities,
// gammaincinv for the interval), from the posterior Gamma(a0 + Q, b0 + S) that decision-quality's model defines.
const close = (got: number, want: number) => expect(Math.abs(got - want) / want).toBeLessThan(1e-10);

describe('windowEvidence', () => {
  test('3 qualified leads on 300 spent, target 100, a one-lead prior at the target: P, P(> 2T), the interval', () => {
    const e = windowEvidence(300, 3, 100, targetPrior(100));
    close(e.pAboveTarget, 0.566529879633291);
    close(e.pAboveTwiceTarget, 0.14287653950145296);
    close(e.cpqlLow, 59.873220835537026);
    close(e.cpqlHigh, 229.2566356742092);
    expect(e.spendMultiple).toBe(3);
  });

  test('no qualified lead on 50 spent under a client prior of 1.5 leads on 120: the prior alone speaks', () => {
    const e = windowEvidence(50, 0, 100, { shape: 1.5, rate: 120, source: 'client' });
    close(e.pAboveTarget, 0.6660347509098397);
    close(e.pAboveTwiceTarget, 0.3630662043472606);
    close(e.cpqlLow, 54.387916039119844);
    close(e.cpqlHigh, 581.8188049254045);
  });

  test('P(CPQL > T) and P(CPQL ≤ T) add up to 1, and P(> 2T) is never above P(> T)', () => {
    for (const [spend, leads] of [
      [0, 0],
      [10, 0],
      [500, 1],
      [5000, 60],
      [90_000, 400],
    ]) {
      const e = windowEvidence(spend!, leads!, 100, targetPrior(100));
      expect(Math.abs(e.pAboveTarget + e.pAtMostTarget - 1)).toBeLessThan(1e-12);
      expect(e.pAboveTwiceTarget).toBeLessThanOrEqual(e.pAboveTarget);
      expect(e.cpqlLow).toBeLessThan(e.cpqlHigh);
    }
  });

  test('more spend at the same true cost makes the verdict surer: a 250-per-lead campaign crosses 0.9', () => {
    const p = (spend: number) => windowEvidence(spend, spend / 250, 100, targetPrior(100)).pAboveTarget;
    expect(p(250)).toBeLessThan(0.9);
    expect(p(2500)).toBeGreaterThan(0.9);
    expect(p(5000)).toBeGreaterThan(p(2500));
    // And a campaign at half the target becomes surely cheap.
    expect(windowEvidence(5000, 100, 100, targetPrior(100)).pAtMostTarget).toBeGreaterThan(0.99);
  });

  test('the interval narrows around the observed CPQL as data grows', () => {
    const small = windowEvidence(1000, 10, 100, targetPrior(100));
    const large = windowEvidence(100_000, 1000, 100, targetPrior(100));
    expect(large.cpqlHigh - large.cpqlLow).toBeLessThan((small.cpqlHigh - small.cpqlLow) / 5);
    expect(large.cpqlLow).toBeLessThan(100);
    expect(large.cpqlHigh).toBeGreaterThan(100);
  });

  test('the same posterior shape on more spend scales the interval by the rate (shape constants reused)', () => {
    // Gamma(a0 + Q, b0 + S): with Q fixed, the quantiles of λ scale as 1 / (b0 + S), so the CPQL's scale as b0 + S.
    const first = windowEvidence(300, 3, 100, targetPrior(100));
    const again = windowEvidence(600, 3, 100, targetPrior(100));
    close(again.cpqlLow, (first.cpqlLow * 700) / 400);
    close(again.cpqlHigh, (first.cpqlHigh * 700) / 400);
    // And the first answer is still the reference one.
    close(windowEvidence(300, 3, 100, targetPrior(100)).cpqlHigh, 229.2566356742092);
  });

  test('a target that is not positive, or negative spend, is refused', () => {
    expect(() => windowEvidence(10, 1, 0, targetPrior(100))).toThrow(RangeError);
    expect(() => windowEvidence(-1, 1, 100, targetPrior(100))).toThrow(RangeError);
  });
});

describe('empiricalPrior', () => {
  test("centres on the client's pooled rate and never weighs more than two leads", () => {
    const campaigns = [
      { spend: 1000, qualifiedLeads: 10 },
      { spend: 2000, qualifiedLeads: 20 },
      { spend: 4000, qualifiedLeads: 40 },
    ];
    const prior = empiricalPrior(campaigns, 100);
    expect(prior.source).toBe('client');
    expect(prior.shape).toBe(MAX_PRIOR_SHAPE);
    expect(prior.shape / prior.rate).toBeCloseTo(70 / 7000, 12);
  });

  test('campaigns whose true rates differ widely give a weaker prior (method of moments)', () => {
    const campaigns = [
      { spend: 100_000, qualifiedLeads: 100 },
      { spend: 100_000, qualifiedLeads: 2000 },
      { spend: 100_000, qualifiedLeads: 500 },
    ];
    const prior = empiricalPrior(campaigns, 100);
    expect(prior.shape).toBeLessThan(MAX_PRIOR_SHAPE);
    expect(prior.shape).toBeGreaterThan(0);
    expect(prior.shape / prior.rate).toBeCloseTo(2600 / 300_000, 12);
  });

  test('falls back to a one-lead prior at the target without two campaigns with spend, or without any lead', () => {
    expect(empiricalPrior([{ spend: 500, qualifiedLeads: 3 }], 80)).toEqual(targetPrior(80));
    expect(
      empiricalPrior(
        [
          { spend: 500, qualifiedLeads: 0 },
          { spend: 900, qualifiedLeads: 0 },
        ],
        80,
      ),
    ).toEqual(targetPrior(80));
    expect(
      empiricalPrior(
        [
          { spend: 0, qualifiedLeads: 0 },
          { spend: 900, qualifiedLeads: 4 },
        ],
        80,
      ),
    ).toEqual(targetPrior(80));
  });

  test('the stored sums give the prior of the two-pass method of moments over the same campaigns', () => {
    const campaigns = Array.from({ length: 40 }, (_, i) => ({
      spend: 200 + ((i * 7919) % 3000),
      qualifiedLeads: (i * 13) % 17,
    }));
    // The definition, two passes over the list (mean rate first, then the spread around it).
    const used = campaigns.filter((c) => c.spend > 0);
    const mean = used.reduce((s, c) => s + c.qualifiedLeads, 0) / used.reduce((s, c) => s + c.spend, 0);
    const rates = used.map((c) => c.qualifiedLeads / c.spend);
    const average = rates.reduce((s, r) => s + r, 0) / rates.length;
    const spread = rates.reduce((s, r) => s + (r - average) ** 2, 0) / (rates.length - 1);
    const noise = used.reduce((s, c) => s + mean / c.spend, 0) / used.length;
    const shape = Math.min(MAX_PRIOR_SHAPE, (mean * mean) / (spread - noise));
    expect(spread - noise).toBeGreaterThan(0);
    expect(shape).toBeLessThan(MAX_PRIOR_SHAPE);
    // Sums added campaign by campaign, in two parts, as two chunks of a run would.
    const m = emptyMoments();
    for (const c of campaigns.slice(0, 15)) addToMoments(m, c.spend, c.qualifiedLeads);
    for (const c of campaigns.slice(15)) addToMoments(m, c.spend, c.qualifiedLeads);
    const prior = priorFromMoments(m, 100);
    close(prior.shape, shape);
    close(prior.rate, shape / mean);
    expect(empiricalPrior(campaigns, 100)).toEqual(prior);
  });
});
