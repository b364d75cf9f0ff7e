import { UsageError } from '../errors.js';
import type { JobContext, JobDefinition } from '../runtime/runner.js';
import { serveUntilSignal } from '../runtime/serve.js';

export interface StatusServerOptions {
  host: string;
  port: number;
  rateLimitPerMinute: number;
}

/**
 * `bin/status-server`: serves until SIGTERM/SIGINT, then stops accepting,
 * lets the requests in progress finish (at most 10 s) and exits 0. It
 * connects as the read-only role (DATABASE_URL_READONLY); a database that
 * goes away makes /readyz answer 503 until it is back.
 */
export const statusServerJob: JobDefinition<StatusServerOptions> = {
  name: 'status-server',
  description:
    'The read-only HTTP service: the dashboard people sign in to (/, /campaigns/{id}, /clients/{id}, ' +
    '/scorecard.csv, /jobs; users with `status-server users`), /healthz, /readyz, /status, /metrics and /api/* ' +
    '(bearer token).',
  examples: [
    'bin/status-server',
    'bin/status-server --port 9090',
    'curl -s localhost:8080/status',
    'curl -s -H "Authorization: Bearer $STATUS_TOKEN" "localhost:8080/api/recommendations?limit=100"',
  ],
  writes: false,
  bookkeeping: false,
  readOnlyDatabase: true,
  poolSize: 8,
  drainOnSignal: true,
  // Read-only: several instances (a restart overlapping the old one, one per port) do no harm.
  lock: false,
  require: ['DATABASE_URL_READONLY', 'STATUS_TOKEN'],
  addOptions(cmd) {
    cmd
      .option('--host <address>', 'address to bind (default: STATUS_HOST or 127.0.0.1)')
      .option('--port <port>', 'port (default: STATUS_PORT or 8080; 0 = any free port)')
      .option('--rate-limit <n>', '/api/* requests per minute per client address (default: STATUS_RATE_LIMIT or 100)');
  },
  parseOptions(raw, args, { config }) {
    if (args.length > 0) throw new UsageError(`unexpected argument ${args[0]}`);
    const port = raw.port === undefined ? config.statusPort : Number(raw.port);
    if (raw.port !== undefined && (!/^\d{1,5}$/.test(String(raw.port)) || port > 65535))
      throw new UsageError(`--port ${String(raw.port)}: expected a port number 0–65535`);
    let rateLimitPerMinute = config.statusRateLimit;
    if (raw.rateLimit !== undefined) {
      rateLimitPerMinute = Number(raw.rateLimit);
      if (!/^\d{1,7}$/.test(String(raw.rateLimit)) || rateLimitPerMinute < 1)
        throw new UsageError(
          `--rate-limit ${String(raw.rateLimit)}: expected a whole number of requests per minute, at least 1`,
        );
    }
    return { host: raw.host === undefined ? config.statusHost : String(raw.host), port, rateLimitPerMinute };
  },
  async run(ctx) {
    const { createStatusService } = await import('../status/server.js');
    const { app } = await createStatusService({
      db: ctx.db,
      now: () => ctx.clock.now(),
      token: ctx.config.statusToken,
      rateLimitPerMinute: ctx.options.rateLimitPerMinute,
      apiCacheMs: ctx.config.statusApiCacheMs,
      trustedProxies: ctx.config.trustedProxies,
      log: (level, message, meta) => ctx.logger[level](ctx.redact(message), meta),
    });
    const { url, served } = await serveUntilSignal(ctx as JobContext<unknown>, app, {
      host: ctx.options.host,
      port: ctx.options.port,
      settings: 'STATUS_PORT/--port',
    });
    return {
      counts: { requests: served },
      summary: { url, requests: served },
      text: `status-server stopped after ${served} requests.`,
    };
  },
};
