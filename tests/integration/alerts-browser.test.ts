import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { planDigest, renderDigest, selectAttention } from '../../src/core/alerts/index.js';
import { DATE, PREVIOUS, scenario, SCENARIO_DETAILS } from '../helpers/alert-fixtures.js';
import { launchChromium, screenshotDir } from '../helpers/browser.js';

// The digest HTML opened in Debian's headless Chromium (scripts/test.sh installs it) at a
// phone and a desktop width; screenshots go to .state/test-output/alerts/ for a look.
const OUT = screenshotDir('alerts');

const cs = scenario();
const plan = planDigest(
  DATE,
  selectAttention(
    cs,
    [
      {
        code: 'MISSING_DATA_SHARE',
        message:
          '30 of 100 scored campaigns (30.0%) have missing spend or ' +
          'impressions, more than 20%: check the last fetch or import.',
      },
    ],
    {
      date: DATE,
      previousDate: PREVIOUS,
      gapDays: 2,
    },
  ),
  null,
  new Map(),
);
const { html, view } = renderDigest(plan, {
  client: { id: 'acme', name: 'Acme Dental' },
  date: DATE,
  previousDate: PREVIOUS,
  baselineDate: null,
  details: SCENARIO_DETAILS,
});

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

async function open(width: number): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  // Mail clients load no scripts and nothing remote; neither does this page.
  await page.route('**/*', (route) => route.abort());
  await page.setContent(html, { waitUntil: 'load' });
  return page;
}

async function horizontallyInside(page: Page, text: string, width: number): Promise<void> {
  const el = page.getByText(text, { exact: true }).first();
  expect({ text, visible: await el.isVisible() }).toEqual({ text, visible: true });
  const box = await el.boundingBox();
  expect(box).not.toBeNull();
  expect(box!.x).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width).toBeLessThanOrEqual(width + 0.5);
}

describe.each([
  ['phone', 375],
  ['desktop', 1280],
])('the digest on a %s (%i px wide)', (name, width) => {
  let page: Page;
  beforeAll(async () => {
    page = await open(width);
  }, 30_000);
  afterAll(async () => {
    await page?.close();
  });

  test(
    'shows the heading, every campaign card, its score, ' + 'recommendation and change without sideways scrolling',
    async () => {
      await horizontallyInside(page, view.heading, width);
      for (const section of view.sections) {
        await horizontallyInside(
          page,
          `${section.title} (${section.cards.length + section.more.length + section.hidden})`,
          width,
        );
        for (const card of section.cards) {
          await horizontallyInside(page, card.score, width);
          await expect(page.getByText(card.name, { exact: false }).first().isVisible()).resolves.toBe(true);
          await expect(page.getByText(card.scoreChange, { exact: true }).first().isVisible()).resolves.toBe(true);
        }
      }
      await horizontallyInside(page, 'Pause campaign', width);
      await horizontallyInside(page, 'Data gap: check before acting', width);
      // Page functions are strings: the project's type-check has no DOM library, on purpose.
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      expect(overflow).toBeLessThanOrEqual(0);
    },
  );

  test('draws the five dimension bars with widths that follow the points', async () => {
    // Lookalike Audience 2: cost 6.2/25 (25 %), volume 9/20 (45 %).
    const widths = await page.evaluate<number[]>(`(() => {
      const names = [...document.querySelectorAll('td')]
        .filter((td) => td.textContent.startsWith('Lookalike Audience 2'));
      const card = names[names.length - 1].closest('table').closest('td');
      const share = (td) => td.getBoundingClientRect().width / td.closest('table').getBoundingClientRect().width;
      return [...card.querySelectorAll('td[bgcolor]')].map((td) => Math.round(share(td) * 100));
    })()`);
    expect(widths).toHaveLength(5);
    expect(widths[0]).toBeGreaterThanOrEqual(22);
    expect(widths[0]).toBeLessThanOrEqual(28);
    expect(widths[2]).toBeGreaterThanOrEqual(42);
    expect(widths[2]).toBeLessThanOrEqual(48);
  });

  test('keeps the text readable: body text at least 12 px, the column at most 600 px', async () => {
    const smallest = await page.evaluate<number>(
      "Math.min(...[...document.querySelectorAll('p, td')].filter((e) " +
        '=> e.textContent.trim().length > 0 && e.offsetParent !== ' +
        'null).map((e) => parseFloat(getComputedStyle(e).fontSize)))',
    );
    expect(smallest).toBeGreaterThanOrEqual(11);
    const column = await page.evaluate<number>(
      `document.querySelector('table[width="600"]').getBoundingClientRect().width`,
    );
    expect(column).toBeLessThanOrEqual(600);
    expect(column).toBeGreaterThanOrEqual(Math.min(600, width) - 20);
  });

  test('is captured as a screenshot', async () => {
    const file = join(OUT, `digest-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size).toBeGreaterThan(20_000);
  });
});
