import { describe, expect, test } from '@jest/globals';
import { emptyCallStats } from '../../../../src/core/facebook/call-stats.js';
import {
  type AccountResult,
  fetchFacebookExitCode,
  reportFetchFacebook,
} from '../../../../src/core/reports/fetch-facebook.js';

// The report of a fetch-facebook run, from its result alone: no database, no Graph API.
const upsert = (inserted: number, updated = 0, unchanged = 0) => ({ inserted, updated, unchanged });
const account = (over: Partial<AccountResult>): AccountResult => ({
  account: 'act_1',
  outcome: 'succeeded',
  since: '2025-10-20',
  until: '2025-11-16',
  exitCode: 0,
  error: null,
  warnings: [],
  rows: { campaigns: 12, insights: 300, rejected: 0, leads: 40 },
  written: { campaigns: upsert(12), metrics: upsert(280, 5, 15), noDeliveryDays: 20, leads: upsert(40) },
  stats: { ...emptyCallStats(), calls: 9, meteredCalls: 14, retries: 1, peakUsagePct: 12 },
  ...over,
});

describe('reportFetchFacebook', () => {
  test('one line per account with its range, requests, rows and writes, then the total', () => {
    const r = reportFetchFacebook({ dryRun: false, accounts: [account({})] });
    expect(r.text.split('\n')).toEqual([
      'act_1: succeeded 2025-10-20…2025-11-16, 9 requests (14 as Meta counts them), 12 campaigns, 300 insight rows, ' +
        '40 leads; written: metrics 280 new, 5 changed, 15 unchanged, 20 no-delivery days; leads 40 new; ' +
        'peak usage 12 %',
      '1 of 1 ad account fetched.',
    ]);
    expect(r.exitCode).toBe(0);
  });

  test('a dry run says nothing was written; a failed account shows its error', () => {
    const r = reportFetchFacebook({
      dryRun: true,
      accounts: [
        account({ written: null }),
        account({ account: 'act_2', outcome: 'failed', exitCode: 78, error: 'the token was rejected', since: null }),
      ],
    });
    expect(r.text).toContain('(dry run: nothing written)');
    expect(r.text).toContain('act_2: failed, 9 requests (14 as Meta counts them): the token was rejected');
    expect(r.text).toMatch(/1 of 2 ad accounts fetched, 1 failed\.$/);
  });

  test('counts add every account up, and the peak usage is the highest', () => {
    const r = reportFetchFacebook({
      dryRun: false,
      accounts: [
        account({}),
        account({ account: 'act_2', stats: { ...emptyCallStats(), calls: 3, meteredCalls: 3, peakUsagePct: 40 } }),
      ],
    });
    expect(r.counts).toMatchObject({ accounts: 2, api_calls: 12, api_calls_metered: 17, peak_usage_pct: 40 });
    expect(r.counts.insight_rows).toBe(600);
  });
});

describe('fetchFacebookExitCode', () => {
  const failed = (exitCode: number) => account({ outcome: 'failed', exitCode });
  test('a configuration failure outranks a bug, which outranks unavailable and bad data; deferred alone is 75', () => {
    expect(fetchFacebookExitCode([account({})])).toBe(0);
    expect(fetchFacebookExitCode([account({ outcome: 'deferred', exitCode: 75 })])).toBe(75);
    expect(fetchFacebookExitCode([failed(65), account({ outcome: 'deferred', exitCode: 75 })])).toBe(65);
    expect(fetchFacebookExitCode([failed(65), failed(69)])).toBe(69);
    // A bug (exit 1, SOFTWARE in operations' table) outranks what the network or the data did.
    expect(fetchFacebookExitCode([failed(69), failed(1)])).toBe(1);
    expect(fetchFacebookExitCode([failed(1), failed(78)])).toBe(78);
  });
});
