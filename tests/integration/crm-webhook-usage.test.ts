import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { crmKeysJob, crmWebhookJob } from '../../src/jobs/crm-webhook.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { loadSample, runAsFunction } from '../helpers/run-job.js';

// crm-webhook's mistakes an operator can make before anything listens: bad flags (64), settings that make no sense
// (78, every problem listed), and every wrong `keys` command (64, saying what to do).
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
  await loadSample(t.url);
});
afterAll(async () => {
  await t.drop();
});

describe('bin/crm-webhook', () => {
  test('--port that is not a port is exit 64', async () => {
    const r = await runAsFunction(crmWebhookJob, ['--port', 'http'], { DATABASE_URL: t.url });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--port http: expected a port 0–65535');
  });

  test('settings that make no sense are exit 78, every problem listed, before anything listens', async () => {
    const r = await runAsFunction(crmWebhookJob, ['--port', '0'], {
      DATABASE_URL: t.url,
      CRM_STATUS_MAP: 'Hot=,Warm=maybe',
      CRM_WEBHOOK_PORT: '99999',
      HUBSPOT_APP_SECRET: 'a-secret-without-its-url',
      HUBSPOT_STATUS_PROPERTY: 'lead status!',
    });
    expect(r.code).toBe(78);
    const problems = (r.logs.find((l) => l.level === 'error')?.problems ?? []) as string[];
    expect(problems).toHaveLength(5);
    for (const problem of [
      'CRM_STATUS_MAP: "Hot=" is not crm value=project status',
      'CRM_STATUS_MAP: "Warm=maybe" maps to maybe',
      'CRM_WEBHOOK_PORT=99999: expected a port number 0–65535',
      'HUBSPOT_APP_SECRET is set but CRM_WEBHOOK_PUBLIC_URL is not',
      "HUBSPOT_STATUS_PROPERTY=lead status!: expected a HubSpot property's internal name",
    ])
      expect(problems.some((p) => p.startsWith(problem))).toBe(true);
    expect(r.stderr).not.toContain('a-secret-without-its-url');
    expect(r.stderr).not.toContain('listening on');
  });

  test('CRM_WEBHOOK_PUBLIC_URL with the webhook path in it is refused, naming the fix', async () => {
    const r = await runAsFunction(crmWebhookJob, ['--port', '0'], {
      DATABASE_URL: t.url,
      CRM_WEBHOOK_PUBLIC_URL: 'hooks.example.com/webhooks/hubspot?x=1',
    });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('without the /webhooks/… path, e.g. https://hooks.example.com');
  });
});

describe('bin/crm-webhook keys', () => {
  const keys = (argv: string[]) => runAsFunction(crmKeysJob, ['keys', ...argv], { DATABASE_URL: t.url });

  beforeAll(async () => {
    expect((await keys(['create', '--name', 'taken'])).code).toBe(0);
  });

  test.each([
    [['rotate'], 'keys rotate: unknown command; expected create, list or revoke'],
    [['create'], 'keys create: --name is required'],
    [['create', '--name', 'bad name!'], 'use letters, digits and . _ @ + -'],
    [['create', '--name', 'taken'], 'a key named taken exists already'],
    [['create', '--name', 'x', '--clients', 'acme,nosuch'], '--clients: no client nosuch'],
    [['create', '--name', 'x', '--clients', 'acme,'], '--clients acme,: an empty client id'],
    [['revoke', '--name', 'nobody'], 'no active key nobody; see keys list'],
    [['list', '--clients', 'acme'], 'keys list: --clients is for create'],
    [['list', 'extra'], 'too many arguments'],
  ])('keys %j is exit 64: %s', async (argv, message) => {
    const r = await keys(argv as string[]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(message);
  });

  test('a key revoked twice: the second is exit 64, and the first stays revoked', async () => {
    expect((await keys(['create', '--name', 'twice'])).code).toBe(0);
    expect((await keys(['revoke', '--name', 'twice'])).code).toBe(0);
    const again = await keys(['revoke', '--name', 'twice']);
    expect(again.code).toBe(64);
    expect((await keys(['list'])).stdout).toMatch(/^twice\s+lsk_[a-z0-9]{8}_…\s+every client\s+revoked /m);
  });
});
