import type { AppConfig } from '../config/load-config.js';
import { addDays, dateInZone, isIsoDate } from '../core/dates.js';
import { describeGraphError } from '../core/facebook/errors.js';
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
} from '../core/facebook/records.js';
import {
  promoteAccount,
  readLeadsWatermark,
  recordAccountRun,
  type PromotionCounts,
} from '../db/repositories/facebook.repository.js';
import {
  AccountDeferred,
  AccountSession,
  emptyCallStats,
  GraphApiError,
  type ArchivedResponse,
  type CallStats,
} from '../integrations/facebook/graph-client.js';
import {
  fetchAccount,
  fetchAds,
  fetchCampaigns,
  fetchInsights,
  fetchLeads,
  type PagingOptions,
} from '../integrations/facebook/marketing-api.js';
import { openBlobStore, type BlobStore } from '../integrations/storage/blob-store.js';
import { ExitCode, JobError, UnavailableError, UsageError } from '../errors.js';
import type { JobContext, JobDefinition } from '../runtime/runner.js';

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
/** The API keeps insights for 37 months. */
const RETENTION_MONTHS = 37;
/** Leads are re-read from an hour before the previous run's watermark: a lead can show up late. */
const LEAD_OVERLAP_MS = 3_600_000;
/** More than this share of a run's campaigns with rejected rows is a warning. */
const INCOMPLETE_WARNING_SHARE = 0.2;

type Outcome = 'succeeded' | 'failed' | 'deferred';

interface AccountResult {
  account: string;
  outcome: Outcome;
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

class ArchiveError extends Error {}

function parseDate(flag: string, value: unknown): string {
  const d = String(value);
  if (!isIsoDate(d)) throw new UsageError(`${flag} ${d}: not a calendar date; expected YYYY-MM-DD`);
  return d;
}

/** What Meta's lead retrieval guide asks of a token that reads campaigns, insights and leads with their ad ids. */
export const TOKEN_PERMISSIONS =
  'ads_read (ads_management where the Business requires it), ' +
  'leads_retrieval, and the Page permissions pages_show_list, ' +
  'pages_read_engagement and pages_manage_ads';

const TOKEN_HELP =
  `Renew it: in Business Manager, Business settings → Users → ` +
  `System users → Generate new token (permissions: ${TOKEN_PERMISSIONS}), ` +
  'then put it in FB_ACCESS_TOKEN or the file FB_ACCESS_TOKEN_FILE ' +
  'names, and re-run bin/fetch-facebook (README, runbook: rotating ' +
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

async function fetchOne(
  ctx: JobContext<FetchFacebookOptions>,
  session: AccountSession,
  paging: PagingOptions,
): Promise<Fetched> {
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
  ctx: JobContext<FetchFacebookOptions>,
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
  const session = new AccountSession(
    entry.accountId,
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

function summarize(results: AccountResult[], dryRun: boolean): string {
  const lines = results.map((r) => {
    const metered = r.stats.meteredCalls === r.stats.calls ? '' : ` (${r.stats.meteredCalls} as Meta counts them)`;
    const head =
      `${r.account}: ${r.outcome}${r.since ? ` ${r.since}…${r.until}` : ''}, ${r.stats.calls} ` +
      `request${r.stats.calls === 1 ? '' : 's'}${metered}`;
    if (r.outcome !== 'succeeded') return `${head}: ${r.error}`;
    const w = r.written;
    const rows =
      `${r.rows.campaigns} campaigns, ${r.rows.insights} insight ` +
      `rows, ${r.rows.leads} ` +
      `leads${r.rows.rejected ? `, ${r.rows.rejected} rejected` : ''}`;
    const writes = w
      ? `; written: metrics ${w.metrics.inserted} ` +
        `new, ${w.metrics.updated} changed, ${w.metrics.unchanged} ` +
        `unchanged, ${w.noDeliveryDays} no-delivery days; ` +
        `leads ${w.leads.inserted} new`
      : dryRun
        ? ' (dry run: nothing written)'
        : '';
    return `${head}, ${rows}${writes}; peak usage ${r.stats.peakUsagePct} %`;
  });
  const failed = results.filter((r) => r.outcome === 'failed').length;
  const deferred = results.filter((r) => r.outcome === 'deferred').length;
  lines.push(
    `${results.length - failed - deferred} of ${results.length} ad ` +
      `account${results.length === 1 ? '' : 's'} ` +
      `fetched${failed ? `, ${failed} failed` : ''}${deferred ? `, ${deferred} deferred to the next run` : ''}.`,
  );
  return lines.join('\n');
}

export const fetchFacebookJob: JobDefinition<FetchFacebookOptions> = {
  name: 'fetch-facebook',
  description:
    'Pull campaigns, daily campaign insights (28-day lookback) and ' +
    'Lead Ads leads for every ad account in FB_AD_ACCOUNTS from the ' +
    'Meta Marketing API, one transaction per account.',
  examples: [
    'bin/fetch-facebook                                   # every account, the last 28 days',
    'bin/fetch-facebook --account act_1234567890 --json',
    'bin/fetch-facebook --since 2025-01-01 --until 2025-03-31 --account act_1234567890   # backfill',
    'bin/fetch-facebook --dry-run                         # fetch and check, write nothing',
  ],
  writes: true,
  require: ['FB_ACCESS_TOKEN', 'FB_AD_ACCOUNTS'],
  addOptions(cmd) {
    cmd
      .option('--account <ids>', 'only these ad accounts (act_<id>, comma-separated; each must be in FB_AD_ACCOUNTS)')
      .option(
        '--since <YYYY-MM-DD>',
        "backfill from this date (in the account's time zone) instead of the 28-day lookback",
      )
      .option('--until <YYYY-MM-DD>', 'backfill up to this date (default: today); needs --since')
      .option(
        '--timeout <duration>',
        'give up on accounts not finished after this long (45m, 90s, 2h); they are deferred to the next run',
        '60m',
      )
      .option('--no-leads', 'skip Lead Ads leads');
  },
  parseOptions(raw, args, { clock, config }) {
    if (args.length > 0) throw new UsageError(`unexpected argument ${args[0]}; accounts are chosen with --account`);
    let accounts = config.fbAdAccounts;
    if (raw.account !== undefined) {
      const wanted = String(raw.account)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((s) => (s.startsWith('act_') ? s : `act_${s}`));
      const unknown = wanted.filter((w) => !config.fbAdAccounts.some((a) => a.accountId === w));
      if (unknown.length > 0 || wanted.length === 0) {
        throw new UsageError(
          `--account ${String(raw.account)}: ${unknown.join(', ') || 'no account'} ` +
            `not in FB_AD_ACCOUNTS ` +
            `(${config.fbAdAccounts.map((a) => a.accountId).join(', ')}); ` +
            `add it there first`,
        );
      }
      accounts = config.fbAdAccounts.filter((a) => wanted.includes(a.accountId));
    }
    const today = clock.now().toISOString().slice(0, 10);
    const since = raw.since === undefined ? null : parseDate('--since', raw.since);
    const until = raw.until === undefined ? null : parseDate('--until', raw.until);
    if (until !== null && since === null)
      throw new UsageError('--until needs --since (without them the job reads the last 28 days)');
    if (since !== null) {
      const oldest = new Date(clock.now());
      oldest.setUTCMonth(oldest.getUTCMonth() - RETENTION_MONTHS);
      const oldestDate = addDays(oldest.toISOString().slice(0, 10), 1);
      if (since < oldestDate)
        throw new UsageError(
          `--since ${since}: the Marketing API keeps insights ` +
            `for ${RETENTION_MONTHS} months; the earliest date it serves ` +
            `is ${oldestDate}`,
        );
      // An account's time zone can be up to 14 hours ahead of UTC.
      if (since > addDays(today, 1) || (until !== null && until > addDays(today, 1)))
        throw new UsageError(`--since/--until must not be in the future (today is ${today} UTC)`);
      if (until !== null && until < since) throw new UsageError(`--until ${until} is before --since ${since}`);
    }
    const timeout = /^(\d+)(s|m|h)?$/.exec(String(raw.timeout));
    const timeoutMs = timeout
      ? Number(timeout[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[(timeout[2] ?? 'm') as 's' | 'm' | 'h']
      : 0;
    if (!timeout || timeoutMs < 1000 || timeoutMs > 86_400_000)
      throw new UsageError(
        `--timeout ${String(raw.timeout)}: expected a duration such as ` +
          `45m, 90s or 2h (plain numbers are minutes), at most 24h`,
      );
    return { accounts, since, until, timeoutMs, leads: raw.leads !== false };
  },
  async run(ctx) {
    const { options } = ctx;
    let store: BlobStore | null = null;
    if (!ctx.dryRun) {
      try {
        store = await openBlobStore(ctx.config.blobUrl);
      } catch (error) {
        throw new UnavailableError(
          `cannot open the blob store ${ctx.redact(ctx.config.blobUrl)} ` +
            `for the raw responses (${(error as Error).message}); check ` +
            `BLOB_URL. Nothing was fetched.`,
          { cause: error },
        );
      }
    }
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

    const failures = results.filter((r) => r.outcome === 'failed');
    const exitCode =
      [ExitCode.CONFIG, ExitCode.SOFTWARE, ExitCode.UNAVAILABLE, ExitCode.DATA_ERR].find((c) =>
        failures.some((r) => r.exitCode === c),
      ) ?? (results.some((r) => r.outcome === 'deferred') ? ExitCode.TEMP_FAIL : ExitCode.OK);
    const sum = (f: (r: AccountResult) => number): number => results.reduce((a, r) => a + f(r), 0);
    return {
      exitCode,
      counts: {
        accounts: results.length,
        accounts_failed: failures.length,
        accounts_deferred: results.filter((r) => r.outcome === 'deferred').length,
        api_calls: sum((r) => r.stats.calls),
        api_calls_metered: sum((r) => r.stats.meteredCalls),
        api_retries: sum((r) => r.stats.retries),
        insight_rows: sum((r) => r.rows.insights),
        rows_rejected: sum((r) => r.rows.rejected),
        leads: sum((r) => r.rows.leads),
        peak_usage_pct: Math.max(0, ...results.map((r) => r.stats.peakUsagePct)),
      },
      summary: {
        dry_run: ctx.dryRun,
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
      text: summarize(results, ctx.dryRun),
    };
  },
};
