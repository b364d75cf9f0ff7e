import { isIP } from 'node:net';
import { parseStatusMap } from '../core/crm/events.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isTimeZone } from '../core/dates.js';

/** Every setting of the Configuration table (docs/configuration.md), checked and frozen. */
export interface AppConfig {
  /** PostgreSQL URL; undefined = let libpq-style PG* variables decide. */
  databaseUrl: string | undefined;
  /**
   * Where databaseUrl came from, for messages: a flag/env value, the PG* variables, or the project's local database.
   */
  databaseSource: 'DATABASE_URL' | 'PG*' | 'local';
  /** Read-only role URL for status-server. */
  databaseUrlReadonly: string | undefined;
  /** `file:///abs/path` or `s3://bucket/prefix`. */
  blobUrl: string;
  /** Sentry DSN; undefined = error reporting off. */
  sentryDsn: string | undefined;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  logFormat: 'json' | 'pretty';
  /** IANA zone whose "yesterday" is the default scoring date; default UTC. */
  timezone: string;
  /** SCORING_CONFIG: a scoring configuration JSON file used when --config is not given. */
  scoringConfigPath: string | undefined;
  /**
   * SCORING_CHUNK_CAMPAIGNS: campaigns per chunk that score-campaigns reads, scores and writes while the next chunks
   * are read.
   */
  scoringChunkCampaigns: number;
  /**
   * SCORING_ACTIONS: on (default) computes and stores the action of docs/decisions.md with every score; off stores the
   * recommendation as the action (gate "off"): a switch for an operator, and for measuring what the layer costs.
   */
  scoringActions: boolean;
  /**
   * IMPORT_MAX_INPUT_MB: the most import-csv reads of one input before refusing it (an endless input, /dev/zero, is bad
   * input).
   */
  importMaxInputMb: number;
  /** Retention applied by score-campaigns: months of score_history, days of job_runs, days of stored digest bodies. */
  retention: { scoreHistoryMonths: number; jobRunsDays: number; digestBodiesDays: number };
  fbAccessToken: string | undefined;
  /** Parsed FB_AD_ACCOUNTS: `act_<id>` with an optional client id. */
  fbAdAccounts: { accountId: string; clientId: string | null }[];
  fbGraphUrl: string;
  fbApiVersion: string;
  /** Tuning of fetch-facebook; the defaults suit the production API. */
  fb: FacebookTuning;
  /** `ses`, or `outbox:<dir>` to write .eml files. */
  mailTransport: string;
  alertFrom: string | undefined;
  alertTo: string[];
  /** Tuning of send-alerts. */
  alerts: AlertTuning;
  /** Settings of backup-db. */
  backup: BackupSettings;
  statusHost: string;
  statusPort: number;
  statusToken: string | undefined;
  /** STATUS_RATE_LIMIT: /api/* requests per minute per client address (default 100). */
  statusRateLimit: number;
  /** STATUS_API_CACHE_MS: an /api/* answer is reused for the same URL this long (0–60000 ms, default 1000). */
  statusApiCacheMs: number;
  /** Settings of crm-webhook. */
  crm: CrmSettings;
  /**
   * TRUSTED_PROXIES: addresses or CIDR ranges of the reverse proxies in front of the two services, whose
   * X-Forwarded-For names the client (comma-separated; default none: the socket's address is the client's).
   */
  trustedProxies: string[];
  /** Every secret value in force, for redaction. */
  secrets: string[];
}

export interface CrmSettings {
  /** CRM_WEBHOOK_HOST, CRM_WEBHOOK_PORT: where crm-webhook listens (127.0.0.1:8090). */
  host: string;
  port: number;
  /** CRM_WEBHOOK_PUBLIC_URL: the address senders call, without the path (https://hooks.example.com): HubSpot signs
   * it. */
  publicUrl: string | undefined;
  /** HUBSPOT_APP_SECRET: the HubSpot app's client secret, the key of its v3 signatures. */
  hubspotAppSecret: string | undefined;
  /** CRM_STATUS_MAP merged over the defaults: CRM value (lower case) → the project's status. */
  statusMap: ReadonlyMap<string, string>;
  /** HUBSPOT_STATUS_PROPERTY (hs_lead_status) and HUBSPOT_LEAD_ID_PROPERTY (none): the contact properties read. */
  hubspotStatusProperty: string;
  hubspotLeadIdProperty: string | undefined;
  /** CRM_WEBHOOK_MAX_IN_FLIGHT: requests in progress at once; past it 503 with Retry-After at once (default 64). */
  maxInFlight: number;
  /** CRM_WEBHOOK_KEEP_DAYS: days events, their raw requests and refusal counts are kept (default 90). */
  keepDays: number;
  /** CRM_PENDING_EXPIRE_DAYS: days a pending event waits for its lead before it expires (default 30). */
  pendingExpireDays: number;
}

export interface FacebookTuning {
  /** FB_PAGE_SIZE: rows asked for per page (5–5000, default 500); halved only when the API asks for less data. */
  pageSize: number;
  /** FB_BATCH_SIZE: requests per batch POST for per-ad leads (1–50, default 50; 1 = no batching). */
  batchSize: number;
  /** FB_REQUEST_TIMEOUT_SECONDS: one request, connect to last byte (default 120). */
  requestTimeoutMs: number;
  /** FB_RETRIES: retries of a transient failure per request (default 4). */
  retries: number;
  /** FB_RETRY_BASE_MS: first backoff, doubled per retry with jitter, capped at 60 s (default 2000). */
  retryBaseMs: number;
  /**
   * FB_MAX_THROTTLE_WAIT_SECONDS: a throttle lifting sooner than this is waited out; a later one defers the account
   * (default 120).
   */
  maxThrottleWaitMs: number;
  /**
   * FB_SLOW_DOWN_AT_PCT / FB_DEFER_AT_PCT: usage percentages at which calls are spaced out / the account is deferred
   * (50 / 75).
   */
  slowFromPct: number;
  deferAtPct: number;
  /** FB_MAX_SPACING_MS: spacing between calls just below FB_DEFER_AT_PCT (default 10000). */
  maxSpacingMs: number;
  /** FB_ASYNC_POLL_MS: first wait between polls of an asynchronous report run, doubling to 30 s (default 5000). */
  asyncPollMs: number;
  /**
   * FB_ASYNC_TIMEOUT_SECONDS: a report run not completed by then is submitted once more, then given up (default 1800).
   */
  asyncTimeoutMs: number;
}

export interface AlertTuning {
  /** ALERT_GAP_DAYS: days up to the scoring date without delivery that make a data gap (1–14, default 2). */
  gapDays: number;
  /**
   * ALERT_SEND_RATE: messages per second, at most (default 1, the SES sandbox rate; a production account has its own
   * quota).
   */
  sendRate: number;
  /** ALERT_RETRIES: retries of a throttled or transient send (default 4). */
  retries: number;
  /** ALERT_RETRY_BASE_MS: first backoff, doubled per retry with jitter, capped at 30 s (default 1000). */
  retryBaseMs: number;
  /** ALERT_REQUEST_TIMEOUT_SECONDS: one SES request, connect to last byte (default 30). */
  requestTimeoutMs: number;
  /** ALERT_UNSUBSCRIBE_URL: an https page that unsubscribes (adds one-click List-Unsubscribe); unset = mailto only. */
  unsubscribeUrl: string | undefined;
  /** SES_CONFIGURATION_SET: the SES configuration set to send through (bounce and complaint events), optional. */
  sesConfigurationSet: string | undefined;
}

export interface BackupSettings {
  /** BACKUP_PREFIX: the name part of backup keys, database/<prefix>_<UTC timestamp>.dump (default leadsmart). */
  prefix: string;
  /** BACKUP_KEEP_DAYS: backups older than this are deleted after a good new one (1–3650, default 7). */
  keepDays: number;
  /** BACKUP_SSE: S3 server-side encryption, AES256 (default), aws:kms or none. */
  encryption: 'AES256' | 'aws:kms' | 'none';
  /** True when BACKUP_SSE was set explicitly (then a store that cannot encrypt is an error, not a note). */
  encryptionExplicit: boolean;
  /** BACKUP_KMS_KEY_ID: KMS key id or ARN for aws:kms; unset = the account's default key. */
  kmsKeyId: string | undefined;
  /** PG_BINDIR: folder with pg_dump and pg_restore; unset = /usr/lib/postgresql/<version>/bin or PATH. */
  pgBinDir: string | undefined;
  /**
   * BACKUP_PART_SIZE_MB: S3 multipart part size (5–512 MiB, default 16): two parts in flight is the upload's memory;
   * 10,000 parts × this is the largest dump.
   */
  partSizeMb: number;
}

/** Settings a job can require to be present. */
export type RequiredSetting =
  | 'FB_ACCESS_TOKEN'
  | 'FB_AD_ACCOUNTS'
  | 'ALERT_FROM'
  | 'DATABASE_URL_READONLY'
  | 'STATUS_TOKEN'
  | 'HUBSPOT_APP_SECRET';

const SECRET_NAMES = [
  'DATABASE_URL',
  'DATABASE_URL_READONLY',
  'SENTRY_DSN',
  'FB_ACCESS_TOKEN',
  'STATUS_TOKEN',
  'HUBSPOT_APP_SECRET',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'PGPASSWORD',
] as const;
const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

export type ConfigLoad =
  | { ok: true; config: Readonly<AppConfig> }
  | { ok: false; problems: string[]; secrets: string[] };

export interface LoadConfigOptions {
  /** Values given as flags; they win over the environment. */
  overrides?: Partial<Record<string, string | undefined>>;
  require?: readonly RequiredSetting[];
  /** The project's local state folder (local database socket, blobs, outbox). */
  stateDir: string;
}

/** The URL of the project's local database cluster (scripts/local-db.sh). */
export function localDatabaseUrl(stateDir: string): string {
  return `postgresql://postgres@/leadsmart?host=${encodeURIComponent(join(stateDir, 'pg', 'run'))}`;
}

export function loadConfig(env: NodeJS.ProcessEnv, options: LoadConfigOptions): ConfigLoad {
  const problems: string[] = [];
  const secrets: string[] = [];
  // Each setting is read once: a *_FILE is read once and its problem reported once.
  const seen = new Map<string, string | undefined>();
  const raw = (name: string): string | undefined => {
    if (!seen.has(name)) seen.set(name, read(name));
    return seen.get(name);
  };
  const read = (name: string): string | undefined => {
    const flag = options.overrides?.[name];
    if (flag !== undefined) return flag;
    const direct = env[name];
    const fileVar = env[`${name}_FILE`];
    if ((SECRET_NAMES as readonly string[]).includes(name) && fileVar !== undefined && fileVar !== '') {
      if (direct !== undefined && direct !== '') {
        problems.push(`${name} and ${name}_FILE are both set: keep one`);
        return direct;
      }
      try {
        // A secret has no surrounding whitespace: the file's trailing newline (and any padding) is not part of it.
        const value = readFileSync(fileVar, 'utf8').trim();
        if (value === '') {
          problems.push(
            `${name}_FILE=${fileVar}: the file is empty or holds only whitespace; write the ${name} value into it`,
          );
          return undefined;
        }
        return value;
      } catch (error) {
        problems.push(
          `${name}_FILE=${fileVar}: cannot read the file ` +
            `(${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): ` +
            `check the path and its permissions`,
        );
        return undefined;
      }
    }
    return direct === '' ? undefined : direct;
  };
  for (const name of SECRET_NAMES) {
    const v = raw(name);
    // For connection URLs only the password is secret: host and database stay visible in messages.
    if (v) secrets.push(name.startsWith('DATABASE_URL') ? (safePassword(v) ?? '') : v);
  }

  const dbUrl = raw('DATABASE_URL');
  let databaseSource: AppConfig['databaseSource'] = 'DATABASE_URL';
  let databaseUrl: string | undefined = dbUrl;
  if (dbUrl !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(dbUrl))
      problems.push('DATABASE_URL: expected postgresql://user:password@host:port/database');
  } else if (env.PGHOST || env.PGDATABASE || env.PGSERVICE) {
    databaseSource = 'PG*';
  } else {
    databaseSource = 'local';
    databaseUrl = localDatabaseUrl(options.stateDir);
  }
  const dbUrlRo = raw('DATABASE_URL_READONLY');
  if (dbUrlRo !== undefined && !/^postgres(ql)?:\/\//.test(dbUrlRo))
    problems.push('DATABASE_URL_READONLY: expected postgresql://user:password@host:port/database');

  const blobUrl = raw('BLOB_URL') ?? `file://${join(options.stateDir, 'blobs')}`;
  if (!/^file:\/\/\/./.test(blobUrl) && !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(blobUrl)) {
    problems.push(`BLOB_URL=${blobUrl}: expected file:///absolute/path or s3://bucket/prefix`);
  }

  const sentryDsn = raw('SENTRY_DSN');
  if (sentryDsn !== undefined && !/^https?:\/\/[^@\s]+@[^/\s]+\/\S+$/.test(sentryDsn)) {
    problems.push('SENTRY_DSN: expected https://<key>@<host>/<project> (unset it to turn error reporting off)');
  }

  const logLevel = (raw('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!['error', 'warn', 'info', 'debug'].includes(logLevel))
    problems.push(`LOG_LEVEL=${logLevel}: expected error, warn, info or debug`);
  const logFormatDefault = process.stderr.isTTY ? 'pretty' : 'json';
  const logFormat = (raw('LOG_FORMAT') ?? logFormatDefault).toLowerCase();
  if (!['json', 'pretty'].includes(logFormat)) problems.push(`LOG_FORMAT=${logFormat}: expected json or pretty`);

  const timezone = raw('SCORING_TIMEZONE') ?? 'UTC';
  if (!isTimeZone(timezone))
    problems.push(`SCORING_TIMEZONE=${timezone}: not an IANA time zone (for example UTC or Europe/Berlin)`);

  const fbAccounts: AppConfig['fbAdAccounts'] = [];
  const accountsRaw = raw('FB_AD_ACCOUNTS');
  if (accountsRaw !== undefined) {
    for (const item of accountsRaw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const m = /^(?:act_)?(\d+)(?:=(\S+))?$/.exec(item);
      if (!m)
        problems.push(`FB_AD_ACCOUNTS: "${item}" is not act_<digits> or <digits>, optionally followed by =<client_id>`);
      else fbAccounts.push({ accountId: `act_${m[1]}`, clientId: m[2] ?? null });
    }
  }
  const fbGraphUrl = (raw('FB_GRAPH_URL') ?? 'https://graph.facebook.com').replace(/\/+$/, '');
  if (!/^https?:\/\/\S+$/.test(fbGraphUrl)) problems.push(`FB_GRAPH_URL=${fbGraphUrl}: expected an http(s) URL`);
  const fbApiVersion = raw('FB_API_VERSION') ?? 'v25.0';
  if (!/^v\d+\.\d+$/.test(fbApiVersion)) problems.push(`FB_API_VERSION=${fbApiVersion}: expected a version like v25.0`);

  const wholeNumber = (name: string, fallback: number, min: number, max: number): number => {
    const text = raw(name);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) {
      problems.push(`${name}=${text}: expected a whole number from ${min} to ${max} (default ${fallback})`);
      return fallback;
    }
    return n;
  };
  const scoringChunkCampaigns = wholeNumber('SCORING_CHUNK_CAMPAIGNS', 10_000, 1, 1_000_000);
  const scoringActionsText = (raw('SCORING_ACTIONS') ?? 'on').toLowerCase();
  if (!['on', 'off'].includes(scoringActionsText))
    problems.push(`SCORING_ACTIONS=${scoringActionsText}: expected on or off (default on)`);
  const importMaxInputMb = wholeNumber('IMPORT_MAX_INPUT_MB', 4096, 1, 1_048_576);
  const retention = {
    scoreHistoryMonths: wholeNumber('SCORE_HISTORY_KEEP_MONTHS', 25, 1, 1200),
    jobRunsDays: wholeNumber('JOB_RUNS_KEEP_DAYS', 400, 1, 36_500),
    digestBodiesDays: wholeNumber('DIGEST_BODIES_KEEP_DAYS', 90, 1, 36_500),
  };
  const fb: FacebookTuning = {
    pageSize: wholeNumber('FB_PAGE_SIZE', 500, 5, 5000),
    batchSize: wholeNumber('FB_BATCH_SIZE', 50, 1, 50),
    requestTimeoutMs: wholeNumber('FB_REQUEST_TIMEOUT_SECONDS', 120, 1, 3600) * 1000,
    retries: wholeNumber('FB_RETRIES', 4, 0, 10),
    retryBaseMs: wholeNumber('FB_RETRY_BASE_MS', 2000, 1, 60000),
    maxThrottleWaitMs: wholeNumber('FB_MAX_THROTTLE_WAIT_SECONDS', 120, 0, 3600) * 1000,
    slowFromPct: wholeNumber('FB_SLOW_DOWN_AT_PCT', 50, 1, 100),
    deferAtPct: wholeNumber('FB_DEFER_AT_PCT', 75, 1, 100),
    maxSpacingMs: wholeNumber('FB_MAX_SPACING_MS', 10000, 0, 600000),
    asyncPollMs: wholeNumber('FB_ASYNC_POLL_MS', 5000, 1, 60000),
    asyncTimeoutMs: wholeNumber('FB_ASYNC_TIMEOUT_SECONDS', 1800, 1, 14400) * 1000,
  };
  if (fb.slowFromPct >= fb.deferAtPct)
    problems.push(`FB_SLOW_DOWN_AT_PCT (${fb.slowFromPct}) must be below FB_DEFER_AT_PCT (${fb.deferAtPct})`);

  const mailTransport = raw('MAIL_TRANSPORT') ?? `outbox:${join(options.stateDir, 'outbox')}`;
  if (mailTransport !== 'ses' && !/^outbox:.+/.test(mailTransport))
    problems.push(`MAIL_TRANSPORT=${mailTransport}: expected ses or outbox:<directory>`);
  const alertFrom = raw('ALERT_FROM');
  if (alertFrom !== undefined && !EMAIL.test(alertFrom.replace(/^.*<(.+)>$/, '$1')))
    problems.push(`ALERT_FROM=${alertFrom}: not an email address`);
  const alertTo = (raw('ALERT_TO') ?? '')
    .split(/[,;]/)
    .map((s) => s.trim())
    .filter(Boolean);
  for (const a of alertTo) if (!EMAIL.test(a)) problems.push(`ALERT_TO: "${a}" is not an email address`);

  const sendRateText = raw('ALERT_SEND_RATE') ?? '1';
  const sendRate = Number(sendRateText);
  if (!/^\d+(\.\d+)?$/.test(sendRateText) || sendRate < 0.01 || sendRate > 1000)
    problems.push(
      `ALERT_SEND_RATE=${sendRateText}: expected messages per second ` +
        `from 0.01 to 1000 (default 1, the SES sandbox rate)`,
    );
  const unsubscribeUrl = raw('ALERT_UNSUBSCRIBE_URL');
  if (unsubscribeUrl !== undefined && !/^https:\/\/\S+$/.test(unsubscribeUrl))
    problems.push(
      `ALERT_UNSUBSCRIBE_URL=${unsubscribeUrl}: expected an https:// ` +
        `URL (one-click unsubscribe needs https), or leave it unset for mailto only`,
    );
  const alerts: AlertTuning = {
    gapDays: wholeNumber('ALERT_GAP_DAYS', 2, 1, 14),
    sendRate,
    retries: wholeNumber('ALERT_RETRIES', 4, 0, 10),
    retryBaseMs: wholeNumber('ALERT_RETRY_BASE_MS', 1000, 1, 60000),
    requestTimeoutMs: wholeNumber('ALERT_REQUEST_TIMEOUT_SECONDS', 30, 1, 600) * 1000,
    unsubscribeUrl,
    sesConfigurationSet: raw('SES_CONFIGURATION_SET'),
  };

  const backupPrefix = raw('BACKUP_PREFIX') ?? 'leadsmart';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(backupPrefix))
    problems.push(
      `BACKUP_PREFIX=${backupPrefix}: use letters, digits, ".", "-" and "_" (it becomes part of the object key)`,
    );
  const sseText = raw('BACKUP_SSE');
  const sse = sseText ?? 'AES256';
  if (!['AES256', 'aws:kms', 'none'].includes(sse))
    problems.push(
      `BACKUP_SSE=${sse}: expected AES256, aws:kms (with BACKUP_KMS_KEY_ID, or the account's default key) or none`,
    );
  const kmsKeyId = raw('BACKUP_KMS_KEY_ID');
  if (kmsKeyId !== undefined && sse !== 'aws:kms')
    problems.push(`BACKUP_KMS_KEY_ID is set but BACKUP_SSE=${sse}: set BACKUP_SSE=aws:kms to encrypt with that key`);
  const backup: BackupSettings = {
    prefix: backupPrefix,
    keepDays: wholeNumber('BACKUP_KEEP_DAYS', 7, 1, 3650),
    encryption: sse as BackupSettings['encryption'],
    encryptionExplicit: sseText !== undefined,
    kmsKeyId,
    pgBinDir: raw('PG_BINDIR'),
    partSizeMb: wholeNumber('BACKUP_PART_SIZE_MB', 16, 5, 512),
  };

  const statusHost = raw('STATUS_HOST') ?? '127.0.0.1';
  const portText = raw('STATUS_PORT') ?? '8080';
  const statusPort = Number(portText);
  if (!/^\d+$/.test(portText) || statusPort > 65535)
    problems.push(`STATUS_PORT=${portText}: expected a port number 0–65535`);
  const statusToken = raw('STATUS_TOKEN');
  if (statusToken !== undefined && statusToken.trim().length < 16)
    problems.push('STATUS_TOKEN: too short; use at least 16 random characters (for example: openssl rand -hex 24)');
  else if (statusToken !== undefined && /\s/.test(statusToken))
    problems.push('STATUS_TOKEN: contains whitespace; use random characters only (for example: openssl rand -hex 24)');

  const crmPortText = raw('CRM_WEBHOOK_PORT') ?? '8090';
  if (!/^\d+$/.test(crmPortText) || Number(crmPortText) > 65535)
    problems.push(`CRM_WEBHOOK_PORT=${crmPortText}: expected a port number 0–65535`);
  const publicUrl = raw('CRM_WEBHOOK_PUBLIC_URL')?.replace(/\/+$/, '');
  if (publicUrl !== undefined && !/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(publicUrl))
    problems.push(
      `CRM_WEBHOOK_PUBLIC_URL=${publicUrl}: expected the address senders call, without the /webhooks/… path, ` +
        'e.g. https://hooks.example.com',
    );
  const statusMap = parseStatusMap(raw('CRM_STATUS_MAP'));
  problems.push(...statusMap.problems);
  const property = (name: string, fallback?: string) => {
    const v = raw(name) ?? fallback;
    if (v !== undefined && !/^[a-z0-9_]{1,100}$/i.test(v))
      problems.push(`${name}=${v}: expected a HubSpot property's internal name (letters, digits, _)`);
    return v;
  };
  const crm: CrmSettings = {
    host: raw('CRM_WEBHOOK_HOST') ?? '127.0.0.1',
    port: Number(crmPortText),
    publicUrl,
    hubspotAppSecret: raw('HUBSPOT_APP_SECRET'),
    statusMap: statusMap.map,
    hubspotStatusProperty: property('HUBSPOT_STATUS_PROPERTY', 'hs_lead_status')!,
    hubspotLeadIdProperty: property('HUBSPOT_LEAD_ID_PROPERTY'),
    maxInFlight: wholeNumber('CRM_WEBHOOK_MAX_IN_FLIGHT', 64, 1, 10_000),
    keepDays: wholeNumber('CRM_WEBHOOK_KEEP_DAYS', 90, 1, 3650),
    pendingExpireDays: wholeNumber('CRM_PENDING_EXPIRE_DAYS', 30, 1, 3650),
  };
  if (crm.hubspotAppSecret !== undefined && crm.publicUrl === undefined)
    problems.push(
      'HUBSPOT_APP_SECRET is set but CRM_WEBHOOK_PUBLIC_URL is not: HubSpot signs the address it calls; set it ' +
        '(e.g. https://hooks.example.com)',
    );

  const trustedProxies = parseTrustedProxies(raw('TRUSTED_PROXIES'), problems);

  const present: Record<RequiredSetting, unknown> = {
    FB_ACCESS_TOKEN: raw('FB_ACCESS_TOKEN'),
    FB_AD_ACCOUNTS: accountsRaw,
    ALERT_FROM: alertFrom,
    DATABASE_URL_READONLY: dbUrlRo,
    STATUS_TOKEN: statusToken,
    HUBSPOT_APP_SECRET: crm.hubspotAppSecret,
  };
  for (const name of options.require ?? []) {
    if (present[name] === undefined) {
      // Only secrets are read from a *_FILE: suggesting ALERT_FROM_FILE would send the operator to a setting that is
      // ignored.
      const fromFile = (SECRET_NAMES as readonly string[]).includes(name)
        ? `; it can also be given as ${name}_FILE, a file holding the value`
        : '';
      problems.push(`${name} is not set: this job needs it (see docs/configuration.md${fromFile})`);
    }
  }

  if (problems.length > 0) return { ok: false, problems, secrets };
  return {
    ok: true,
    config: Object.freeze({
      databaseUrl,
      databaseSource,
      databaseUrlReadonly: dbUrlRo,
      blobUrl,
      sentryDsn,
      logLevel: logLevel as AppConfig['logLevel'],
      logFormat: logFormat as AppConfig['logFormat'],
      timezone,
      scoringConfigPath: raw('SCORING_CONFIG'),
      scoringChunkCampaigns,
      scoringActions: scoringActionsText !== 'off',
      importMaxInputMb,
      retention,
      fbAccessToken: raw('FB_ACCESS_TOKEN'),
      fbAdAccounts: fbAccounts,
      fbGraphUrl,
      fbApiVersion,
      fb: Object.freeze(fb),
      mailTransport,
      alertFrom,
      alertTo,
      alerts: Object.freeze(alerts),
      backup: Object.freeze(backup),
      statusHost,
      statusPort,
      statusToken,
      statusRateLimit: wholeNumber('STATUS_RATE_LIMIT', 100, 1, 1_000_000),
      statusApiCacheMs: wholeNumber('STATUS_API_CACHE_MS', 1000, 0, 60_000),
      crm: Object.freeze(crm),
      trustedProxies,
      secrets,
    }),
  };
}

/** TRUSTED_PROXIES: `127.0.0.1, 10.0.0.0/8, ::1` → the list; anything but an address or a CIDR range is a problem. */
function parseTrustedProxies(text: string | undefined, problems: string[]): string[] {
  if (text === undefined || text.trim() === '') return [];
  const out: string[] = [];
  for (const item of text.split(',').map((x) => x.trim())) {
    const [address, bits, extra] = item.split('/');
    const family = isIP(address ?? '');
    const max = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= max)))
      problems.push(
        `TRUSTED_PROXIES: ${JSON.stringify(item.slice(0, 60))} is not an address or a CIDR range; list the reverse ` +
          "proxy's addresses, e.g. TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8",
      );
    else out.push(item);
  }
  return out;
}

function safePassword(url: string): string | undefined {
  try {
    const p = new URL(url).password;
    return p ? decodeURIComponent(p) : undefined;
  } catch {
    return undefined;
  }
}
