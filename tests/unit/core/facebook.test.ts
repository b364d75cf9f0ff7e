import { describe, expect, test } from '@jest/globals';
import { classifyGraphError } from '../../../src/core/facebook/errors.js';
import {
  lookbackWindow,
  minorToUnits,
  noDeliveryDays,
  normalizeTime,
  parseCampaign,
  parseInsightRow,
  splitRange,
} from '../../../src/core/facebook/records.js';
import { pacingFor, readUsage } from '../../../src/core/facebook/usage.js';

const headers = (h: Record<string, string>) => (name: string) => h[name] ?? null;

describe('usage headers', () => {
  test("takes the highest percentage of every header and this account's use cases only", () => {
    const u = readUsage(
      headers({
        'x-app-usage': '{"call_count":28,"total_time":25,"total_cputime":25}',
        'x-ad-account-usage': '{"acc_id_util_pct":9.67,"reset_time_duration":100}',
        'x-business-use-case-usage': JSON.stringify({
          '123': [{ type: 'ads_insights', call_count: 97, estimated_time_to_regain_access: 0 }],
          '999': [{ type: 'ads_insights', call_count: 100 }],
        }),
        'x-fb-ads-insights-throttle': '{"app_id_util_pct":40,"acc_id_util_pct":10}',
      }),
      '123',
    );
    expect(u.maxPct).toBe(97);
    expect(u.parts['x-business-use-case-usage.ads_insights.call_count']).toBe(97);
    expect(u.regainSeconds).toBe(0);
  });

  test(
    'reads estimated_time_to_regain_access as minutes, ' +
      'reset_time_duration as seconds once the account is at 100 %, ' +
      'and values over 100',
    () => {
      expect(
        readUsage(
          headers({
            'x-business-use-case-usage':
              '{"1":[{"type":"ads_management","call_count":104,"estimated_time_to_regain_access":7}]}',
          }),
          '1',
        ),
      ).toMatchObject({ maxPct: 104, regainSeconds: 420 });
      expect(
        readUsage(headers({ 'x-ad-account-usage': '{"acc_id_util_pct":100,"reset_time_duration":300}' }), '1')
          .regainSeconds,
      ).toBe(300);
      expect(
        readUsage(headers({ 'x-ad-account-usage': '{"acc_id_util_pct":60,"reset_time_duration":300}' }), '1')
          .regainSeconds,
      ).toBe(0);
    },
  );

  test('reports a malformed header instead of failing, and no headers as zero usage', () => {
    expect(readUsage(headers({ 'x-app-usage': '{oops', 'x-ad-account-usage': '[1]' }), '1')).toMatchObject({
      maxPct: 0,
      malformed: ['x-app-usage', 'x-ad-account-usage'],
    });
    expect(readUsage(headers({}), '1').maxPct).toBe(0);
  });

  test.each([
    [10, 0, false],
    [50, 0, false],
    [62.5, 5000, false],
    [74, 9600, false],
    [75, 10000, true],
    [118, 10000, true],
  ])('at %d %% usage the spacing is %d ms, deferred: %s', (pct, spacing, defer) => {
    expect(pacingFor(pct)).toEqual({ spacingMs: spacing, defer });
  });
});

describe('classifying Graph API errors by code, not HTTP status', () => {
  const e = (status: number, error: Record<string, unknown>) => classifyGraphError(status, { error });
  test.each([
    [400, { code: 4, is_transient: true }, 'throttle', true],
    [400, { code: 4, error_subcode: 1504022 }, 'throttle', true],
    [400, { code: 17, error_subcode: 2446079, is_transient: false }, 'throttle', false],
    [400, { code: 80004, error_subcode: 2446079 }, 'throttle', false],
    [400, { code: 613 }, 'throttle', false],
    [
      500,
      { code: 1, message: "Please reduce the amount of data you're asking for, then retry your request" },
      'reduce-data',
      false,
    ],
    [400, { code: 100, error_subcode: 1487534 }, 'reduce-data', false],
    [500, { code: 1, error_subcode: 99, message: 'An unknown error occurred' }, 'transient', false],
    [500, { code: 2, error_subcode: 1504043 }, 'transient', false],
    [400, { code: 190, error_subcode: 463 }, 'token', false],
    [401, { code: 190 }, 'token', false],
    [403, { code: 10 }, 'permission', false],
    [400, { code: 200, message: 'Permissions error' }, 'permission', false],
    [400, { code: 100, error_subcode: 3191001 }, 'permission', false],
    [400, { code: 100, message: 'Invalid cursors values' }, 'invalid-cursor', false],
    [400, { code: 100, message: 'Invalid parameter' }, 'request', false],
    [400, { code: 999, is_transient: true }, 'transient', false],
    // Real bodies: a token without a permission is not a refused request, nor an expired token.
    [
      400,
      { message: '(#100) Missing permissions', type: 'OAuthException', code: 100, fbtrace_id: 'A1b2' },
      'permission',
      false,
    ],
    [
      400,
      {
        message:
          'Any of the pages_read_engagement, pages_manage_metadata, ' +
          'pages_read_user_content, pages_manage_ads, pages_show_list or ' +
          'pages_messaging permission(s) must be granted before ' +
          "impersonating a user's page.",
        type: 'OAuthException',
        code: 190,
      },
      'permission',
      false,
    ],
    [
      400,
      {
        message: 'Error validating access token: Session has expired on Friday, 13-Mar-26 10:00:00 PDT.',
        code: 190,
        error_subcode: 463,
      },
      'token',
      false,
    ],
    // is_transient: false outweighs the code: not retried for it; a 5xx is still a server failure.
    [400, { code: 2, is_transient: false, message: 'Service temporarily unavailable' }, 'request', false],
    [400, { code: 1, is_transient: false, message: 'An unknown error occurred' }, 'request', false],
    [
      500,
      { code: 1, error_subcode: 99, is_transient: false, message: 'An unknown error occurred' },
      'transient',
      false,
    ],
    [
      400,
      {
        code: 100,
        error_subcode: 1487561,
        message: 'Invalid parameter',
        error_user_title: 'Run Status not valid',
        is_transient: false,
      },
      'request',
      false,
    ],
  ])('HTTP %d %j is %s', (status, error, kind, appWide) => {
    expect(e(status, error)).toMatchObject({ kind, appWide });
  });

  test('without a Graph error body: a 5xx or 200 is transient, a 429 a throttle, a 404 not retried', () => {
    expect(classifyGraphError(502, undefined).kind).toBe('transient');
    expect(classifyGraphError(429, undefined).kind).toBe('throttle');
    expect(classifyGraphError(429, '').kind).toBe('throttle');
    expect(classifyGraphError(200, undefined).kind).toBe('transient');
    expect(classifyGraphError(404, undefined).kind).toBe('request');
  });

  test("Meta's documented meanings: code 3 is a permission, invalid breakdowns or metrics are the request's", () => {
    expect(e(400, { code: 3, message: 'Application does not have the capability to make this API call.' }).kind).toBe(
      'permission',
    );
    for (const subcode of [1504041, 1504042])
      expect(e(400, { code: 2, error_subcode: subcode, message: 'Service temporarily unavailable' }).kind).toBe(
        'request',
      );
    // Code 2 alone stays what it usually is.
    expect(e(500, { code: 2, message: 'Service temporarily unavailable' }).kind).toBe('transient');
  });

  test("error_user_title and error_user_msg are kept in the message (for some errors Meta's only useful words)", () => {
    const info = e(400, {
      code: 100,
      error_subcode: 2853001,
      message: 'Invalid parameter',
      error_user_title: 'Ad account disabled',
      error_user_msg: 'This ad account has been disabled for not complying with our policies.',
    });
    expect(info.message).toBe(
      'Invalid parameter (Ad account disabled: This ad account has been disabled for not complying with our policies.)',
    );
  });
});

describe('records', () => {
  test('converts budgets from minor units, whole units for offset-1 currencies such as JPY', () => {
    expect(minorToUnits('5000', 'EUR')).toBe('50.00');
    expect(minorToUnits('5', 'USD')).toBe('0.05');
    expect(minorToUnits('5000', 'JPY')).toBe('5000');
    expect(minorToUnits('120000', 'huf')).toBe('120000');
    expect(() => minorToUnits('50.5', 'EUR')).toThrow(/whole number/);
  });

  test("reads Facebook times with +0000 offsets and gives campaign dates in the account's time zone", () => {
    expect(normalizeTime('2026-03-01T10:15:00+0000')).toBe('2026-03-01T10:15:00+00:00');
    expect(normalizeTime('yesterday')).toBeNull();
    const p = parseCampaign(
      {
        id: '1',
        name: 'x',
        daily_budget: '5000',
        start_time: '2026-03-01T23:30:00+0000',
        stop_time: '2026-04-30T23:59:00+0200',
      },
      'EUR',
      'Europe/Berlin',
    );
    expect(p.ok && p.value).toMatchObject({
      dailyBudget: '50.00',
      startDate: '2026-03-02',
      endDate: '2026-04-30',
      lifetimeBudget: null,
    });
  });

  test("the lookback is the 28 days ending today in the account's time zone", () => {
    expect(lookbackWindow(new Date('2025-11-16T09:00:00Z'), 'Pacific/Honolulu')).toEqual({
      since: '2025-10-19',
      until: '2025-11-15',
    });
    expect(lookbackWindow(new Date('2025-11-16T09:00:00Z'), 'Asia/Tokyo')).toEqual({
      since: '2025-10-20',
      until: '2025-11-16',
    });
  });

  test('splits a backfill into ranges of at most N days', () => {
    expect(splitRange('2025-01-01', '2025-01-10', 4)).toEqual([
      { since: '2025-01-01', until: '2025-01-04' },
      { since: '2025-01-05', until: '2025-01-08' },
      { since: '2025-01-09', until: '2025-01-10' },
    ]);
  });

  test('an insights row outside the requested range, or with date_stop ≠ date_start, is rejected', () => {
    const base = {
      campaign_id: '1',
      date_start: '2025-11-01',
      date_stop: '2025-11-01',
      impressions: '1',
      clicks: '0',
      spend: '0',
    };
    expect(parseInsightRow(base, { since: '2025-11-02', until: '2025-11-03' }, null).ok).toBe(false);
    expect(
      parseInsightRow({ ...base, date_stop: '2025-11-02' }, { since: '2025-11-01', until: '2025-11-03' }, null).ok,
    ).toBe(false);
    expect(
      parseInsightRow(
        { ...base, actions: [{ action_type: 'lead', value: '3.5' }] },
        { since: '2025-11-01', until: '2025-11-03' },
        null,
      ).ok,
    ).toBe(false);
  });

  test(
    'clicks are link clicks (inline_link_clicks), all clicks kept ' + 'beside them; a row without link clicks has none',
    () => {
      const base = { campaign_id: '1', date_start: '2025-11-01', impressions: '100', clicks: '9', spend: '1' };
      const range = { since: '2025-11-01', until: '2025-11-01' };
      const r = parseInsightRow({ ...base, inline_link_clicks: '7' }, range, null);
      expect(r.ok && [r.value.clicks, r.value.allClicks]).toEqual(['7', '9']);
      const none = parseInsightRow(base, range, null);
      expect(none.ok && [none.value.clicks, none.value.allClicks]).toEqual(['0', '9']);
      expect(parseInsightRow({ ...base, inline_link_clicks: '7.5' }, range, null).ok).toBe(false);
      const { clicks: _all, ...withoutAll } = base;
      const bare = parseInsightRow({ ...withoutAll, inline_link_clicks: '3' }, range, null);
      expect(bare.ok && [bare.value.clicks, bare.value.allClicks]).toEqual(['3', null]);
    },
  );

  test(
    'a campaign not asked for leads (sales, traffic) has no lead ' +
      'count, not 0, on a row without a lead action; a lead campaign has 0',
    () => {
      const row = { campaign_id: '1', date_start: '2025-11-01', impressions: '100', clicks: '9', spend: '1' };
      const range = { since: '2025-11-01', until: '2025-11-01' };
      const leadsOf = (objective: string | null, extra: Record<string, unknown> = {}) => {
        const p = parseInsightRow({ ...row, ...extra }, range, null, objective);
        return p.ok ? p.value.leads : 'rejected';
      };
      expect(leadsOf('OUTCOME_SALES')).toBeNull();
      expect(leadsOf('OUTCOME_TRAFFIC')).toBeNull();
      expect(leadsOf('OUTCOME_LEADS')).toBe('0');
      expect(leadsOf('LEAD_GENERATION')).toBe('0');
      expect(leadsOf(null)).toBe('0');
      // A sales campaign that did report a lead action is counted all the same.
      expect(leadsOf('OUTCOME_SALES', { actions: [{ action_type: 'lead', value: '2' }] })).toBe('2');
    },
  );

  test(
    'flags are exact at their thresholds: CTR of exactly 50 % and ' + 'spend of exactly 1.5 × budget are not flagged',
    () => {
      const r = (o: Record<string, string>) =>
        parseInsightRow(
          {
            campaign_id: '1',
            date_start: '2025-11-01',
            impressions: '100',
            inline_link_clicks: '50',
            clicks: '60',
            spend: '75',
            ...o,
          },
          { since: '2025-11-01', until: '2025-11-01' },
          '50',
        );
      const exact = r({});
      expect(exact.ok && exact.value.flags).toEqual([]);
      const over = r({ inline_link_clicks: '51', spend: '75.01' });
      expect(over.ok && over.value.flags).toEqual(['CTR_OVER_50', 'SPEND_OVER_BUDGET']);
    },
  );

  test("no-delivery days stay between the campaign's start and end dates and skip rejected days", () => {
    const days = noDeliveryDays({
      range: { since: '2025-11-01', until: '2025-11-05' },
      returned: new Set(['c|2025-11-03']),
      rejected: new Set(['c|2025-11-04']),
      active: new Set(['c']),
      campaigns: new Map([['c', { startDate: '2025-11-02', endDate: '2025-11-05' }]]),
    });
    expect(days.map((d) => d.date)).toEqual(['2025-11-02', '2025-11-05']);
  });
});
