import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { simpleParser } from 'mailparser';
import { scoreCampaignsJob } from '../../src/jobs/score-campaigns.js';
import { sendAlertsJob } from '../../src/jobs/send-alerts.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { FakeSes } from '../helpers/fake-ses.js';
import { loadSample, runAsFunction, runProcess, spawnProcess } from '../helpers/run-job.js';

// The sample's clients: acme (marketing@ and ceo@acme.example), globex (ads@globex.example),
// initech (no list of its own: ALERT_TO). Scores for 2025-11-14 and 2025-11-15.
const FROM = 'Leadsmart Alerts <alerts@leadsmart.example>';
const OPS = 'ops@leadsmart.example';
const ALL_RECIPIENTS = ['ads@globex.example', 'ceo@acme.example', 'marketing@acme.example', OPS];

let t: TestDatabase;
let work: string;
let ses: FakeSes;

const outboxEnv = (outbox: string, extra: Record<string, string> = {}) => ({
  DATABASE_URL: t.url,
  ALERT_FROM: FROM,
  ALERT_TO: OPS,
  MAIL_TRANSPORT: `outbox:${outbox}`,
  ...extra,
});
const sesEnv = (extra: Record<string, string> = {}) => ({
  DATABASE_URL: t.url,
  ALERT_FROM: FROM,
  ALERT_TO: OPS,
  MAIL_TRANSPORT: 'ses',
  ALERT_SEND_RATE: '200',
  ALERT_RETRY_BASE_MS: '5',
  ALERT_REQUEST_TIMEOUT_SECONDS: '1',
  ...extra,
});
const send = (argv: string[], env: Record<string, string>) => runAsFunction(sendAlertsJob, ['--json', ...argv], env);
const summaryOf = (stdout: string) =>
  JSON.parse(stdout) as {
    clients: {
      client_id: string;
      outcome: string;
      subject: string | null;
      recipients: { address: string; status: string; error?: string }[];
      digest_id: string | null;
    }[];
    problems: string[];
  };
const emlFiles = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.eml'))
        .sort()
    : [];

async function deliveries(): Promise<
  { client_id: string; date: string; recipient: string; status: string; error: string | null }[]
> {
  const r = await sql<{ client_id: string; date: string; recipient: string; status: string; error: string | null }>`
    SELECT d.client_id, d.date, x.recipient, x.status, x.error
    FROM alert_deliveries x JOIN alert_digests d USING (digest_id) ORDER BY d.digest_id, x.recipient`.execute(t.db);
  return r.rows;
}

async function clearDigests(): Promise<void> {
  await sql`TRUNCATE alert_deliveries, alert_digests`.execute(t.db);
}

beforeAll(async () => {
  t = await createTestDatabase();
  work = mkdtempSync(join(tmpdir(), 'leadsmart-alerts-'));
  await loadSample(t.url);
  for (const date of ['2025-11-14', '2025-11-15']) {
    const r = await runAsFunction(scoreCampaignsJob, ['--date', date], { DATABASE_URL: t.url });
    if (r.code !== 0) throw new Error(r.stderr);
  }
  ses = await new FakeSes().start();
  // The AWS SDK reads its settings from the environment, as in production.
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'test-secret',
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL_SESV2: ses.url,
  });
});

afterAll(async () => {
  await ses?.stop();
  await t?.drop();
  rmSync(work, { recursive: true, force: true });
});

beforeEach(async () => {
  ses.reset();
  await clearDigests();
});

describe('outbox transport', () => {
  test(
    'writes one digest per client to each recipient as ' + 'multipart/alternative, text first, with List-Unsubscribe',
    async () => {
      const outbox = join(work, 'outbox-1');
      const r = await send([], outboxEnv(outbox));
      expect(r.code).toBe(0);
      const files = emlFiles(outbox);
      expect(files).toHaveLength(4);
      const raw = readFileSync(join(outbox, files.find((f) => f.includes('acme') && f.includes('marketing'))!), 'utf8');
      const mail = await simpleParser(raw);
      expect(mail.subject).toMatch(/^\d+ campaigns? needs? attention — Acme Dental — 2025-11-15$/);
      expect(mail.from?.text).toBe('"Leadsmart Alerts" <alerts@leadsmart.example>');
      expect((mail.to as { text: string }).text).toBe('marketing@acme.example');
      expect(mail.headers.get('content-type')).toMatchObject({ value: 'multipart/alternative' });
      expect(raw.indexOf('Content-Type: text/plain')).toBeGreaterThan(0);
      expect(raw.indexOf('Content-Type: text/plain')).toBeLessThan(raw.indexOf('Content-Type: text/html'));
      const unfolded = raw.replace(/\r?\n[ \t]+/g, ' ');
      expect(String(unfolded.match(/^List-Unsubscribe: .*$/m))).toContain(
        '<mailto:alerts@leadsmart.example?subject=unsubscribe%20acme%20marketing%40acme.example>',
      );
      expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
      expect(mail.text).toContain('Acme Dental: campaigns for 15 Nov 2025');
      expect(mail.html).toContain('Acme Dental: campaigns for 15 Nov 2025');
      expect(Buffer.byteLength(String(mail.html))).toBeLessThan(100 * 1024);
      // Same facts in both parts: every campaign named in the HTML is in the text.
      const names = [
        ...String(mail.html).matchAll(/font-size:16px;color:#111827;font-weight:bold;">([^<]+?) <span/g),
      ].map((m) => m[1]!.replace(/&amp;/g, '&'));
      expect(names.length).toBeGreaterThan(2);
      for (const n of names) expect(mail.text).toContain(n);

      const rows = await deliveries();
      expect(rows.map((x) => x.recipient).sort()).toEqual(ALL_RECIPIENTS);
      expect(rows.every((x) => x.status === 'sent')).toBe(true);
      expect(rows.find((x) => x.client_id === 'initech')?.recipient).toBe(OPS);
      expect(summaryOf(r.stdout).clients.map((c) => c.outcome)).toEqual(['sent', 'sent', 'sent']);
    },
  );

  test('a second run for the same date sends nothing; --resend sends the digest again', async () => {
    const outbox = join(work, 'outbox-2');
    expect((await send([], outboxEnv(outbox))).code).toBe(0);
    expect(emlFiles(outbox)).toHaveLength(4);

    const again = await send([], outboxEnv(outbox));
    expect(again.code).toBe(0);
    expect(summaryOf(again.stdout).clients.map((c) => c.outcome)).toEqual([
      'nothing-to-report',
      'nothing-to-report',
      'nothing-to-report',
    ]);
    expect(emlFiles(outbox)).toHaveLength(4);
    expect(
      again.logs.some((l) =>
        String(l.message).includes(
          'nothing to report: nothing new or escalated since the digest already sent for 2025-11-15',
        ),
      ),
    ).toBe(true);

    const resend = await send(['--resend', '--client', 'acme'], outboxEnv(outbox));
    expect(resend.code).toBe(0);
    expect(summaryOf(resend.stdout).clients).toEqual([expect.objectContaining({ client_id: 'acme', outcome: 'sent' })]);
    expect(emlFiles(outbox)).toHaveLength(6);
  });

  test('the next date reports only what changed since the last digest', async () => {
    const outbox = join(work, 'outbox-3');
    expect((await send(['--date', '2025-11-14'], outboxEnv(outbox))).code).toBe(0);
    const next = await send(['--date', '2025-11-15', '--client', 'acme'], outboxEnv(outbox));
    expect(next.code).toBe(0);
    const file = emlFiles(outbox).find((f) => f.startsWith('2025-11-15') && f.includes('marketing'));
    const mail = await simpleParser(readFileSync(join(outbox, file!), 'utf8'));
    expect(mail.text).toContain('Since the digest for 14 Nov 2025');
    // Campaigns already reported on the 14th and unchanged are one line under "still open", not a card again.
    const first = await simpleParser(
      readFileSync(
        join(outbox, emlFiles(outbox).find((f) => f.startsWith('2025-11-14') && f.includes('marketing'))!),
        'utf8',
      ),
    );
    const cardsBefore = (first.text ?? '').split('\n').filter((l) => l.startsWith('* ')).length;
    const cardsNow = (mail.text ?? '').split('\n').filter((l) => l.startsWith('* ')).length;
    expect(cardsNow).toBeLessThan(cardsBefore);
    expect(mail.text).toContain('STILL OPEN FROM EARLIER DIGESTS');
    // Patient Referral Leads went from pause (14th) to increase budget with a score jump (15th): news, so a card.
    expect(mail.text).toMatch(
      /\* Patient Referral Leads \[UPDATED\]\n {2}Increase budget · score 85\.56 \(\+68\.80 since 14 Nov\)/,
    );
  });

  test(
    '--dry-run reports what would be sent and writes nothing; ' + '--preview writes HTML and text and sends nothing',
    async () => {
      const outbox = join(work, 'outbox-4');
      const dry = await send(['--dry-run'], outboxEnv(outbox));
      expect(dry.code).toBe(0);
      expect(summaryOf(dry.stdout).clients.map((c) => c.outcome)).toEqual(['would-send', 'would-send', 'would-send']);
      expect(emlFiles(outbox)).toEqual([]);
      expect(await deliveries()).toEqual([]);

      const preview = join(work, 'preview');
      const p = await runAsFunction(sendAlertsJob, ['--preview', preview], outboxEnv(outbox));
      expect(p.code).toBe(0);
      expect(readdirSync(preview).sort()).toEqual([
        'acme-2025-11-15.html',
        'acme-2025-11-15.txt',
        'globex-2025-11-15.html',
        'globex-2025-11-15.txt',
        'initech-2025-11-15.html',
        'initech-2025-11-15.txt',
      ]);
      expect(readFileSync(join(preview, 'globex-2025-11-15.html'), 'utf8')).toContain('<table');
      expect(p.stdout).toContain('written to');
      expect(emlFiles(outbox)).toEqual([]);
      expect(await deliveries()).toEqual([]);
    },
  );

  test(
    'a client with something to report and no recipients is sent ' +
      'nothing, the others are sent, and the run exits 78 naming the fix',
    async () => {
      const outbox = join(work, 'outbox-5');
      const r = await send([], { ...outboxEnv(outbox), ALERT_TO: '' });
      expect(r.code).toBe(78);
      const s = summaryOf(r.stdout);
      expect(s.clients.find((c) => c.client_id === 'initech')?.outcome).toBe('no-recipients');
      expect(s.problems.join(' ')).toContain(
        'client initech has a digest but no recipients: set its ' +
          'alert_emails (bin/import-csv --kind clients, column ' +
          'alert_emails) or ALERT_TO',
      );
      expect(emlFiles(outbox)).toHaveLength(3);
    },
  );

  test('a delivery caught between writing and recording is found in the outbox and not written twice', async () => {
    const outbox = join(work, 'outbox-6');
    expect((await send(['--client', 'globex'], outboxEnv(outbox))).code).toBe(0);
    // The crash window: the file was written, the row still says "sending".
    await sql`UPDATE alert_deliveries SET status = 'sending', message_id = NULL`.execute(t.db);
    await sql`UPDATE alert_digests SET status = 'sending'`.execute(t.db);
    const r = await send(['--client', 'globex'], outboxEnv(outbox));
    expect(r.code).toBe(0);
    expect(emlFiles(outbox)).toHaveLength(1);
    expect((await deliveries()).map((x) => x.status)).toEqual(['sent']);
    expect(summaryOf(r.stdout).clients[0]).toMatchObject({ outcome: 'open-digest' });
  });
});

describe('SES transport (local stand-in speaking the SES v2 JSON API)', () => {
  test(
    'sends each recipient its own raw MIME message through ' +
      'SendEmail, signed, tagged, and records the SES message ids',
    async () => {
      const r = await send([], sesEnv({ SES_CONFIGURATION_SET: 'leadsmart-digests' }));
      expect(r.code).toBe(0);
      expect(ses.messages.map((m) => m.to[0]).sort()).toEqual(ALL_RECIPIENTS);
      expect(ses.requests.every((q) => q.authorized)).toBe(true);
      const m = ses.messages.find((x) => x.to[0] === 'ads@globex.example')!;
      expect(m.from).toBe(FROM);
      expect(m.configurationSet).toBe('leadsmart-digests');
      expect(m.tags).toEqual(expect.arrayContaining([{ Name: 'client', Value: 'globex' }]));
      const mail = await simpleParser(m.raw);
      expect(mail.subject).toContain('Globex Realty — 2025-11-15');
      const ids = await sql<{
        message_id: string;
      }>`SELECT message_id FROM alert_deliveries ORDER BY message_id`.execute(t.db);
      expect(ids.rows.map((x) => x.message_id).sort()).toEqual(ses.messages.map((x) => x.messageId).sort());
    },
  );

  test('throttling answers are retried with backoff and the digest still goes out once', async () => {
    ses.failNext({ status: 429, type: 'TooManyRequestsException', message: 'Maximum sending rate exceeded.' }, 2);
    ses.failNext({ status: 500, type: 'InternalFailure', message: 'internal error' }, 1);
    const r = await send(['--client', 'globex'], sesEnv());
    expect(r.code).toBe(0);
    expect(ses.requests).toHaveLength(4);
    expect(ses.messages).toHaveLength(1);
    expect(r.logs.filter((l) => String(l.message).startsWith('send attempt')).length).toBe(3);
    expect((await deliveries()).map((x) => x.status)).toEqual(['sent']);
  });

  test(
    'a rejected recipient is recorded as rejected, the other ' + 'recipients still get the digest, the run succeeds',
    async () => {
      ses.failFor('ceo@acme.example', {
        status: 400,
        type: 'MessageRejected',
        message:
          'Email address is not verified. The following identities failed ' +
          'the check in region EU-WEST-1: ceo@acme.example',
      });
      const r = await send(['--client', 'acme'], sesEnv());
      expect(r.code).toBe(0);
      const rows = await deliveries();
      expect(rows.map((x) => [x.recipient, x.status])).toEqual([
        ['ceo@acme.example', 'rejected'],
        ['marketing@acme.example', 'sent'],
      ]);
      expect(rows[0]!.error).toContain('Email address is not verified');
      expect(summaryOf(r.stdout).clients[0]).toMatchObject({ outcome: 'partly-sent' });
      // The digest is complete: the next run does not try the rejected address again.
      const again = await send(['--client', 'acme'], sesEnv());
      expect(again.code).toBe(0);
      expect(ses.requests).toHaveLength(2);
    },
  );

  test('a client whose every recipient is rejected makes the run exit 78', async () => {
    ses.failFor(OPS, { status: 400, type: 'MessageRejected', message: 'Email address is not verified.' });
    const r = await send(['--client', 'initech'], sesEnv());
    expect(r.code).toBe(78);
    expect(summaryOf(r.stdout).problems.join(' ')).toContain(
      'every recipient of client initech was rejected: fix its alert_emails (or ALERT_TO)',
    );
  });

  test(
    'SES failing after every retry exits 69, leaves the rest unsent, ' +
      'and the next run completes without duplicates',
    async () => {
      ses.failNext({ status: 503, type: 'ServiceUnavailable', message: 'Service Unavailable' }, 5);
      const first = await send([], sesEnv({ ALERT_RETRIES: '4' }));
      expect(first.code).toBe(69);
      expect(ses.messages).toHaveLength(0);
      expect(ses.requests).toHaveLength(5);
      expect(first.stdout).toContain('still failing after 5 attempts');
      const before = await deliveries();
      expect(before.filter((x) => x.status === 'failed')).toHaveLength(1);

      const second = await send([], sesEnv());
      expect(second.code).toBe(0);
      expect(ses.messages.map((m) => m.to[0]).sort()).toEqual(ALL_RECIPIENTS);
      expect((await deliveries()).every((x) => x.status === 'sent')).toBe(true);
    },
  );

  test('rejected credentials stop every send with exit 78 and a message saying what to check', async () => {
    ses.failNext(
      { status: 403, type: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' },
      1,
    );
    const r = await send([], sesEnv());
    expect(r.code).toBe(78);
    expect(ses.requests).toHaveLength(1);
    expect(r.stdout).toContain('check the AWS credentials, that ALERT_FROM');
    expect(r.stderr).not.toContain('test-secret');
  });

  test('a spent daily quota defers the rest with exit 75', async () => {
    ses.failNext({ status: 429, type: 'ThrottlingException', message: 'Daily message quota exceeded.' }, 1);
    const r = await send([], sesEnv());
    expect(r.code).toBe(75);
    expect(ses.requests).toHaveLength(1);
    expect(r.stdout).toContain('daily sending quota is used up');
  });

  test(
    'an answer that never comes is not retried: the delivery is ' +
      'unconfirmed, nothing is sent twice, the run exits 69',
    async () => {
      ses.failNext('hang', 1);
      const r = await send(['--client', 'globex'], sesEnv());
      expect(r.code).toBe(69);
      expect(ses.requests).toHaveLength(1);
      expect((await deliveries()).map((x) => x.status)).toEqual(['unconfirmed']);
      const again = await send(['--client', 'globex'], sesEnv());
      expect(again.code).toBe(0);
      expect(ses.requests).toHaveLength(1);
    },
  );

  test('a garbled success answer counts as unconfirmed, not as a failure to retry', async () => {
    ses.failNext('garbage', 1);
    const r = await send(['--client', 'globex'], sesEnv());
    expect(r.code).toBe(69);
    expect(ses.messages).toHaveLength(1);
    expect(ses.requests).toHaveLength(1);
    expect((await deliveries()).map((x) => x.status)).toEqual(['unconfirmed']);
  });

  test('sends are paced to ALERT_SEND_RATE', async () => {
    const r = await send([], sesEnv({ ALERT_SEND_RATE: '10' }));
    expect(r.code).toBe(0);
    // Four sends at 10 per second start at least 100 ms apart; arrival times jitter by a few ms each way.
    const at = ses.requests.map((q) => q.at);
    expect(at).toHaveLength(4);
    expect(at[3]! - at[0]!).toBeGreaterThanOrEqual(260);
  });

  test(
    'killed while SES holds the request: the next run does not send ' +
      'that message again, reports it, and sends the rest',
    async () => {
      const env = {
        ...sesEnv(),
        AWS_ACCESS_KEY_ID: 'AKIDTEST',
        AWS_SECRET_ACCESS_KEY: 'test-secret',
        AWS_REGION: 'eu-west-1',
        AWS_ENDPOINT_URL_SESV2: ses.url,
        ALERT_REQUEST_TIMEOUT_SECONDS: '30',
      };
      ses.failNext('hang', 1);
      const child = spawnProcess('send-alerts', [], env);
      const arrived = new Promise<void>((resolve) => (ses.onRequest = () => resolve()));
      await arrived;
      child.kill('SIGKILL');
      await new Promise((r) => child.on('close', r));
      expect((await deliveries()).filter((x) => x.status === 'sending')).toHaveLength(1);
      ses.onRequest = null;

      const r = await runProcess('send-alerts', ['--json'], env);
      expect(r.code).toBe(75);
      const rows = await deliveries();
      expect(rows.filter((x) => x.status === 'unconfirmed')).toHaveLength(1);
      expect(rows.filter((x) => x.status === 'sent')).toHaveLength(3);
      // One request for the killed delivery, none repeated; three for the rest.
      expect(ses.requests).toHaveLength(4);
      expect(new Set(ses.requests.map((q) => q.to[0])).size).toBe(4);
      expect(r.stderr).toContain('is not sent again (use --resend --client');
    },
  );
});

describe('interrupted runs', () => {
  const env = () => ({
    ...sesEnv(),
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'test-secret',
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL_SESV2: ses.url,
    ALERT_REQUEST_TIMEOUT_SECONDS: '30',
  });

  test(
    'SIGTERM lets the message in flight finish and be recorded, ' +
      'stops with 143, and the next run sends the rest once',
    async () => {
      ses.delayMs = 400;
      const child = spawnProcess('send-alerts', [], env());
      await new Promise<void>((resolve) => (ses.onRequest = () => resolve()));
      child.kill('SIGTERM');
      const code = await new Promise((r) => child.on('close', r));
      expect(code).toBe(143);
      expect(ses.messages).toHaveLength(1);
      const after = await deliveries();
      expect(after.filter((x) => x.status === 'sent')).toHaveLength(1);
      expect(after.filter((x) => x.status === 'pending')).toHaveLength(1);
      const run = await sql<{
        status: string;
      }>`SELECT status FROM job_runs WHERE job = 'send-alerts' ORDER BY run_id DESC LIMIT 1`.execute(t.db);
      expect(run.rows[0]!.status).toBe('interrupted');

      ses.delayMs = 0;
      ses.onRequest = null;
      const r = await runProcess('send-alerts', [], env());
      expect(r.code).toBe(0);
      expect(ses.messages.map((m) => m.to[0]).sort()).toEqual(ALL_RECIPIENTS);
      expect((await deliveries()).every((x) => x.status === 'sent')).toBe(true);
    },
  );

  test('a second run while one is sending exits 75 and sends nothing', async () => {
    ses.delayMs = 600;
    const child = spawnProcess('send-alerts', [], env());
    await new Promise<void>((resolve) => (ses.onRequest = () => resolve()));
    const second = await runProcess('send-alerts', [], env());
    expect(second.code).toBe(75);
    expect(second.stderr).toContain('another send-alerts run holds the lock');
    await new Promise((r) => child.on('close', r));
    expect(ses.messages.map((m) => m.to[0]).sort()).toEqual(ALL_RECIPIENTS);
  });
});

describe('data gaps and stale digests (a database of their own)', () => {
  let g: TestDatabase;
  beforeAll(async () => {
    g = await createTestDatabase();
    await loadSample(g.url);
    // Broad Audience Test (PAUSE_CAMPAIGN) lost its last two days: rows missing, as after a failed fetch.
    await sql`DELETE FROM campaign_metrics WHERE campaign_id = 'demo-10-poor' AND date >= '2025-11-14'`.execute(g.db);
    for (const date of ['2025-11-14', '2025-11-15']) {
      const r = await runAsFunction(scoreCampaignsJob, ['--date', date], { DATABASE_URL: g.url });
      if (r.code !== 0) throw new Error(r.stderr);
    }
  }, 60_000);
  afterAll(async () => {
    await g?.drop();
  });

  test('a pause that rests on missing days is held back and the digest reports the gap instead', async () => {
    const rec = await sql<{
      recommendation: string;
    }>`SELECT recommendation FROM campaign_scores WHERE campaign_id = 'demo-10-poor' AND date = '2025-11-15'`.execute(
      g.db,
    );
    expect(['PAUSE_CAMPAIGN', 'REDUCE_BUDGET']).toContain(rec.rows[0]!.recommendation);
    const preview = join(work, 'gap-preview');
    const r = await runAsFunction(sendAlertsJob, ['--preview', preview, '--client', 'acme'], {
      ...outboxEnv(join(work, 'gap-outbox')),
      DATABASE_URL: g.url,
    });
    expect(r.code).toBe(0);
    const text = readFileSync(join(preview, 'acme-2025-11-15.txt'), 'utf8');
    const start = text.indexOf('* Broad Audience Test');
    const card = text.slice(start, text.indexOf('\n\n', start)).replace(/\s+/g, ' ');
    expect(card).toContain('Data gap: check before acting');
    expect(card).toContain(
      'is held back: it rests on a data gap, the campaign delivered before but has no delivery data for 14–15 Nov',
    );
    expect(card).not.toContain('Pause it:');
    expect(text.indexOf('* Broad Audience Test')).toBeGreaterThan(text.indexOf('LOOK THIS WEEK'));
  });

  test('an unfinished digest older than a day is abandoned, not sent late, and the new one is composed', async () => {
    const outbox = join(work, 'stale-outbox');
    const env = { ...outboxEnv(outbox), DATABASE_URL: g.url };
    expect(
      (await runAsFunction(sendAlertsJob, ['--date', '2025-11-14', '--client', 'globex', '--dry-run'], env)).code,
    ).toBe(0);
    // An earlier run composed the digest for the 13th and died before sending it.
    await sql`INSERT INTO alert_digests (client_id, date, subject, items, counts, html, text) VALUES ('globex',
      '2025-11-13', 'old', '{"date":"2025-11-13","items":[],"notices":[]}', '{}', '<p>old</p>', 'old')`.execute(g.db);
    await sql`INSERT INTO alert_deliveries (digest_id, recipient) SELECT max(digest_id), 'ads@globex.example' FROM
      alert_digests`.execute(g.db);
    const r = await runAsFunction(sendAlertsJob, ['--json', '--client', 'globex'], env);
    expect(r.code).toBe(0);
    const digests = await sql<{
      date: string;
      status: string;
    }>`SELECT date, status FROM alert_digests ORDER BY digest_id`.execute(g.db);
    expect(digests.rows).toEqual([{ date: '2025-11-13', status: 'abandoned' }]);
    expect(emlFiles(outbox)).toEqual([]);
    // The next run composes the digest for the 15th.
    const next = await runAsFunction(sendAlertsJob, ['--client', 'globex'], env);
    expect(next.code).toBe(0);
    expect(emlFiles(outbox)).toHaveLength(1);
    expect(emlFiles(outbox)[0]).toMatch(/^2025-11-15\//);
  });
});

describe('bad input', () => {
  test('a malformed --date exits 64', async () => {
    const r = await send(['--date', '2025-13-01'], sesEnv());
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--date 2025-13-01: not a calendar date');
  });

  test('a date without scores exits 64 and names the latest scored date', async () => {
    const r = await send(['--date', '2025-10-01'], sesEnv());
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('no scores for that date (the latest scored date is 2025-11-15)');
  });

  test('an unknown --client exits 64 and lists the known clients', async () => {
    const r = await send(['--client', 'nosuch'], sesEnv());
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--client nosuch: no such client (known: acme, globex, initech)');
  });

  test(
    'missing ALERT_FROM and a bad MAIL_TRANSPORT are reported ' + 'together with exit 78 before anything is read',
    async () => {
      const r = await runProcess('send-alerts', [], {
        DATABASE_URL: t.url,
        MAIL_TRANSPORT: 'smtp://x',
        ALERT_SEND_RATE: 'fast',
      });
      expect(r.code).toBe(78);
      expect(r.stderr).toContain('MAIL_TRANSPORT=smtp://x: expected ses or outbox:<directory>');
      expect(r.stderr).toContain('ALERT_FROM is not set');
      expect(r.stderr).toContain('ALERT_SEND_RATE=fast');
    },
  );

  test('--help lists the options, the exit codes and an example', async () => {
    const r = await runProcess('send-alerts', ['--help'], {});
    expect(r.code).toBe(0);
    for (const s of ['--resend', '--preview <dir>', '--client <ids>', '--dry-run', 'Exit codes:', '$ bin/send-alerts'])
      expect(r.stdout).toContain(s);
  });
});
