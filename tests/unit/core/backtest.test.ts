import { describe, expect, test } from '@jest/globals';
import {
  BandTally,
  type CampaignTrack,
  measureBacktest,
  poisson90,
  wilson90,
} from '../../../src/core/scoring/backtest.js';

// The backtest's measures on hand-built tracks (target 100), each count worked out here by hand.
const o = (spend: number, qualifiedLeads: number) => ({ spend, qualifiedLeads });
const track = (over: Partial<CampaignTrack>): CampaignTrack => ({
  campaignId: 'c',
  clientId: 'acme',
  target: 100,
  actions: [],
  horizon: [],
  whole: o(0, 0),
  ...over,
});

describe('measureBacktest', () => {
  // A: cut twice, right once (horizon CPQL 300) and wrong once (CPQL 50); a third cut's horizon spent 40 < T: unjudged.
  const a = track({
    campaignId: 'a',
    actions: ['REDUCE_BUDGET', 'REDUCE_BUDGET', 'PAUSE_CAMPAIGN', 'TEST_CHANGES'],
    horizon: [o(600, 2), o(500, 10), o(40, 0), null],
    whole: o(2000, 8),
  });
  // B: a good campaign (CPQL 50 over the range) told to increase twice (right once: CPQL 80; wrong once: CPQL 250),
  // then once to cut: a false cut.
  const b = track({
    campaignId: 'b',
    clientId: 'globex',
    actions: ['INCREASE_BUDGET', 'INCREASE_BUDGET', 'REDUCE_BUDGET', null],
    horizon: [o(800, 10), o(500, 2), o(100, 1), null],
    whole: o(3000, 60),
  });
  // C: good, never cut, no alert, no change.
  const c = track({
    campaignId: 'c',
    clientId: 'globex',
    actions: ['CONTINUE_OPTIMIZE', 'CONTINUE_OPTIMIZE', 'CONTINUE_OPTIMIZE', 'CONTINUE_OPTIMIZE'],
    horizon: [o(300, 5), o(300, 5), null, null],
    whole: o(1200, 20),
  });
  const m = measureBacktest([a, b, c], 200, 7);

  test('cut precision: of the judged cuts, those whose horizon CPQL was above T (or no lead on ≥ T of spend)', () => {
    // A: 600/2 = 300 > 100 yes, 500/10 = 50 no; B: 100/1 = 100, not above: no.
    expect(m.cutPrecision).toMatchObject({ numerator: 1, denominator: 3 });
    expect(m.cutPrecision.value).toBeCloseTo(1 / 3, 12);
  });

  test('false-cut rate: good campaigns over the range (B and C) told to cut on some date (B)', () => {
    expect(m.falseCutRate).toMatchObject({ numerator: 1, denominator: 2, value: 0.5 });
  });

  test('increase precision: of the judged increases, those whose horizon CPQL stayed at or below T', () => {
    expect(m.increasePrecision).toMatchObject({ numerator: 1, denominator: 2, value: 0.5 });
  });

  test('flip rate: action changes per campaign per 28 scored dates; alert burden per client per date', () => {
    // Changes: A 2 (REDUCE→PAUSE→TEST), B 1, C 0 over 3 + 2 + 3 date gaps → 3 × 28 / 8.
    expect(m.flipRate.value).toBeCloseTo((3 * 28) / 8, 12);
    // Alerts (cut or increase): A 3, B 3, C 0 over 11 scored campaign-dates, 3 campaigns in 2 clients.
    expect(m.alertBurden.value).toBeCloseTo((6 / 11) * (3 / 2), 12);
  });

  test('every estimate has a 90 % interval around its value; the dates not judged are counted', () => {
    for (const e of [m.cutPrecision, m.falseCutRate, m.increasePrecision, m.flipRate, m.alertBurden]) {
      expect(e.low).not.toBeNull();
      expect(e.low!).toBeLessThanOrEqual(e.value! + 1e-12);
      expect(e.high!).toBeGreaterThanOrEqual(e.value! - 1e-12);
    }
    expect(m.judgedDates).toBe(7);
    expect(m.unjudgedDates).toBe(4);
  });

  test('with nothing to judge a ratio has no value and no interval', () => {
    const none = measureBacktest([track({ actions: ['TEST_CHANGES'], horizon: [null] })], 50, 1);
    expect(none.cutPrecision).toEqual({ value: null, low: null, high: null, numerator: 0, denominator: 0 });
  });
});

describe('intervals at the boundaries (decision-quality v2)', () => {
  // Three campaigns, every judged cut right and no action ever changed: the bootstrap gives [100 %, 100 %] and
  // [0, 0], points that claim a certainty three campaigns do not give.
  const right = (id: string) =>
    track({
      campaignId: id,
      actions: ['REDUCE_BUDGET', 'REDUCE_BUDGET'],
      horizon: [o(600, 1), o(700, 2)],
      whole: o(2000, 4),
    });
  const m = measureBacktest([right('x'), right('y'), right('z')], 200, 3);

  test('a share of 100 % gets the Wilson interval, below 100 %', () => {
    expect(m.cutPrecision).toMatchObject({ value: 1, numerator: 6, denominator: 6, high: 1 });
    // Wilson 90 % for 6 of 6: 1 / (1 + z² / 6) = 0.6892.
    expect(m.cutPrecision.low).toBeCloseTo(0.6892, 4);
  });

  test('a rate of 0 gets the exact Poisson interval, above 0', () => {
    // No change in 3 date gaps: the upper end is −ln(0.05) / 3 × 28 = 27.96 changes per 28 dates.
    expect(m.flipRate).toMatchObject({ value: 0, low: 0, numerator: 0, denominator: 3 });
    expect(m.flipRate.high).toBeCloseTo((-Math.log(0.05) / 3) * 28, 6);
  });

  test('wilson90 and poisson90 against known values', () => {
    const [l, h] = wilson90(0, 10);
    expect(l).toBe(0);
    expect(h).toBeCloseTo(0.2129, 4);
    const [pl, ph] = poisson90(2, 1);
    expect(pl).toBeCloseTo(0.3554, 4);
    expect(ph).toBeCloseTo(6.2958, 4);
  });
});

describe('BandTally: precision by score band', () => {
  const tally = new BandTally();
  // Target 100. Band 0–20: a right cut (CPQL 300) at 19.99. Band 20–40 starts at 20: a wrong cut (CPQL 50).
  tally.add(19.99, 'PAUSE_CAMPAIGN', o(600, 2), 100);
  tally.add(20, 'REDUCE_BUDGET', o(500, 10), 100);
  // Band 80–100: a right increase (CPQL 80) at 80 and a wrong one (no lead on 150) at 100.
  tally.add(80, 'INCREASE_BUDGET', o(800, 10), 100);
  tally.add(100, 'INCREASE_BUDGET', o(150, 0), 100);
  // Band 60–80: kept, expensive; then not judged: too little spend, no horizon, no target.
  tally.add(65, 'CONTINUE_OPTIMIZE', o(400, 1), 100);
  tally.add(65, 'REDUCE_BUDGET', o(40, 0), 100);
  tally.add(65, 'REDUCE_BUDGET', null, 100);
  tally.add(65, 'REDUCE_BUDGET', o(400, 0), null);
  const bands = tally.result();

  test('five bands at the recommendation thresholds, each date in the band of its total', () => {
    expect(bands.map((b) => b.low)).toEqual([0, 20, 40, 60, 80]);
    expect(bands.map((b) => b.judged)).toEqual([1, 1, 0, 1, 2]);
  });

  test('counts cut and increase precision and the expensive share per band; unjudged dates not at all', () => {
    expect(bands[0]).toMatchObject({ expensive: 1, cut: { num: 1, den: 1 }, increase: { num: 0, den: 0 } });
    expect(bands[1]).toMatchObject({ expensive: 0, cut: { num: 0, den: 1 } });
    expect(bands[3]).toMatchObject({ expensive: 1, cut: { num: 0, den: 0 } });
    expect(bands[4]).toMatchObject({ expensive: 1, increase: { num: 1, den: 2 } });
  });
});
