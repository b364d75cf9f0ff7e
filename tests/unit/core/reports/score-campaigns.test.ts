import { describe, expect, test } from '@jest/globals';
import { reportScoreCampaigns, type ScoreCampaignsResult } from '../../../../src/core/reports/score-campaigns.js';
import { FLAGS, RECOMMENDATIONS } from '../../../../src/core/scoring/index.js';

// The report of a scoring run, from its result alone: no database, no process.
const zeros = <K extends string>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

function result(over: Partial<ScoreCampaignsResult> = {}): ScoreCampaignsResult {
  return {
    date: '2025-11-15',
    dryRun: false,
    configId: 'cfg_1',
    configSource: 'defaults',
    list: false,
    summary: {
      date: '2025-11-15',
      configId: 'cfg_1',
      campaignsScored: 3,
      recommendations: { ...zeros(RECOMMENDATIONS), INCREASE_BUDGET: 1, PAUSE_CAMPAIGN: 1, INSUFFICIENT_DATA: 1 },
      flags: { ...zeros(FLAGS), HIGH_CPL: 1, NO_TARGET: 1 },
      warnings: [],
      previousScoredDate: '2025-11-14',
      previousScoredCount: 3,
    },
    outcomes: [
      {
        campaignId: 'c-low',
        name: 'Low scorer',
        totalHundredths: 2150n,
        recommendation: 'PAUSE_CAMPAIGN',
        action: 'REDUCE_BUDGET',
        actionReason: 'PAUSE_CAMPAIGN called for; 2 qualified leads on 824 spent; REDUCE_BUDGET first',
        flags: ['HIGH_CPL'],
        weakest: 'CPQL 412.00 is 4.1× the target',
        currency: 'USD',
      },
      {
        campaignId: 'c-high',
        name: 'High scorer',
        totalHundredths: 8425n,
        recommendation: 'INCREASE_BUDGET',
        action: 'INCREASE_BUDGET',
        actionReason: '40 qualified leads on 2000 spent: P(CPQL ≤ target) = 1.00',
        flags: [],
        weakest: 'CTR 1.10 % is average',
        currency: 'USD',
      },
      {
        campaignId: 'c-none',
        name: 'No target',
        totalHundredths: 0n,
        recommendation: 'INSUFFICIENT_DATA',
        action: 'INSUFFICIENT_DATA',
        actionReason: 'not enough data to judge',
        flags: ['NO_TARGET'],
        weakest: 'volume is its weakest point',
        currency: 'IDR',
      },
    ],
    ...over,
  };
}

describe('reportScoreCampaigns', () => {
  test('counts the campaigns, the warnings and each recommendation in lower case for job_runs and EMF', () => {
    const r = reportScoreCampaigns(result());
    expect(r.exitCode).toBeUndefined();
    expect(r.counts).toMatchObject({ campaigns_scored: 3, warnings: 0, increase_budget: 1, pause_campaign: 1 });
    expect(r.counts.insufficient_data).toBe(1);
    // And each action, beside the recommendations.
    expect(r.counts).toMatchObject({ action_increase_budget: 1, action_reduce_budget: 1, action_pause_campaign: 0 });
  });

  test('the --json document names the date, the configuration and its source, and the previous scored date', () => {
    const r = reportScoreCampaigns(result({ configSource: 'scoring.json' }));
    expect(r.summary).toMatchObject({
      date: '2025-11-15',
      dry_run: false,
      config_id: 'cfg_1',
      config_source: 'scoring.json',
      campaigns_scored: 3,
      previous_scored_date: '2025-11-14',
      previous_scored_count: 3,
    });
  });

  test('the text says Scored, or Would score on a dry run, and lists only recommendations and flags that occur', () => {
    const text = reportScoreCampaigns(result()).text;
    expect(text.split('\n')[0]).toBe('Scored 3 campaigns for 2025-11-15 (configuration cfg_1).');
    expect(text).toContain('Actions: INCREASE_BUDGET 1, REDUCE_BUDGET 1, INSUFFICIENT_DATA 1.');
    expect(text).toContain('Recommendations: INCREASE_BUDGET 1, PAUSE_CAMPAIGN 1, INSUFFICIENT_DATA 1.');
    expect(text).toContain('Flags: HIGH_CPL 1, NO_TARGET 1.');
    expect(text).not.toContain('TEST_CHANGES');
    expect(reportScoreCampaigns(result({ dryRun: true })).text).toMatch(/^Would score 3 campaigns/);
  });

  test('each run warning is a WARNING line with its code', () => {
    const warned = result();
    warned.summary.warnings = [
      { code: 'SCORED_COUNT_DROP', message: 'scored 3 campaigns, 40 % fewer than 5', value: 0.4, limit: 0.2 },
    ];
    expect(reportScoreCampaigns(warned).text).toContain('WARNING SCORED_COUNT_DROP: scored 3 campaigns, 40 % fewer');
  });

  test('--list: one line per campaign, best first: the action, the recommendation where it differs, why', () => {
    const lines = reportScoreCampaigns(result({ list: true }))
      .text.split('\n\n')[1]!
      .split('\n');
    expect(lines[0]).toMatch(/^campaign\s+campaign id\s+score\s+action\s+recommendation\s+why \(the weakest point/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[1])).toEqual(['c-high', 'c-low', 'c-none']);
    // Action and recommendation agree: the recommendation column is blank and the weakest point is shown.
    expect(lines[1]).toMatch(/84\.25 {2}INCREASE_BUDGET {21}CTR 1\.10 % is average$/);
    // They differ: the recommendation beside the action, and the gate's reason instead of the weakest point.
    expect(lines[2]).toMatch(
      /REDUCE_BUDGET +PAUSE_CAMPAIGN +PAUSE_CAMPAIGN called for; .*REDUCE_BUDGET first \[HIGH_CPL\]$/,
    );
    expect(lines[3]).not.toContain('volume is its weakest point');
    expect(lines[3]).toMatch(/INSUFFICIENT_DATA +Not scored: no target cost per qualified lead .*\[NO_TARGET\]$/);
  });

  test('--list prints names and ids from outside without their terminal control characters', () => {
    const r = result({ list: true });
    const evil = '\u001b]0;owned\u0007Red\u001b[31mAlert\r\nFAKE LINE\u202egnp.exe\u009b2J';
    r.outcomes = [{ ...r.outcomes[1]!, name: evil, campaignId: 'id\u001b[2J' }];
    const text = reportScoreCampaigns(r).text;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must not be there
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    const table = text.split('\n\n')[1]!.split('\n');
    expect(table).toHaveLength(2); // the header and one line: the CR LF in the name did not make a second
    expect(table[1]).toContain('?]0;owned?Red?[31mAlert??FAKE');
    expect(table[1]).toContain('id?[2J');
  });

  test('without --list, or with nothing scored, there is no table', () => {
    expect(reportScoreCampaigns(result()).text).not.toContain('campaign id');
    expect(reportScoreCampaigns(result({ list: true, outcomes: [] })).text).not.toContain('campaign id');
  });
});
