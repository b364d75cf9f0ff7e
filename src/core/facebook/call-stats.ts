/** Per-account numbers of the Graph API calls of one run, for the run summary. */
export interface CallStats {
  /** HTTP requests sent, retries included (a batch is one). */
  calls: number;
  /** Calls as Meta counts them against the rate limits: every request of a batch is one. */
  meteredCalls: number;
  /** Re-sent after a transient failure. */
  retries: number;
  /** Throttle errors received. */
  throttled: number;
  /** Time spent waiting for a throttle or pacing, ms. */
  waitedMs: number;
  /** Highest usage percentage seen in any header. */
  peakUsagePct: number;
  /** Highest value per header key. */
  peaks: Record<string, number>;
  malformedHeaders: number;
}

export function emptyCallStats(): CallStats {
  return {
    calls: 0,
    meteredCalls: 0,
    retries: 0,
    throttled: 0,
    waitedMs: 0,
    peakUsagePct: 0,
    peaks: {},
    malformedHeaders: 0,
  };
}
