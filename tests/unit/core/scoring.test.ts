import { describe, expect, test } from '@jest/globals';
import { compare, fromMicros, parseDecimal, rational, roundToHundredths } from '../../../src/core/rational.js';
import {
  DEFAULT_DECISION_SETTINGS,
  curve,
  defaultScoringConfig,
  recommend,
  resolveScoringConfig,
  scoreCampaign,
  summarizeRun,
} from '../../../src/core/scoring/index.js';
import { makeFacts } from '../../helpers/facts.js';

// Reference date of the spec's examples: D = 2025-11-15; the window is 2025-10-17 … 2025-11-15.
const D = '2025-11-15';
const config = defaultScoringConfig();
const points = (h: bigint): string => (Number(h) / 100).toFixed(2);

describe('worked example 1: cost efficiency against T = 100', () => {
  test.each([
    ['50', '25.00'],
    ['100', '20.00'],
    ['350', '0.00'],
    ['225', '10.00'],
    ['25', '25.00'],
    ['1000', '0.00'],
  ])('CPQL %s gives %s points', (cpql, expected) => {
    // 10 qualified leads, spend = 10 × CPQL.
    const spend = (Number(cpql) * 10).toString();
    const s = scoreCampaign(makeFacts({ spend, qualifiedLeads: 10, totalLeads: 10 }), D, config);
    expect(points(s.dimensions.cost_efficiency.hundredths)).toBe(expected);
  });

  test('a client target CPQL of 200 moves every breakpoint: CPQL 200 gives 20 points', () => {
    const s = scoreCampaign(makeFacts({ spend: '2000', qualifiedLeads: 10, clientTargetCpql: '200' }), D, config);
    expect(points(s.dimensions.cost_efficiency.hundredths)).toBe('20.00');
    expect(s.details.target_cpql).toBe('200.00');
    expect(s.details.target_cpql_source).toBe('client');
  });

  test('no qualified leads gives 0 cost points and says why', () => {
    const s = scoreCampaign(makeFacts({ qualifiedLeads: 0 }), D, config);
    expect(s.dimensions.cost_efficiency.hundredths).toBe(0n);
    expect(s.dimensions.cost_efficiency.reason).toMatch(/No qualified leads/);
  });
});

describe('worked example 2: recommendation thresholds', () => {
  test.each([
    [8500n, false, 'INCREASE_BUDGET'],
    [1500n, false, 'PAUSE_CAMPAIGN'],
    [5500n, true, 'MONITOR_CLOSELY'],
    [5500n, false, 'TEST_CHANGES'],
    [8000n, false, 'INCREASE_BUDGET'],
    [7999n, false, 'CONTINUE_OPTIMIZE'],
    [6000n, false, 'CONTINUE_OPTIMIZE'],
    [5999n, false, 'TEST_CHANGES'],
    [4000n, false, 'TEST_CHANGES'],
    [3999n, false, 'REDUCE_BUDGET'],
    [2000n, false, 'REDUCE_BUDGET'],
    [1999n, false, 'PAUSE_CAMPAIGN'],
    [2000n, true, 'MONITOR_CLOSELY'],
    [7999n, true, 'MONITOR_CLOSELY'],
    [8000n, true, 'INCREASE_BUDGET'],
    [1999n, true, 'PAUSE_CAMPAIGN'],
  ] as const)('total %s hundredths (new: %s) recommends %s', (total, isNew, rec) => {
    expect(recommend(total, isNew, config).recommendation).toBe(rec);
  });

  test('a campaign totalling 4.00 is paused', () => {
    const s = scoreCampaign(
      makeFacts({
        qualifiedLeads: 2,
        totalLeads: 100,
        clicks: 1000n,
        impressions: 1000000n,
        recent: { spend: parseDecimal('700'), qualifiedLeads: 0 },
        prior: { spend: parseDecimal('700'), qualifiedLeads: 2 },
      }),
      D,
      config,
    );
    // quality 2/100 = 0.02 → 1.00; volume 2 → 2.40; cost 1500 → 0; trend x = -1 → 0; CTR 0.001 → 0.60
    expect(points(s.totalHundredths)).toBe('4.00');
    expect(s.recommendation).toBe('PAUSE_CAMPAIGN');
  });

  test('a mid-range total (50.08) monitors closely when new, tests changes when old', () => {
    // quality 15/100 = 0.15 → 8.75; volume 15 → 11.33; CPQL 3000/15 = 200 (2×T) → 12; trend neutral 10; CTR 0.015 → 8;
    // = 50.08
    const base = { qualifiedLeads: 15, totalLeads: 100, recent: { spend: parseDecimal('0'), qualifiedLeads: 0 } };
    const old = scoreCampaign(makeFacts(base), D, config);
    expect(points(old.totalHundredths)).toBe('50.08');
    expect(old.recommendation).toBe('TEST_CHANGES');
    const young = scoreCampaign(makeFacts({ ...base, startDate: '2025-11-05' }), D, config);
    expect(young.isNew).toBe(true);
    expect(young.recommendation).toBe('MONITOR_CLOSELY');
    const fewDays = scoreCampaign(makeFacts({ ...base, dataDays: 6, spendRows: 6 }), D, config);
    expect(fewDays.isNew).toBe(true);
    expect(fewDays.recommendation).toBe('MONITOR_CLOSELY');
  });

  test('a new campaign at 80 or more still gets INCREASE_BUDGET, below 20 still PAUSE_CAMPAIGN', () => {
    expect(scoreCampaign(makeFacts({ startDate: '2025-11-10' }), D, config).recommendation).toBe('INCREASE_BUDGET');
    const low = scoreCampaign(
      makeFacts({
        startDate: '2025-11-10',
        qualifiedLeads: 0,
        totalLeads: 0,
        clicks: 0n,
        recent: { spend: parseDecimal('700'), qualifiedLeads: 0 },
        prior: { spend: parseDecimal('700'), qualifiedLeads: 0 },
      }),
      D,
      config,
    );
    expect(points(low.totalHundredths)).toBe('10.00');
    expect(low.recommendation).toBe('PAUSE_CAMPAIGN');
  });

  test('a campaign started exactly 14 days before D is no longer new', () => {
    expect(scoreCampaign(makeFacts({ startDate: '2025-11-01' }), D, config).isNew).toBe(false);
    expect(scoreCampaign(makeFacts({ startDate: '2025-11-02' }), D, config).isNew).toBe(true);
  });
});

describe('worked example 3: only row has NULL spend', () => {
  test('scores 0 with INSUFFICIENT_DATA and flags MISSING_SPEND', () => {
    const s = scoreCampaign(
      makeFacts({
        spend: '0',
        spendRows: 0,
        dataDays: 1,
        nullSpendRows: 1,
        impressions: 1000n,
        clicks: 10n,
        maxDaySpend: null,
      }),
      D,
      config,
    );
    expect(s.totalHundredths).toBe(0n);
    expect(s.recommendation).toBe('INSUFFICIENT_DATA');
    expect(s.flags).toEqual(['MISSING_SPEND']);
    for (const d of Object.values(s.dimensions)) expect(d.hundredths).toBe(0n);
  });

  test('zero spend and zero impressions is insufficient data too', () => {
    const s = scoreCampaign(makeFacts({ spend: '0', impressions: 0n, clicks: 0n }), D, config);
    expect(s.recommendation).toBe('INSUFFICIENT_DATA');
  });
});

describe('worked example 4: the full aggregate-mode campaign', () => {
  const s = scoreCampaign(makeFacts(), D, config);
  test.each([
    ['cost_efficiency', '20.00'],
    ['lead_quality', '21.88'],
    ['volume', '16.00'],
    ['trend', '20.00'],
    ['engagement', '8.00'],
  ] as const)('%s scores %s', (dim, expected) => {
    expect(points(s.dimensions[dim].hundredths)).toBe(expected);
  });
  test('totals 85.88 and recommends INCREASE_BUDGET', () => {
    expect(points(s.totalHundredths)).toBe('85.88');
    expect(s.recommendation).toBe('INCREASE_BUDGET');
    expect(s.isNew).toBe(false);
    expect(s.flags).toEqual([]);
  });
  test('details carry every input and a reason per dimension', () => {
    const d = s.details as any;
    expect(d.window).toEqual({ from: '2025-10-17', to: '2025-11-15' });
    expect(d.inputs).toMatchObject({
      spend: '3000.00',
      impressions: 400000,
      clicks: 6000,
      total_leads: 80,
      qualified_leads: 30,
      cpql: 100,
      qualification_rate: 0.375,
      ctr: 0.015,
    });
    expect(d.inputs.recent).toEqual({ spend: '700.00', qualified_leads: 9, efficiency: 0.012857 });
    expect(d.inputs.trend_change).toBe(0.5);
    expect(d.dimensions.lead_quality).toEqual({
      points: 21.88,
      max: 25,
      reason: '30 of 80 leads qualified (37.50%): 21.88 of 25 points.',
    });
    expect(d.config_id).toBe(config.id);
    for (const dim of Object.values(d.dimensions) as any[]) expect(dim.reason.length).toBeGreaterThan(10);
  });
});

describe('trend', () => {
  test.each([
    ['no prior spend', { priorSpend: '0' }, '10.00'],
    ['no recent spend', { recentSpend: '0' }, '10.00'],
    ['prior efficiency 0 and recent above 0', { prior: { spend: parseDecimal('700'), qualifiedLeads: 0 } }, '20.00'],
    [
      'prior efficiency 0 and recent 0',
      {
        prior: { spend: parseDecimal('700'), qualifiedLeads: 0 },
        recent: { spend: parseDecimal('700'), qualifiedLeads: 0 },
      },
      '10.00',
    ],
    ['efficiency halved', { recent: { spend: parseDecimal('700'), qualifiedLeads: 3 } }, '0.00'],
    [
      'efficiency down a quarter',
      {
        prior: { spend: parseDecimal('700'), qualifiedLeads: 8 },
        recent: { spend: parseDecimal('700'), qualifiedLeads: 6 },
      },
      '5.00',
    ],
    [
      'efficiency up a fifth',
      {
        prior: { spend: parseDecimal('700'), qualifiedLeads: 10 },
        recent: { spend: parseDecimal('700'), qualifiedLeads: 12 },
      },
      '14.00',
    ],
  ])('%s gives %s points', (_name, over, expected) => {
    expect(points(scoreCampaign(makeFacts(over as any), D, config).dimensions.trend.hundredths)).toBe(expected);
  });
});

describe('rounding', () => {
  test('halves round away from zero exactly', () => {
    expect(roundToHundredths(rational(21875, 1000))).toBe(2188n);
    expect(roundToHundredths(rational(-21875, 1000))).toBe(-2188n);
    expect(roundToHundredths(rational(21874999, 1000000))).toBe(2187n);
  });
  test('integer micros read back as the same exact decimal, in shortest form', () => {
    expect(fromMicros('2929650000')).toEqual({ n: 292965n, d: 100n });
    expect(fromMicros('153274912')).toEqual({ n: 153274912n, d: 1000000n });
    expect(fromMicros('0')).toEqual({ n: 0n, d: 1n });
    expect(fromMicros('10')).toEqual({ n: 1n, d: 100000n });
    expect(fromMicros('-2500000')).toEqual({ n: -25n, d: 10n });
    expect(compare(fromMicros('75000000'), parseDecimal('75.000000'))).toBe(0);
  });
  test('engagement at CTR 0.0075 lands on 4.50 exactly', () => {
    expect(points(roundToHundredths(curve(rational(75, 10000), config.curves.engagement.breakpoints)))).toBe('4.50');
  });
});

describe('flags', () => {
  test('SPEND_SPIKE (v3): D above 1.5 × the mean of at least 7 of the 14 days before; never changes the score', () => {
    const base = { spikeBase: { rows: 10, spend: parseDecimal('1000') } }; // a mean of 100
    const plain = scoreCampaign(makeFacts({ ...base, daySpend: '150' }), D, config);
    expect(plain.flags).not.toContain('SPEND_SPIKE'); // 150 is not above 1.5 × 100
    const spike = scoreCampaign(makeFacts({ ...base, daySpend: '150.01' }), D, config);
    expect(spike.flags).toContain('SPEND_SPIKE');
    expect(spike.totalHundredths).toBe(plain.totalHundredths);
    // Fewer than 7 days with a spend before D, no row (or no spend) on D, or a mean of 0: not evaluated.
    expect(
      scoreCampaign(makeFacts({ spikeBase: { rows: 6, spend: parseDecimal('600') }, daySpend: '900' }), D, config)
        .flags,
    ).not.toContain('SPEND_SPIKE');
    expect(scoreCampaign(makeFacts({ ...base, daySpend: null }), D, config).flags).not.toContain('SPEND_SPIKE');
    expect(
      scoreCampaign(makeFacts({ spikeBase: { rows: 9, spend: parseDecimal('0') }, daySpend: '5' }), D, config).flags,
    ).not.toContain('SPEND_SPIKE');
  });

  test('STALE_DATA (v3): no row in the last 14 days; still scored on the older rows of the window', () => {
    const s = scoreCampaign(makeFacts({ rowsLast14: 0, daySpend: null }), D, config);
    expect(s.flags).toContain('STALE_DATA');
    expect(s.recommendation).not.toBe('INSUFFICIENT_DATA');
    expect(scoreCampaign(makeFacts({ rowsLast14: 1 }), D, config).flags).not.toContain('STALE_DATA');
  });

  test.each([
    ['MISSING_IMPRESSIONS', { nullImpressionRows: 1 }],
    ['HIGH_CPL', { spend: '100000', totalLeads: 80, qualifiedLeads: 30 }],
    ['HIGH_CTR', { clicks: 250001n, impressions: 500000n }],
    ['OVERSPEND', { dailyBudget: '50', maxDaySpend: '75.01' }],
    ['SCORE_JUMP', { previousTotal: '35.87' }],
  ] as const)('raises %s', (flag, over) => {
    expect(scoreCampaign(makeFacts(over as any), D, config).flags).toContain(flag);
  });
  test.each([
    ['OVERSPEND at exactly 1.5 × budget', { dailyBudget: '50', maxDaySpend: '75' }],
    ['SCORE_JUMP at exactly 50 points', { previousTotal: '35.88' }],
    ['HIGH_CPL at exactly 10 × T (1000) per lead', { spend: '80000', totalLeads: 80 }],
    ['OVERSPEND without a budget', { dailyBudget: null, maxDaySpend: '5000' }],
  ] as const)('does not raise %s', (_name, over) => {
    expect(scoreCampaign(makeFacts(over as any), D, config).flags).toEqual([]);
  });
  test('flags never change the score', () => {
    const plain = scoreCampaign(makeFacts(), D, config);
    const flagged = scoreCampaign(makeFacts({ nullImpressionRows: 2, previousTotal: '0' }), D, config);
    expect(flagged.totalHundredths).toBe(plain.totalHundredths);
    expect(flagged.flags).toEqual(['MISSING_IMPRESSIONS', 'SCORE_JUMP']);
  });
});

describe('run-level checks', () => {
  const s = (flags: string[]) => ({ recommendation: 'TEST_CHANGES' as const, flags: flags as any });
  test('warns when more than 20% of campaigns miss spend or impressions', () => {
    const scores = [s(['MISSING_SPEND']), s(['MISSING_IMPRESSIONS']), s([]), s([]), s([]), s([]), s([]), s([]), s([])];
    expect(summarizeRun(D, scores, null, config).warnings.map((w) => w.code)).toEqual(['MISSING_DATA_SHARE']);
    expect(summarizeRun(D, scores.slice(1), null, config).warnings).toEqual([]);
  });
  test('says which currencies have no target when the plain target is in another one (v3), and what to set', () => {
    const scored = (currency: string, flags: string[] = []) => ({ ...s(flags), currency });
    const w = summarizeRun(
      D,
      [scored('USD'), scored('IDR', ['NO_TARGET']), scored('MYR', ['NO_TARGET'])],
      null,
      config,
    ).warnings;
    expect(w.map((x) => x.code)).toEqual(['NO_TARGET_CURRENCIES']);
    expect(w[0]!.message).toMatch(
      /^2 campaigns in IDR, MYR have no target and are not scored: the plain target_cpql 100 is in USD/,
    );
    expect(summarizeRun(D, [scored('USD'), scored('IDR')], null, config).warnings).toEqual([]);
  });

  test('warns when campaigns scored fall more than 30% below the previous scored date', () => {
    const six = Array.from({ length: 6 }, () => s([]));
    expect(summarizeRun(D, six, { date: '2025-11-14', count: 10 }, config).warnings.map((w) => w.code)).toEqual([
      'SCORED_COUNT_DROP',
    ]);
    expect(summarizeRun(D, [...six, s([])], { date: '2025-11-14', count: 10 }, config).warnings).toEqual([]);
  });
});

describe('configuration', () => {
  test('v3 settings with bad values are each refused, every problem listed', () => {
    const r = resolveScoringConfig({
      currency: 'usd',
      target_cpl: { usd: 20, EUR: -1 },
      pending_statuses: ['new', 'qualified', ''],
      decision: { long_window_days: 120, default_lag_days: 1.5 },
    });
    expect(r.ok).toBe(false);
    expect((r as { problems: string[] }).problems).toEqual([
      'pending_statuses: expected a list of status names (may be empty)',
      'currency: "usd" is not an ISO 4217 code in capitals (USD, EUR, IDR); ' +
        'it is the currency of a plain target number',
      'decision.long_window_days: 120 must be a whole number of days, 30 to 90',
      'decision.default_lag_days: 1.5 must be a whole number of days, 0 to 60',
      'target_cpl.usd: not a currency code; use ISO 4217 codes in capitals (USD, EUR, IDR) or "*" for any other ' +
        'currency',
      'target_cpl.EUR: must be greater than 0, got -1',
    ]);
    const both = resolveScoringConfig({ pending_statuses: ['New', 'Qualified'] });
    expect((both as { problems: string[] }).problems).toEqual([
      'pending_statuses: Qualified also in qualified_statuses; a status is one or the other',
    ]);
  });

  test('defaults have a stable identity and overrides change it', () => {
    expect(config.id).toMatch(/^cfg_[0-9a-f]{16}$/);
    const r = resolveScoringConfig({ target_cpql: 50 });
    expect(r.ok && r.config.id).not.toBe(config.id);
    expect(resolveScoringConfig({}).ok && (resolveScoringConfig({}) as any).config.id).toBe(config.id);
  });
  test('reports every problem at once', () => {
    const r = resolveScoringConfig({
      target_cpql: -1,
      thresholds: { increase_budget: 'x' },
      colour: 'red',
      dimensions: {
        volume: {
          breakpoints: [
            [5, 1],
            [1, 2],
          ],
        },
      },
    });
    expect(r.ok).toBe(false);
    const problems = (r as { problems: string[] }).problems.join('\n');
    expect(problems).toMatch(/target_cpql: must be greater than 0/);
    expect(problems).toMatch(/thresholds.increase_budget: expected a number/);
    expect(problems).toMatch(/colour: unknown setting/);
    expect(problems).toMatch(/dimensions.volume.breakpoints: x values must increase strictly/);
  });
  test('the decision gates are part of the configuration and its identity, every problem listed', () => {
    expect(config.decision).toEqual(DEFAULT_DECISION_SETTINGS);
    const stricter = resolveScoringConfig({ decision: { cut_probability: 0.97 } });
    expect(stricter.ok && stricter.config.decision.cutProbability).toBe(0.97);
    expect(stricter.ok && stricter.config.id).not.toBe(config.id);
    const r = resolveScoringConfig({ decision: { risk_probability: 2, min_spend_multiple: -1, persistence: 0 } });
    expect(r.ok).toBe(false);
    expect((r as { problems: string[] }).problems).toEqual([
      'decision.risk_probability: 2 is not a probability (0 to 1)',
      'decision.min_spend_multiple: -1 must be 0 or more',
      'decision.persistence: 0 must be a whole number of scored dates, 1 to 60',
    ]);
    const typo = resolveScoringConfig({ decision: { cut_probabilty: 0.9, persistence: 'two' } });
    const problems = (typo as { problems: string[] }).problems;
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^decision\.cut_probabilty: unknown setting \(known: cut_probability, /);
    expect(problems[1]).toBe('decision.persistence: expected a number, got "two"');
  });
  test('keys every object has (constructor, toString, __proto__) are unknown settings, not passed through', () => {
    const r = resolveScoringConfig(
      JSON.parse('{"constructor": 1, "toString": 2, "__proto__": {"x": 1}, "flags": {"valueOf": 3}}'),
    );
    expect(r.ok).toBe(false);
    const problems = (r as { problems: string[] }).problems.join('\n');
    for (const key of ['constructor', 'toString', '__proto__', 'flags.valueOf'])
      expect(problems).toContain(`${key}: unknown setting`);
  });

  test('numbers no setting needs (1e21, 5e-324) are refused by name, not met with a division by zero', () => {
    const r = resolveScoringConfig({ target_cpql: 1e21, thresholds: { reduce_budget: 5e-324 } });
    expect(r.ok).toBe(false);
    const problems = (r as { problems: string[] }).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^target_cpql: 1e\+21 is out of range; use a decimal between/),
        expect.stringMatching(/^thresholds\.reduce_budget: 5e-324 is out of range/),
      ]),
    );
    expect(resolveScoringConfig({ target_cpql: { IDR: 150000 } }).ok).toBe(true);
  });

  test('qualified statuses are compared lower-case', () => {
    const r = resolveScoringConfig({ qualified_statuses: ['Qualified', ' WON '] });
    expect(r.ok && r.config.qualifiedStatuses).toEqual(['qualified', 'won']);
  });
});

describe('formatting hundredths', () => {
  test.each([
    [0n, '0.00'],
    [5n, '0.05'],
    [2188n, '21.88'],
    [-2188n, '-21.88'],
    [-5n, '-0.05'],
    [10000n, '100.00'],
    [123456789012345678901n, '1234567890123456789.01'],
  ])('%s hundredths print as %s', async (h, text) => {
    const { formatHundredths } = await import('../../../src/core/rational.js');
    expect(formatHundredths(h)).toBe(text);
  });
});

describe('targets per currency (scoring.md section 4)', () => {
  const perCurrency = (target: unknown) => {
    const r = resolveScoringConfig({ target_cpql: target });
    if (!r.ok) throw new Error(r.problems.join('; '));
    return r.config;
  };
  const byCurrency = perCurrency({ USD: 100, IDR: 1500000 });

  test('an IDR campaign is measured against the IDR target, not against 100', () => {
    // CPQL 1,500,000 IDR = exactly the IDR target: 20 points, as CPQL 100 is for USD.
    const s = scoreCampaign(makeFacts({ currency: 'IDR', spend: '45000000', qualifiedLeads: 30 }), D, byCurrency);
    expect(points(s.dimensions.cost_efficiency.hundredths)).toBe('20.00');
    expect(s.details.target_cpql).toBe('1500000.00');
    expect(s.details.target_cpql_source).toBe('currency');
    expect(s.flags).not.toContain('HIGH_CPL');
  });

  test('a currency the configuration does not list, and no "*", is INSUFFICIENT_DATA with NO_TARGET', () => {
    const s = scoreCampaign(makeFacts({ currency: 'AUD' }), D, byCurrency);
    expect(s.recommendation).toBe('INSUFFICIENT_DATA');
    expect(s.totalHundredths).toBe(0n);
    expect(s.flags).toEqual(['NO_TARGET']);
    expect(s.details.target_cpql).toBeNull();
    expect(String(s.details.reason)).toMatch(/no target cost per qualified lead for its currency \(AUD\)/);
  });

  test('an unknown currency counts as not listed; "*" covers it', () => {
    expect(scoreCampaign(makeFacts({ currency: null }), D, byCurrency).flags).toEqual(['NO_TARGET']);
    const withStar = perCurrency({ USD: 100, '*': 50 });
    const s = scoreCampaign(makeFacts({ currency: null, spend: '750', qualifiedLeads: 30 }), D, withStar);
    expect(points(s.dimensions.cost_efficiency.hundredths)).toBe('25.00');
    expect(s.flags).toEqual([]);
  });

  test('the client target wins over the per-currency one', () => {
    const s = scoreCampaign(makeFacts({ currency: 'AUD', clientTargetCpql: '100' }), D, byCurrency);
    expect(s.recommendation).toBe('INCREASE_BUDGET');
    expect(s.details.target_cpql_source).toBe('client');
  });

  test('HIGH_CPL is relative to T: above 10 × T, not above 1,000', () => {
    // 80 leads; cost per lead 15,000,001 IDR > 10 × 1,500,000; and 14,999,999 is not.
    expect(
      scoreCampaign(makeFacts({ currency: 'IDR', spend: '1200000080', totalLeads: 80 }), D, byCurrency).flags,
    ).toContain('HIGH_CPL');
    expect(
      scoreCampaign(makeFacts({ currency: 'IDR', spend: '1199999920', totalLeads: 80 }), D, byCurrency).flags,
    ).not.toContain('HIGH_CPL');
    // A client target of 20 makes a cost per lead of 201 high.
    expect(
      scoreCampaign(makeFacts({ spend: '16080', totalLeads: 80, clientTargetCpql: '20' }), D, config).flags,
    ).toContain('HIGH_CPL');
  });

  test('bad per-currency targets are each reported', () => {
    const r = resolveScoringConfig({ target_cpql: { usd: 100, IDR: 0, EUR: 'x' }, flags: { high_cpl: 1000 } });
    expect(r.ok).toBe(false);
    const problems = (r as { problems: string[] }).problems.join('\n');
    expect(problems).toMatch(/target_cpql.usd: not a currency code/);
    expect(problems).toMatch(/target_cpql.IDR: must be greater than 0/);
    expect(problems).toMatch(/target_cpql.EUR: expected a number/);
    expect(problems).toMatch(/flags.high_cpl: replaced by flags.high_cpl_multiple/);
  });

  test('the per-currency configuration has its own identity', () => {
    expect(byCurrency.id).not.toBe(config.id);
    expect(perCurrency({ IDR: 1500000, USD: 100 }).id).toBe(byCurrency.id);
  });
});

describe('NO_LEAD_DATA (scoring.md section 2)', () => {
  test('an aggregate campaign whose rows carry no lead counts is not told to pause', () => {
    const s = scoreCampaign(
      makeFacts({
        leadCountRows: 0,
        totalLeads: 0,
        qualifiedLeads: 0,
        recent: { spend: parseDecimal('700'), qualifiedLeads: 0 },
        prior: { spend: parseDecimal('700'), qualifiedLeads: 0 },
      }),
      D,
      config,
    );
    expect(s.recommendation).toBe('INSUFFICIENT_DATA');
    expect(s.totalHundredths).toBe(0n);
    expect(s.flags).toEqual(['NO_LEAD_DATA']);
    expect(String(s.details.reason)).toMatch(/carries no lead counts/);
  });

  test('one row with a lead count (even 0) among NULLs is enough to judge it', () => {
    const s = scoreCampaign(makeFacts({ leadCountRows: 1, totalLeads: 0, qualifiedLeads: 0 }), D, config);
    expect(s.recommendation).not.toBe('INSUFFICIENT_DATA');
    expect(s.flags).not.toContain('NO_LEAD_DATA');
  });

  test('a lead-level campaign is judged on its leads whatever its metrics rows say', () => {
    const s = scoreCampaign(makeFacts({ mode: 'lead-level', leadCountRows: 0 }), D, config);
    expect(s.flags).not.toContain('NO_LEAD_DATA');
    expect(s.recommendation).toBe('INCREASE_BUDGET');
  });
});

describe('scoring v3: unknown is not zero, a plain target has a currency', () => {
  const noQualified = {
    qualifiedCountRows: 0,
    qualifiedLeads: 0,
    totalLeads: 121,
    recent: { spend: parseDecimal('700'), qualifiedLeads: 0, totalLeads: 30 },
    prior: { spend: parseDecimal('700'), qualifiedLeads: 0, totalLeads: 25 },
  };
  test('an export with leads but no qualified counts is NO_QUALIFIED_DATA, never a cut without target_cpl', () => {
    const s = scoreCampaign(makeFacts(noQualified), D, config);
    expect(s).toMatchObject({ recommendation: 'INSUFFICIENT_DATA', totalHundredths: 0n, judgement: null });
    expect(s.flags).toContain('NO_QUALIFIED_DATA');
    expect(String(s.details.reason)).toMatch(/unknown, not infinite.*target_cpl/);
  });

  test('with target_cpl it is scored in lead mode: leads read as qualified, quality 12.50, T reads T_L', () => {
    const r = resolveScoringConfig({ target_cpl: 30 });
    if (!r.ok) throw new Error(r.problems.join('; '));
    const s = scoreCampaign(makeFacts(noQualified), D, r.config);
    // CPL 3000 / 121 = 24.79 against 30 (0.826 × T) → 25 − 0.326 / 0.5 × 5 = 21.74; quality 12.50; volume 121 → 20;
    // trend 30/700 vs 25/700
    // → +20 % → 14; CTR 0.015 → 8.
    expect(s.dimensions.lead_quality.hundredths).toBe(1250n);
    expect(s.dimensions.cost_efficiency.hundredths).toBe(2174n);
    expect(s.dimensions.volume.hundredths).toBe(2000n);
    expect(s.dimensions.trend.hundredths).toBe(1400n);
    expect(s.judgement?.basis).toBe('leads');
    expect(s.flags).toContain('NO_QUALIFIED_DATA');
    expect(s.details.basis).toBe('leads');
  });

  test('lead by lead, a client the CRM has never spoken for is NO_QUALIFIED_DATA', () => {
    const s = scoreCampaign(makeFacts({ mode: 'lead-level', qualificationKnown: false, qualifiedLeads: 0 }), D, config);
    expect(s.flags).toContain('NO_QUALIFIED_DATA');
    expect(s.recommendation).toBe('INSUFFICIENT_DATA');
    const known = scoreCampaign(
      makeFacts({ mode: 'lead-level', qualificationKnown: true, qualifiedLeads: 0 }),
      D,
      config,
    );
    expect(known.flags).not.toContain('NO_QUALIFIED_DATA');
  });

  test('an IDR campaign is NO_TARGET under the plain (USD) target, and judged under {"IDR": 150000}', () => {
    // 250,000 IDR a day for 3 qualified leads a day (83,333 IDR each).
    const idr = makeFacts({
      currency: 'IDR',
      spend: '7500000',
      qualifiedLeads: 90,
      totalLeads: 200,
      recent: { spend: parseDecimal('1750000'), qualifiedLeads: 21 },
      prior: { spend: parseDecimal('1750000'), qualifiedLeads: 21 },
    });
    const plain = scoreCampaign(idr, D, config);
    expect(plain.recommendation).toBe('INSUFFICIENT_DATA');
    expect(plain.flags).toContain('NO_TARGET');
    expect(plain.flags).not.toContain('HIGH_CPL');
    const r = resolveScoringConfig({ target_cpql: { IDR: 150000 } });
    if (!r.ok) throw new Error(r.problems.join('; '));
    const judged = scoreCampaign(idr, D, r.config);
    expect(judged.flags).not.toContain('NO_TARGET');
    expect(judged.dimensions.cost_efficiency.hundredths).toBeGreaterThan(2000n);
    expect(['INCREASE_BUDGET', 'CONTINUE_OPTIMIZE']).toContain(judged.recommendation);
    // A plain number in another configured currency is that currency's target.
    const inIdr = resolveScoringConfig({ target_cpql: 150000, currency: 'IDR' });
    expect(inIdr.ok && scoreCampaign(idr, D, inIdr.config).flags).not.toContain('NO_TARGET');
  });
});
