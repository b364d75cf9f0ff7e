import { isIsoDate } from '../../core/dates.js';
import { UsageError } from '../../errors.js';
import type { DeadLettersOptions } from '../../crm/dead-letters.js';
import type { JobDefinition } from '../../runtime/runner.js';

/**
 * `bin/crm-webhook dead-letters list|replay`: the events crm-webhook kept as invalid, and reading them again once
 * the setting they failed on is fixed (a status CRM_STATUS_MAP did not know, a HubSpot property): HubSpot cannot
 * resend a delivery under new ids, so its dead letters are replayed from the raw requests kept with them.
 */
export const deadLettersCommand: JobDefinition<DeadLettersOptions> = {
  name: 'crm-webhook',
  description:
    'The dead letters of crm-webhook (events kept as invalid, with their reason and raw request): list them, or ' +
    'replay them with the current settings after fixing CRM_STATUS_MAP or a HubSpot property; those that now read ' +
    'as valid are applied as if they had just come, the rest stay.',
  examples: [
    'bin/crm-webhook dead-letters list',
    'bin/crm-webhook dead-letters list --since 2025-11-01 --json',
    'bin/crm-webhook dead-letters replay --dry-run',
    'bin/crm-webhook dead-letters replay --since 2025-11-01',
  ],
  writes: true,
  bookkeeping: false,
  lock: false,
  addOptions(cmd) {
    cmd
      .argument('<dead-letters>', 'the word "dead-letters"')
      .argument('<command>', 'list or replay')
      .option('--since <date>', 'only those received on or after this day (YYYY-MM-DD, UTC)')
      .option('--limit <n>', 'list: at most this many, oldest first (default 50; the counts by reason cover all)');
  },
  parseOptions(raw, args) {
    const [, command] = args;
    if (command !== 'list' && command !== 'replay')
      throw new UsageError(`dead-letters ${command ?? ''}: unknown command; expected list or replay`);
    const since = raw.since === undefined ? null : String(raw.since);
    if (since !== null && !isIsoDate(since))
      throw new UsageError(`--since ${since.slice(0, 40)}: expected a date, YYYY-MM-DD`);
    let limit = 50;
    if (raw.limit !== undefined) {
      if (command !== 'list') throw new UsageError('--limit is for dead-letters list');
      if (!/^\d{1,6}$/.test(String(raw.limit)) || Number(raw.limit) < 1)
        throw new UsageError(`--limit ${String(raw.limit).slice(0, 20)}: expected a whole number from 1`);
      limit = Number(raw.limit);
    }
    return { command, since, limit };
  },
  async run(ctx) {
    const { runDeadLetters } = await import('../../crm/dead-letters.js');
    return runDeadLetters(ctx);
  },
};
