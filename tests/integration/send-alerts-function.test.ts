import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMailTransport } from '../../src/integrations/email/transports.js';
import { scoreCampaignsJob } from '../../src/jobs/score-campaigns.js';
import { type SendAlertsOptions, sendAlerts } from '../../src/jobs/send-alerts/send.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { testJobDeps } from '../helpers/job-deps.js';
import { loadSample, runAsFunction } from '../helpers/run-job.js';

// sendAlerts(deps, options) called as a function, with the mail transport passed in: what tests of behaviour use.
// The process around it (flags, exit codes, SES failures) is tested in send-alerts.test.ts.
let t: TestDatabase;
let work: string;
const env = { ALERT_FROM: 'Leadsmart Alerts <alerts@leadsmart.example>', ALERT_TO: 'ops@leadsmart.example' };
const options = (over: Partial<SendAlertsOptions> = {}): SendAlertsOptions => ({
  date: null,
  clients: null,
  resend: false,
  preview: null,
  ...over,
});
const emlFiles = (dir: string): string[] =>
  existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.eml')) : [];

beforeAll(async () => {
  t = await createTestDatabase();
  work = mkdtempSync(join(tmpdir(), 'leadsmart-send-fn-'));
  await loadSample(t.url);
  for (const date of ['2025-11-14', '2025-11-15']) {
    const r = await runAsFunction(scoreCampaignsJob, ['--date', date], { DATABASE_URL: t.url });
    if (r.code !== 0) throw new Error(r.stderr);
  }
});
afterAll(async () => {
  await t.drop();
  rmSync(work, { recursive: true, force: true });
});

describe('sendAlerts', () => {
  test('without a transport it composes every digest and sends none', async () => {
    // --resend: compared with the digest before this date, so whether the other test sent first does not matter.
    const deps = await testJobDeps(t, { env });
    const digests = () => t.db.selectFrom('alert_digests').select('digest_id').execute();
    const before = await digests();
    const result = await sendAlerts({ ...deps, mail: null }, options({ resend: true }));
    expect(result.transport).toBeNull();
    expect(result.date).toBe('2025-11-15');
    expect(result.clients.some((c) => c.outcome === 'would-send')).toBe(true);
    expect(result.counts.sent).toBe(0);
    expect(await digests()).toEqual(before);
  });

  test('through the outbox transport it sends each digest once: a second call has nothing new', async () => {
    const outbox = join(work, 'outbox');
    const deps = await testJobDeps(t, { env: { ...env, MAIL_TRANSPORT: `outbox:${outbox}` } });
    const mail = await openMailTransport(`outbox:${outbox}`, deps.config.alerts);
    const first = await sendAlerts({ ...deps, mail }, options());
    const sentClients = first.clients.filter((c) => c.outcome === 'sent');
    expect(sentClients.length).toBeGreaterThan(0);
    expect(emlFiles(outbox)).toHaveLength(first.counts.sent);
    expect(first.outboxFolder).toBe(join(outbox, '2025-11-15'));
    expect(first.problems).toEqual([]);

    const second = await sendAlerts({ ...deps, mail }, options());
    expect(second.counts.sent).toBe(0);
    expect(second.clients.every((c) => c.outcome === 'nothing-to-report')).toBe(true);
    expect(emlFiles(outbox)).toHaveLength(first.counts.sent);
  });
});
