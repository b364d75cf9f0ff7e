import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { sql } from 'kysely';
import { crmKeysJob } from '../../src/jobs/crm-webhook.js';
import { importCsvJob } from '../../src/jobs/import-csv.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startCrmWebhook } from '../helpers/crm-webhook.js';
import { loadSample, runAsFunction } from '../helpers/run-job.js';

// bin/crm-webhook as systemd runs it, against a real database with the sample loaded: the project's format with a
// key, HubSpot's batches with their v3 signature (built here as HubSpot builds it, not with the product's code),
// duplicates, pending events, dead letters, and every refusal storing nothing.
const SECRET = 'hubspot-app-secret-for-tests';
const PUBLIC = 'https://hooks.example.com';
let t: TestDatabase;
let url: string;
let child: Awaited<ReturnType<typeof startCrmWebhook>>['child'];
let key: string;
let acmeKey: string;

async function createKey(name: string, clients?: string): Promise<string> {
  const r = await runAsFunction(
    crmKeysJob,
    ['keys', 'create', '--name', name, ...(clients ? ['--clients', clients] : [])],
    { DATABASE_URL: t.url },
  );
  if (r.code !== 0) throw new Error(r.stderr);
  return /^(lsk_\S+)$/m.exec(r.stdout)![1]!;
}

async function start(env: Record<string, string> = {}): Promise<void> {
  const s = await startCrmWebhook({
    DATABASE_URL: t.url,
    HUBSPOT_APP_SECRET: SECRET,
    CRM_WEBHOOK_PUBLIC_URL: PUBLIC,
    HUBSPOT_LEAD_ID_PROPERTY: 'fb_lead_id',
    CRM_STATUS_MAP: 'Hot Lead=qualified',
    ...env,
  });
  child = s.child;
  url = s.url;
}

const post = async (path: string, body: string, headers: Record<string, string>) => {
  const r = await fetch(`${url}${path}`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: JSON.parse(text) };
};
const leads = (events: unknown[], k = key) =>
  post('/webhooks/leads', JSON.stringify({ events }), { Authorization: `Bearer ${k}` });
/** A HubSpot delivery: the batch and its v3 signature, as HubSpot computes them. */
function hubspot(batch: unknown[], opts: { secret?: string; timestamp?: number } = {}) {
  const body = JSON.stringify(batch);
  const timestamp = String(opts.timestamp ?? Date.now());
  const signature = createHmac('sha256', opts.secret ?? SECRET)
    .update(`POST${PUBLIC}/webhooks/hubspot${body}${timestamp}`)
    .digest('base64');
  return post('/webhooks/hubspot', body, {
    'X-HubSpot-Signature-v3': signature,
    'X-HubSpot-Request-Timestamp': timestamp,
    'X-HubSpot-Signature-Version': 'v3',
    'User-Agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/) (namespace: webhooks-nio-http-client)',
  });
}
const hsEvent = (over: Record<string, unknown>) => ({
  eventId: 100,
  subscriptionId: 2_345_678,
  portalId: 62_515,
  appId: 54_321,
  occurredAt: Date.parse('2025-11-15T10:00:00Z'),
  subscriptionType: 'contact.propertyChange',
  attemptNumber: 0,
  objectId: 1_246_965,
  propertyName: 'hs_lead_status',
  propertyValue: 'OPEN_DEAL',
  changeSource: 'CRM_UI',
  sourceId: 'userId:1234567',
  ...over,
});
/** import-csv of one CSV text, as an analyst pipes it in; its exit code. */
const importCsv = async (kind: string, csv: string) =>
  (
    await runAsFunction(
      importCsvJob,
      ['--kind', kind, '-'],
      { DATABASE_URL: t.url, BLOB_URL: 'file:///tmp/crm-blobs' },
      {
        stdin: csv,
      },
    )
  ).code;
const count = async (query: string) => Number((await sql.raw<{ n: string }>(query).execute(t.db)).rows[0]!.n);
const statusesOf = async (lead: string) =>
  (
    await sql<{ status: string; changed_at: Date }>`
      SELECT status, changed_at FROM lead_status_changes WHERE lead_id = ${lead} ORDER BY changed_at`.execute(t.db)
  ).rows.map((r) => [r.status, r.changed_at.toISOString()]);

beforeAll(async () => {
  t = await createTestDatabase();
  await loadSample(t.url);
  key = await createKey('crm-all');
  acmeKey = await createKey('crm-acme', 'acme');
  await start();
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
  }
  await t?.drop();
});

describe('POST /webhooks/leads', () => {
  test('applies a known lead, keeps an unknown one pending, keeps an unmapped status as a dead letter', async () => {
    const r = await leads([
      { event_id: 'a-1', lead_id: 'L000001', status: 'qualified', changed_at: '2025-11-15T10:00:00Z' },
      { event_id: 'a-2', lead_id: 'NOT-YET', status: 'Hot Lead', changed_at: '2025-11-15T11:00:00+01:00' },
      { event_id: 'a-3', lead_id: 'L000002', status: 'maybe later', changed_at: '2025-11-15T10:00:00Z' },
    ]);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      received: 3,
      applied: 1,
      pending: 1,
      links: 0,
      duplicates: 0,
      invalid: [{ index: 2, event_id: 'a-3', reason: 'status "maybe later" is not mapped; add it to CRM_STATUS_MAP' }],
    });
    expect(await statusesOf('L000001')).toContainEqual(['qualified', '2025-11-15T10:00:00.000Z']);
    const dead = await sql<{ reason: string; request_body: string }>`
      SELECT reason, request_body FROM crm_dead_letters WHERE event_id = 'a-3'`.execute(t.db);
    expect(dead.rows[0]!.reason).toBe('status "maybe later" is not mapped; add it to CRM_STATUS_MAP');
    expect(JSON.parse(dead.rows[0]!.request_body).events[2].status).toBe('maybe later');
    expect(await count("SELECT count(*) AS n FROM crm_events WHERE state = 'pending' AND event_id = 'a-2'")).toBe(1);
    const inbox = await sql<{ body: string; key_id: string }>`
      SELECT i.body, i.key_id FROM crm_inbox i JOIN crm_events e USING (inbox_id) WHERE e.event_id = 'a-1'`.execute(
      t.db,
    );
    expect(JSON.parse(inbox.rows[0]!.body).events).toHaveLength(3);
  });

  test('the same events again change nothing and still answer 200', async () => {
    const events = [{ event_id: 'b-1', lead_id: 'L000003', status: 'contacted', changed_at: '2025-11-14T09:00:00Z' }];
    expect((await leads(events)).body).toMatchObject({ applied: 1, duplicates: 0 });
    const before = await count('SELECT count(*) AS n FROM lead_status_changes');
    const again = await leads(events);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ applied: 0, duplicates: 1 });
    expect(await count('SELECT count(*) AS n FROM lead_status_changes')).toBe(before);
  });

  test('events out of order: each lands at its own changed_at, so as-of history is right', async () => {
    await leads([{ event_id: 'c-2', lead_id: 'L000004', status: 'converted', changed_at: '2025-11-12T00:00:00Z' }]);
    await leads([{ event_id: 'c-1', lead_id: 'L000004', status: 'qualified', changed_at: '2025-11-10T00:00:00Z' }]);
    const s = await statusesOf('L000004');
    expect(s.slice(-2)).toEqual([
      ['qualified', '2025-11-10T00:00:00.000Z'],
      ['converted', '2025-11-12T00:00:00.000Z'],
    ]);
  });

  test('a pending event is applied when an import brings its lead', async () => {
    await leads([{ event_id: 'd-1', lead_id: 'LATE-1', status: 'qualified', changed_at: '2025-11-15T08:00:00Z' }]);
    expect(await statusesOf('LATE-1')).toEqual([]);
    expect(
      await importCsv('leads', 'lead_id,campaign_id,created_at,status\nLATE-1,demo-26-crm,2025-11-14T08:00:00Z,new\n'),
    ).toBe(0);
    expect(await statusesOf('LATE-1')).toEqual([['qualified', '2025-11-15T08:00:00.000Z']]);
    expect(await count("SELECT count(*) AS n FROM crm_events WHERE event_id = 'd-1' AND state = 'applied'")).toBe(1);
  });

  test('by crm_record_id through a link imported with --kind lead-links, pending until the link exists', async () => {
    const e = {
      event_id: 'e-1',
      crm: 'salesforce',
      crm_record_id: '00Q5e00000ABC',
      status: 'qualified',
      changed_at: '2025-11-15T07:00:00Z',
    };
    expect((await leads([e])).body).toMatchObject({ pending: 1 });
    expect(await importCsv('lead-links', 'crm,crm_record_id,lead_id\nsalesforce,00Q5e00000ABC,L000005\n')).toBe(0);
    expect(await statusesOf('L000005')).toContainEqual(['qualified', '2025-11-15T07:00:00.000Z']);
  });

  test("a client-limited key: another client's lead is a dead letter saying why", async () => {
    // L000001 is demo-26-crm's, an acme campaign? Find one of another client's leads instead of assuming.
    const other = await sql<{ lead_id: string }>`
      SELECT l.lead_id FROM campaign_leads l JOIN campaigns c USING (campaign_id) WHERE c.client_id <> 'acme'
      ORDER BY l.lead_id LIMIT 1`.execute(t.db);
    const r = await leads(
      [{ event_id: 'f-1', lead_id: other.rows[0]!.lead_id, status: 'lost', changed_at: '2025-11-15T07:00:00Z' }],
      acmeKey,
    );
    expect(r.body.invalid).toEqual([
      { index: 0, event_id: 'f-1', reason: 'the lead belongs to a client this key may not write for' },
    ]);
  });

  test('refused and stored nowhere: no key, a wrong key, malformed JSON, over 1,000 events, over 1 MB', async () => {
    const before = await count('SELECT count(*) AS n FROM crm_inbox');
    const body = JSON.stringify({
      events: [{ event_id: 'x', lead_id: 'L000001', status: 'new', changed_at: '2025-11-15T00:00:00Z' }],
    });
    expect((await post('/webhooks/leads', body, {})).status).toBe(401);
    expect(
      (await post('/webhooks/leads', body, { Authorization: `Bearer lsk_abcdefgh_${'x'.repeat(43)}` })).status,
    ).toBe(401);
    const bad = await post('/webhooks/leads', '{"events": [', { Authorization: `Bearer ${key}` });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^the body is not JSON/);
    const many = await leads(Array.from({ length: 1001 }, (_, i) => ({ event_id: `m${i}` })));
    expect(many.status).toBe(400);
    expect(many.body.error).toContain('at most 1000 a request');
    const huge = await post('/webhooks/leads', `{"events": [], "pad": "${'x'.repeat(1_100_000)}"}`, {
      Authorization: `Bearer ${key}`,
    });
    expect(huge.status).toBe(413);
    expect(await count('SELECT count(*) AS n FROM crm_inbox')).toBe(before);
  });
});

test('a body over 1 MB sent without a length (chunked) is cut off with 413 and stored nowhere', async () => {
  const before = await count('SELECT count(*) AS n FROM crm_inbox');
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${url}/webhooks/leads`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.write('{"events": [], "pad": "');
    const chunk = 'x'.repeat(64 * 1024);
    let sent = 0;
    const more = () => {
      while (sent < 40 && req.write(chunk)) sent += 1;
      if (sent < 40)
        req.once('drain', () => {
          sent += 1;
          more();
        });
      else req.end('"}');
    };
    more();
  });
  expect(status).toBe(413);
  expect(await count('SELECT count(*) AS n FROM crm_inbox')).toBe(before);
});

describe('POST /webhooks/hubspot', () => {
  test('a signed batch: the lead-id property links the contact, its status change applies to the lead', async () => {
    const r = await hubspot([
      hsEvent({ eventId: 1, propertyName: 'fb_lead_id', propertyValue: 'L000006' }),
      hsEvent({ eventId: 2, propertyName: 'hs_lead_status', propertyValue: 'OPEN_DEAL' }),
    ]);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ received: 2, links: 1, invalid: [] });
    expect(await statusesOf('L000006')).toContainEqual(['qualified', '2025-11-15T10:00:00.000Z']);
  });

  test('a generic object.propertyChange of a contact (object type 0-1), from newer apps, applies', async () => {
    const generic = { subscriptionType: 'object.propertyChange', objectTypeId: '0-1', objectId: 7_300_001 };
    const r = await hubspot([
      hsEvent({ ...generic, eventId: 31, propertyName: 'fb_lead_id', propertyValue: 'L000009' }),
      hsEvent({ ...generic, eventId: 32, propertyName: 'hs_lead_status', propertyValue: 'UNQUALIFIED' }),
      hsEvent({ ...generic, eventId: 33, objectTypeId: '0-3', propertyValue: 'OPEN_DEAL' }),
    ]);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ received: 3, links: 1 });
    expect(r.body.invalid).toEqual([
      expect.objectContaining({
        reason: 'object.propertyChange of object type 0-3 is not a contact (0-1); subscribe to contacts only',
      }),
    ]);
    expect(await statusesOf('L000009')).toContainEqual(['unqualified', '2025-11-15T10:00:00.000Z']);
  });

  test('a retried delivery (attemptNumber 1) is a duplicate; another subscription is a dead letter', async () => {
    expect((await hubspot([hsEvent({ eventId: 20 })])).body).toMatchObject({ duplicates: 0 });
    const retry = await hubspot([hsEvent({ eventId: 20, attemptNumber: 1 })]);
    expect(retry.body).toMatchObject({ duplicates: 1 });
    const other = await hubspot([hsEvent({ eventId: 3, subscriptionType: 'contact.creation' })]);
    expect(other.body.invalid[0].reason).toBe(
      'contact.creation is not a contact.propertyChange; subscribe to those only',
    );
  });

  test('refused: a wrong secret, a timestamp over 5 minutes old (a replay), no signature', async () => {
    const before = await count('SELECT count(*) AS n FROM crm_inbox');
    expect((await hubspot([hsEvent({ eventId: 9 })], { secret: 'not-the-secret' })).status).toBe(401);
    const old = await hubspot([hsEvent({ eventId: 9 })], { timestamp: Date.now() - 301_000 });
    expect(old.status).toBe(401);
    expect(old.body.error).toContain('more than 5 minutes old');
    expect((await post('/webhooks/hubspot', '[]', {})).status).toBe(401);
    expect(await count('SELECT count(*) AS n FROM crm_inbox')).toBe(before);
  });
});

describe('operations', () => {
  test('a revoked key is refused within 5 seconds', async () => {
    const k = await createKey('short-lived');
    const e = [{ event_id: 'r-1', lead_id: 'L000007', status: 'new', changed_at: '2025-11-15T00:00:00Z' }];
    expect((await leads(e, k)).status).toBe(200);
    const r = await runAsFunction(crmKeysJob, ['keys', 'revoke', '--name', 'short-lived'], { DATABASE_URL: t.url });
    expect(r.code).toBe(0);
    await new Promise((res) => setTimeout(res, 5200));
    expect((await leads(e, k)).status).toBe(401);
  }, 15_000);

  test('keys list shows names, prefixes and scopes, never a key or its hash', async () => {
    const r = await runAsFunction(crmKeysJob, ['keys', 'list'], { DATABASE_URL: t.url });
    expect(r.stdout).toMatch(/^crm-acme\s+lsk_[a-z0-9]{8}_…\s+clients acme\s+active$/m);
    expect(r.stdout).not.toContain(key.slice(13));
    expect(r.stdout).not.toContain('scrypt');
  });

  test('SIGTERM: stops accepting, finishes what is in flight, exits 0', async () => {
    const inflight = leads([
      { event_id: 's-1', lead_id: 'L000008', status: 'new', changed_at: '2025-11-15T00:00:00Z' },
    ]);
    await new Promise((res) => setTimeout(res, 5));
    child.kill('SIGTERM');
    const [answer, code] = await Promise.all([inflight, new Promise((r) => child.on('exit', r))]);
    expect(answer.status).toBe(200);
    expect(code).toBe(0);
    expect(await count("SELECT count(*) AS n FROM crm_events WHERE event_id = 's-1'")).toBe(1);
    await start();
  });
});
