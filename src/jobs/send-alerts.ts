import { resolve } from 'node:path';
import { isIsoDate } from '../core/dates.js';
import { NO_CLIENT, NO_CLIENT_FLAG, reportSendAlerts } from '../core/reports/send-alerts.js';
import { UsageError } from '../errors.js';
import type { MailTransport } from '../integrations/email/transports.js';
import type { JobDefinition } from '../runtime/runner.js';
import { type SendAlertsOptions, sendAlerts } from './send-alerts/send.js';

export type { SendAlertsOptions };

export const sendAlertsJob: JobDefinition<SendAlertsOptions> = {
  name: 'send-alerts',
  description:
    'Email each client a digest of what changed for the latest ' +
    'scored date: campaigns to act on, to watch, to grow, and what ' +
    'was resolved. Each digest goes out once; nothing new means no email.',
  examples: [
    'bin/send-alerts                                   # digests for the latest scored date',
    'bin/send-alerts --date 2025-11-15 --dry-run       # what would be sent, to whom',
    'bin/send-alerts --preview /tmp/digests            # write HTML and text for a look; sends nothing',
    'bin/send-alerts --date 2025-11-15 --client acme --resend',
  ],
  writes: true,
  require: ['ALERT_FROM'],
  addOptions(cmd) {
    cmd
      .option('--date <YYYY-MM-DD>', 'the scoring date to report (default: the latest date with scores)')
      .option(
        '--client <ids>',
        `only these clients (client_id, comma-separated; ${NO_CLIENT_FLAG} = campaigns without a client)`,
      )
      .option('--resend', "send again even if this date's digest already went out (compared with the digest before it)")
      .option(
        '--preview <dir>',
        'write each digest as <client>-<date>.html and .txt into this folder instead of sending (implies --dry-run)',
      );
  },
  parseOptions(raw, args) {
    if (args.length > 0) throw new UsageError(`unexpected argument ${args[0]}; clients are chosen with --client`);
    let date: string | null = null;
    if (raw.date !== undefined) {
      date = String(raw.date);
      if (!isIsoDate(date))
        throw new UsageError(`--date ${date}: not a calendar date; expected YYYY-MM-DD, for example --date 2025-11-15`);
    }
    let clients: string[] | null = null;
    if (raw.client !== undefined) {
      clients = String(raw.client)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((s) => (s === NO_CLIENT_FLAG ? NO_CLIENT : s));
      if (clients.length === 0)
        throw new UsageError(
          `--client ${String(raw.client)}: name at least one client_id ` +
            `(or ${NO_CLIENT_FLAG} for campaigns without a client)`,
        );
    }
    const preview = raw.preview === undefined ? null : resolve(String(raw.preview));
    return { date, clients, resend: raw.resend === true, preview };
  },
  async run(ctx) {
    // The transport is opened here, and only for a real send: a dry run or a preview never touches SES.
    let mail: (MailTransport & { destroy?(): void }) | null = null;
    if (!ctx.dryRun && ctx.options.preview === null) {
      const { openMailTransport } = await import('../integrations/email/transports.js');
      mail = await openMailTransport(ctx.config.mailTransport, ctx.config.alerts);
    }
    try {
      return reportSendAlerts(await sendAlerts({ ...ctx, mail }, ctx.options));
    } finally {
      mail?.destroy?.();
    }
  },
};
