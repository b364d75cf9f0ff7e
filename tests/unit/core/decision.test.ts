import { describe, expect, test } from '@jest/globals';
import {
  DEFAULT_DECISION_SETTINGS,
  type DecisionInput,
  decideAction,
  decisionSettingsProblems,
} from '../../../src/core/scoring/decision.js';
import { targetPrior, windowEvidence } from '../../../src/core/scoring/evidence.js';
import { generateCampaigns, highSpendTier, measure, runSimulation, type World } from '../../helpers/decision-sim.js';

// The action layer of decision-quality, section 2: pure, from the recommendation, the evidence and the history.
const T = 100;
const evidence = (spend: number, leads: number) => windowEvidence(spend, leads, T, targetPrior(T));
const input = (over: Partial<DecisionInput>): DecisionInput => ({
  recommendation: 'CONTINUE_OPTIMIZE',
  isNew: false,
  window: evidence(3000, 40),
  recent: evidence(700, 9),
  previous: null,
  ...over,
});
/** D−1's decision: `action` given, `candidate` called for `streak` scored dates running. */
const held = (action: DecisionInput['recommendation'], candidate = action, streak = 2) => ({
  action,
  candidate,
  streak,
});

describe('never cut on thin evidence', () => {
  test('a REDUCE_BUDGET on 4 qualified leads and 310 spent becomes MONITOR_CLOSELY, saying why', () => {
    const d = decideAction(input({ recommendation: 'REDUCE_BUDGET', window: evidence(310, 4), recent: null }));
    expect(d).toMatchObject({ action: 'MONITOR_CLOSELY', gate: 'thin-evidence' });
    expect(d.reason).toMatch(
      /^recommendation REDUCE_BUDGET; 4 qualified leads on 310 spent: P\(CPQL > target\) = 0\.\d\d/,
    );
  });

  test('below 3 × the target in spend, no campaign is judged on cost, however few its leads', () => {
    const d = decideAction(
      input({ recommendation: 'PAUSE_CAMPAIGN', window: evidence(250, 0), recent: evidence(60, 0) }),
    );
    expect(d.action).toBe('MONITOR_CLOSELY');
    expect(d.reason).toContain('below 3 ×');
  });

  test('a cut the evidence supports stands (after the history has held)', () => {
    const d = decideAction(
      input({ recommendation: 'REDUCE_BUDGET', window: evidence(4000, 8), previous: held('REDUCE_BUDGET') }),
    );
    expect(d).toMatchObject({ action: 'REDUCE_BUDGET', gate: 'evidence' });
  });
});

test('a probability just under the cut gate is not shown as equal to it', () => {
  // 10 qualified leads on the least spend whose P(CPQL > target) two places would round to the gate, 0.95.
  let spend = 1500;
  while (evidence(spend, 10).pAboveTarget < 0.945) spend += 1;
  const e = evidence(spend, 10);
  expect(e.pAboveTarget).toBeLessThan(0.95);
  expect(e.pAboveTarget.toFixed(2)).toBe('0.95');
  const d = decideAction(input({ recommendation: 'REDUCE_BUDGET', window: e, recent: null }));
  expect(d.reason).toMatch(/P\(CPQL > target\) = 0\.95 \(0\.94\d\d\), below 0\.95$/);
});

describe('money at risk is always flagged', () => {
  test('P(CPQL > 2 T) high on enough spend gives REDUCE_BUDGET whatever the recommendation', () => {
    const d = decideAction(input({ recommendation: 'CONTINUE_OPTIMIZE', window: evidence(9000, 20), previous: null }));
    expect(d).toMatchObject({ action: 'REDUCE_BUDGET', gate: 'money-at-risk' });
    expect(d.reason).toContain('P(CPQL > 2 × target) = ');
  });

  test('a recent turn for the worse is seen in the last 7 days before the 30-day window catches up', () => {
    const d = decideAction(input({ window: evidence(3000, 25), recent: evidence(900, 0) }));
    expect(d.candidate).toBe('REDUCE_BUDGET');
  });
});

describe('stable actions', () => {
  test('a new action needs to be called for on 3 scored dates running; until then the old one stands', () => {
    const expensive = { window: evidence(9000, 20) };
    const first = decideAction(input({ ...expensive, previous: held('CONTINUE_OPTIMIZE', 'CONTINUE_OPTIMIZE', 3) }));
    expect(first).toMatchObject({ action: 'CONTINUE_OPTIMIZE', candidate: 'REDUCE_BUDGET', gate: 'persistence' });
    const third = decideAction(
      input({
        ...expensive,
        previous: held('CONTINUE_OPTIMIZE', 'REDUCE_BUDGET', 2),
      }),
    );
    expect(third).toMatchObject({ action: 'REDUCE_BUDGET', streak: 3 });
  });

  test('the streak counts scored dates whose candidate called for the same change; another change starts at 1', () => {
    const expensive = { window: evidence(9000, 20) };
    // The same candidate: one run. REDUCE_BUDGET → PAUSE_CAMPAIGN and back are changes of their own (v2).
    expect(decideAction(input({ ...expensive, previous: held('CONTINUE_OPTIMIZE', 'REDUCE_BUDGET', 1) })).streak).toBe(
      2,
    );
    expect(decideAction(input({ ...expensive, previous: held('CONTINUE_OPTIMIZE', 'PAUSE_CAMPAIGN', 1) })).streak).toBe(
      1,
    );
    expect(decideAction(input({ ...expensive, previous: held('REDUCE_BUDGET', 'CONTINUE_OPTIMIZE', 4) })).streak).toBe(
      1,
    );
    expect(decideAction(input({ ...expensive, previous: null })).streak).toBe(1);
    // The spec's own rule (a new campaign) counts too: the next date reads it.
    const fresh = decideAction(input({ isNew: true, previous: held('CONTINUE_OPTIMIZE', 'CONTINUE_OPTIMIZE', 6) }));
    expect(fresh).toMatchObject({ gate: 'spec', streak: 7 });
  });

  test('a persistence above 3 holds a change back until that many dates called for it, then lets it through', () => {
    const five = { ...DEFAULT_DECISION_SETTINGS, persistence: 5 };
    const expensive = { window: evidence(9000, 20) };
    const fourth = decideAction(input({ ...expensive, previous: held('CONTINUE_OPTIMIZE', 'REDUCE_BUDGET', 3) }), five);
    expect(fourth).toMatchObject({ action: 'CONTINUE_OPTIMIZE', gate: 'persistence', streak: 4 });
    expect(fourth.reason).toMatch(/^REDUCE_BUDGET called for on 4 of the 5 scored dates in a row it needs \(.+\); /);
    expect(fourth.reason).toMatch(/; CONTINUE_OPTIMIZE stands until then$/);
    const fifth = decideAction(input({ ...expensive, previous: held('CONTINUE_OPTIMIZE', 'REDUCE_BUDGET', 4) }), five);
    expect(fifth).toMatchObject({ action: 'REDUCE_BUDGET', streak: 5 });
  });

  test('a persistence of 1 changes the action on the first date it is called for', () => {
    const one = { ...DEFAULT_DECISION_SETTINGS, persistence: 1 };
    const d = decideAction(
      input({ window: evidence(9000, 20), previous: held('CONTINUE_OPTIMIZE', 'CONTINUE_OPTIMIZE', 9) }),
      one,
    );
    expect(d).toMatchObject({ action: 'REDUCE_BUDGET', streak: 1 });
  });

  test('a cut stands while P(CPQL > T) stays above the release gate (hysteresis)', () => {
    const d = decideAction(
      input({
        recommendation: 'TEST_CHANGES',
        window: evidence(3000, 25),
        recent: null,
        previous: held('REDUCE_BUDGET'),
      }),
    );
    expect(d).toMatchObject({ action: 'REDUCE_BUDGET', gate: 'hysteresis' });
  });

  test('a cut is lifted at once when the evidence is as sure it is cheap as a cut needs (late CRM data)', () => {
    const d = decideAction(
      input({
        recommendation: 'INCREASE_BUDGET',
        window: evidence(3000, 64),
        recent: null,
        previous: held('REDUCE_BUDGET', 'REDUCE_BUDGET', 1),
      }),
    );
    expect(d.action).toBe('INCREASE_BUDGET');
    expect(d.reason).toMatch(/^REDUCE_BUDGET lifted: 64 qualified leads on 3,000 spent: P\(CPQL > target\) = 0\.00/);
  });

  test('escalation is one step at a time: PAUSE_CAMPAIGN only after REDUCE_BUDGET', () => {
    const paused = { recommendation: 'PAUSE_CAMPAIGN' as const, window: evidence(9000, 10) };
    expect(decideAction(input({ ...paused, previous: held('TEST_CHANGES', 'REDUCE_BUDGET', 2) }))).toMatchObject({
      action: 'REDUCE_BUDGET',
      gate: 'one-step',
    });
    // From REDUCE_BUDGET, a pause is a change that needs persistence too (v2): no one-day PAUSE blips.
    expect(decideAction(input({ ...paused, previous: held('REDUCE_BUDGET', 'REDUCE_BUDGET', 5) }))).toMatchObject({
      action: 'REDUCE_BUDGET',
      candidate: 'PAUSE_CAMPAIGN',
      gate: 'persistence',
    });
    expect(decideAction(input({ ...paused, previous: held('REDUCE_BUDGET', 'PAUSE_CAMPAIGN', 3) })).action).toBe(
      'PAUSE_CAMPAIGN',
    );
  });

  test('INCREASE_BUDGET needs P(CPQL ≤ T) high; otherwise CONTINUE_OPTIMIZE', () => {
    const cheap = { recommendation: 'INCREASE_BUDGET' as const, window: evidence(3000, 60) };
    expect(decideAction(input({ ...cheap, previous: held('CONTINUE_OPTIMIZE', 'INCREASE_BUDGET', 2) })).action).toBe(
      'INCREASE_BUDGET',
    );
    // A campaign's first scored date starts from no action: an increase (or a cut) waits for persistence.
    expect(decideAction(input({ ...cheap, previous: null }))).toMatchObject({
      action: 'MONITOR_CLOSELY',
      candidate: 'INCREASE_BUDGET',
      gate: 'persistence',
    });
    const thin = decideAction(input({ recommendation: 'INCREASE_BUDGET', window: evidence(300, 4), recent: null }));
    expect(thin).toMatchObject({ action: 'CONTINUE_OPTIMIZE', gate: 'increase-evidence' });
  });
});

describe('the spec rule where it must stand, and new campaigns (v2)', () => {
  test('INSUFFICIENT_DATA keeps the recommendation; a new campaign meets the same gates as any other', () => {
    // One day, 0.00 spent: nothing to judge on, so no pause (the Kaggle set's "98 % likely above target").
    expect(
      decideAction(input({ recommendation: 'PAUSE_CAMPAIGN', isNew: true, window: evidence(0, 0), recent: null })),
    ).toMatchObject({ action: 'MONITOR_CLOSELY', gate: 'thin-evidence' });
    // One day, 323 spent and one qualified lead: P(CPQL > T) below the cut gate, so no cut.
    const d = decideAction(
      input({ recommendation: 'PAUSE_CAMPAIGN', isNew: true, window: evidence(323, 1), recent: evidence(323, 1) }),
    );
    expect(d).toMatchObject({ action: 'MONITOR_CLOSELY', gate: 'thin-evidence' });
    expect(d.reason).toMatch(/^new campaign, same gates: recommendation PAUSE_CAMPAIGN; 1 qualified lead on 323/);
    // A new campaign that is surely expensive on enough spend is cut like any other (after persistence).
    expect(
      decideAction(
        input({
          recommendation: 'PAUSE_CAMPAIGN',
          isNew: true,
          window: evidence(5000, 2),
          previous: held('REDUCE_BUDGET', 'REDUCE_BUDGET', 3),
        }),
      ).action,
    ).toBe('REDUCE_BUDGET');
    expect(decideAction(input({ recommendation: 'INSUFFICIENT_DATA', window: null, recent: null })).action).toBe(
      'INSUFFICIENT_DATA',
    );
    // A campaign judged for the first time (a target set, its first delivery) does not hold "insufficient data"
    // until persistence is met: it starts from no action.
    expect(decideAction(input({ previous: held('INSUFFICIENT_DATA', 'INSUFFICIENT_DATA', 6) }))).toMatchObject({
      action: 'CONTINUE_OPTIMIZE',
      gate: 'spec',
      streak: 1,
    });
  });
});

describe('decisionSettingsProblems', () => {
  test('the defaults make sense', () => {
    expect(decisionSettingsProblems({ ...DEFAULT_DECISION_SETTINGS })).toEqual([]);
  });

  test('every problem is listed: a probability outside 0–1, a negative multiple, a persistence of 0', () => {
    const problems = decisionSettingsProblems({
      ...DEFAULT_DECISION_SETTINGS,
      cutProbability: 1.5,
      riskProbability: -0.1,
      minSpendMultiple: -2,
      persistence: 0,
    });
    expect(problems).toEqual([
      'decision.cut_probability: 1.5 is not a probability (0 to 1)',
      'decision.risk_probability: -0.1 is not a probability (0 to 1)',
      'decision.min_spend_multiple: -2 must be 0 or more',
      'decision.persistence: 0 must be a whole number of scored dates, 1 to 60',
    ]);
  });

  test('a release gate at or above the cut gate is refused: a cut would be lifted as soon as it is made', () => {
    expect(decisionSettingsProblems({ ...DEFAULT_DECISION_SETTINGS, releaseProbability: 0.97 })[0]).toMatch(
      /^decision\.release_probability: 0\.97 must be below cut_probability/,
    );
  });
});

describe('on simulated campaigns with a known true cost (tests/helpers/decision-sim.ts)', () => {
  // 2,000 campaigns, 28 scored dates: section 2's goals, measured on the action, on a seed the gates were not tuned on.
  const results = runSimulation(generateCampaigns(2000, 31), 31);
  const action = measure(results, 'actions');
  const recommendation = measure(results, 'recommendations');

  test('good campaigns ever told to reduce or pause: at most 3 %', () => {
    expect(action.goodEverCut).toBeLessThanOrEqual(0.03);
  });
  test('cut / not-cut changes per stationary campaign per 28 days: at most 0.5, fewer than the spec rule', () => {
    expect(action.stationaryFlips).toBeLessThanOrEqual(0.5);
    expect(action.stationaryFlips).toBeLessThan(recommendation.stationaryFlips);
  });
  test('bad campaigns spending 45 a day or more are cut on at least 90 % of the last 14 dates', () => {
    expect(action.badHighSpendCutShare).toBeGreaterThanOrEqual(0.9);
  });
  test('bad campaigns at every spend level are cut on at least 70 % of the last 14 dates', () => {
    expect(action.badCutShare).toBeGreaterThanOrEqual(0.7);
  });
  test('campaigns that turned bad (45 a day or more) are cut within 10 days in at least 40 % of cases', () => {
    expect(action.turnedBadFlaggedWithin10).toBeGreaterThanOrEqual(0.4);
  });
});

describe('state across gaps and the window that triggered a cut (v2)', () => {
  test('a cut from the last 7 days stands while that window stays above the release gate', () => {
    const d = decideAction(
      input({
        recommendation: 'TEST_CHANGES',
        window: evidence(3000, 40),
        recent: evidence(700, 4),
        previous: { action: 'REDUCE_BUDGET', candidate: 'REDUCE_BUDGET', streak: 4, trigger: 'recent' },
      }),
    );
    expect(d).toMatchObject({ action: 'REDUCE_BUDGET', gate: 'hysteresis', trigger: 'recent' });
    expect(d.reason).toContain('P(CPQL > target) in the last 7 days falls below 0.60');
  });

  test('a small spender is judged on its longer window when its 30 days do not reach 3 × the target', () => {
    const d = decideAction(
      input({
        recommendation: 'REDUCE_BUDGET',
        window: evidence(250, 0),
        recent: evidence(60, 0),
        long: evidence(900, 0),
        longDays: 90,
        previous: held('REDUCE_BUDGET', 'REDUCE_BUDGET', 3),
      }),
    );
    expect(d).toMatchObject({ action: 'REDUCE_BUDGET', trigger: 'long' });
    expect(d.reason).toContain('in 90 days');
  });

  test('leads awaiting their status are named in the reason of a decision that waits for them', () => {
    const d = decideAction(
      input({
        recommendation: 'REDUCE_BUDGET',
        window: evidence(310, 1),
        pending: { leads: 6, lagDays: 9, expected: 2.4 },
      }),
    );
    expect(d.action).toBe('MONITOR_CLOSELY');
    expect(d.reason).toContain(
      "waits for statuses: 6 leads younger than the client's qualification lag (9 days) have no final status yet " +
        'and count as the 2.4 qualified',
    );
  });
});

describe.each<World>(['late-statuses', 'small-spend', 'noisy-spend', 'missed-run'])(
  'the %s world of decision-quality v2',
  (world) => {
    // 800 campaigns on a seed the gates were not tuned on; bench/RESULTS.md has the full tables at 2,000.
    const results = runSimulation(generateCampaigns(800, 31, world), 31, undefined, world);
    const action = measure(results, 'actions', highSpendTier(world));
    test('good ever cut at most 3 %, flips at most 0.5, bad ones at the tier cut on 90 % of late dates', () => {
      expect(action.goodEverCut).toBeLessThanOrEqual(0.03);
      expect(action.stationaryFlips).toBeLessThanOrEqual(0.5);
      expect(action.badHighSpendCutShare).toBeGreaterThanOrEqual(0.9);
      expect(action.badCutShare).toBeGreaterThanOrEqual(world === 'small-spend' ? 0.5 : 0.7);
      if (world !== 'small-spend') expect(action.turnedBadFlaggedWithin10).toBeGreaterThanOrEqual(0.4);
    });
  },
);
