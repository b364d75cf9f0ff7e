import type { Redactor } from './redact.js';
import { redactDeep } from './redact.js';

export interface ErrorReporter {
  capture(error: unknown, context: Record<string, unknown>): void;
  flush(): Promise<void>;
}

const noop: ErrorReporter = { capture: () => undefined, flush: async () => undefined };

/**
 * Sentry, imported only when a DSN is set: the SDK costs ~450 ms at start-up,
 * which --help and every cron run would pay for nothing otherwise.
 */
export async function createErrorReporter(
  dsn: string | undefined,
  job: string,
  redact: Redactor,
): Promise<ErrorReporter> {
  if (!dsn) return noop;
  const Sentry = await import('@sentry/node');
  Sentry.init({
    dsn,
    release: `leadsmart@${process.env.npm_package_version ?? '0.1.0'}`,
    environment: process.env.LEADSMART_ENVIRONMENT ?? 'production',
    defaultIntegrations: false,
    tracesSampleRate: 0,
    beforeSend: (event) => redactDeep(event, redact),
  });
  Sentry.setTag('job', job);
  return {
    capture(error, context) {
      Sentry.captureException(error, { extra: redactDeep(context, redact) });
    },
    async flush() {
      await Sentry.flush(5000);
    },
  };
}
