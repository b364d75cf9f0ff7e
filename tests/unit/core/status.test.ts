import { describe, expect, test } from '@jest/globals';
import { assessJob, readinessProblems, SCHEDULE } from '../../../src/core/status/health.js';
import { BadRequest, encodeCursor, parsePage, RateLimiter } from '../../../src/core/status/requests.js';

const NOW = new Date('2025-11-16T09:00:00Z');
const fetchSchedule = SCHEDULE.find((s) => s.job === 'fetch-facebook')!;
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000);
const run = (exitCode: number, h: number) => ({
  runId: '1',
  startedAt: hoursAgo(h),
  finishedAt: hoursAgo(h),
  status: exitCode === 0 ? 'succeeded' : 'failed',
  exitCode,
  durationMs: 1000,
  counts: {},
  error: null,
});

describe('job staleness', () => {
  test('on time within interval + grace, late after it, down after twice the interval + grace', () => {
    const at = (h: number) =>
      assessJob(fetchSchedule, { job: 'fetch-facebook', lastRun: run(0, h), lastSuccessAt: hoursAgo(h) }, NOW).state;
    expect([at(1), at(4.9), at(5.1), at(8.9), at(9.1)]).toEqual(['ok', 'ok', 'late', 'late', 'down']);
  });

  test(
    'a job that never ran or never succeeded is "never"; a failed ' + 'last run is flagged, a deferred one (75) is not',
    () => {
      expect(
        assessJob(fetchSchedule, { job: 'fetch-facebook', lastRun: null, lastSuccessAt: null }, NOW),
      ).toMatchObject({
        state: 'never',
        summary: 'has never run',
      });
      expect(
        assessJob(fetchSchedule, { job: 'fetch-facebook', lastRun: run(69, 1), lastSuccessAt: hoursAgo(2) }, NOW),
      ).toMatchObject({ state: 'ok', lastRunFailed: true });
      expect(
        assessJob(fetchSchedule, { job: 'fetch-facebook', lastRun: run(75, 1), lastSuccessAt: hoursAgo(2) }, NOW)
          .lastRunFailed,
      ).toBe(false);
    },
  );

  test('readiness lists every job that is not on time, with why', () => {
    const late = assessJob(
      fetchSchedule,
      { job: 'fetch-facebook', lastRun: run(0, 6), lastSuccessAt: hoursAgo(6) },
      NOW,
    );
    expect(readinessProblems([late])).toEqual(['fetch-facebook late: last success 6 h ago, expected every 4 h']);
  });
});

describe('API parameters', () => {
  test('a cursor round-trips; a forged or mis-shaped one is a BadRequest', () => {
    const c = encodeCursor(['TEST_CHANGES', '41.50', 'c-1']);
    expect(parsePage(new URLSearchParams({ cursor: c }), 3).after).toEqual(['TEST_CHANGES', '41.50', 'c-1']);
    expect(() => parsePage(new URLSearchParams({ cursor: c }), 1)).toThrow(BadRequest);
    expect(() => parsePage(new URLSearchParams({ cursor: "'; DROP TABLE" }), 1)).toThrow(
      'not a cursor this API returned',
    );
    expect(() => parsePage(new URLSearchParams({ limit: '501' }), 1)).toThrow(
      'limit=501: expected a whole number from 1 to 500',
    );
  });
});

describe('rate limit', () => {
  test('allows the limit per window per address, then answers how long to wait', () => {
    const rl = new RateLimiter(3, 60_000);
    expect([0, 1, 2].map((i) => rl.take('a', 1000 + i).ok)).toEqual([true, true, true]);
    expect(rl.take('a', 2000)).toEqual({ ok: false, retryAfterSeconds: 59 });
    expect(rl.take('b', 2000).ok).toBe(true);
    expect(rl.take('a', 61_000).ok).toBe(true);
  });
});
