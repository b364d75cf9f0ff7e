import { describe, expect, test } from '@jest/globals';
import { renderBacktestHtml } from '../../../../src/core/reports/backtest-html.js';
import { type BacktestResult, reportBacktest } from '../../../../src/core/reports/backtest-scoring.js';
import { BandTally, measureParts, noActions } from '../../../../src/core/scoring/backtest.js';

// The backtest's report and page from a hand-built result: no database.
const measures = measureParts(
  [
    {
      cutPrecision: { num: 3, den: 4 },
      falseCutRate: { num: 0, den: 1 },
      increasePrecision: { num: 0, den: 0 },
      flipRate: { num: 1, den: 9 },
      alertBurden: { num: 4, den: 10 },
      judged: 8,
      unjudged: 2,
    },
  ],
  1,
  50,
);
const bands = new BandTally();
bands.add(10, 'PAUSE_CAMPAIGN', { spend: 500, qualifiedLeads: 1 }, 100);
const result = (name: string): BacktestResult => ({
  from: '2025-10-01',
  to: '2025-10-02',
  horizon: 7,
  clientId: null,
  newestData: '2025-11-15',
  lastJudgedDate: '2025-10-02',
  maturity: { defaultLagDays: 7, clients: [{ clientId: 'acme', lagDays: 12 }] },
  warmup: { days: 14 },
  dates: 2,
  campaigns: 1,
  runs: ['B', 'A'].map((label) => ({
    label,
    configId: `cfg_${label}`,
    source: 'defaults',
    measures,
    timeline: [
      { date: '2025-10-01', counts: { ...noActions(), REDUCE_BUDGET: 1 } },
      { date: '2025-10-02', counts: { ...noActions(), PAUSE_CAMPAIGN: 1 } },
    ],
    bands: bands.result(),
  })),
  differing: [{ campaignId: 'c1', name, dates: 1, firstDate: '2025-10-02' }],
  limitations: ['A cut campaign has no "what if".'],
});

describe('the backtest report', () => {
  test('the text names each measure with its value, interval and counts, and the limits', () => {
    const r = reportBacktest(result('Spring sale'));
    expect(r.text).toContain('cut precision');
    expect(r.text).toMatch(/B: 75\.0 % \[[\d.]+ %–[\d.]+ %\] \(3 of 4\)/);
    expect(r.text).toContain('Spring sale (c1): 1 date(s), first 2025-10-02');
    expect(r.text).toContain('  - A cut campaign has no "what if".');
    expect(r.text).toContain('Warm start: 14 days before 2025-10-01 replayed, not judged.');
    expect(r.text).toContain(
      "Matured: a horizon ends a client's qualification lag before the newest data (7 days without lead-level " +
        'history; measured, in days: acme 12).',
    );
  });

  test('without a warm-up it says where the state came from, or that it started cold', () => {
    const stored = reportBacktest({ ...result('x'), warmup: { days: 0, storedStateFrom: '2025-09-30' } });
    expect(stored.text).toContain('Warm start: the decision state stored for 2025-09-30.');
    const cold = reportBacktest({ ...result('x'), warmup: { days: 0, storedStateFrom: null } });
    expect(cold.text).toContain('Cold start: no warm-up (--warmup 0) and no decision state stored before 2025-10-01');
    expect(cold.summary).toMatchObject({ warmup_days: 0, stored_state_from: null });
  });

  test('the --json summary carries the actions by date and the score bands', () => {
    const s = reportBacktest(result('x')).summary as { runs: Record<string, unknown>[] };
    expect(s.runs[0]!.actions_by_date).toEqual([
      { date: '2025-10-01', ...noActions(), REDUCE_BUDGET: 1 },
      { date: '2025-10-02', ...noActions(), PAUSE_CAMPAIGN: 1 },
    ]);
    expect((s.runs[0]!.score_bands as unknown[])[0]).toEqual({
      scores: [0, 20],
      judged_dates: 1,
      expensive_dates: 1,
      cut: { num: 1, den: 1 },
      increase: { num: 0, den: 0 },
    });
  });
});

describe('the backtest page', () => {
  const html = renderBacktestHtml(result('<script>alert(1)</script> & "Q4"'));

  test('a campaign name from the ad account is text, never markup', () => {
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Q4&quot;');
  });

  test('has a chart per configuration for actions over time and for precision by band, and the measures', () => {
    expect(html.match(/<svg class="chart"/g)).toHaveLength(4);
    expect(html).toContain('Campaigns by action on each replayed date, configuration A');
    expect(html).toContain('<title>2025-10-02 · Pause campaign: 1</title>');
    expect(html).toContain('75.0 %');
    expect(html).toMatch(/<html lang="en">/);
  });

  test('forbids every fetched resource in its own Content-Security-Policy', () => {
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
  });
});
