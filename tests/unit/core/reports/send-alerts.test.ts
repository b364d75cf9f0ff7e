import { describe, expect, test } from '@jest/globals';
import {
  type ClientResult,
  reportSendAlerts,
  type SendAlertsResult,
  sendAlertsExitCode,
} from '../../../../src/core/reports/send-alerts.js';

// The report of a send-alerts run, from its result alone: no database, no transport.
const items = { high: 1, medium: 0, opportunities: 0, resolved: 0, still_open: 0 };
const client = (over: Partial<ClientResult>): ClientResult => ({
  clientId: 'acme',
  name: 'Acme Dental',
  outcome: 'sent',
  detail: null,
  digestId: '11',
  subject: '1 campaign needs attention — Acme Dental — 2025-11-15',
  items,
  recipients: [{ address: 'marketing@acme.example', status: 'sent' }],
  htmlBytes: 12_000,
  ...over,
});

function result(over: Partial<SendAlertsResult> = {}): SendAlertsResult {
  return {
    date: '2025-11-15',
    previousDate: '2025-11-14',
    transport: 'ses',
    where: 'Amazon SES v2 (eu-west-1)',
    resend: false,
    clients: [client({})],
    counts: { sent: 1, rejected: 0, failed: 0, unconfirmed: 0, retries: 0, resumed: 0, abandoned: 0 },
    nothingToReport: 0,
    campaignsStoppedNotListed: 2,
    stopped: null,
    problems: [],
    outboxFolder: null,
    ...over,
  };
}

describe('reportSendAlerts', () => {
  test('nothing scored yet: says to run score-campaigns, counts no digest', () => {
    const r = reportSendAlerts(result({ date: null, clients: [] }));
    expect(r.text).toBe('Nothing has been scored yet: run bin/score-campaigns first. No digest sent.');
    expect(r.counts).toEqual({ clients: 0, digests_sent: 0 });
    expect(r.exitCode).toBeUndefined();
  });

  test('one line per client under a heading naming the date and where the digests went', () => {
    const r = reportSendAlerts(
      result({
        clients: [
          client({}),
          client({
            clientId: '',
            name: 'Campaigns without a client',
            outcome: 'nothing-to-report',
            detail: 'no change',
            digestId: null,
          }),
        ],
      }),
    );
    expect(r.text.split('\n')).toEqual([
      'Alert digests for 2025-11-15 (Amazon SES v2 (eu-west-1)):',
      '  Acme Dental (acme): sent "1 campaign needs attention — Acme Dental — 2025-11-15" to marketing@acme.example.',
      '  Campaigns without a client (-): nothing to report (no change).',
    ]);
    expect(r.exitCode).toBe(0);
  });

  test('a digest finished for an earlier run is not counted as sent this run', () => {
    const r = reportSendAlerts(result({ clients: [client({}), client({ clientId: 'b', outcome: 'open-digest' })] }));
    expect(r.counts).toMatchObject({ clients: 2, digests_sent: 1, campaigns_stopped_not_listed: 2 });
  });

  test('what stopped the sending is said once, and other configuration problems each on a Problem line', () => {
    const stopped = { exitCode: 78, message: 'SES refused the sender: verify alerts@leadsmart.example' };
    const r = reportSendAlerts(
      result({
        stopped,
        problems: [{ exitCode: 78, message: 'client b has a digest but no recipients' }, stopped],
      }),
    );
    expect(r.text).toContain(`Sending stopped: ${stopped.message}`);
    expect(r.text.split(stopped.message)).toHaveLength(2);
    expect(r.text).toContain('Problem: client b has a digest but no recipients');
    expect(r.exitCode).toBe(78);
  });

  test('the outbox folder is named when messages were written there', () => {
    expect(reportSendAlerts(result({ outboxFolder: '/srv/outbox/2025-11-15' })).text).toMatch(
      /\nOpen the messages \(\.eml\) in \/srv\/outbox\/2025-11-15 with any mail program\.$/,
    );
  });

  test('the --json document is a dry run exactly when no transport was used', () => {
    expect(reportSendAlerts(result()).summary).toMatchObject({ transport: 'ses', dry_run: false });
    expect(reportSendAlerts(result({ transport: null })).summary).toMatchObject({ transport: null, dry_run: true });
  });
});

describe('sendAlertsExitCode', () => {
  test('configuration (78) outranks unavailable (69), which outranks try again (75); none is 0', () => {
    const p = (exitCode: number) => ({ exitCode, message: String(exitCode) });
    expect(sendAlertsExitCode([])).toBe(0);
    expect(sendAlertsExitCode([p(75)])).toBe(75);
    expect(sendAlertsExitCode([p(75), p(69)])).toBe(69);
    expect(sendAlertsExitCode([p(69), p(78), p(75)])).toBe(78);
  });
});
