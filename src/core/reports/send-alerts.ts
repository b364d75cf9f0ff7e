import { ExitCode } from '../../errors.js';
import type { JobReport } from './job-report.js';

/** The --client value and digest key of campaigns without a client. */
export const NO_CLIENT = '';
export const NO_CLIENT_FLAG = '-';

export type ClientOutcome =
  | 'sent'
  | 'partly-sent'
  | 'not-sent'
  | 'nothing-to-report'
  | 'no-recipients'
  | 'would-send'
  | 'previewed'
  | 'open-digest';

export interface RecipientResult {
  address: string;
  status: 'sent' | 'rejected' | 'failed' | 'pending' | 'unconfirmed';
  error?: string;
}

export interface ClientResult {
  clientId: string;
  name: string;
  outcome: ClientOutcome;
  detail: string | null;
  digestId: string | null;
  subject: string | null;
  items: { high: number; medium: number; opportunities: number; resolved: number; still_open: number };
  recipients: RecipientResult[];
  htmlBytes: number | null;
}

/** Something that makes the run's exit code other than 0: 78 configuration, 69 unavailable, 75 try again. */
export interface SendProblem {
  exitCode: number;
  message: string;
}

export interface SendCounts {
  sent: number;
  rejected: number;
  failed: number;
  unconfirmed: number;
  retries: number;
  resumed: number;
  abandoned: number;
}

/** What sendAlerts returns. */
export interface SendAlertsResult {
  /** The scoring date reported; null when nothing has been scored yet (then nothing else is set). */
  date: string | null;
  previousDate: string | null;
  /** The transport's name when sending; null for a dry run or a preview. */
  transport: string | null;
  /** Where the digests went, in words: the transport, a preview folder, or "dry run, nothing sent". */
  where: string;
  resend: boolean;
  clients: ClientResult[];
  counts: SendCounts;
  /** Clients with nothing new to say. */
  nothingToReport: number;
  /** Campaigns stopped (paused, ended) left out of the digests. */
  campaignsStoppedNotListed: number;
  /** What stopped every further send this run, if anything did. */
  stopped: SendProblem | null;
  problems: SendProblem[];
  /** The outbox folder of this date's messages, when the transport is the local outbox and something was sent. */
  outboxFolder: string | null;
}

export function labelOf(clientId: string): string {
  return clientId === NO_CLIENT ? 'campaigns without a client' : `client ${clientId}`;
}

function clientLine(r: ClientResult): string {
  const who = `${r.name} (${r.clientId || NO_CLIENT_FLAG})`;
  const to = r.recipients.map((x) => (x.status === 'sent' ? x.address : `${x.address} [${x.status}]`)).join(', ');
  switch (r.outcome) {
    case 'nothing-to-report':
      return `${who}: nothing to report (${r.detail}).`;
    case 'no-recipients':
      return `${who}: NOT SENT, no recipients: ${r.detail}`;
    case 'would-send':
      return `${who}: would send "${r.subject}" to ${r.recipients.map((x) => x.address).join(', ')}.`;
    case 'previewed':
      return `${who}: "${r.subject}" written to ${r.detail}.`;
    case 'open-digest':
      return `${who}: finished the digest an earlier run left open (${to || 'nothing to send'}); ${r.detail}`;
    default:
      return (
        `${who}: ${r.outcome === 'sent' ? 'sent' : r.outcome === 'partly-sent' ? 'PARTLY SENT' : 'NOT SENT'} ` +
        `"${r.subject}" to ${to}.${r.detail ? ` ${r.detail}` : ''}`
      );
  }
}

/**
 * The exit code of a send-alerts run: the most serious problem's (configuration 78, then unavailable 69, then
 * try again 75), 0 when there was none. A delivery that could not be confirmed is a 75: check, then --resend.
 */
export function sendAlertsExitCode(problems: readonly SendProblem[]): number {
  return (
    [ExitCode.CONFIG, ExitCode.UNAVAILABLE, ExitCode.TEMP_FAIL].find((c) => problems.some((p) => p.exitCode === c)) ??
    ExitCode.OK
  );
}

/** Every client's line, what stopped the sending, the problems to fix; counts and the --json document. */
export function reportSendAlerts(r: SendAlertsResult): JobReport {
  if (r.date === null) {
    return {
      counts: { clients: 0, digests_sent: 0 },
      summary: { date: null, clients: [] },
      text: 'Nothing has been scored yet: run bin/score-campaigns first. No digest sent.',
    };
  }
  const tail = r.stopped ? [`Sending stopped: ${r.stopped.message}`] : [];
  let text = [
    `Alert digests for ${r.date} (${r.where}):`,
    ...r.clients.map((c) => `  ${clientLine(c)}`),
    ...tail,
    ...r.problems
      .filter((p) => p.exitCode === ExitCode.CONFIG && !tail.includes(`Sending stopped: ${p.message}`))
      .map((p) => `Problem: ${p.message}`),
  ].join('\n');
  if (r.outboxFolder !== null) text += `\nOpen the messages (.eml) in ${r.outboxFolder} with any mail program.`;
  return {
    exitCode: sendAlertsExitCode(r.problems),
    counts: {
      clients: r.clients.length,
      digests_sent: r.clients.filter((c) => c.digestId !== null && c.outcome !== 'open-digest').length,
      nothing_to_report: r.nothingToReport,
      no_recipients: r.clients.filter((c) => c.outcome === 'no-recipients').length,
      recipients_sent: r.counts.sent,
      recipients_rejected: r.counts.rejected,
      recipients_failed: r.counts.failed,
      unconfirmed: r.counts.unconfirmed,
      send_retries: r.counts.retries,
      digests_resumed: r.counts.resumed,
      digests_abandoned: r.counts.abandoned,
      campaigns_stopped_not_listed: r.campaignsStoppedNotListed,
    },
    summary: {
      date: r.date,
      previous_scored_date: r.previousDate,
      transport: r.transport,
      dry_run: r.transport === null,
      resend: r.resend,
      stopped: r.stopped?.message ?? null,
      problems: r.problems.map((p) => p.message),
      clients: r.clients.map((c) => ({
        client_id: c.clientId,
        name: c.name,
        outcome: c.outcome,
        detail: c.detail,
        digest_id: c.digestId,
        subject: c.subject,
        items: c.items,
        html_bytes: c.htmlBytes,
        recipients: c.recipients,
      })),
    },
    text,
  };
}
