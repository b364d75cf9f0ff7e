import { type CrmEvent, MalformedBody, readHubSpotBody, readLeadsBody } from '../core/crm/events.js';
import { ConfigError } from '../errors.js';
import { type DeadLetter, listDeadLetters, replayDeadLetters } from '../db/repositories/crm.repository.js';
import type { JobContext, JobOutcome } from '../runtime/runner.js';

export interface DeadLettersOptions {
  command: 'list' | 'replay';
  /** Only those received on or after this day (UTC), or all. */
  since: string | null;
  /** list: how many to show (the summary by reason counts them all). */
  limit: number;
}

/** Every dead letter is read for the counts by reason and for a replay; the list shows `limit` of them. */
const ALL = 1_000_000;

/** The dead letters listed, or read again with the current settings and replayed (see the command's help). */
export async function runDeadLetters(ctx: JobContext<DeadLettersOptions>): Promise<JobOutcome> {
  const { command, since, limit } = ctx.options;
  let letters: DeadLetter[];
  try {
    letters = await listDeadLetters(ctx.db, {
      since: since === null ? null : new Date(`${since}T00:00:00Z`),
      limit: ALL,
    });
  } catch (error) {
    if ((error as { code?: string }).code === '42P01')
      throw new ConfigError('the crm_events table does not exist yet: run bin/migrate first', { cause: error });
    throw error;
  }
  const byReason = new Map<string, number>();
  for (const l of letters) byReason.set(l.reason, (byReason.get(l.reason) ?? 0) + 1);
  const reasons = [...byReason].sort((a, b) => b[1] - a[1]);
  const scope = since === null ? '' : ` since ${since}`;
  if (command === 'list') {
    const shown = letters.slice(0, limit);
    return {
      counts: { dead_letters: letters.length },
      summary: {
        dead_letters: letters.length,
        by_reason: Object.fromEntries(reasons),
        items: shown.map((l) => ({
          received_at: l.receivedAt.toISOString(),
          source: l.source,
          sender: l.sender,
          event_id: l.eventId,
          reason: l.reason,
        })),
      },
      text:
        letters.length === 0
          ? `No dead letters${scope}.`
          : [
              `${letters.length} dead letter${letters.length === 1 ? '' : 's'}${scope}, by reason:`,
              ...reasons.map(([reason, n]) => `  ${String(n).padStart(6)}  ${reason}`),
              '',
              `The ${shown.length === letters.length ? '' : `first ${shown.length}, `}oldest first:`,
              ...shown.map(
                (l) =>
                  `  ${l.receivedAt.toISOString().slice(0, 16).replace('T', ' ')}  ${l.source.padEnd(7)} ` +
                  `${l.eventId.slice(0, 40).padEnd(40)}  ${l.reason}`,
              ),
              '',
              'After fixing the setting they failed on: bin/crm-webhook dead-letters replay --dry-run',
            ].join('\n'),
    };
  }
  // Replay: each request read again with today's settings; its dead letters that now read as valid go back in.
  const c = ctx.config.crm;
  const hubspot = {
    statusProperty: c.hubspotStatusProperty,
    leadIdProperty: c.hubspotLeadIdProperty ?? null,
  };
  const reread = new Map<string, Map<string, CrmEvent>>();
  const fixed: { letter: DeadLetter; event: CrmEvent }[] = [];
  const still = new Map<string, number>();
  for (const letter of letters) {
    let events = reread.get(letter.inboxId);
    if (!events) {
      let read: CrmEvent[] = [];
      try {
        read =
          letter.source === 'leads'
            ? readLeadsBody(letter.body, c.statusMap, letter.receivedAt.getTime())
            : readHubSpotBody(letter.body, hubspot, c.statusMap);
      } catch (error) {
        if (!(error instanceof MalformedBody)) throw error;
      }
      events = new Map(read.map((e) => [e.eventId, e]));
      reread.set(letter.inboxId, events);
    }
    const event = events.get(letter.eventId);
    // A key's scope refused it: read again under the key's clients as they are now.
    if (event && event.reason === null) fixed.push({ letter, event });
    else {
      const reason = event?.reason ?? letter.reason;
      still.set(reason, (still.get(reason) ?? 0) + 1);
    }
  }
  let states: string[] = [];
  if (!ctx.dryRun && fixed.length > 0)
    states = await ctx.db.transaction().execute((trx) => replayDeadLetters(trx, fixed));
  const count = (s: string) => states.filter((x) => x === s).length;
  const stillList = [...still].sort((a, b) => b[1] - a[1]);
  const replayed = ctx.dryRun
    ? `${fixed.length} of ${letters.length} dead letters${scope} now read as valid and would be replayed`
    : `Replayed ${fixed.length} of ${letters.length} dead letters${scope}: ${count('applied')} applied, ` +
      `${count('pending')} pending (lead not known yet), ${count('link')} links` +
      (count('invalid') > 0 ? `, ${count('invalid')} refused again (outside their key's clients)` : '');
  return {
    counts: {
      dead_letters: letters.length,
      replayable: fixed.length,
      applied: count('applied'),
      pending: count('pending'),
      links: count('link'),
    },
    summary: {
      dead_letters: letters.length,
      replayable: fixed.length,
      dry_run: ctx.dryRun,
      still_invalid_by_reason: Object.fromEntries(stillList),
    },
    text: [
      `${replayed}.`,
      ...(stillList.length > 0
        ? ['Still invalid, by reason:', ...stillList.map(([reason, n]) => `  ${String(n).padStart(6)}  ${reason}`)]
        : []),
    ].join('\n'),
  };
}
