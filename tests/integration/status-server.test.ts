import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { scoreCampaignsJob } from '../../src/jobs/score-campaigns.js';
import { launchChromium, screenshotDir } from '../helpers/browser.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { loadSample, ROOT, runAsFunction, spawnProcess } from '../helpers/run-job.js';
import { addUser, basic, createRole, readonlyUrl, type Running, startServer, TOKEN } from '../helpers/status-server.js';

// status-server as cron/systemd runs it: bin/status-server as a process, connected as a read-only
// role made by scripts/create-readonly-role.sh. The jobs' history is written into job_runs
// relative to the real clock (the server reads the system clock).
const HOUR = 3_600_000;
const PASSWORD = 'correct horse battery staple';

let t: TestDatabase;
let role: string;
let roUrl: string;

const auth = { Authorization: `Bearer ${TOKEN}` };
async function get(base: string, path: string, headers: Record<string, string> = {}, method = 'GET') {
  const r = await fetch(`${base}${path}`, { method, headers });
  const text = await r.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: r.status, headers: r.headers, body: body as Record<string, unknown> & string, text };
}

async function run(
  db: TestDatabase,
  job: string,
  finishedHoursAgo: number,
  exitCode = 0,
  error: string | null = null,
): Promise<void> {
  const finished = new Date(Date.now() - finishedHoursAgo * HOUR);
  const started = new Date(finished.getTime() - 2000);
  const status = exitCode === 0 ? 'succeeded' : 'failed';
  await sql`INSERT INTO job_runs (job, host, pid, started_at, finished_at, status, exit_code, error_summary) VALUES
    (${job}, 'test', 1, ${started}, ${finished}, ${status}, ${exitCode}, ${error})`.execute(db.db);
}

let server: Running;

beforeAll(async () => {
  t = await createTestDatabase();
  await loadSample(t.url);
  for (const date of ['2025-11-14', '2025-11-15']) {
    const r = await runAsFunction(scoreCampaignsJob, ['--date', date], { DATABASE_URL: t.url });
    if (r.code !== 0) throw new Error(r.stderr);
  }
  await sql`DELETE FROM job_runs`.execute(t.db);
  await run(t, 'fetch-facebook', 1);
  await run(t, 'score-campaigns', 8);
  await run(t, 'send-alerts', 9);
  await run(t, 'send-alerts', 2, 69, 'SES did not answer usably (ServiceUnavailable)');
  role = `ro_${randomBytes(4).toString('hex')}`;
  createRole(t.url, role);
  roUrl = readonlyUrl(t.url, role);
  await addUser(t.url, 'ops', PASSWORD, 'agency');
  server = await startServer({ DATABASE_URL_READONLY: roUrl }, ['--rate-limit', '1000']);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await t?.drop();
});

describe('health and status', () => {
  test('/healthz answers 200 with security headers and no database involved', async () => {
    const r = await get(server.url, '/healthz');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok' });
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(r.headers.get('cache-control')).toBe('no-store');
  });

  test('/status says per job: on time, late, failed, never run', async () => {
    const r = await get(server.url, '/status');
    expect(r.status).toBe(200);
    const jobs = Object.fromEntries(
      (r.body.jobs as { job: string; state: string; last_run_failed: boolean; summary: string }[]).map((j) => [
        j.job,
        j,
      ]),
    );
    expect(jobs['fetch-facebook']).toMatchObject({ state: 'ok', last_run_failed: false });
    expect(jobs['score-campaigns']).toMatchObject({
      state: 'late',
      summary: 'late: last success 8 h ago, expected every 6 h',
    });
    expect(jobs['send-alerts']).toMatchObject({ state: 'late', last_run_failed: true });
    expect(jobs['backup-db']).toMatchObject({ state: 'never', summary: 'has never run' });
    expect(r.body.scoring).toMatchObject({ date: '2025-11-15', campaignsScored: expect.any(Number) });
  });

  test("/status without the token leaves out the failed runs' error texts; /metrics never has them", async () => {
    const open = await get(server.url, '/status');
    const sendAlerts = (b: Record<string, unknown>) =>
      (b.jobs as { job: string; last_run: Record<string, unknown> }[]).find((j) => j.job === 'send-alerts')!;
    expect(sendAlerts(open.body).last_run).toMatchObject({ exitCode: 69 });
    expect(sendAlerts(open.body).last_run).not.toHaveProperty('error');
    expect(open.text).not.toContain('ServiceUnavailable');
    const withToken = await get(server.url, '/status', auth);
    expect(sendAlerts(withToken.body).last_run.error).toContain('SES did not answer usably (ServiceUnavailable)');
    expect((await get(server.url, '/metrics')).text).not.toContain('ServiceUnavailable');
  });

  test('/readyz is 503 and says which jobs are stale, then 200 once they are on time', async () => {
    // The runs this test adds are taken out again at the end: the other tests read the job history as set up.
    const last = await t.db
      .selectFrom('job_runs')
      .select((eb) => eb.fn.max('run_id').as('id'))
      .executeTakeFirstOrThrow();
    try {
      await readyzBecomesReady();
    } finally {
      await t.db
        .deleteFrom('job_runs')
        .where('run_id', '>', String(last.id ?? 0))
        .execute();
      await new Promise((res) => setTimeout(res, 1100)); // past the overview's one-second cache
    }
  });

  async function readyzBecomesReady(): Promise<void> {
    const r = await get(server.url, '/readyz');
    expect(r.status).toBe(503);
    expect(r.body.problems).toEqual(
      expect.arrayContaining([
        'backup-db has never run',
        'score-campaigns late: last success 8 h ago, expected every 6 h',
      ]),
    );
    await run(t, 'score-campaigns', 0.5);
    await run(t, 'send-alerts', 0.4);
    // A restore drill is not a backup: the nightly backup is still missing after one.
    await run(t, 'backup-db-drill', 2);
    await new Promise((res) => setTimeout(res, 1100)); // the overview is cached for a second
    const drillOnly = await get(server.url, '/readyz');
    expect(drillOnly.status).toBe(503);
    expect(drillOnly.body.problems).toContain('backup-db has never run');
    await run(t, 'backup-db', 3);
    await new Promise((res) => setTimeout(res, 1100));
    const ok = await get(server.url, '/readyz');
    expect(ok.body).toEqual({ ready: true, problems: [] });
    expect(ok.status).toBe(200);
  }

  test(
    '/metrics speaks the Prometheus text format: last success, exit ' +
      'code and duration per job, scores and recommendations',
    async () => {
      const r = await get(server.url, '/metrics');
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(r.text).toContain('# TYPE leadsmart_job_last_success_timestamp_seconds gauge');
      expect(r.text).toMatch(/^leadsmart_job_last_success_timestamp_seconds\{job="fetch-facebook"\} \d+(\.\d+)?$/m);
      // As set up: send-alerts' latest run failed with 69 (SES), fetch-facebook's succeeded.
      expect(r.text).toMatch(/^leadsmart_job_last_exit_code\{job="send-alerts"\} 69$/m);
      expect(r.text).toMatch(/^leadsmart_job_last_exit_code\{job="fetch-facebook"\} 0$/m);
      expect(r.text).toMatch(/^leadsmart_job_last_duration_seconds\{job="fetch-facebook"\} 2$/m);
      expect(r.text).toMatch(/^leadsmart_campaigns_scored\{date="2025-11-15"\} \d+$/m);
      expect(r.text).toMatch(/^leadsmart_recommendations\{date="2025-11-15",recommendation="PAUSE_CAMPAIGN"\} \d+$/m);
    },
  );

  test('HEAD answers like GET without a body; other methods are 405 with Allow', async () => {
    const head = await get(server.url, '/status', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await get(server.url, '/api/campaigns', auth, method);
      expect(r.status).toBe(405);
      expect(r.headers.get('allow')).toBe('GET, HEAD');
    }
  });
});

describe('the API', () => {
  test('needs the bearer token: none or a wrong one is 401', async () => {
    expect((await get(server.url, '/api/campaigns')).status).toBe(401);
    const wrong = await get(server.url, '/api/campaigns', { Authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('Bearer');
    expect((await get(server.url, '/api/campaigns', auth)).status).toBe(200);
  });

  test('/api/campaigns pages through a date with a cursor, and filters by recommendation and client', async () => {
    const first = await get(server.url, '/api/campaigns?date=2025-11-15&limit=5', auth);
    expect(first.status).toBe(200);
    const items = first.body.items as { campaign_id: string }[];
    expect(items).toHaveLength(5);
    const seen = items.map((i) => i.campaign_id);
    let cursor = first.body.next_cursor as string | null;
    while (cursor) {
      const next = await get(server.url, `/api/campaigns?date=2025-11-15&limit=5&cursor=${cursor}`, auth);
      seen.push(...(next.body.items as { campaign_id: string }[]).map((i) => i.campaign_id));
      cursor = next.body.next_cursor as string | null;
    }
    const all = await sql<{
      campaign_id: string;
    }>`SELECT campaign_id FROM campaign_scores WHERE date = '2025-11-15' ORDER BY campaign_id`.execute(t.db);
    expect(seen).toEqual(all.rows.map((r) => r.campaign_id));
    const paused = await get(server.url, '/api/campaigns?recommendation=PAUSE_CAMPAIGN&client=acme', auth);
    expect(
      (paused.body.items as { recommendation: string; client_id: string }[]).every(
        (i) => i.recommendation === 'PAUSE_CAMPAIGN' && i.client_id === 'acme',
      ),
    ).toBe(true);
    expect((paused.body.items as unknown[]).length).toBeGreaterThan(0);
  });

  test(
    '/api/campaigns says in one line why a campaign is not judged ' +
      "(the sample's sales campaign: NO_LEAD_DATA), and null for the others",
    async () => {
      const r = await get(server.url, '/api/campaigns?date=2025-11-15&recommendation=INSUFFICIENT_DATA', auth);
      const items = r.body.items as { campaign_id: string; not_judged_reason: string | null; flags: string[] }[];
      const sales = items.find((i) => i.campaign_id === 'demo-30-sales')!;
      expect(sales.flags).toContain('NO_LEAD_DATA');
      expect(sales.not_judged_reason).toMatch(/^Not judged on leads: its data carries no lead counts/);
      const judged = await get(server.url, '/api/campaigns?date=2025-11-15&recommendation=PAUSE_CAMPAIGN', auth);
      expect(
        (judged.body.items as { not_judged_reason: string | null }[]).every((i) => i.not_judged_reason === null),
      ).toBe(true);
    },
  );

  test('/api/campaigns/{id} has the score history and the latest reasons; an unknown id is 404', async () => {
    const r = await get(server.url, '/api/campaigns/demo-01-star', auth);
    expect(r.status).toBe(200);
    expect((r.body.history as { date: string }[]).map((h) => h.date)).toEqual(['2025-11-15', '2025-11-14']);
    expect(r.body.latest).toMatchObject({
      date: '2025-11-15',
      dimensions: { cost_efficiency: { reason: expect.any(String) } },
    });
    // The action beside the recommendation, with its gate, reason and the evidence (docs/decisions.md).
    expect(r.body.latest).toMatchObject({
      action: { action: expect.any(String), gate: expect.any(String), reason: expect.any(String) },
      evidence: { window: { p_above: expect.any(Number), cpql_80: expect.any(Array) } },
    });
    expect((r.body.history as { action: string | null }[]).every((h) => typeof h.action === 'string')).toBe(true);
    const list = await get(server.url, '/api/campaigns?limit=5', auth);
    for (const item of list.body.items as { action: string | null; action_gate: string | null }[])
      expect(item).toMatchObject({ action: expect.any(String), action_gate: expect.any(String) });
    const missing = await get(server.url, '/api/campaigns/nope', auth);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: 'no campaign nope' });
  });

  test('/api/recommendations lists the actionable ones most urgent first, with counts, across pages', async () => {
    const r = await get(server.url, '/api/recommendations?limit=100', auth);
    expect(r.status).toBe(200);
    const recs = (r.body.items as { recommendation: string }[]).map((i) => i.recommendation);
    const order = ['PAUSE_CAMPAIGN', 'REDUCE_BUDGET', 'TEST_CHANGES', 'MONITOR_CLOSELY', 'INCREASE_BUDGET'];
    expect(recs.map((x) => order.indexOf(x))).toEqual([...recs.map((x) => order.indexOf(x))].sort((a, b) => a - b));
    expect(recs).not.toContain('CONTINUE_OPTIMIZE');
    expect(r.body.counts).toMatchObject({ PAUSE_CAMPAIGN: expect.any(Number) });
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const p: Awaited<ReturnType<typeof get>> = await get(
        server.url,
        `/api/recommendations?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        auth,
      );
      paged.push(...(p.body.items as { campaign_id: string }[]).map((i) => i.campaign_id));
      cursor = p.body.next_cursor as string | null;
    } while (cursor);
    expect(paged).toEqual((r.body.items as { campaign_id: string }[]).map((i) => i.campaign_id));
  });

  test('bad input is a 400 with a JSON error naming the parameter, never a stack trace or SQL', async () => {
    const cases: [string, string][] = [
      ['/api/campaigns?date=2025-13-40', 'date=2025-13-40: expected YYYY-MM-DD'],
      ['/api/campaigns?limit=0', 'limit=0: expected a whole number from 1 to 500'],
      ['/api/campaigns?limit=abc', 'limit=abc: expected a whole number from 1 to 500'],
      ['/api/campaigns?cursor=%27%3B%20DROP', 'cursor: not a cursor this API returned'],
      // A well-formed cursor that decodes to a NUL byte (PostgreSQL refuses it in text: it answered 500).
      [
        `/api/campaigns?cursor=${Buffer.from(JSON.stringify(['a\u0000b'])).toString('base64url')}`,
        'cursor: not a cursor this API returned',
      ],
      [
        `/api/recommendations?cursor=` +
          `${Buffer.from(JSON.stringify(['PAUSE_CAMPAIGN', '1', '\u0000'])).toString('base64url')}`,
        'cursor: not a cursor this API returned',
      ],
      ['/api/campaigns?recommendation=PANIC', 'recommendation=PANIC: expected one of'],
      ['/api/campaigns?sort=name', 'unknown parameter "sort"'],
      ['/api/campaigns?limit=5&limit=6', 'parameter "limit" given more than once'],
      ['/api/campaigns/demo-01-star?verbose=1', 'unknown parameter "verbose"; allowed: none'],
      ['/status?verbose=1', 'unknown parameter "verbose"; allowed: none'],
      [`/api/campaigns?cursor=${'A'.repeat(2001)}`, 'cursor: at most 2000 characters'],
      ['/api/recommendations?type=nope', 'type=nope: expected one of'],
    ];
    for (const [path, message] of cases) {
      const r = await get(server.url, path, auth);
      expect({ path, status: r.status }).toEqual({ path, status: 400 });
      expect(String(r.body.error)).toContain(message);
      expect(r.text).not.toMatch(/at \w+ \(|SELECT|node_modules/);
    }
  });
});

describe('read-only and limits', () => {
  test('the role it connects as cannot write: an INSERT through it fails at the database', async () => {
    const c = new pg.Client({ connectionString: roUrl });
    await c.connect();
    try {
      await expect(c.query("INSERT INTO clients (client_id) VALUES ('intruder')")).rejects.toThrow(
        /read-only transaction|permission denied/,
      );
      await expect(c.query('BEGIN READ WRITE; UPDATE campaigns SET status = NULL; COMMIT')).rejects.toThrow(
        /permission denied/,
      );
    } finally {
      await c.end();
    }
  });

  test(
    'the role is read-only by privileges: with read-only turned off ' +
      'for its session it still cannot create temporary tables or ' +
      "large objects, or take a job's advisory lock",
    async () => {
      const c = new pg.Client({ connectionString: roUrl });
      await c.connect();
      try {
        await c.query('SET default_transaction_read_only = off');
        await expect(c.query('CREATE TEMP TABLE scratch (i int)')).rejects.toThrow(
          /permission denied to create temporary tables/,
        );
        await expect(c.query('SELECT lo_create(0)')).rejects.toThrow(/permission denied for function lo_create/);
        await expect(
          c.query("SELECT pg_try_advisory_lock(hashtextextended('leadsmart:score-campaigns', 0))"),
        ).rejects.toThrow(/permission denied for function pg_try_advisory_lock/);
        await expect(c.query("SELECT pg_advisory_lock(hashtextextended('leadsmart:import-csv', 0))")).rejects.toThrow(
          /permission denied/,
        );
        // And, whatever its grants, it cannot hold a job's lock: a row lock on job_locks needs UPDATE.
        await expect(c.query('BEGIN; SELECT 1 FROM job_locks FOR UPDATE')).rejects.toThrow(
          /permission denied for table job_locks/,
        );
        await c.query('ROLLBACK');
      } finally {
        await c.end();
      }
    },
  );

  test(
    'create-readonly-role.sh with the socket form of DATABASE_URL ' +
      'prints a URL for the role, with its password, that connects',
    async () => {
      const name = `ro_${Math.random().toString(36).slice(2, 8)}`;
      const out = execFileSync(join(ROOT, 'scripts', 'create-readonly-role.sh'), [name], {
        env: { ...process.env, DATABASE_URL: t.url, READONLY_PASSWORD: 'a-long-generated-password-1234' },
        encoding: 'utf8',
      });
      const printed = /^DATABASE_URL_READONLY=(.+)$/m.exec(out)?.[1];
      expect(printed).toBe(
        t.url.replace('postgresql://postgres@', `postgresql://${name}:a-long-generated-password-1234@`),
      );
      const c = new pg.Client({ connectionString: printed });
      await c.connect();
      try {
        expect((await c.query('SELECT current_user AS u')).rows[0].u).toBe(name);
      } finally {
        await c.end();
      }
    },
  );

  test('more than the per-address limit of /api/* requests in a minute gets 429 with Retry-After', async () => {
    const limited = await startServer({ DATABASE_URL_READONLY: roUrl }, ['--rate-limit', '5']);
    try {
      const codes: number[] = [];
      for (let i = 0; i < 6; i++) codes.push((await get(limited.url, '/api/campaigns?limit=1', auth)).status);
      expect(codes).toEqual([200, 200, 200, 200, 200, 429]);
      const r = await get(limited.url, '/api/campaigns?limit=1', auth);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await get(limited.url, '/healthz')).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });

  test(
    'requests without the token are counted apart: a flood of them ' +
      'from the same address does not lock the token holder out',
    async () => {
      const limited = await startServer({ DATABASE_URL_READONLY: roUrl }, ['--rate-limit', '5']);
      try {
        const anonymous: number[] = [];
        for (let i = 0; i < 8; i++) anonymous.push((await get(limited.url, '/api/campaigns?limit=1')).status);
        expect(anonymous).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
        expect((await get(limited.url, '/api/campaigns?limit=1', auth)).status).toBe(200);
      } finally {
        await limited.stop();
      }
    },
  );

  test('binds 127.0.0.1 by default and stops cleanly on SIGTERM (exit 0)', async () => {
    const s = await startServer({ DATABASE_URL_READONLY: roUrl });
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await get(s.url, '/healthz');
    expect(await s.stop('SIGTERM')).toBe(0);
    expect(s.stderr()).toContain('"message":"stopping: no new connections; letting requests in progress finish"');
    expect(s.stderr()).toMatch(/"counts":\{"requests":1\}.*"exit_code":0/);
  });

  test('refuses to start without DATABASE_URL_READONLY and STATUS_TOKEN (78)', async () => {
    const child = spawnProcess('status-server', [], {});
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(78);
    expect(err).toContain('DATABASE_URL_READONLY is not set');
    expect(err).toContain('STATUS_TOKEN is not set');
  });
});

describe("crm-webhook's state", () => {
  test('/status, /metrics, the jobs page: events in the last hour and day, pending, dead letters', async () => {
    // Three requests of one event each: 10 minutes, 3 hours and 2 days ago.
    const inbox = await sql<{ id: string }>`INSERT INTO crm_inbox (source, body, events, invalid, received_at) VALUES
      ('leads', '{}', 1, 0, now() - interval '10 minutes'), ('leads', '{}', 1, 0, now() - interval '3 hours'),
      ('leads', '{}', 1, 1, now() - interval '2 days') RETURNING inbox_id::text AS id`.execute(t.db);
    const id = inbox.rows[0]!.id;
    await sql`INSERT INTO crm_events
                (source, sender, event_id, inbox_id, crm, lead_id, state, reason, received_at) VALUES
      ('leads', 'key:', 'st-1', ${id}, 'crm', 'L000001', 'applied', NULL, now() - interval '10 minutes'),
      ('leads', 'key:', 'st-2', ${id}, 'crm', 'NOPE', 'pending', NULL, now() - interval '3 hours'),
      ('leads', 'key:', 'st-3', ${id}, 'crm', NULL, 'invalid', 'status: missing', now() - interval '2 days')`.execute(
      t.db,
    );
    // crm-webhook's refusal counts: 401s a rotated secret makes, in the last hour and earlier in the day.
    await sql`INSERT INTO crm_refusals (minute, status, count) VALUES
      (date_trunc('minute', now()) - interval '5 minutes', 401, 12),
      (date_trunc('minute', now()) - interval '5 hours', 401, 30),
      (date_trunc('minute', now()) - interval '5 hours', 400, 2)`.execute(t.db);
    // The overview is kept for a second.
    await new Promise((r) => setTimeout(r, 1100));
    const status = await get(server.url, '/status');
    expect(status.body.crm_webhook).toMatchObject({
      events_last_hour: 1,
      events_last_day: 2,
      pending: 1,
      dead_letters: 1,
      oldest_pending: expect.any(String),
      last_event_at: expect.any(String),
      expired: 0,
      refused_last_hour: { '401': 12 },
      refused_last_day: { '401': 42, '400': 2 },
    });
    const metrics = await get(server.url, '/metrics');
    expect(metrics.text).toContain('leadsmart_crm_events_received{window="1h"} 1');
    expect(metrics.text).toContain('leadsmart_crm_events_pending 1');
    expect(metrics.text).toContain('leadsmart_crm_dead_letters 1');
    expect(metrics.text).toContain('leadsmart_crm_requests_refused{status="401",window="1h"} 12');
    expect(metrics.text).toContain('leadsmart_crm_requests_refused{status="401",window="24h"} 42');
    const page = await get(server.url, '/jobs', basic('ops', PASSWORD));
    expect(page.text).toContain('<h2>CRM webhook</h2>');
    expect(page.text).toMatch(/dead letters \(invalid events\)<\/th><td>1 · oldest /);
    expect(page.text).toContain(
      '12 in the last hour, 42 in the last day: 401 bad key or signature (a rotated secret?)',
    );
  });
});

describe('the jobs page for people (/jobs, signed in)', () => {
  test('shows every job with its state, the backup and the ' +
    'recommendations, readable in headless Chromium', async () => {
    const out = screenshotDir('status');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({
        viewport: { width: 1024, height: 900 },
        httpCredentials: { username: 'ops', password: PASSWORD },
      });
      const res = await page.goto(`${server.url}/jobs`);
      expect(res?.status()).toBe(200);
      for (const job of ['fetch-facebook', 'score-campaigns', 'send-alerts', 'backup-db'])
        await expect(page.getByText(job, { exact: true }).isVisible()).resolves.toBe(true);
      await expect(page.getByText('Scores for 2025-11-15').isVisible()).resolves.toBe(true);
      await expect(page.getByText('Pause campaign').first().isVisible()).resolves.toBe(true);
      await expect(page.getByText('last restore drill').isVisible()).resolves.toBe(true);
      const file = join(out, 'status-page.png');
      await page.screenshot({ path: file, fullPage: true });
      expect(statSync(file).size).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  }, 60_000);
});

describe('a database that goes away', () => {
  test('keeps serving: /healthz stays 200, /readyz and the API answer ' +
    '503 while it is down, and recover when it is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leadsmart-status-pg-'));
    const script = join(ROOT, 'scripts', 'pg-cluster.sh');
    execFileSync(script, ['start', dir, '--fast'], { stdio: 'pipe' });
    const url = `postgresql://postgres@/postgres?host=${encodeURIComponent(join(dir, 'run'))}`;
    let s: Running | null = null;
    try {
      execFileSync(join(ROOT, 'bin', 'migrate'), [], { env: { ...process.env, DATABASE_URL: url }, stdio: 'pipe' });
      createRole(url, 'status_ro');
      s = await startServer({ DATABASE_URL_READONLY: url.replace('postgres@', 'status_ro@') }, [
        '--rate-limit',
        '1000',
      ]);
      expect((await get(s.url, '/readyz')).body).toMatchObject({
        problems: expect.arrayContaining(['fetch-facebook has never run']),
      });
      execFileSync(script, ['stop', dir], { stdio: 'pipe' });
      await new Promise((r) => setTimeout(r, 1100));
      expect((await get(s.url, '/healthz')).status).toBe(200);
      const down = await get(s.url, '/readyz');
      expect(down.status).toBe(503);
      expect(down.body).toEqual({ ready: false, problems: ['database: not answering'] });
      const api = await get(s.url, '/api/campaigns', auth);
      expect(api.status).toBe(503);
      expect(api.body).toMatchObject({ error: 'database unavailable; try again shortly' });
      expect((await get(s.url, '/jobs', basic('ops', PASSWORD))).status).toBe(503);
      execFileSync(script, ['start', dir, '--fast'], { stdio: 'pipe' });
      let back = 0;
      for (let i = 0; i < 40 && back !== 200; i++) {
        await new Promise((r) => setTimeout(r, 250));
        back = (await get(s.url, '/api/campaigns', auth)).status;
      }
      expect(back).toBe(200);
      expect(s.child.exitCode).toBeNull();
    } finally {
      await s?.stop();
      execFileSync(script, ['stop', dir], { stdio: 'pipe' });
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
