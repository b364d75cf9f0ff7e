import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  cardCampaignIds,
  isFresh,
  isStoppedCampaign,
  MAX_HTML_BYTES,
  planDigest,
  renderDigest,
  selectAttention,
  type CampaignAlertInput,
  type CurrentStanding,
  type DigestPlan,
} from '../../core/alerts/index.js';
import { addDays } from '../../core/dates.js';
import type { AlertClient, OpenDigest } from '../../db/repositories/alerts.repository.js';
import { addressOf, messageIdFor, type OutgoingMessage } from '../../integrations/email/compose.js';
import type { PacedSender, SendOutcome } from '../../integrations/email/paced-sender.js';
import type { MailTransport } from '../../integrations/email/transports.js';
import {
  type ClientResult,
  labelOf,
  NO_CLIENT,
  NO_CLIENT_FLAG,
  type RecipientResult,
  type SendAlertsResult,
  type SendCounts,
  type SendProblem,
} from '../../core/reports/send-alerts.js';
import { ExitCode, UsageError } from '../../errors.js';
import type { JobDeps } from '../../runtime/job-deps.js';

export interface SendAlertsOptions {
  /** The scoring date; null = the latest scored date. */
  date: string | null;
  /** Only these clients (client_id; "" = campaigns without a client); null = every client. */
  clients: string[] | null;
  /** Send again even when a digest for this date already went out. */
  resend: boolean;
  /** Write each digest's HTML and text here instead of sending. */
  preview: string | null;
}

/** JobDeps and the mail transport the digests go through (null: compose only, as a dry run). */
export interface SendAlertsDeps extends JobDeps {
  mail: MailTransport | null;
}

interface RunState {
  deps: JobDeps;
  sender: PacedSender | null;
  /** Set when something stops every further send this run. */
  stopped: SendProblem | null;
  counts: SendCounts;
  problems: SendProblem[];
}

const STOP_EXIT: Record<
  Exclude<Extract<SendOutcome, { status: 'failed' | 'unconfirmed' }>['stop'], 'interrupted'>,
  number
> = {
  account: ExitCode.CONFIG,
  quota: ExitCode.TEMP_FAIL,
  unavailable: ExitCode.UNAVAILABLE,
};

function emptyItems(): ClientResult['items'] {
  return { high: 0, medium: 0, opportunities: 0, resolved: 0, still_open: 0 };
}

function messageFor(
  state: RunState,
  d: { digestId: string; clientId: string; date: string; subject: string; html: string; text: string },
  recipient: string,
): OutgoingMessage {
  const { config, clock } = state.deps;
  const from = config.alertFrom!;
  const unsubscribeSubject = encodeURIComponent(`unsubscribe ${d.clientId || 'no-client'} ${recipient}`);
  const url = config.alerts.unsubscribeUrl;
  return {
    from,
    to: recipient,
    subject: d.subject,
    text: d.text,
    html: d.html,
    messageId: messageIdFor(d.digestId, recipient, from),
    date: clock.now(),
    unsubscribe: {
      mailto: `mailto:${addressOf(from)}?subject=${unsubscribeSubject}`,
      url:
        url === undefined
          ? undefined
          : `${url}${url.includes('?') ? '&' : '?'}client=` +
            `${encodeURIComponent(d.clientId)}&recipient=` +
            `${encodeURIComponent(recipient)}`,
    },
    headers: {
      'X-Leadsmart-Client': d.clientId || 'no-client',
      'X-Leadsmart-Date': d.date,
      'X-Leadsmart-Digest': d.digestId,
      // No out-of-office replies to a machine's digest.
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'OOF, AutoReply',
    },
  };
}

/**
 * One delivery: marked 'sending' (committed) before the transport gets the
 * message, 'sent', 'rejected' or 'failed' (committed) after. A crash in
 * between leaves 'sending', which the next run never takes for "not sent".
 */
async function deliver(state: RunState, d: OpenDigestLike, recipient: string): Promise<RecipientResult> {
  const ctx = state.deps;
  const { markDelivery, markSending } = await import('../../db/repositories/alerts.repository.js');
  if (state.stopped) return { address: recipient, status: 'pending', error: `not tried: ${state.stopped.message}` };
  ctx.throwIfInterrupted();
  const sender = state.sender!;
  await markSending(ctx.db, d.digestId, recipient, sender.transport.name);
  const outcome = await sender.send(messageFor(state, d, recipient), {
    digestId: d.digestId,
    date: d.date,
    clientId: d.clientId,
    recipient,
  });
  if (outcome.status === 'sent') {
    await markDelivery(ctx.db, d.digestId, recipient, 'sent', { messageId: outcome.messageId });
    state.counts.sent += 1;
    return { address: recipient, status: 'sent' };
  }
  const error = ctx.redact(outcome.error);
  await markDelivery(ctx.db, d.digestId, recipient, outcome.status, { error });
  if (outcome.status === 'rejected') {
    state.counts.rejected += 1;
    ctx.logger.warn(`${labelOf(d.clientId)}: ${recipient} rejected for good: ${error}`);
    return { address: recipient, status: 'rejected', error };
  }
  if (outcome.status === 'unconfirmed') {
    state.counts.unconfirmed += 1;
    state.stopped = {
      exitCode: STOP_EXIT[outcome.stop],
      message:
        `${error}; not sent again, and sending stopped for this run (use ` +
        `--resend --client ${d.clientId || NO_CLIENT_FLAG} ` +
        `--date ${d.date} if it did not arrive)`,
    };
    ctx.logger.error(`${labelOf(d.clientId)}: ${recipient}: ${state.stopped.message}`);
    return { address: recipient, status: 'unconfirmed', error };
  }
  state.counts.failed += 1;
  if (outcome.stop === 'interrupted') ctx.throwIfInterrupted();
  else state.stopped = { exitCode: STOP_EXIT[outcome.stop], message: error };
  ctx.logger.error(`${labelOf(d.clientId)}: ${recipient} not sent: ${error}`);
  return { address: recipient, status: 'failed', error };
}

type OpenDigestLike = Pick<OpenDigest, 'digestId' | 'clientId' | 'date' | 'subject' | 'html' | 'text'>;

/**
 * Finishes a digest an earlier run left open. Deliveries never tried, or
 * failed, are sent now. One caught between "handed over" and "recorded" is
 * checked with the transport when it can tell (the outbox can: the file is
 * there or not); otherwise (SES) it is marked unconfirmed and not sent
 * again: a possible gap is reported, a certain duplicate is never made.
 */
async function finishOpenDigest(state: RunState, d: OpenDigest, date: string): Promise<RecipientResult[]> {
  const ctx = state.deps;
  const { abandonDigest, closeDigestIfFinal, markDelivery } = await import(
    '../../db/repositories/alerts.repository.js'
  );
  const transport = state.sender!.transport;
  const results: RecipientResult[] = [];
  const stale = d.date < addDays(date, -1);
  for (const x of d.deliveries) {
    if (x.status === 'sending') {
      const sent =
        x.transport === transport.name
          ? await transport.wasSent({
              digestId: d.digestId,
              date: d.date,
              clientId: d.clientId,
              recipient: x.recipient,
            })
          : null;
      if (sent === true) {
        await markDelivery(ctx.db, d.digestId, x.recipient, 'sent', {
          messageId: messageIdFor(d.digestId, x.recipient, ctx.config.alertFrom!),
        });
        results.push({ address: x.recipient, status: 'sent' });
        continue;
      }
      if (sent === null) {
        const error =
          `an earlier run was stopped after handing this message ` +
          `to ${x.transport ?? 'the transport'} and before recording the ` +
          `outcome; it may or may not have arrived, and is not sent again ` +
          `(use --resend --client ${d.clientId || NO_CLIENT_FLAG} ` +
          `--date ${d.date} to send it anyway)`;
        await markDelivery(ctx.db, d.digestId, x.recipient, 'unconfirmed', { error });
        state.counts.unconfirmed += 1;
        ctx.logger.warn(`${labelOf(d.clientId)}: digest ${d.digestId} for ${d.date} to ${x.recipient}: ${error}`);
        results.push({ address: x.recipient, status: 'unconfirmed', error });
        continue;
      }
    }
    if (x.status === 'sending' || x.status === 'pending' || x.status === 'failed') {
      if (stale) {
        results.push({ address: x.recipient, status: 'pending', error: 'abandoned: superseded by a newer date' });
        continue;
      }
      results.push(await deliver(state, d, x.recipient));
    }
  }
  if (stale) {
    await abandonDigest(ctx.db, d.digestId);
    state.counts.abandoned += 1;
    ctx.logger.warn(
      `${labelOf(d.clientId)}: the unfinished digest ${d.digestId} ` +
        `for ${d.date} is older than a day; abandoned, the digest ` +
        `for ${date} reports what is still open`,
    );
  } else {
    await closeDigestIfFinal(ctx.db, d.digestId);
    state.counts.resumed += 1;
  }
  return results;
}

function recipientsOf(client: AlertClient | undefined, fallback: readonly string[]): string[] {
  const own = client?.alertEmails ?? [];
  const list = own.length > 0 ? own : fallback;
  return [...new Set(list.map((a) => a.trim()).filter(Boolean))];
}

function itemCounts(plan: DigestPlan): ClientResult['items'] {
  const fresh = plan.changes.filter((c) => isFresh(c.change));
  return {
    high: fresh.filter((c) => c.item.priority === 'high').length,
    medium: fresh.filter((c) => c.item.priority === 'medium').length,
    opportunities: fresh.filter((c) => c.item.priority === 'opportunity').length,
    resolved: plan.resolved.length,
    still_open: plan.changes.length - fresh.length,
  };
}

function fileName(clientId: string, date: string): string {
  return `${(clientId || 'no-client').replace(/[^A-Za-z0-9._-]/g, '_')}-${date}`;
}

/**
 * Emails each client a digest of what changed for `options.date` (default: the latest scored date), through
 * deps.mail; with deps.dryRun or options.preview, or no transport, composes the digests and sends nothing. Each
 * digest is committed with its deliveries before the first message goes out, so a stopped run is finished by the
 * next one and never sends twice.
 */
export async function sendAlerts(deps: SendAlertsDeps, options: SendAlertsOptions): Promise<SendAlertsResult> {
  const repo = await import('../../db/repositories/alerts.repository.js');
  const { findPreviousScoredDate } = await import('../../db/repositories/scoring-inputs.js');
  const { config } = deps;
  const transport = deps.dryRun || options.preview !== null ? null : deps.mail;
  const sending = transport !== null;

  const latest = await repo.findLatestScoredDate(deps.db);
  const date = options.date ?? latest;
  if (date === null) {
    deps.logger.warn('nothing has been scored yet: run score-campaigns first; no digest sent');
    return {
      date: null,
      previousDate: null,
      transport: null,
      where: 'nothing scored',
      resend: options.resend,
      clients: [],
      counts: { sent: 0, rejected: 0, failed: 0, unconfirmed: 0, retries: 0, resumed: 0, abandoned: 0 },
      nothingToReport: 0,
      campaignsStoppedNotListed: 0,
      stopped: null,
      problems: [],
      outboxFolder: null,
    };
  }
  if ((await repo.countScores(deps.db, date)) === 0) {
    throw new UsageError(
      `--date ${date}: no scores for that ` +
        `date${latest ? ` (the latest scored date is ${latest})` : ''}; ` +
        `run bin/score-campaigns --date ${date} first`,
    );
  }
  const previous = await findPreviousScoredDate(deps.db, date);
  const previousDate = previous?.date ?? null;

  const state: RunState = {
    deps,
    sender: null,
    stopped: null,
    counts: { sent: 0, rejected: 0, failed: 0, unconfirmed: 0, retries: 0, resumed: 0, abandoned: 0 },
    problems: [],
  };
  if (transport !== null) {
    const { PacedSender } = await import('../../integrations/email/paced-sender.js');
    // ALERT_SEND_RATE is SES's quota; writing files needs no pacing.
    const tuning = transport.name === 'outbox' ? { ...config.alerts, sendRate: 1000 } : config.alerts;
    state.sender = new PacedSender(transport, tuning, {
      interrupted: () => deps.signal.aborted,
      onRetry: (error, attempt, delayMs) => {
        state.counts.retries += 1;
        deps.logger.warn(
          `send attempt ${attempt} failed, retrying in ` +
            `about ${Math.round(delayMs / 1000)} s: ${deps.redact(error.message)}`,
        );
      },
    });
  }
  const where = transport
    ? transport.describe
    : options.preview !== null
      ? `preview into ${options.preview}`
      : 'dry run, nothing sent';

  try {
    const [inputs, warnings, clients, baselines] = await Promise.all([
      repo.loadAlertInputs(deps.db, date, previousDate, config.alerts.gapDays),
      repo.loadRunWarnings(deps.db, date),
      repo.loadClients(deps.db),
      repo.loadBaselines(deps.db, date, options.resend),
    ]);
    const wanted = (clientId: string): boolean => options.clients === null || options.clients.includes(clientId);
    if (options.clients !== null) {
      const unknown = options.clients.filter(
        (c) => c !== NO_CLIENT && !clients.has(c) && !inputs.some((i) => i.clientId === c),
      );
      if (unknown.length > 0)
        throw new UsageError(
          `--client ${unknown.join(', ')}: no such client ` +
            `(known: ${[...clients.keys()].sort().join(', ') || 'none'})`,
        );
    }

    const results: ClientResult[] = [];
    const resumedClients = new Set<string>();
    if (sending) {
      for (const open of await repo.loadOpenDigests(deps.db)) {
        if (!wanted(open.clientId)) continue;
        const recipients = await finishOpenDigest(state, open, date);
        resumedClients.add(open.clientId);
        results.push({
          clientId: open.clientId,
          name:
            open.clientId === NO_CLIENT
              ? 'Campaigns without a client'
              : (clients.get(open.clientId)?.name ?? open.clientId),
          outcome: 'open-digest',
          detail: `digest ${open.digestId} for ${open.date}, "${open.subject}"`,
          digestId: open.digestId,
          subject: open.subject,
          items: emptyItems(),
          recipients,
          htmlBytes: null,
        });
      }
    }

    const byClient = new Map<string, CampaignAlertInput[]>();
    for (const c of inputs) {
      const key = c.clientId ?? NO_CLIENT;
      const list = byClient.get(key);
      if (list) list.push(c);
      else byClient.set(key, [c]);
    }
    for (const key of baselines.keys()) if (!byClient.has(key)) byClient.set(key, []);
    const gapFrom = addDays(date, -(config.alerts.gapDays - 1));
    const standing: CurrentStanding = new Map(
      inputs.map((c) => [
        c.campaignId,
        {
          totalHundredths: c.totalHundredths,
          recommendation: c.recommendation,
          stopped: isStoppedCampaign(c, gapFrom),
        },
      ]),
    );
    let nothing = 0;
    let skippedStopped = 0;

    const keys = [...byClient.keys()]
      .filter(wanted)
      .sort((a, b) => (a === NO_CLIENT ? 1 : b === NO_CLIENT ? -1 : a.localeCompare(b)));
    for (const clientId of keys) {
      if (resumedClients.has(clientId)) continue; // the next run compares with what was just finished
      deps.throwIfInterrupted();
      const client = clients.get(clientId);
      const name = clientId === NO_CLIENT ? 'Campaigns without a client' : (client?.name ?? clientId);
      const selection = selectAttention(byClient.get(clientId)!, warnings, {
        date,
        previousDate,
        gapDays: config.alerts.gapDays,
      });
      skippedStopped += selection.skippedStopped;
      const baseline = baselines.get(clientId) ?? null;
      const plan = planDigest(date, selection, baseline?.snapshot ?? null, standing);
      const result: ClientResult = {
        clientId,
        name,
        outcome: 'nothing-to-report',
        detail: plan.skipReason,
        digestId: null,
        subject: null,
        items: itemCounts(plan),
        recipients: [],
        htmlBytes: null,
      };
      results.push(result);
      if (!plan.send) {
        nothing += 1;
        deps.logger.info(`${labelOf(clientId)}: nothing to report: ${plan.skipReason}`);
        continue;
      }
      const details = await repo.loadScoreDetails(deps.db, date, cardCampaignIds(plan));
      const { view, html, text, htmlBytes } = renderDigest(plan, {
        client: { id: clientId, name },
        date,
        previousDate,
        baselineDate: baseline?.snapshot.date ?? null,
        details,
      });
      result.subject = view.subject;
      result.htmlBytes = htmlBytes;
      if (htmlBytes > MAX_HTML_BYTES)
        deps.logger.warn(
          `${labelOf(clientId)}: the HTML part is ${htmlBytes} bytes even ` +
            `with every campaign on one line; Gmail will clip it`,
        );

      const recipients = recipientsOf(client, config.alertTo);
      if (options.preview !== null) {
        await mkdir(options.preview, { recursive: true });
        const base = join(options.preview, fileName(clientId, date));
        await writeFile(`${base}.html`, html);
        await writeFile(`${base}.txt`, text);
        Object.assign(result, {
          outcome: 'previewed',
          detail: `${base}.html and .txt`,
          recipients: recipients.map((address) => ({ address, status: 'pending' })),
        });
        continue;
      }
      if (recipients.length === 0) {
        const message =
          `${labelOf(clientId)} has a digest but no recipients: set its ` +
          `alert_emails (bin/import-csv --kind clients, column ` +
          `alert_emails) or ALERT_TO`;
        Object.assign(result, { outcome: 'no-recipients', detail: message });
        if (sending) state.problems.push({ exitCode: ExitCode.CONFIG, message });
        deps.logger.error(message);
        continue;
      }
      if (!sending) {
        Object.assign(result, {
          outcome: 'would-send',
          recipients: recipients.map((address) => ({ address, status: 'pending' })),
        });
        continue;
      }
      if (state.stopped) {
        Object.assign(result, { outcome: 'not-sent', detail: `not composed: ${state.stopped.message}` });
        continue;
      }
      // The digest and its deliveries are committed before the first message goes out.
      const digestId = await deps.transaction(({ trx }) =>
        repo.createDigest(trx, {
          clientId,
          date,
          runId: deps.runId,
          subject: view.subject,
          snapshot: plan.snapshot,
          counts: result.items,
          html,
          text,
          resend: options.resend,
          recipients,
        }),
      );
      result.digestId = digestId;
      const d = { digestId, clientId, date, subject: view.subject, html, text };
      for (const r of recipients) result.recipients.push(await deliver(state, d, r));
      await repo.closeDigestIfFinal(deps.db, digestId);
      const sent = result.recipients.filter((r) => r.status === 'sent').length;
      result.outcome = sent === recipients.length ? 'sent' : sent > 0 ? 'partly-sent' : 'not-sent';
      if (result.recipients.every((r) => r.status === 'rejected')) {
        state.problems.push({
          exitCode: ExitCode.CONFIG,
          message: `every recipient of ${labelOf(clientId)} was rejected: fix its alert_emails (or ALERT_TO)`,
        });
      }
      deps.logger.info(`${labelOf(clientId)}: ${result.outcome} "${view.subject}"`, {
        digest: digestId,
        recipients: result.recipients.length,
        sent,
      });
    }

    if (state.stopped) state.problems.push(state.stopped);
    if (state.counts.unconfirmed > 0) {
      state.problems.push({
        exitCode: ExitCode.TEMP_FAIL,
        message:
          `${state.counts.unconfirmed} ` +
          `deliver${state.counts.unconfirmed === 1 ? 'y' : 'ies'} could ` +
          `not be confirmed ` +
          `and ${state.counts.unconfirmed === 1 ? 'was' : 'were'} not ` +
          `repeated, to avoid a duplicate: check with the recipients, and ` +
          `--resend if needed (see the log)`,
      });
    }
    return {
      date,
      previousDate,
      transport: transport?.name ?? null,
      where,
      resend: options.resend,
      clients: results,
      counts: state.counts,
      nothingToReport: nothing,
      campaignsStoppedNotListed: skippedStopped,
      stopped: state.stopped,
      problems: state.problems,
      outboxFolder:
        transport?.name === 'outbox' && state.counts.sent > 0
          ? join(config.mailTransport.slice('outbox:'.length), date)
          : null,
    };
  } finally {
    await state.sender?.close();
  }
}
