import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { backtestScoringJob } from '../../src/jobs/backtest-scoring.js';
import { launchChromium, screenshotDir } from '../helpers/browser.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { loadSample, runAsFunction, spawnProcess } from '../helpers/run-job.js';

// backtest-scoring --html on the sample, two configurations side by side, opened in headless Chromium at a phone and
// a desktop width. The charts are checked against the same run's --json numbers; screenshots go to
// .state/test-output/backtest/ for a person to look at.
let t: TestDatabase;
let browser: Browser;
const dir = mkdtempSync(join(tmpdir(), 'backtest-html-'));
const page = join(dir, 'backtest.html');
let doc: {
  runs: { label: string; actions_by_date: Record<string, number | string>[]; score_bands: unknown[] }[];
  differing: unknown[];
  html: string;
};
const run = (argv: string[]) => runAsFunction(backtestScoringJob, argv, { DATABASE_URL: t.url });
const RANGE = ['--from', '2025-10-20', '--to', '2025-10-31', '--horizon', '7'];

beforeAll(async () => {
  t = await createTestDatabase();
  await loadSample(t.url);
  writeFileSync(
    join(dir, 'lenient.json'),
    JSON.stringify({ decision: { cut_probability: 0.7, release_probability: 0.4, persistence: 1 } }),
  );
  const r = await run(['--json', ...RANGE, '--against', join(dir, 'lenient.json'), '--html', page]);
  expect(r.code).toBe(0);
  doc = JSON.parse(r.stdout);
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await t.drop();
});

describe('backtest-scoring --html', () => {
  test('writes the page it names in the --json summary, and no partial file beside it', () => {
    expect(doc.html).toBe(page);
    expect(statSync(page).size).toBeGreaterThan(5_000);
    expect(readdirSync(dir).sort()).toEqual(['backtest.html', 'lenient.json']);
  });

  test('is self-contained: no script, no stylesheet or image link, nothing fetched', async () => {
    const html = readFileSync(page, 'utf8');
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);
    const p = await browser.newPage();
    const requests: string[] = [];
    p.on('request', (req) => requests.push(req.url()));
    await p.goto(`file://${page}`);
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    await p.close();
  });

  test.each([
    ['phone', 375],
    ['desktop', 1280],
  ])('on a %s (%i px): the charts and tables, no sideways scrolling of the page, a screenshot', async (name, width) => {
    const p: Page = await browser.newPage({ viewport: { width, height: 900 } });
    await p.goto(`file://${page}`);
    // Two configurations: actions over time and precision by band for each.
    expect(await p.locator('svg.chart').count()).toBe(4);
    for (const heading of ['Measures', 'Actions over time', 'Precision by score band', 'What this cannot measure'])
      await expect(p.getByRole('heading', { name: heading, exact: true }).isVisible()).resolves.toBe(true);
    await expect(
      p.getByRole('heading', { name: /Campaigns whose action differs between B and A/ }).isVisible(),
    ).resolves.toBe(true);
    const overflow = await p.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    const file = join(screenshotDir('backtest'), `backtest-${name}.png`);
    await p.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size).toBeGreaterThan(30_000);
    await p.close();
  });

  test('actions over time: every bar is the --json count of that action on that date', async () => {
    const p = await browser.newPage();
    await p.goto(`file://${page}`);
    const titles = await p.evaluate<string[]>(
      `[...document.querySelectorAll('svg.chart')[0].querySelectorAll('rect > title')].map((t) => t.textContent)`,
    );
    const heights = await p.evaluate<number[]>(
      `[...document.querySelectorAll('svg.chart')[0].querySelectorAll('rect')].map((r) => +r.getAttribute('height'))`,
    );
    await p.close();
    const labels: Record<string, string> = {
      PAUSE_CAMPAIGN: 'Pause campaign',
      REDUCE_BUDGET: 'Reduce budget',
      TEST_CHANGES: 'Test changes',
      MONITOR_CLOSELY: 'Monitor closely',
      CONTINUE_OPTIMIZE: 'Continue & optimize',
      INCREASE_BUDGET: 'Increase budget',
      INSUFFICIENT_DATA: 'Insufficient data',
    };
    const expected = doc.runs[0]!.actions_by_date.flatMap((d) =>
      Object.entries(labels)
        .filter(([code]) => (d[code] as number) > 0)
        .map(([code, label]) => `${d.date} · ${label}: ${d[code]}`),
    );
    expect(titles).toEqual(expected);
    // Per campaign, the same height: a bar's height divided by its count is the same everywhere.
    const counts = titles.map((x) => Number(x.split(': ')[1]));
    const perCampaign = heights.map((h, i) => h / counts[i]!);
    expect(Math.max(...perCampaign) - Math.min(...perCampaign)).toBeLessThan(0.2);
  });

  test('precision by score band: the table beside the chart shows the --json counts', async () => {
    const p = await browser.newPage();
    await p.goto(`file://${page}`);
    const firstTable = await p.evaluate<string[][]>(
      `(() => { const h = [...document.querySelectorAll('h2')].find((x) => x.textContent === 'Precision by score band');
        let el = h.nextElementSibling; while (!(el.classList.contains('table-wrap'))) el = el.nextElementSibling;
        return [...el.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((c) => c.textContent)); })()`,
    );
    await p.close();
    const bands = doc.runs[0]!.score_bands as {
      scores: [number, number];
      judged_dates: number;
      cut: { num: number; den: number };
    }[];
    expect(firstTable.map((row) => row[0])).toEqual(bands.map((b) => `${b.scores[0]}–${b.scores[1]}`));
    expect(firstTable.map((row) => Number(row[1]))).toEqual(bands.map((b) => b.judged_dates));
    expect(firstTable.map((row) => row[3]!.replace(/^.*\(/, '('))).toEqual(
      bands.map((b) => `(${b.cut.num} of ${b.cut.den})`),
    );
    expect(bands.reduce((s, b) => s + b.judged_dates, 0)).toBeGreaterThan(0);
  });

  test('a folder that does not exist is exit 64 before any replay, and nothing is written', async () => {
    const missing = join(dir, 'nope', 'x.html');
    const r = await run([...RANGE, '--html', missing]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(`--html ${missing}: the folder ${join(dir, 'nope')} does not exist`);
    expect(r.logs.some((l) => String(l.message).startsWith('replayed'))).toBe(false);
    expect(existsSync(missing)).toBe(false);
  });

  test('a directory given as the file is exit 64 naming the fix', async () => {
    const r = await run([...RANGE, '--html', dir]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('a directory; name a file');
  });

  test('SIGTERM mid-replay: exit 143, no page and no partial file, the run recorded as interrupted', async () => {
    const out = join(dir, 'interrupted.html');
    const child = spawnProcess('backtest-scoring', [...RANGE, '--html', out], {
      DATABASE_URL: t.url,
      LOG_LEVEL: 'debug',
    });
    let stderr = '';
    let sent = false;
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      // Once the first date is replayed, not after a guessed delay.
      if (!sent && stderr.includes('"replayed 2025-10-20"')) {
        sent = true;
        child.kill('SIGTERM');
      }
    });
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    expect({ sent, code }).toEqual({ sent: true, code: 143 });
    expect(readdirSync(dir).filter((f) => f.startsWith('interrupted'))).toEqual([]);
    const last = await t.db
      .selectFrom('job_runs')
      .select('status')
      .where('job', '=', 'backtest-scoring')
      .orderBy('started_at', 'desc')
      .executeTakeFirstOrThrow();
    expect(last.status).toBe('interrupted');
  }, 60_000);
});
