import { addDays, isIsoDate } from '../core/dates.js';
import { reportFetchFacebook } from '../core/reports/fetch-facebook.js';
import { UnavailableError, UsageError } from '../errors.js';
import type { BlobStore } from '../integrations/storage/blob-store.js';
import type { JobDefinition } from '../runtime/runner.js';
import { type FetchFacebookOptions, fetchFacebook, graphSessions } from './fetch-facebook/fetch.js';

export { TOKEN_PERMISSIONS } from './fetch-facebook/fetch.js';
export type { FetchFacebookOptions };

/** The API keeps insights for 37 months. */
const RETENTION_MONTHS = 37;

function parseDate(flag: string, value: unknown): string {
  const d = String(value);
  if (!isIsoDate(d)) throw new UsageError(`${flag} ${d}: not a calendar date; expected YYYY-MM-DD`);
  return d;
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
    // The raw answers' archive is opened before anything is fetched: an answer that cannot be kept is not written.
    let store: BlobStore | null = null;
    if (!ctx.dryRun) {
      const { openBlobStore } = await import('../integrations/storage/blob-store.js');
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
    return reportFetchFacebook(await fetchFacebook({ ...ctx, store, graph: graphSessions(ctx.config) }, ctx.options));
  },
};
