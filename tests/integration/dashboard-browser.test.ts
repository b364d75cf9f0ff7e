import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { scoreCampaignsJob } from '../../src/jobs/score-campaigns.js';
import { launchChromium, screenshotDir } from '../helpers/browser.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { loadSample, runAsFunction } from '../helpers/run-job.js';
import { addUser, createRole, readonlyUrl, type Running, startServer } from '../helpers/status-server.js';

// The dashboard in headless Chromium with JavaScript off (the pages must not need it): each page at a phone and a
// desktop width with a screenshot in .state/test-output/dashboard/, and sorting, filtering, paging and the export
// done by clicking, as a person would.
const AGENCY = { username: 'agency', password: 'agency-password-123' };
const ACME = { username: 'acme.viewer', password: 'acme-password-456' };
const OUT = screenshotDir('dashboard');
let t: TestDatabase;
let server: Running;
let browser: Browser;

beforeAll(async () => {
  t = await createTestDatabase();
  await loadSample(t.url);
  for (let d = 1; d <= 15; d++) {
    const r = await runAsFunction(scoreCampaignsJob, ['--date', `2025-11-${String(d).padStart(2, '0')}`], {
      DATABASE_URL: t.url,
    });
    if (r.code !== 0) throw new Error(r.stderr);
  }
  const role = `ro_${randomBytes(4).toString('hex')}`;
  createRole(t.url, role);
  await addUser(t.url, AGENCY.username, AGENCY.password, 'agency');
  await addUser(t.url, ACME.username, ACME.password, ['acme']);
  server = await startServer({ DATABASE_URL_READONLY: readonlyUrl(t.url, role) });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await t?.drop();
});

async function open(who: typeof AGENCY, width: number, path: string): Promise<Page> {
  const page = await browser.newPage({
    viewport: { width, height: 900 },
    httpCredentials: who,
    javaScriptEnabled: false,
    acceptDownloads: true,
  });
  const res = await page.goto(`${server.url}${path}`);
  expect(res?.status()).toBe(200);
  return page;
}

/** Elements whose own text has less contrast with its background than WCAG AA asks (SVG text aside). */
const CONTRAST = `(() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg')) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '');
    if (!own || el.offsetParent === null) continue;
    const s = getComputedStyle(el);
    const [a, b] = [lum(rgb(s.color).slice(0, 3)), lum(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const large = parseFloat(s.fontSize) >= 24 || (parseFloat(s.fontSize) >= 18.66 && Number(s.fontWeight) >= 700);
    const text = el.textContent.trim().slice(0, 30);
    if (ratio < (large ? 3 : 4.5)) bad.push(el.tagName + ' "' + text + '" ' + ratio.toFixed(2));
  }
  return bad;
})()`;

const campaignIds = (page: Page) =>
  page.evaluate<string[]>(
    `[...document.querySelectorAll('tbody th[scope=row] a')]
      .map((a) => a.getAttribute('href').split('?')[0].slice(11))`,
  );

describe.each([
  ['phone', 375],
  ['desktop', 1280],
])('on a %s (%i px)', (name, width) => {
  test.each([
    ['scorecard', '/'],
    ['campaign', '/campaigns/demo-01-star'],
    ['client', '/clients/globex'],
    ['jobs', '/jobs'],
  ])(
    'the %s page: headings and labels in place, no sideways scrolling of the page, a screenshot',
    async (what, path) => {
      const page = await open(AGENCY, width, path);
      expect(await page.locator('h1').count()).toBe(1);
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      expect(overflow).toBeLessThanOrEqual(0);
      // Every form control has a label; every data table has column headers.
      const unlabelled = await page.evaluate<number>(
        `[...document.querySelectorAll('input:not([type=hidden]), select')].filter((e) => !e.closest('label')).length`,
      );
      expect(unlabelled).toBe(0);
      const headless = await page.evaluate<number>(
        `[...document.querySelectorAll('table')].filter((t) => !t.querySelector('th')).length`,
      );
      expect(headless).toBe(0);
      // Text contrast (WCAG AA): 4.5:1, or 3:1 for large text, against the nearest opaque background.
      const lowContrast = await page.evaluate<string[]>(CONTRAST);
      expect(lowContrast).toEqual([]);
      const file = join(OUT, `${what}-${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      expect(statSync(file).size).toBeGreaterThan(15_000);
      await page.close();
    },
    30_000,
  );
});

test('the contrast check finds low contrast when there is some (it is not vacuous)', async () => {
  const page = await browser.newPage({ httpCredentials: AGENCY });
  await page.goto(`${server.url}/`);
  await page.evaluate(
    `document.querySelector('main').insertAdjacentHTML('beforeend', '<p style="color:#cccccc">pale</p>')`,
  );
  expect(await page.evaluate<string[]>(CONTRAST)).toEqual([expect.stringMatching(/^P "pale" 1\.46$/)]);
  await page.close();
});

describe('by clicking, without JavaScript', () => {
  test('sorting: the Score header sorts descending, a second click ascending', async () => {
    const page = await open(AGENCY, 1280, '/?size=200');
    await page.getByRole('link', { name: 'Score', exact: true }).click();
    expect(page.url()).toContain('sort=score');
    const desc = await page.evaluate<number[]>(
      `[...document.querySelectorAll('tbody tr')].map((tr) => Number(tr.children[2].textContent))`,
    );
    expect(desc).toEqual([...desc].sort((a, b) => b - a));
    await page.getByRole('link', { name: 'Score ▼' }).click();
    expect(page.url()).toContain('dir=asc');
    const asc = await page.evaluate<number[]>(
      `[...document.querySelectorAll('tbody tr')].map((tr) => Number(tr.children[2].textContent))`,
    );
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    await page.close();
  });

  test('filtering: choose a client and type in the name box, then Show', async () => {
    const page = await open(AGENCY, 1280, '/');
    await page.getByLabel('Client').selectOption('acme');
    await page.getByLabel('Campaign name').fill('implant');
    await page.getByRole('button', { name: 'Show' }).click();
    expect(page.url()).toMatch(/client=acme/);
    const names = await page.evaluate<string[]>(
      `[...document.querySelectorAll('tbody th[scope=row] a')].map((a) => a.textContent)`,
    );
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(n.toLowerCase()).toContain('implant');
    await page.close();
  });

  test('paging: Next and Previous walk pages of 10 without repeating a campaign', async () => {
    const page = await open(AGENCY, 1280, '/?size=10');
    const first = await campaignIds(page);
    await page.getByRole('link', { name: 'Next ›' }).first().click();
    const second = await campaignIds(page);
    expect(first).toHaveLength(10);
    expect(second.filter((id) => first.includes(id))).toEqual([]);
    await page.getByRole('link', { name: '‹ Previous' }).first().click();
    expect(await campaignIds(page)).toEqual(first);
    await page.close();
  });

  test('export: the link downloads the filtered view as CSV', async () => {
    const page = await open(AGENCY, 1280, '/?client=globex');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page
        .getByRole('link', { name: /as CSV/ })
        .first()
        .click(),
    ]);
    const path = join(OUT, 'export.csv');
    await download.saveAs(path);
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^campaign_id,campaign,client_id/);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines.slice(1)) expect(l).toContain(',globex,');
    await page.close();
  });

  test("a client-limited user typing another client's campaign URL gets the not-found page", async () => {
    const page = await browser.newPage({ httpCredentials: ACME, javaScriptEnabled: false });
    const res = await page.goto(`${server.url}/campaigns/demo-02-star`);
    expect(res?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: 'Not found' }).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: join(OUT, 'not-found-phone.png') });
    await page.close();
  });
});

describe('on a phone (390 px) and a laptop (1280 px), what matters is on screen', () => {
  /** The bounding boxes of the first scorecard row's cells, by their column's name. */
  const firstRowCells = (page: Page) =>
    page.evaluate<{ label: string; left: number; right: number; visible: boolean }[]>(
      `[...document.querySelector('tbody tr').querySelectorAll('td[data-label]')].map((td) => {
        const r = td.getBoundingClientRect();
        return { label: td.dataset.label, left: r.left, right: r.right, visible: r.width > 0 && r.height > 0 };
      })`,
    );

  test('the scorecard on a phone: each row a card with the action, CPQL, flags and data date on screen', async () => {
    const page = await open(AGENCY, 390, '/');
    const cells = (await firstRowCells(page)).filter((c) => c.visible);
    for (const label of ['Action', 'CPQL', 'Data up to'])
      expect(cells.find((c) => c.label === label)).toEqual(expect.objectContaining({ label }));
    for (const c of cells) expect({ label: c.label, right: c.right <= 390 }).toEqual({ label: c.label, right: true });
    // Each value says what it is.
    const before = await page.evaluate<string>(
      `getComputedStyle(document.querySelector('td[data-label="Action"]'), '::before').content`,
    );
    expect(before).toBe('"Action"');
    await page.close();
  });

  test('the scorecard on a laptop: the flags and data date columns are not pushed off screen', async () => {
    const page = await open(AGENCY, 1280, '/?size=200');
    const cells = await firstRowCells(page);
    for (const label of ['Flags', 'Data up to'])
      expect(cells.find((c) => c.label === label)!.right).toBeLessThanOrEqual(1280);
    await page.close();
  });

  test("a campaign's charts on a phone start at their newest dates, and no axis label is cut", async () => {
    const page = await open(AGENCY, 390, '/campaigns/demo-01-star');
    const charts = await page.evaluate<{ newest: string; newestRight: number; axisLeft: number }[]>(
      `[...document.querySelectorAll('.chart-wrap svg')].map((svg) => {
        const x = [...svg.querySelectorAll('text[text-anchor=middle]')];
        const y = [...svg.querySelectorAll('text[text-anchor=end]')];
        const last = x[x.length - 1];
        return {
          newest: last.textContent,
          newestRight: last.getBoundingClientRect().right,
          axisLeft: Math.min(...y.map((t) => t.getBoundingClientRect().left - svg.getBoundingClientRect().left)),
        };
      })`,
    );
    expect(charts.length).toBeGreaterThanOrEqual(3);
    for (const c of charts) {
      expect({ newest: c.newest, onScreen: c.newestRight <= 390 }).toEqual({ newest: c.newest, onScreen: true });
      expect(c.axisLeft).toBeGreaterThanOrEqual(0);
    }
    await page.close();
  });
});
