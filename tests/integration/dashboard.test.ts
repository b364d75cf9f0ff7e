import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { sql } from 'kysely';
import { scoreCampaignsJob } from '../../src/jobs/score-campaigns.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { loadSample, runAsFunction } from '../helpers/run-job.js';
import { addUser, basic, createRole, readonlyUrl, type Running, startServer, TOKEN } from '../helpers/status-server.js';

// status-server's pages for people over HTTP, as bin/status-server serves them (read-only role), on the sample scored
// for two weeks: sign-in, the scorecard's filters, sorting, paging and export, the campaign and client pages, what a
// client-limited user can and cannot reach, and bad input. The browser tests are in dashboard-browser.test.ts.
const AGENCY = { user: 'agency', password: 'agency-password-123' };
const ACME = { user: 'acme.viewer', password: 'acme-password-456' };
let t: TestDatabase;
let server: Running;

async function get(path: string, headers: Record<string, string> = {}) {
  const r = await fetch(`${server.url}${path}`, { headers });
  return { status: r.status, headers: r.headers, text: await r.text() };
}
const as = (who: { user: string; password: string }) => basic(who.user, who.password);
/** The campaign ids of a scorecard page, in order. */
const ids = (html: string) => [...html.matchAll(/<th scope="row"><a href="\/campaigns\/([^"?]+)/g)].map((m) => m[1]!);

/** A request from another loopback address (the failed sign-in limit counts per address). */
function getFrom(address: string, path: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
    const u = new URL(`${server.url}${path}`);
    const req = request({ host: u.hostname, port: u.port, path, headers, localAddress: address }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  t = await createTestDatabase();
  await loadSample(t.url);
  for (let d = 1; d <= 15; d++) {
    const date = `2025-11-${String(d).padStart(2, '0')}`;
    const r = await runAsFunction(scoreCampaignsJob, ['--date', date], { DATABASE_URL: t.url });
    if (r.code !== 0) throw new Error(r.stderr);
  }
  // A name a spreadsheet would run as a formula, and one with markup.
  await sql`UPDATE campaigns SET campaign_name = '=HYPERLINK("http://x")' WHERE campaign_id = 'demo-01-star'`.execute(
    t.db,
  );
  await sql`UPDATE campaigns SET campaign_name = '<b>Bold</b> & co' WHERE campaign_id = 'demo-02-star'`.execute(t.db);
  const role = `ro_${randomBytes(4).toString('hex')}`;
  createRole(t.url, role);
  await addUser(t.url, AGENCY.user, AGENCY.password, 'agency');
  await addUser(t.url, ACME.user, ACME.password, ['acme']);
  server = await startServer({ DATABASE_URL_READONLY: readonlyUrl(t.url, role) });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await t?.drop();
});

describe('signing in', () => {
  test('no credentials: 401 with a Basic challenge and a page saying to sign in', async () => {
    const r = await get('/');
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Basic realm="Leadsmart", charset="UTF-8"');
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(r.text).toContain('Sign in with your Leadsmart user name and password');
  });

  test('a wrong password is 401 and is logged with the user name and address, never the password', async () => {
    const r = await get('/', basic(AGENCY.user, 'not-the-password-999'));
    expect(r.status).toBe(401);
    expect(r.text).toContain('the user name or password is wrong');
    await new Promise((res) => setTimeout(res, 100));
    const line = server
      .stderr()
      .split('\n')
      .find((l) => l.includes('sign-in failed') && l.includes('"username":"agency"'));
    expect(line).toBeDefined();
    expect(line).toContain('"known_user":true');
    expect(server.stderr()).not.toContain('not-the-password-999');
  });

  test('the bearer token of /api/* does not open the pages, and a page user cannot use /api/*', async () => {
    expect((await get('/', { Authorization: `Bearer ${TOKEN}` })).status).toBe(401);
    expect((await get('/api/campaigns', as(AGENCY))).status).toBe(401);
  });

  test('ten failed sign-ins from one address: 429 with Retry-After there, even with the right password', async () => {
    const bad = basic(AGENCY.user, 'guess-guess-guess');
    for (let i = 0; i < 10; i++) expect((await getFrom('127.0.0.9', '/', bad)).status).toBe(401);
    const locked = await getFrom('127.0.0.9', '/', as(AGENCY));
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(800);
    // Another address is not locked out, nor another user from that address.
    expect((await getFrom('127.0.0.10', '/', as(AGENCY))).status).toBe(200);
    expect((await getFrom('127.0.0.9', '/', as(ACME))).status).toBe(200);
  }, 30_000);

  test('sixty wrong passwords sent at once: ten are checked (401), fifty refused at once (429)', async () => {
    const bad = basic(ACME.user, 'parallel-guess-xyz');
    const answers = await Promise.all(Array.from({ length: 60 }, () => getFrom('127.0.0.11', '/', bad)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((x) => x === 401)).toHaveLength(10);
    expect(statuses.filter((x) => x === 429)).toHaveLength(50);
  }, 60_000);

  test('the scheme name in lower case signs in (RFC 7617)', async () => {
    const b64 = Buffer.from(`${AGENCY.user}:${AGENCY.password}`).toString('base64');
    expect((await get('/', { Authorization: `basic ${b64}` })).status).toBe(200);
  });

  test('behind TRUSTED_PROXIES the client named by X-Forwarded-For is counted: a stranger locks out ' +
    'only themselves; without it, the header is ignored and cannot be used to dodge the count', async () => {
    const behind = await startServer({
      DATABASE_URL_READONLY: server.env.DATABASE_URL_READONLY!,
      TRUSTED_PROXIES: '127.0.0.1',
    });
    const direct = await startServer({ DATABASE_URL_READONLY: server.env.DATABASE_URL_READONLY! });
    try {
      const at = async (s: Running, forwarded: string, who: Record<string, string>) =>
        (await fetch(`${s.url}/`, { headers: { ...who, 'X-Forwarded-For': forwarded } })).status;
      const bad = basic(AGENCY.user, 'stranger-guess-1');
      for (let i = 0; i < 10; i++) expect(await at(behind, '203.0.113.7', bad)).toBe(401);
      expect(await at(behind, '203.0.113.7', as(AGENCY))).toBe(429);
      // Everyone else comes through the same proxy: they are not locked out.
      expect(await at(behind, '198.51.100.2', as(AGENCY))).toBe(200);
      // Directly, a different X-Forwarded-For on every guess is still one address.
      for (let i = 0; i < 10; i++) expect(await at(direct, `192.0.2.${i}`, bad)).toBe(401);
      expect(await at(direct, '192.0.2.99', as(AGENCY))).toBe(429);
    } finally {
      await behind.stop();
      await direct.stop();
    }
  }, 60_000);
});

describe('the scorecard', () => {
  test('lists every campaign of the newest scored date, most urgent action first, with the job banner', async () => {
    const r = await get('/?size=200', as(AGENCY));
    expect(r.status).toBe(200);
    expect(r.text).toContain('Scores for <strong>2025-11-15</strong> (changes since 2025-11-14)');
    expect(r.text).toMatch(/class="banner (ok|late|failed)"[^>]*><a href="\/jobs">/);
    const shown = ids(r.text);
    const count = await sql<{ n: string }>`SELECT count(*) AS n FROM campaign_scores WHERE date = '2025-11-15'`.execute(
      t.db,
    );
    expect(shown).toHaveLength(Number(count.rows[0]!.n));
    const order = ['PAUSE_CAMPAIGN', 'REDUCE_BUDGET', 'TEST_CHANGES', 'INCREASE_BUDGET', 'MONITOR_CLOSELY'];
    const actions = await sql<{ campaign_id: string; action: string }>`
      SELECT campaign_id, action FROM campaign_scores WHERE date = '2025-11-15'`.execute(t.db);
    const rank = new Map(
      actions.rows.map((a) => [a.campaign_id, order.indexOf(a.action) < 0 ? 9 : order.indexOf(a.action)]),
    );
    const ranks = shown.map((id) => rank.get(id)!);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
  });

  test('escapes names: markup from the ad account is shown as text', async () => {
    const r = await get('/?q=bold', as(AGENCY));
    // The renderer escapes < and & in text (a > alone cannot open a tag).
    expect(r.text).toMatch(/&lt;b(&gt;|>)Bold&lt;\/b(&gt;|>) &amp; co/);
    expect(r.text).not.toContain('<b>Bold</b>');
  });

  test('sorts by any column both ways; ties never make pages overlap', async () => {
    const scores = await sql<{ campaign_id: string; total_score: string }>`
      SELECT campaign_id, total_score FROM campaign_scores WHERE date = '2025-11-15'
       ORDER BY total_score DESC, campaign_id`.execute(t.db);
    const desc = ids((await get('/?sort=score&size=200', as(AGENCY))).text);
    expect(desc).toEqual(scores.rows.map((r) => r.campaign_id));
    const ascending = await sql<{ campaign_id: string }>`
      SELECT campaign_id FROM campaign_scores WHERE date = '2025-11-15' ORDER BY total_score, campaign_id`.execute(
      t.db,
    );
    const asc = ids((await get('/?sort=score&dir=asc&size=200', as(AGENCY))).text);
    expect(asc).toEqual(ascending.rows.map((r) => r.campaign_id));
    const byName = (await get('/?sort=campaign&size=200', as(AGENCY))).text;
    expect(byName).toContain('aria-sort="ascending"');
  });

  test('pages of 10: three pages that together hold every campaign once, and links between them', async () => {
    const pages = await Promise.all([1, 2, 3].map((p) => get(`/?size=10&page=${p}`, as(AGENCY))));
    const all = pages.flatMap((p) => ids(p.text));
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(ids((await get('/?size=200', as(AGENCY))).text).length);
    expect(pages[0]!.text).toContain('Page 1 of 3');
    expect(pages[0]!.text).toContain('href="/?size=10&amp;page=2" rel="next"');
    expect(pages[2]!.text).toContain('rel="prev"');
  });

  test('filters by client, action, flag and text in the name, alone and together', async () => {
    const rows = await sql<{ campaign_id: string; client_id: string; action: string; flags: string[]; name: string }>`
      SELECT s.campaign_id, c.client_id, s.action, s.flags, c.campaign_name AS name FROM campaign_scores s
        JOIN campaigns c USING (campaign_id) WHERE s.date = '2025-11-15'`.execute(t.db);
    const expectIds = (f: (r: (typeof rows.rows)[number]) => boolean) =>
      rows.rows
        .filter(f)
        .map((r) => r.campaign_id)
        .sort();
    const got = async (qs: string) => ids((await get(`/?size=200&${qs}`, as(AGENCY))).text).sort();
    expect(await got('client=globex')).toEqual(expectIds((r) => r.client_id === 'globex'));
    const someAction = rows.rows[0]!.action;
    expect(await got(`action=${someAction}`)).toEqual(expectIds((r) => r.action === someAction));
    expect(await got('flag=NO_LEAD_DATA')).toEqual(expectIds((r) => r.flags.includes('NO_LEAD_DATA')));
    expect(await got('q=LEADS')).toEqual(expectIds((r) => r.name.toLowerCase().includes('leads')));
    expect(await got('client=acme&q=implant')).toEqual(
      expectIds((r) => r.client_id === 'acme' && r.name.toLowerCase().includes('implant')),
    );
    expect((await got('client=acme&q=implant')).length).toBeGreaterThan(0);
  });

  test('an earlier date with ?date=, and a date never scored is a 404 page', async () => {
    const r = await get('/?date=2025-11-05', as(AGENCY));
    expect(r.text).toContain('Scores for <strong>2025-11-05</strong> (changes since 2025-11-04)');
    const none = await get('/?date=2024-01-01', as(AGENCY));
    expect(none.status).toBe(404);
    expect(none.text).toContain('Nothing was scored on 2024-01-01');
  });

  test('the CSV export holds the filtered view, every row, formulas defused', async () => {
    const r = await get('/scorecard.csv?client=acme&sort=score', as(AGENCY));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="scorecard-2025-11-15.csv"');
    const lines = r.text.trim().split('\n');
    expect(lines[0]).toBe(
      'campaign_id,campaign,client_id,client,score,score_change,action,recommendation,spend_30d,' +
        'qualified_leads_30d,cpql,target_cpql,currency,flags',
    );
    const acme = await sql<{ n: string }>`
      SELECT count(*) AS n FROM campaign_scores s JOIN campaigns c USING (campaign_id)
       WHERE s.date = '2025-11-15' AND c.client_id = 'acme'`.execute(t.db);
    expect(lines.length - 1).toBe(Number(acme.rows[0]!.n));
    expect(r.text).toContain(`"'=HYPERLINK(""http://x"")"`);
    const scores = lines.slice(1).map((l) => Number(l.split(',').at(-10)));
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });
});

describe('a client-limited user', () => {
  const otherCampaign = 'demo-02-star'; // globex's

  test("sees only its clients' campaigns, and only those clients in the client filter", async () => {
    const r = await get('/?size=200', as(ACME));
    expect(r.status).toBe(200);
    const acme = await sql<{ campaign_id: string }>`
      SELECT campaign_id FROM campaign_scores s JOIN campaigns c USING (campaign_id)
       WHERE s.date = '2025-11-15' AND c.client_id = 'acme'`.execute(t.db);
    expect(ids(r.text).sort()).toEqual(acme.rows.map((x) => x.campaign_id).sort());
    expect(r.text).not.toContain('Globex');
    expect(r.text).not.toContain('value="globex"');
  });

  test("another client's campaign by URL, filter, client page or export: 404, as if it did not exist", async () => {
    const other = await get(`/campaigns/${otherCampaign}`, as(ACME));
    const missing = await get('/campaigns/no-such-campaign', as(ACME));
    expect(other.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(other.text.replace(otherCampaign, 'X')).toBe(missing.text.replace('no-such-campaign', 'X'));
    expect(other.text).not.toContain('Bold');
    expect((await get('/?client=globex', as(ACME))).status).toBe(404);
    expect((await get('/clients/globex', as(ACME))).status).toBe(404);
    expect((await get('/scorecard.csv?client=globex', as(ACME))).status).toBe(404);
    const csv = await get('/scorecard.csv', as(ACME));
    expect(csv.text).not.toContain('globex');
    expect(csv.text).toContain(',acme,');
    expect((await get('/?q=bold', as(ACME))).text).toContain('No campaign matches these filters');
  });

  test('the jobs page without error details, backups or the counts over every client', async () => {
    const r = await get('/jobs', as(ACME));
    expect(r.status).toBe(200);
    expect(r.text).toContain('score-campaigns');
    expect(r.text).not.toContain('Backups');
    expect(r.text).not.toContain('Scores for');
  });
});

describe('the campaign and client pages', () => {
  test('codes are shown in words: actions in the run history, flags in the filter and the rows', async () => {
    const c = await get('/campaigns/demo-01-star', as(AGENCY));
    expect(c.text).not.toMatch(/<td>(PAUSE_CAMPAIGN|REDUCE_BUDGET|CONTINUE_OPTIMIZE|INCREASE_BUDGET|MONITOR_CLOSELY)</);
    const list = await get('/?size=200', as(AGENCY));
    expect(list.text).not.toMatch(/>(MISSING_SPEND|MISSING_IMPRESSIONS|HIGH_CPL|NO_TARGET|STALE_DATA)</);
    expect(list.text).toContain('<option value="MISSING_IMPRESSIONS">Impressions missing</option>');
  });

  test('a campaign: verdict, the five dimensions, evidence, charts, the last runs', async () => {
    const r = await get('/campaigns/demo-01-star', as(AGENCY));
    expect(r.status).toBe(200);
    expect(r.text).toContain('<h2>The five dimensions</h2>');
    expect(r.text.match(/class="dim"/g)).toHaveLength(5);
    expect(r.text).toContain('<h2>The evidence</h2>');
    expect(r.text).toMatch(/<h2>Score over 15 scored dates<\/h2>/);
    expect(r.text.match(/<svg class="chart"/g)!.length).toBe(4);
    // Every run is a row of score_history (another test scores a date again): the page shows the last 20.
    const runs = await sql<{
      n: string;
    }>`SELECT count(*) AS n FROM score_history WHERE campaign_id = 'demo-01-star'`.execute(t.db);
    const history = r.text.slice(r.text.indexOf('The last scoring runs'));
    expect((history.match(/<tr><td>2025-11-/g) ?? []).length).toBe(Math.min(20, Number(runs.rows[0]!.n)));
    expect(Number(runs.rows[0]!.n)).toBeGreaterThanOrEqual(15);
  });

  test('money carries its currency: the CPQL column, the evidence, the dimension reasons and the charts', async () => {
    const page = (await get('/campaigns/demo-01-star', as(AGENCY))).text;
    expect(page).toContain('<h3>Spend (USD)</h3>');
    expect(page).toMatch(/<h3>Cost per qualified lead \(USD\), over the 7 days up to each day<\/h3>/);
    expect(page).toMatch(/Target 100\.00 USD \(dashed\)/);
    expect(page).toMatch(/Cost per qualified lead [\d.]+ USD against a target of 100\.00 USD/);
    expect(page).toMatch(/qualified leads on [\d,.]+ USD spent/);
    expect(page).toMatch(/CPQL 80 % interval [\d,.]+–[\d,.]+ USD/);
    const scorecard = (await get('/?size=200', as(AGENCY))).text;
    expect(scorecard).toMatch(
      /<strong class="(up|down)">[\d,.]+ USD<\/strong><div class="muted small">target [\d,.]+ USD/,
    );
    // No qualified lead: no number, and never the interval's huge lower end.
    expect(scorecard).toContain('no qualified lead yet');
    expect(scorecard).not.toMatch(/e\+\d/);
  });

  test('lists the digests whose attention list named the campaign, newest first, and no others', async () => {
    const items = (ids: string[]) =>
      JSON.stringify({ date: '2025-11-14', items: ids.map((campaignId) => ({ campaignId })), notices: [] });
    const digest = (date: string, subject: string, ids: string[]) =>
      sql`INSERT INTO alert_digests (client_id, date, status, subject, items, counts, html, text)
          VALUES ('acme', ${date}, 'done', ${subject}, ${items(ids)}::jsonb, '{}'::jsonb, '', '')`.execute(t.db);
    await digest('2025-11-14', 'Acme: 2 campaigns need attention', ['demo-01-star', 'demo-04-good']);
    await digest('2025-11-15', 'Acme: 1 campaign needs attention', ['demo-04-good']);
    await digest('2025-11-13', 'Acme: a quiet day', ['demo-01-star']);
    const r = await get('/campaigns/demo-01-star', as(AGENCY));
    const section = r.text.slice(r.text.indexOf('Digests that mentioned it'));
    expect([...section.matchAll(/<li>([^<]+)<\/li>/g)].map((m) => m[1])).toEqual([
      '2025-11-14: Acme: 2 campaigns need attention',
      '2025-11-13: Acme: a quiet day',
    ]);
  });

  test('a campaign scored with a target says what would change its verdict', async () => {
    const r = await get('/campaigns/demo-01-star', as(AGENCY));
    expect(r.text).toMatch(/<strong>What would change it:<\/strong> [^<]{20,}/);
  });

  test("a client's page: its campaigns only, and its target", async () => {
    const r = await get('/clients/acme?size=200', as(ACME));
    expect(r.status).toBe(200);
    expect(r.text).toContain('<h1>Acme Dental</h1>');
    expect(r.text).toContain('scored against a target CPQL of 100');
    expect(ids(r.text).length).toBeGreaterThan(0);
    // A client parameter does not widen a client's page: still Acme's campaigns, and only those.
    const widened = await get('/clients/acme?client=globex&size=200', as(ACME));
    expect(widened.status).toBe(200);
    expect(ids(widened.text)).toEqual(ids(r.text));
  });
});

describe('bad input', () => {
  test.each([
    ['/?sort=price', 'sort=price: expected one of'],
    ['/?page=0', 'page=0: expected a page number'],
    ['/?size=7', 'size=7: expected one of 10, 25, 50, 100, 200'],
    ['/?action=NUKE', 'action=NUKE: expected one of'],
    ['/?date=2025-13-01', 'date=2025-13-01: expected YYYY-MM-DD'],
    ['/?q=a&q=b', 'parameter &quot;q&quot; given more than once'],
  ])('%s is a 400 page naming the parameter', async (path, message) => {
    const r = await get(path, as(AGENCY));
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(r.text).toContain(message);
    expect(r.text).not.toMatch(/at .+\.js:\d+/);
  });

  test('parameters a link picked up (fbclid, utm_source) are ignored: the page opens as without them', async () => {
    const plain = await get('/?sort=score', as(AGENCY));
    const tracked = await get('/?sort=score&fbclid=IwAR0xyz&utm_source=digest&utm_medium=email', as(AGENCY));
    expect(tracked.status).toBe(200);
    expect(ids(tracked.text)).toEqual(ids(plain.text));
    expect((await get('/campaigns/demo-01-star?utm_source=digest', as(AGENCY))).status).toBe(200);
    expect((await get('/jobs?fbclid=x', as(AGENCY))).status).toBe(200);
  });

  test('pages are compressed for a browser that accepts it, and the CSV export too', async () => {
    for (const path of ['/?size=200', '/scorecard.csv']) {
      const r = await fetch(`${server.url}${path}`, { headers: { ...as(AGENCY), 'Accept-Encoding': 'gzip' } });
      expect({ path, encoding: r.headers.get('content-encoding') }).toEqual({ path, encoding: 'gzip' });
      expect((await r.text()).length).toBeGreaterThan(1000);
    }
  });

  test('a page path that does not exist is a 404 page even without Accept: text/html', async () => {
    for (const path of ['/campaigns/demo-01-star/extra', '/nowhere', '/campaigns/']) {
      const r = await get(path, as(AGENCY));
      expect({ path, status: r.status }).toEqual({ path, status: 404 });
      expect(r.headers.get('content-type')).toContain('text/html');
    }
    expect((await get('/api/nowhere', as(AGENCY))).headers.get('content-type')).toContain('application/json');
  });

  test('an unknown campaign or client is a 404 page, not a stack trace', async () => {
    for (const path of ['/campaigns/nope', '/clients/nope', '/nowhere']) {
      const r = await get(path, { ...as(AGENCY), Accept: 'text/html' });
      expect(r.status).toBe(404);
      expect(r.text).toContain('<h1>Not found</h1>');
    }
  });

  test('an over-long URL is 414, an over-long header 431', async () => {
    const long = await get(`/?q=${'x'.repeat(5000)}`, as(AGENCY));
    expect(long.status).toBe(414);
    const header = await get('/', { ...as(AGENCY), 'X-Padding': 'y'.repeat(20_000) }).catch(() => null);
    expect(header?.status).toBe(431);
  });
});

describe('a new scoring run', () => {
  test('shows on the scorecard within seconds, without a restart (rows read again in the background)', async () => {
    const rename = sql`UPDATE campaigns SET campaign_name = 'Free Trial Signup (renamed)'
                        WHERE campaign_id = 'demo-03-star'`;
    await rename.execute(t.db);
    const r = await runAsFunction(scoreCampaignsJob, ['--date', '2025-11-15'], { DATABASE_URL: t.url });
    expect(r.code).toBe(0);
    let seen = false;
    for (let i = 0; i < 60 && !seen; i++) {
      const page = await get('/?q=renamed', as(AGENCY));
      expect(page.status).toBe(200);
      seen = ids(page.text).includes('demo-03-star');
      if (!seen) await new Promise((res) => setTimeout(res, 250));
    }
    expect(seen).toBe(true);
  }, 30_000);
});

describe('a fresh install, nothing scored yet', () => {
  test('the scorecard says so instead of failing; a date asked for is a 404 page', async () => {
    const empty = await createTestDatabase();
    const role = `ro_${randomBytes(4).toString('hex')}`;
    createRole(empty.url, role);
    await addUser(empty.url, AGENCY.user, AGENCY.password, 'agency');
    const s = await startServer({ DATABASE_URL_READONLY: readonlyUrl(empty.url, role) });
    try {
      const r = await fetch(`${s.url}/`, { headers: as(AGENCY) });
      const text = await r.text();
      expect(r.status).toBe(200);
      expect(text).toContain('Scores for <strong>—</strong>');
      expect(text).toContain('No campaign matches these filters.');
      expect((await fetch(`${s.url}/?date=2025-11-15`, { headers: as(AGENCY) })).status).toBe(404);
    } finally {
      await s.stop();
      await empty.drop();
    }
  }, 30_000);
});
