import type { AppConfig } from '../../config/load-config.js';
import { addDays, dateInZone } from '../../core/dates.js';
import { describeGraphError } from '../../core/facebook/errors.js';
import {
  LEAD_OBJECTIVES,
  lookbackWindow,
  parseCampaign,
  parseInsightRow,
  parseLead,
  splitRange,
  type CampaignRecord,
  type LeadRecord,
  type MetricRecord,
} from '../../core/facebook/records.js';
import { promoteAccount, readLeadsWatermark, recordAccountRun } from '../../db/repositories/facebook.repository.js';
import {
  AccountDeferred,
  AccountSession,
  emptyCallStats,
  GraphApiError,
  type ArchivedResponse,
  type CallStats,
} from '../../integrations/facebook/graph-client.js';
import {
  fetchAccount,
  fetchAds,
  fetchCampaigns,
  fetchInsights,
  fetchLeads,
  type PagingOptions,
} from '../../integrations/facebook/marketing-api.js';
import type { BlobStore } from '../../integrations/storage/blob-store.js';
import { ExitCode, JobError } from '../../errors.js';
import type { AccountOutcome, AccountResult, FetchFacebookResult } from '../../core/reports/fetch-facebook.js';
import type { JobDeps } from '../../runtime/job-deps.js';

/** Opens the Graph API session of one ad account: its requests end when `signal` aborts; answers go to `archive`. */
export type GraphSessions = (
  accountId: string,
  signal: AbortSignal,
  archive: (response: ArchivedResponse) => Promise<void>,
) => AccountSession;

/** JobDeps, the blob store the raw answers are archived in (null: not archived, as a dry run), the Graph API. */
export interface FetchFacebookDeps extends JobDeps {
  store: BlobStore | null;
  graph: GraphSessions;
}

type FetchContext = FetchFacebookDeps & { options: FetchFacebookOptions };

/** The Graph API sessions of the settings: FB_ACCESS_TOKEN, FB_GRAPH_URL, the FB_* tuning. */
export function graphSessions(config: AppConfig): GraphSessions {
  return (accountId, signal, archive) =>
    new AccountSession(
      accountId,
      {
        baseUrl: config.fbGraphUrl,
        version: config.fbApiVersion,
        token: config.fbAccessToken ?? '',
        requestTimeoutMs: config.fb.requestTimeoutMs,
        retries: config.fb.retries,
        retryBaseMs: config.fb.retryBaseMs,
        retryMaxMs: 60_000,
        maxThrottleWaitMs: config.fb.maxThrottleWaitMs,
        batchSize: config.fb.batchSize,
        pacing: {
          slowFromPct: config.fb.slowFromPct,
          deferAtPct: config.fb.deferAtPct,
          maxSpacingMs: config.fb.maxSpacingMs,
        },
      },
      signal,
      archive,
    );
}

export interface FetchFacebookOptions {
  accounts: AppConfig['fbAdAccounts'];
  /** Backfill range (dates in each account's time zone); null = the 28-day lookback ending today. */
  since: string | null;
  until: string | null;
  /** Whole-run deadline; accounts not reached by then are deferred. */
  timeoutMs: number;
  leads: boolean;
}

/** Insights are restated for 28 days: every run re-reads them. */
const LOOKBACK_DAYS = 28;
/** Backfills are asked for in ranges of this many days. */
const CHUNK_DAYS = 28;
/** Leads are re-read from an hour before the previous run's watermark: a lead can show up late. */
const LEAD_OVERLAP_MS = 3_600_000;
/** More than this share of a run's campaigns with rejected rows is a warning. */
const INCOMPLETE_WARNING_SHARE = 0.2;

type Outcome = AccountOutcome;

class ArchiveError extends Error {}

/** What Meta's lead retrieval guide asks of a token that reads campaigns, insights and leads with their ad ids. */
export const TOKEN_PERMISSIONS =
  'ads_read (ads_management where the Business requires it), ' +
  'leads_retrieval, and the Page permissions pages_show_list, ' +
  'pages_read_engagement and pages_manage_ads';

const TOKEN_HELP =
  `Renew it: in Business Manager, Business settings → Users → ` +
  `System users → Generate new token (permissions: ${TOKEN_PERMISSIONS}), ` +
  'then put it in FB_ACCESS_TOKEN or the file FB_ACCESS_TOKEN_FILE ' +
  'names, and re-run bin/fetch-facebook (docs/runbook.md: rotating ' +
  'the Facebook token).';

interface Failure {
  outcome: Outcome;
  exitCode: number;
  message: string;
  stopsOthers?: AccountResult['stopsOthers'];
}

function failureOf(error: unknown, account: string): Failure {
  const failed = (exitCode: number, message: string): Failure => ({ outcome: 'failed', exitCode, message });
  if (error instanceof AccountDeferred)
    return {
      outcome: 'deferred',
      exitCode: ExitCode.TEMP_FAIL,
      message: error.message,
      stopsOthers: error.appWide ? 'app-throttle' : undefined,
    };
  if (error instanceof GraphApiError) {
    const what = describeGraphError(error.info);
    switch (error.info.kind) {
      case 'token':
        return {
          ...failed(ExitCode.CONFIG, `the Graph API rejected FB_ACCESS_TOKEN (${what}). ${TOKEN_HELP}`),
          stopsOthers: 'token',
        };
      case 'permission':
        if (error.path === 'leads') {
          return failed(
            ExitCode.CONFIG,
            `the token may not read the Lead Ads leads of ${account} ` +
              `(${what}): give the token's system user leads_retrieval, ` +
              `pages_show_list, pages_read_engagement and pages_manage_ads on ` +
              `the Page (and ads_management where required), and access to the ` +
              `Page's leads (Leads Access Manager), or run with --no-leads`,
          );
        }
        return failed(
          ExitCode.CONFIG,
          `the token may not read ${account} (${what}): give the token's ` +
            `system user access to this ad account in Business Manager ` +
            `(permissions: ${TOKEN_PERMISSIONS}), or remove ${account} from ` +
            `FB_AD_ACCOUNTS`,
        );
      case 'transient':
        return failed(
          ExitCode.UNAVAILABLE,
          `the Graph API kept failing on ${error.path} after retries (${what}); the next run will try again`,
        );
      case 'reduce-data':
        return failed(
          ExitCode.UNAVAILABLE,
          `the Graph API asked for less data even for one day at the ` +
            `smallest page size (${what}); try a lower FB_PAGE_SIZE`,
        );
      default:
        return failed(ExitCode.UNAVAILABLE, `the Graph API refused ${error.path} (${what})`);
    }
  }
  if (error instanceof ArchiveError) return failed(ExitCode.UNAVAILABLE, error.message);
  if (error instanceof JobError) return failed(error.exitCode, error.message);
  return failed(ExitCode.SOFTWARE, `unexpected error: ${(error as Error)?.message ?? String(error)}`);
}

/** An account's result before anything happened to it. */
function newResult(account: string, stats: CallStats = emptyCallStats()): AccountResult {
  return {
    account,
    outcome: 'succeeded',
    since: null,
    until: null,
    exitCode: 0,
    error: null,
    warnings: [],
    rows: { campaigns: 0, insights: 0, rejected: 0, leads: 0 },
    written: null,
    stats,
  };
}

interface Fetched {
  since: string;
  until: string;
  accountName: string | null;
  currency: string;
  campaigns: CampaignRecord[];
  unlisted: Map<string, string | null>;
  metrics: MetricRecord[];
  rejected: Set<string>;
  leads: LeadRecord[];
  leadsWatermark: Date | null;
  warnings: string[];
  problems: string[];
}

async function fetchOne(ctx: FetchContext, session: AccountSession, paging: PagingOptions): Promise<Fetched> {
  const { options, clock } = ctx;
  const account = await fetchAccount(session);
  const window = options.since
    ? { since: options.since, until: options.until ?? dateInZone(clock.now(), account.timeZone) }
    : lookbackWindow(clock.now(), account.timeZone, LOOKBACK_DAYS);
  const warnings: string[] = [];
  const problems: string[] = [];

  const campaigns: CampaignRecord[] = [];
  for (const raw of await fetchCampaigns(session, paging)) {
    const p = parseCampaign(raw, account.currency, account.timeZone);
    if (p.ok) campaigns.push(p.value);
    else problems.push(...p.problems.map((x) => `campaign ${p.id ?? '?'}: ${x}`));
  }
  const byId = new Map(campaigns.map((c) => [c.campaignId, c]));

  const metrics: MetricRecord[] = [];
  const rejected = new Set<string>();
  const rejectedCampaigns = new Set<string>();
  const unlisted = new Map<string, string | null>();
  for (const chunk of splitRange(window.since, window.until, CHUNK_DAYS)) {
    ctx.throwIfInterrupted();
    const got = await fetchInsights(session, chunk, paging, {
      pollMs: ctx.config.fb.asyncPollMs,
      timeoutMs: ctx.config.fb.asyncTimeoutMs,
    });
    if (got.ranges.length > 1 || got.reports > 0) {
      ctx.logger.info(
        `${session.accountId}: the API asked for less ` +
          `data; ${chunk.since}…${chunk.until} was read ` +
          `in ${got.ranges.length} ranges with pages ` +
          `of ${got.limit}${got.reports ? `, ${got.reports} day(s) through asynchronous report runs` : ''}`,
      );
    }
    for (const raw of got.rows) {
      const campaignId = String((raw as { campaign_id?: unknown })?.campaign_id ?? '');
      const p = parseInsightRow(
        raw,
        chunk,
        byId.get(campaignId)?.dailyBudget ?? null,
        byId.get(campaignId)?.objective ?? null,
      );
      if (!p.ok) {
        problems.push(...p.problems);
        rejected.add(`${campaignId}|${String((raw as { date_start?: unknown })?.date_start)}`);
        if (campaignId) rejectedCampaigns.add(campaignId);
        continue;
      }
      metrics.push(p.value);
      if (!byId.has(p.value.campaignId)) unlisted.set(p.value.campaignId, p.value.campaignName);
    }
  }
  const withRows = new Set([...metrics.map((m) => m.campaignId), ...rejectedCampaigns]);
  if (withRows.size > 0 && rejectedCampaigns.size / withRows.size > INCOMPLETE_WARNING_SHARE) {
    warnings.push(
      `${rejectedCampaigns.size} of ${withRows.size} campaigns (more ` +
        `than ${INCOMPLETE_WARNING_SHARE * 100} %) have incomplete or ` +
        `invalid insights rows; those rows were not written`,
    );
  }
  if (unlisted.size > 0)
    warnings.push(
      `${unlisted.size} campaign(s) have insights but were not in the ` +
        `campaign listing; created with the name from ` +
        `insights: ${[...unlisted.keys()].slice(0, 5).join(', ')}`,
    );
  const flagged = metrics.filter((m) => m.flags.length > 0);
  if (flagged.length > 0) {
    const byFlag = new Map<string, number>();
    for (const m of flagged) for (const f of m.flags) byFlag.set(f, (byFlag.get(f) ?? 0) + 1);
    warnings.push(
      `data-quality flags on ${flagged.length} row(s): ${[...byFlag].map(([f, n]) => `${f} ${n}`).join(', ')}`,
    );
  }

  let leads: LeadRecord[] = [];
  let leadsWatermark: Date | null = null;
  if (options.leads) {
    const previous = await readLeadsWatermark(ctx.db, session.accountId);
    const now = clock.now();
    const windowStart = new Date(`${addDays(window.since, -1)}T00:00:00Z`);
    const after = previous ? new Date(previous.getTime() - LEAD_OVERLAP_MS) : windowStart;
    // There is no account-level leads edge: leads are read per ad. Only ads of lead campaigns whose insights
    // count leads on or after the day before the watermark are asked: Instant Form leads are reported on the
    // day they happen (action_report_time "mixed"), and the hour of overlap covers the insights' refresh lag.
    // When the watermark is older than the insights window that signal is missing, and every lead campaign is asked.
    const afterDate = addDays(after.toISOString().slice(0, 10), -1);
    const withLeads = new Set(metrics.filter((m) => m.date >= afterDate && m.leads !== '0').map((m) => m.campaignId));
    const leadCampaigns = new Set(
      campaigns
        .filter(
          (c) =>
            c.objective !== null &&
            LEAD_OBJECTIVES.has(c.objective) &&
            (after < windowStart || withLeads.has(c.campaignId)),
        )
        .map((c) => c.campaignId),
    );
    if (leadCampaigns.size > 0) {
      const ads = (await fetchAds(session, paging)).filter((a) =>
        leadCampaigns.has(String((a as { campaign_id?: unknown })?.campaign_id)),
      );
      const campaignOfAd = new Map(
        ads.map((a) => [String((a as { id?: unknown }).id), String((a as { campaign_id?: unknown }).campaign_id)]),
      );
      ctx.throwIfInterrupted();
      const byAd = await fetchLeads(
        session,
        [...campaignOfAd.keys()],
        Math.floor(after.getTime() / 1000),
        Math.ceil(now.getTime() / 1000),
        paging,
      );
      const seen = new Map<string, LeadRecord>();
      for (const [adId, raws] of byAd) {
        for (const raw of raws) {
          const p = parseLead(raw, campaignOfAd.get(adId)!);
          if (p.ok) seen.set(p.value.leadId, p.value);
          else problems.push(...p.problems);
        }
      }
      leads = [...seen.values()];
      for (const l of leads)
        if (!byId.has(l.campaignId) && !unlisted.has(l.campaignId)) unlisted.set(l.campaignId, null);
    }
    leadsWatermark = now;
  }
  return {
    ...window,
    accountName: account.name,
    currency: account.currency,
    campaigns,
    unlisted,
    metrics,
    rejected,
    leads,
    leadsWatermark,
    warnings,
    problems,
  };
}

async function processAccount(
  ctx: FetchContext,
  entry: AppConfig['fbAdAccounts'][number],
  signal: AbortSignal,
  store: BlobStore | null,
): Promise<AccountResult> {
  const { config } = ctx;
  const runDate = ctx.clock.now().toISOString().slice(0, 10);
  // Answers are archived while the next request is under way (the write starts after the current turn of
  // the event loop); every write has finished, or the account has failed, before its transaction starts.
  const writes: Promise<void>[] = [];
  let archiveFailure: ArchiveError | null = null;
  const archive = async (r: ArchivedResponse): Promise<void> => {
    if (archiveFailure) throw archiveFailure;
    if (!store) return;
    const key = `facebook/${runDate}/${r.accountId}/${ctx.runId}/${String(r.seq).padStart(4, '0')}-${r.endpoint}.json`;
    const write = new Promise<void>((resolve) => setImmediate(resolve))
      // The URL, the kept headers and the paging links are already token-free; redact() is the second line of defence.
      .then(async () => {
        await store.put(key, ctx.redact(JSON.stringify(r)), { contentType: 'application/json' });
      })
      .catch((error: unknown) => {
        archiveFailure ??= new ArchiveError(
          `cannot archive the raw response ` +
            `to ${ctx.redact(config.blobUrl)} (${(error as Error).message}); ` +
            `nothing of ${r.accountId} was written. Check BLOB_URL and its ` +
            `permissions, then re-run.`,
        );
      });
    writes.push(write);
  };
  const archived = async (): Promise<void> => {
    await Promise.all(writes);
    if (archiveFailure) throw archiveFailure;
  };
  const session = ctx.graph(entry.accountId, signal, archive);
  const paging: PagingOptions = { limit: config.fb.pageSize, minLimit: 25 };
  const result = newResult(entry.accountId, session.stats);
  try {
    const t0 = Date.now();
    const f = await fetchOne(ctx, session, paging);
    await archived();
    const t1 = Date.now();
    Object.assign(result, { since: f.since, until: f.until, warnings: f.warnings });
    result.rows = {
      campaigns: f.campaigns.length,
      insights: f.metrics.length,
      rejected: f.problems.length,
      leads: f.leads.length,
    };
    for (const p of f.problems.slice(0, 20)) ctx.logger.warn(`${entry.accountId}: rejected: ${p}`);
    if (f.problems.length > 20)
      ctx.logger.warn(`${entry.accountId}: … and ${f.problems.length - 20} more rejected records`);
    for (const w of f.warnings) ctx.logger.warn(`${entry.accountId}: ${w}`);
    if (!ctx.dryRun) {
      ctx.throwIfInterrupted();
      result.written = await ctx.transaction(async ({ trx }) =>
        promoteAccount(trx, {
          accountId: entry.accountId,
          clientId: entry.clientId,
          accountName: f.accountName,
          currency: f.currency,
          campaigns: f.campaigns,
          unlistedCampaigns: [...f.unlisted].map(([campaignId, name]) => ({ campaignId, name })),
          range: { since: f.since, until: f.until },
          metrics: f.metrics,
          rejected: f.rejected,
          leads: f.leads,
          leadsWatermark: f.leadsWatermark,
        }),
      );
    }
    ctx.logger.debug(`${entry.accountId}: fetched and checked in ${t1 - t0} ms, written in ${Date.now() - t1} ms`);
  } catch (error) {
    if (ctx.signal.aborted) throw ctx.signal.reason as Error;
    if (signal.aborted) {
      Object.assign(result, {
        outcome: 'deferred',
        exitCode: ExitCode.TEMP_FAIL,
        error:
          'the run deadline (--timeout) passed before this account was ' +
          'finished; nothing of it was written; the next run retries it',
      });
    } else {
      const f = failureOf(error, entry.accountId);
      Object.assign(result, {
        outcome: f.outcome,
        exitCode: f.exitCode,
        error: ctx.redact(f.message),
        stopsOthers: f.stopsOthers,
      });
      if (f.exitCode === ExitCode.SOFTWARE)
        ctx.logger.error(`${entry.accountId}: ${ctx.redact((error as Error)?.stack ?? String(error))}`);
    }
  } finally {
    await Promise.all(writes);
    await session.close();
  }
  return result;
}

/**
 * Fetches every account of options.accounts from the Marketing API through deps.graph and writes each in a
 * transaction of its own (none with deps.dryRun), archiving the raw answers in deps.store first. An account that
 * fails is recorded and the next one goes on, unless the token was rejected or the app is throttled.
 */
export async function fetchFacebook(
  deps: FetchFacebookDeps,
  options: FetchFacebookOptions,
): Promise<FetchFacebookResult> {
  const ctx: FetchContext = { ...deps, options };
  const store = deps.dryRun ? null : deps.store;
  const deadline = AbortSignal.any([ctx.signal, AbortSignal.timeout(options.timeoutMs)]);
  const results: AccountResult[] = [];
  let stopAll: { outcome: Outcome; exitCode: number; error: string } | null = null;
  for (const entry of options.accounts) {
    ctx.throwIfInterrupted();
    let result: AccountResult;
    if (stopAll || deadline.aborted) {
      const why = stopAll ?? {
        outcome: 'deferred' as const,
        exitCode: ExitCode.TEMP_FAIL,
        error: 'the run deadline (--timeout) passed before this account was started; the next run fetches it',
      };
      result = { ...newResult(entry.accountId), outcome: why.outcome, exitCode: why.exitCode, error: why.error };
    } else {
      result = await processAccount(ctx, entry, deadline, store);
      if (result.stopsOthers === 'token')
        stopAll = {
          outcome: 'failed',
          exitCode: ExitCode.CONFIG,
          error: `not attempted: FB_ACCESS_TOKEN was rejected on ${entry.accountId}. ${TOKEN_HELP}`,
        };
      else if (result.stopsOthers === 'app-throttle')
        stopAll = {
          outcome: 'deferred',
          exitCode: ExitCode.TEMP_FAIL,
          error: `not attempted: the app-wide rate limit was hit on ${entry.accountId}; the next run fetches it`,
        };
    }
    if (result.outcome === 'succeeded')
      ctx.logger.info(`${entry.accountId}: fetched`, {
        calls: result.stats.calls,
        rows: result.rows,
        written: result.written ?? undefined,
      });
    else
      ctx.logger[result.outcome === 'failed' ? 'error' : 'warn'](
        `${entry.accountId}: ${result.outcome}: ${result.error}`,
        { calls: result.stats.calls },
      );
    if (ctx.runId !== null) {
      await recordAccountRun(ctx.db, {
        runId: ctx.runId,
        accountId: entry.accountId,
        outcome: result.outcome,
        since: result.since,
        until: result.until,
        calls: result.stats.calls,
        counts: { rows: result.rows, written: result.written, stats: result.stats },
        warnings: result.warnings,
        error: result.error,
      });
    }
    results.push(result);
  }

  return { dryRun: deps.dryRun, accounts: results };
}
