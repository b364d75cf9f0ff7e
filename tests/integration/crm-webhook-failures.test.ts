import { afterAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { crmKeysJob } from '../../src/jobs/crm-webhook.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startCrmWebhook } from '../helpers/crm-webhook.js';
import { loadSample, ROOT, runAsFunction } from '../helpers/run-job.js';

// crm-webhook when things go wrong: killed with SIGKILL under load (every acknowledged event is in the database, and
// a sender's retry of everything creates no duplicate), and a database that goes away (503 with Retry-After, nothing
// acknowledged, then back by itself).
let t: TestDatabase | null = null;

afterAll(async () => {
  await t?.drop();
});

const start = startCrmWebhook;

async function newKey(databaseUrl: string): Promise<string> {
  const r = await runAsFunction(crmKeysJob, ['keys', 'create', '--name', 'sender'], { DATABASE_URL: databaseUrl });
  if (r.code !== 0) throw new Error(r.stderr);
  return /^(lsk_\S+)$/m.exec(r.stdout)![1]!;
}

const send = (url: string, key: string, body: string) =>
  fetch(`${url}/webhooks/leads`, {
    method: 'POST',
    body,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
  });

describe('killed with SIGKILL under load', () => {
  test('every acknowledged event is in the database; resending everything creates no duplicate', async () => {
    t = await createTestDatabase();
    await loadSample(t.url);
    const key = await newKey(t.url);
    let server = await start({ DATABASE_URL: t.url });
    const leads = (
      await sql<{ lead_id: string }>`SELECT lead_id FROM campaign_leads ORDER BY lead_id LIMIT 200`.execute(t.db)
    ).rows.map((r) => r.lead_id);
    const sent: string[] = [];
    const acked = new Set<string>();
    let killed = false;
    const failures: string[] = [];
    const loop = async (w: number) => {
      for (let n = 0; !killed; n++) {
        const ids = Array.from({ length: 10 }, (_, i) => `kill-${w}-${n}-${i}`);
        const body = JSON.stringify({
          events: ids.map((id, i) => ({
            event_id: id,
            // Known leads and unknown ones (pending), at distinct instants.
            lead_id: i % 3 === 0 ? `UNKNOWN-${w}-${n}` : leads[(w * 37 + n * 10 + i) % leads.length],
            status: 'qualified',
            changed_at: new Date(Date.UTC(2025, 10, 1) + (w * 100_000 + n * 10 + i) * 1000).toISOString(),
          })),
        });
        sent.push(body);
        try {
          const r = await send(server.url, key, body);
          const text = await r.text();
          if (r.status === 200) for (const id of ids) acked.add(id);
          else failures.push(`${r.status} ${text.slice(0, 200)}`);
        } catch {
          return; // the connection died with the process
        }
      }
    };
    const loops = Array.from({ length: 8 }, (_, w) => loop(w));
    const until = Date.now() + 30_000;
    while (acked.size < 600 && failures.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    expect(failures).toEqual([]);
    const exited = new Promise((r) => server.child.once('exit', r));
    server.child.kill('SIGKILL');
    killed = true;
    await Promise.all(loops);
    await exited;

    const stored = new Set(
      (
        await sql<{ event_id: string }>`SELECT event_id FROM crm_events WHERE event_id LIKE 'kill-%'`.execute(t.db)
      ).rows.map((r) => r.event_id),
    );
    const lost = [...acked].filter((id) => !stored.has(id));
    expect({ acked: acked.size >= 600, lost }).toEqual({ acked: true, lost: [] });

    // The sender retries every request it sent (acknowledged or not): nothing is stored twice.
    server = await start({ DATABASE_URL: t.url });
    for (const body of sent) expect((await send(server.url, key, body)).status).toBe(200);
    const ids = new Set(sent.flatMap((b) => JSON.parse(b).events.map((e: { event_id: string }) => e.event_id)));
    const rows = await sql<{ n: string; distinct: string }>`
      SELECT count(*) AS n, count(DISTINCT event_id) AS distinct FROM crm_events WHERE event_id LIKE 'kill-%'`.execute(
      t.db,
    );
    expect({ n: Number(rows.rows[0]!.n), distinct: Number(rows.rows[0]!.distinct) }).toEqual({
      n: ids.size,
      distinct: ids.size,
    });
    const stopped = new Promise((r) => server.child.once('exit', r));
    server.child.kill('SIGTERM');
    expect(await stopped).toBe(0);
  }, 120_000);
});

describe('a database that goes away', () => {
  test('503 with Retry-After and nothing acknowledged while it is down; back by itself when it returns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leadsmart-crm-pg-'));
    const script = join(ROOT, 'scripts', 'pg-cluster.sh');
    execFileSync(script, ['start', dir, '--fast'], { stdio: 'pipe' });
    const url = `postgresql://postgres@/postgres?host=${encodeURIComponent(join(dir, 'run'))}`;
    let server: Awaited<ReturnType<typeof start>> | null = null;
    try {
      execFileSync(join(ROOT, 'bin', 'migrate'), [], { env: { ...process.env, DATABASE_URL: url }, stdio: 'pipe' });
      const key = await newKey(url);
      server = await start({ DATABASE_URL: url });
      const body = (id: string) =>
        JSON.stringify({
          events: [{ event_id: id, lead_id: 'L1', status: 'new', changed_at: '2025-11-15T00:00:00Z' }],
        });
      expect((await send(server.url, key, body('up-1'))).status).toBe(200);
      execFileSync(script, ['stop', dir], { stdio: 'pipe' });
      const down = await send(server.url, key, body('down-1'));
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('5');
      expect(((await down.json()) as { error: string }).error).toBe('database unavailable; nothing was stored; retry');
      execFileSync(script, ['start', dir, '--fast'], { stdio: 'pipe' });
      let back = 0;
      for (let i = 0; i < 40 && back !== 200; i++) {
        back = (await send(server.url, key, body('down-1'))).status;
        if (back !== 200) await new Promise((r) => setTimeout(r, 250));
      }
      expect(back).toBe(200);
      const check = execFileSync(
        'psql',
        ['-X', '-tA', '-d', url, '-c', "SELECT string_agg(event_id, ',' ORDER BY event_id) FROM crm_events"],
        {
          encoding: 'utf8',
        },
      ).trim();
      expect(check).toBe('down-1,up-1');
      expect(server.child.exitCode).toBeNull();
    } finally {
      server?.child.kill('SIGTERM');
      execFileSync(script, ['stop', dir], { stdio: 'pipe' });
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
