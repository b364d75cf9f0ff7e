import { ExitCode } from '../../errors.js';
import type { CallStats } from '../facebook/call-stats.js';
import type { JobReport } from './job-report.js';

export interface UpsertCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

/** What one account's transaction wrote. */
export interface PromotionCounts {
  campaigns: UpsertCounts;
  metrics: UpsertCounts;
  /** Rows written as zeros because the API returned no row for a delivering campaign that day. */
  noDeliveryDays: number;
  leads: UpsertCounts;
}

export type AccountOutcome = 'succeeded' | 'failed' | 'deferred';

/** One ad account in one run. */
export interface AccountResult {
  account: string;
  outcome: AccountOutcome;
  since: string | null;
  until: string | null;
  /** Exit code this account's failure calls for (0 when it did not fail). */
  exitCode: number;
  error: string | null;
  warnings: string[];
  rows: { campaigns: number; insights: number; rejected: number; leads: number };
  written: PromotionCounts | null;
  stats: CallStats;
  /** Set when this account's failure stops the accounts after it: a rejected token or an app-wide throttle. */
  stopsOthers?: 'token' | 'app-throttle';
}

/** What fetchFacebook returns. */
export interface FetchFacebookResult {
  dryRun: boolean;
  accounts: AccountResult[];
}

/**
 * The run's exit code: the most serious failure's (configuration 78, a bug 1, unavailable 69, bad data 65), else
 * 75 when an account was deferred to the next run, else 0.
 */
export function fetchFacebookExitCode(accounts: readonly AccountResult[]): number {
  const failures = accounts.filter((r) => r.outcome === 'failed');
  return (
    [ExitCode.CONFIG, ExitCode.SOFTWARE, ExitCode.UNAVAILABLE, ExitCode.DATA_ERR].find((c) =>
      failures.some((r) => r.exitCode === c),
    ) ?? (accounts.some((r) => r.outcome === 'deferred') ? ExitCode.TEMP_FAIL : ExitCode.OK)
  );
}

function accountLine(r: AccountResult, dryRun: boolean): string {
  const metered = r.stats.meteredCalls === r.stats.calls ? '' : ` (${r.stats.meteredCalls} as Meta counts them)`;
  const head =
    `${r.account}: ${r.outcome}${r.since ? ` ${r.since}…${r.until}` : ''}, ${r.stats.calls} ` +
    `request${r.stats.calls === 1 ? '' : 's'}${metered}`;
  if (r.outcome !== 'succeeded') return `${head}: ${r.error}`;
  const w = r.written;
  const rows =
    `${r.rows.campaigns} campaigns, ${r.rows.insights} insight rows, ` +
    `${r.rows.leads} leads${r.rows.rejected ? `, ${r.rows.rejected} rejected` : ''}`;
  const writes = w
    ? `; written: metrics ${w.metrics.inserted} new, ${w.metrics.updated} changed, ` +
      `${w.metrics.unchanged} unchanged, ${w.noDeliveryDays} no-delivery days; leads ${w.leads.inserted} new`
    : dryRun
      ? ' (dry run: nothing written)'
      : '';
  return `${head}, ${rows}${writes}; peak usage ${r.stats.peakUsagePct} %`;
}

/** One line per account and a total; counts for job_runs and EMF; the --json document with every account. */
export function reportFetchFacebook(result: FetchFacebookResult): JobReport {
  const { accounts: results, dryRun } = result;
  const failed = results.filter((r) => r.outcome === 'failed').length;
  const deferred = results.filter((r) => r.outcome === 'deferred').length;
  const sum = (f: (r: AccountResult) => number): number => results.reduce((a, r) => a + f(r), 0);
  const lines = results.map((r) => accountLine(r, dryRun));
  lines.push(
    `${results.length - failed - deferred} of ${results.length} ad ` +
      `account${results.length === 1 ? '' : 's'} ` +
      `fetched${failed ? `, ${failed} failed` : ''}${deferred ? `, ${deferred} deferred to the next run` : ''}.`,
  );
  return {
    exitCode: fetchFacebookExitCode(results),
    counts: {
      accounts: results.length,
      accounts_failed: failed,
      accounts_deferred: deferred,
      api_calls: sum((r) => r.stats.calls),
      api_calls_metered: sum((r) => r.stats.meteredCalls),
      api_retries: sum((r) => r.stats.retries),
      insight_rows: sum((r) => r.rows.insights),
      rows_rejected: sum((r) => r.rows.rejected),
      leads: sum((r) => r.rows.leads),
      peak_usage_pct: Math.max(0, ...results.map((r) => r.stats.peakUsagePct)),
    },
    summary: {
      dry_run: dryRun,
      accounts: results.map((r) => ({
        account: r.account,
        outcome: r.outcome,
        since: r.since,
        until: r.until,
        error: r.error,
        warnings: r.warnings,
        calls: r.stats.calls,
        metered_calls: r.stats.meteredCalls,
        retries: r.stats.retries,
        throttled: r.stats.throttled,
        waited_ms: r.stats.waitedMs,
        usage_peak_pct: r.stats.peakUsagePct,
        usage_peaks: r.stats.peaks,
        rows: r.rows,
        written: r.written,
      })),
      calls: sum((r) => r.stats.calls),
      metered_calls: sum((r) => r.stats.meteredCalls),
      retries: sum((r) => r.stats.retries),
    },
    text: lines.join('\n'),
  };
}
