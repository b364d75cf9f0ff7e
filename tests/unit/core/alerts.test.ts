import { describe, expect, test } from '@jest/globals';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  buildDigestView,
  cardCampaignIds,
  levelsWorsened,
  MAX_HTML_BYTES,
  planDigest,
  renderDigest,
  selectAttention,
  type CurrentStanding,
  type DigestSnapshot,
  type Selection,
} from '../../../src/core/alerts/index.js';
import { campaign, DATE, details, PREVIOUS, scenario, SCENARIO_DETAILS } from '../../helpers/alert-fixtures.js';

const GOLDEN = resolve(import.meta.dirname, '..', '..', 'fixtures', 'alerts');
const select = (cs = scenario(), warnings: { code: string; message: string }[] = []): Selection =>
  selectAttention(cs, warnings, { date: DATE, previousDate: PREVIOUS, gapDays: 2 });
const standing = (cs = scenario()): CurrentStanding =>
  new Map(
    cs.map((c) => [
      c.campaignId,
      { totalHundredths: c.totalHundredths, recommendation: c.recommendation, stopped: c.status === 'PAUSED' },
    ]),
  );
const byId = (s: Selection) => new Map(s.items.map((i) => [i.campaignId, i]));

describe('selection by priority', () => {
  const items = byId(select());

  test(
    'a campaign not judged on leads (NO_LEAD_DATA) or without a ' +
      'target (NO_TARGET) is never under "Act now", and says why in one line',
    () => {
      for (const flag of ['NO_LEAD_DATA', 'NO_TARGET'] as const) {
        // Its score fell from 70 to 0 since yesterday (SCORE_JUMP): that is the data, not the campaign.
        const c = campaign('Online-Store-Sales', {
          recommendation: 'INSUFFICIENT_DATA',
          totalHundredths: 0,
          flags: ['SCORE_JUMP', flag],
          previous: { totalHundredths: 7000, recommendation: 'CONTINUE_OPTIMIZE' },
        });
        const item = byId(select([c])).get('Online-Store-Sales')!;
        expect({ flag, priority: item.priority }).toEqual({ flag, priority: 'medium' });
        expect(item.signals.map((s) => s.kind)).toEqual(['flag']);
        const plan = planDigest(DATE, select([c]), null, standing([c]));
        const view = buildDigestView(plan, {
          client: { id: 'acme', name: 'Acme' },
          date: DATE,
          previousDate: PREVIOUS,
          baselineDate: null,
          details: new Map([['Online-Store-Sales', details([0, 0, 0, 0, 0])]]),
        });
        expect(view.sections.map((x) => x.title)).not.toContain('Act now');
        const card = view.sections.flatMap((x) => x.cards).find((k) => k.campaignId === 'Online-Store-Sales')!;
        expect(card).toMatchObject({
          headline: 'Not scored',
          action:
            'It delivers, but cannot be judged on cost per qualified lead: nothing to do unless it should bring leads.',
        });
        expect(JSON.stringify(view)).toMatch(
          flag === 'NO_LEAD_DATA'
            ? /Not judged on leads: its data carries no lead counts/
            : /no target cost per qualified lead is set for its currency/,
        );
      }
    },
  );

  test('puts PAUSE_CAMPAIGN and REDUCE_BUDGET in high priority', () => {
    expect(items.get('Spring-Sale-Retargeting')?.priority).toBe('high');
    expect(items.get('Lookalike-Audience-2')?.priority).toBe('high');
  });

  test('flags a fall of two or more ladder levels since the previous scored date', () => {
    expect(levelsWorsened('INCREASE_BUDGET', 'REDUCE_BUDGET')).toBe(3);
    expect(levelsWorsened('REDUCE_BUDGET', 'PAUSE_CAMPAIGN')).toBe(1);
    expect(levelsWorsened('MONITOR_CLOSELY', 'PAUSE_CAMPAIGN')).toBeNull();
    expect(items.get('Lookalike-Audience-2')?.signals.map((s) => s.kind)).toEqual(['recommendation', 'worsened']);
    // REDUCE_BUDGET → PAUSE_CAMPAIGN is one level: no "worsened" signal.
    expect(items.get('Spring-Sale-Retargeting')?.signals.map((s) => s.kind)).toEqual(['recommendation']);
  });

  test('a worsening of two levels alone makes a campaign high priority', () => {
    const s = select([
      campaign('c', {
        recommendation: 'TEST_CHANGES',
        previous: { totalHundredths: 8500, recommendation: 'INCREASE_BUDGET' },
      }),
    ]);
    expect(s.items[0]).toMatchObject({ priority: 'high' });
    expect(s.items[0]!.signals.map((x) => x.key)).toEqual(['rec:TEST_CHANGES', `worsened@${DATE}`]);
  });

  test('a SCORE_JUMP is high priority even on a good recommendation', () => {
    const s = select([
      campaign('c', {
        totalHundredths: 8556,
        recommendation: 'INCREASE_BUDGET',
        flags: ['SCORE_JUMP'],
        previous: { totalHundredths: 1676, recommendation: 'PAUSE_CAMPAIGN' },
      }),
    ]);
    expect(s.items[0]).toMatchObject({ priority: 'high' });
    expect(s.items[0]!.signals.map((x) => x.kind)).toEqual(['score-jump']);
  });

  test(
    'TEST_CHANGES, MONITOR_CLOSELY and data-quality flags are ' + 'medium; INCREASE_BUDGET alone is an opportunity',
    () => {
      expect(items.get('Video-Views-Q4')?.priority).toBe('medium');
      expect(items.get('New-Clinic-Launch')?.priority).toBe('medium');
      expect(items.get('Giveaway-Clicks')?.priority).toBe('medium');
      expect(items.get('Brand-Search')?.priority).toBe('opportunity');
    },
  );

  test('leaves out campaigns with nothing to report and campaigns already paused', () => {
    expect(items.has('Evergreen-Leads')).toBe(false);
    expect(items.has('Old-Promo')).toBe(false);
    expect(select().skippedStopped).toBe(1);
  });

  test('orders items most urgent first', () => {
    expect(select().items.map((i) => i.priority)).toEqual([
      'high',
      'high',
      'high',
      'medium',
      'medium',
      'medium',
      'medium',
      'opportunity',
    ]);
    expect(
      select()
        .items.slice(0, 3)
        .map((i) => i.campaignId),
    ).toEqual(['Spring-Sale-Retargeting', 'Black-Friday-Teaser', 'Lookalike-Audience-2']);
  });
});

describe('data gaps', () => {
  test('holds back a pause that rests on two days without delivery data and reports the gap instead', () => {
    const webinar = byId(select()).get('Webinar-Signups')!;
    expect(webinar.priority).toBe('medium');
    expect(webinar.signals).toEqual([
      expect.objectContaining({
        kind: 'gap',
        scope: 'campaign',
        held: 'PAUSE_CAMPAIGN',
        missingDays: 2,
        from: '2025-11-14',
        to: DATE,
      }),
    ]);
    expect(webinar.signals.some((s) => s.kind === 'recommendation')).toBe(false);
  });

  test('zero spend and zero impressions count as a gap too, but not for a campaign that never delivered', () => {
    const zero = select([
      campaign('z', {
        recommendation: 'REDUCE_BUDGET',
        delivery: { deliveredBefore: true, gapRows: 2, gapDeliveringDays: 0 },
      }),
    ]);
    expect(zero.items[0]!.signals[0]).toMatchObject({ kind: 'gap', missingDays: 0 });
    const never = select([
      campaign('n', {
        recommendation: 'PAUSE_CAMPAIGN',
        delivery: { deliveredBefore: false, gapRows: 0, gapDeliveringDays: 0 },
      }),
    ]);
    expect(never.items[0]!.signals[0]).toMatchObject({ kind: 'recommendation', recommendation: 'PAUSE_CAMPAIGN' });
  });

  test('a downward score jump and a fall in levels that rest on a gap are held back as well', () => {
    const s = select([
      campaign('j', {
        totalHundredths: 1000,
        recommendation: 'PAUSE_CAMPAIGN',
        flags: ['SCORE_JUMP'],
        previous: { totalHundredths: 8200, recommendation: 'INCREASE_BUDGET' },
        delivery: { deliveredBefore: true, gapRows: 0, gapDeliveringDays: 0 },
      }),
    ]);
    expect(s.items[0]!.signals.map((x) => x.kind)).toEqual(['gap']);
    expect(s.items[0]!.priority).toBe('medium');
  });

  test('an account whose every delivering campaign went silent is one notice, and its campaigns say so', () => {
    const silent = { deliveredBefore: true, gapRows: 0, gapDeliveringDays: 0 };
    const s = select([
      campaign('a1', { accountId: 'act_1', recommendation: 'PAUSE_CAMPAIGN', delivery: silent }),
      campaign('a2', { accountId: 'act_1', recommendation: 'CONTINUE_OPTIMIZE', delivery: silent }),
      campaign('b1', { accountId: 'act_2', recommendation: 'PAUSE_CAMPAIGN', delivery: silent }),
      campaign('b2', { accountId: 'act_2' }),
    ]);
    expect(s.notices.map((n) => n.key)).toEqual(['account-gap:act_1']);
    expect(s.notices[0]!.message).toContain(
      'Ad account act_1: none of its 2 delivering campaigns has spend or impressions for 14–15 Nov',
    );
    expect(byId(s).get('a1')!.signals[0]).toMatchObject({ kind: 'gap', scope: 'account' });
    expect(byId(s).get('b1')!.signals[0]).toMatchObject({ kind: 'gap', scope: 'campaign' });
  });

  test('the run-level warnings of score-campaigns become notices', () => {
    const s = select(scenario(), [
      { code: 'MISSING_DATA_SHARE', message: '30 of 100 scored campaigns have missing spend.' },
    ]);
    expect(s.notices).toEqual([
      {
        key: 'warning:MISSING_DATA_SHARE',
        kind: 'run-warning',
        message: '30 of 100 scored campaigns have missing spend.',
      },
    ]);
  });
});

describe('the diff with the last digest', () => {
  const first = planDigest(DATE, select(), null, standing());

  test('the first digest reports everything as new and leads with the campaigns needing attention', () => {
    expect(first.send).toBe(true);
    expect(first.changes.every((c) => c.change === 'new')).toBe(true);
    expect(first.needAttention).toBe(7);
  });

  test('nothing new, escalated or resolved since the last digest means no email', () => {
    const baseline: DigestSnapshot = { ...first.snapshot, date: PREVIOUS };
    const again = planDigest(DATE, select(), baseline, standing());
    expect(again.send).toBe(false);
    expect(again.skipReason).toBe('nothing new, escalated or resolved since the digest for 2025-11-14');
    expect(again.changes.every((c) => c.change === 'unchanged')).toBe(true);
  });

  test('tells new, escalated, improved and resolved items apart', () => {
    const yesterday = scenario().map((c) => {
      if (c.campaignId === 'Spring-Sale-Retargeting')
        return { ...c, recommendation: 'REDUCE_BUDGET' as const, totalHundredths: 2450 };
      if (c.campaignId === 'Video-Views-Q4') return { ...c, recommendation: 'PAUSE_CAMPAIGN' as const };
      return c;
    });
    yesterday.push(campaign('Fixed-Campaign', { recommendation: 'PAUSE_CAMPAIGN', totalHundredths: 1500 }));
    const baseline: DigestSnapshot = {
      ...planDigest(PREVIOUS, select(yesterday), null, standing(yesterday)).snapshot,
      date: PREVIOUS,
    };
    const today = scenario().filter((c) => c.campaignId !== 'Giveaway-Clicks');
    today.push(campaign('Fixed-Campaign', { recommendation: 'CONTINUE_OPTIMIZE', totalHundredths: 6800 }));
    today.push(campaign('Brand-New', { recommendation: 'PAUSE_CAMPAIGN', totalHundredths: 500, previous: null }));
    const plan = planDigest(DATE, select(today), baseline, standing(today));
    const change = new Map(plan.changes.map((c) => [c.item.campaignId, c.change]));
    expect(change.get('Brand-New')).toBe('new');
    expect(change.get('Spring-Sale-Retargeting')).toBe('escalated');
    expect(change.get('Video-Views-Q4')).toBe('improved');
    expect(change.get('Brand-Search')).toBe('unchanged');
    expect(plan.resolved.map((r) => [r.before.campaignId, r.now?.recommendation ?? null])).toEqual([
      ['Fixed-Campaign', 'CONTINUE_OPTIMIZE'],
      ['Giveaway-Clicks', null],
    ]);
    expect(plan.send).toBe(true);
  });

  test('a new score jump is news even when the campaign improved', () => {
    const before: DigestSnapshot = {
      ...planDigest(
        PREVIOUS,
        select([campaign('p', { recommendation: 'PAUSE_CAMPAIGN', totalHundredths: 1676 })]),
        null,
        new Map(),
      ).snapshot,
      date: PREVIOUS,
    };
    const now = select([
      campaign('p', {
        totalHundredths: 8556,
        recommendation: 'INCREASE_BUDGET',
        flags: ['SCORE_JUMP'],
        previous: { totalHundredths: 1676, recommendation: 'PAUSE_CAMPAIGN' },
      }),
    ]);
    const plan = planDigest(DATE, now, before, new Map());
    expect(plan.changes.map((c) => c.change)).toEqual(['updated']);
    expect(plan.send).toBe(true);
  });

  test('an opportunity that turns into a problem is new as a problem', () => {
    const before: DigestSnapshot = {
      ...planDigest(PREVIOUS, select([campaign('o', { recommendation: 'INCREASE_BUDGET' })]), null, new Map()).snapshot,
      date: PREVIOUS,
    };
    const plan = planDigest(DATE, select([campaign('o', { recommendation: 'TEST_CHANGES' })]), before, new Map());
    expect(plan.changes[0]).toMatchObject({ change: 'new', item: { priority: 'medium' } });
  });

  test('a second digest for the same date goes out only for news, not for resolved items alone', () => {
    const sameDay: DigestSnapshot = first.snapshot;
    const fewer = scenario().filter((c) => c.campaignId !== 'Video-Views-Q4');
    const plan = planDigest(DATE, select(fewer), sameDay, standing(fewer));
    expect(plan.resolved).toHaveLength(1);
    expect(plan.send).toBe(false);
    expect(plan.skipReason).toBe('nothing new or escalated since the digest already sent for 2025-11-15');
    const more = [...scenario(), campaign('Late-Arrival', { recommendation: 'PAUSE_CAMPAIGN', totalHundredths: 800 })];
    expect(planDigest(DATE, select(more), sameDay, standing(more)).send).toBe(true);
  });

  test('a new run-level warning alone is worth a digest', () => {
    const baseline: DigestSnapshot = { ...first.snapshot, date: PREVIOUS };
    const plan = planDigest(
      DATE,
      select(scenario(), [{ code: 'SCORED_COUNT_DROP', message: 'Fewer campaigns scored.' }]),
      baseline,
      standing(),
    );
    expect(plan.send).toBe(true);
    expect(plan.notices).toEqual([expect.objectContaining({ key: 'warning:SCORED_COUNT_DROP', isNew: true })]);
  });
});

describe('the digest view', () => {
  const ctx = {
    client: { id: 'acme', name: 'Acme Dental' },
    date: DATE,
    previousDate: PREVIOUS,
    baselineDate: null,
    details: SCENARIO_DETAILS,
  };
  const plan = planDigest(
    DATE,
    select(scenario(), [
      {
        code: 'MISSING_DATA_SHARE',
        message:
          '30 of 100 scored campaigns (30.0%) have missing spend or ' +
          'impressions, more than 20%: check the last fetch or import.',
      },
    ]),
    null,
    standing(),
  );

  test('the subject says how many campaigns need attention, for whom and for which date', () => {
    expect(buildDigestView(plan, ctx).subject).toBe('7 campaigns need attention — Acme Dental — 2025-11-15');
    const one = planDigest(
      DATE,
      select([campaign('x', { recommendation: 'PAUSE_CAMPAIGN', totalHundredths: 1000 })]),
      null,
      new Map(),
    );
    expect(buildDigestView(one, ctx).subject).toBe('1 campaign needs attention — Acme Dental — 2025-11-15');
    const opp = planDigest(
      DATE,
      select([campaign('y', { recommendation: 'INCREASE_BUDGET', totalHundredths: 9000 })]),
      null,
      new Map(),
    );
    expect(buildDigestView(opp, ctx).subject).toBe('1 campaign ready for more budget — Acme Dental — 2025-11-15');
    expect(buildDigestView(plan, { ...ctx, baselineDate: DATE }).subject).toMatch(/^Update: 7 campaigns/);
  });

  test('a card carries name, score and change, the recommendation, the reasons and the five dimensions', () => {
    const v = buildDigestView(plan, ctx);
    const card = v.sections[0]!.cards.find((c) => c.campaignId === 'Lookalike-Audience-2')!;
    expect(card).toMatchObject({
      name: 'Lookalike Audience 2',
      score: '35.10',
      scoreChange: '−46.10 since 14 Nov',
      headline: 'Reduce budget',
    });
    expect(card.reasons[0]).toBe('Dropped 3 levels since 14 Nov: from Increase budget to Reduce budget.');
    expect(card.reasons).toContain('Cost per qualified lead scored 6.20 of 25 points.');
    expect(card.dimensions.map((d) => [d.label, d.percent, d.tone])).toEqual([
      ['Cost', 25, 'poor'],
      ['Lead quality', 32, 'poor'],
      ['Volume', 45, 'fair'],
      ['Trend', 39, 'poor'],
      ['Engagement', 40, 'fair'],
    ]);
  });

  test('a held-back recommendation is headed as a data gap, not as "pause"', () => {
    const card = buildDigestView(plan, ctx).sections[1]!.cards.find((c) => c.campaignId === 'Webinar-Signups')!;
    expect(card.headline).toBe('Data gap: check before acting');
    expect(card.reasons[0]).toContain(
      '"Pause campaign" is held back: it rests on a data gap, the ' +
        'campaign delivered before but has no delivery data for 14–15 Nov.',
    );
  });

  test('only the cards shown need their details loaded', () => {
    expect(cardCampaignIds(plan)).toHaveLength(8);
  });

  test('renders the golden HTML and text (UPDATE_GOLDEN=1 rewrites them after a deliberate change)', () => {
    const { html, text } = renderDigest(plan, ctx);
    if (process.env.UPDATE_GOLDEN === '1') {
      mkdirSync(GOLDEN, { recursive: true });
      writeFileSync(join(GOLDEN, 'digest.html'), html);
      writeFileSync(join(GOLDEN, 'digest.txt'), text);
    }
    expect(html).toBe(readFileSync(join(GOLDEN, 'digest.html'), 'utf8'));
    expect(text).toBe(readFileSync(join(GOLDEN, 'digest.txt'), 'utf8'));
  });

  test('the text part carries the same facts as the HTML part', () => {
    const { view, html, text } = renderDigest(plan, ctx);
    for (const s of view.sections) {
      for (const c of s.cards) {
        for (const fact of [c.name, c.score, c.scoreChange, c.headline, ...c.reasons]) {
          expect(text.replace(/\s+/g, ' ')).toContain(fact);
          expect(html).toContain(fact.replace(/&/g, '&amp;').replace(/"/g, '&quot;'));
        }
      }
    }
    expect(text).toContain('30 of 100 scored campaigns (30.0%) have missing spend');
  });

  test('escapes campaign names in the HTML', () => {
    const evil = planDigest(
      DATE,
      select([
        campaign('e', {
          name: '<script>alert(1)</script> & Co',
          recommendation: 'PAUSE_CAMPAIGN',
          totalHundredths: 100,
        }),
      ]),
      null,
      new Map(),
    );
    const { html } = renderDigest(evil, { ...ctx, details: new Map() });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co');
  });

  test(
    'a client with a thousand problem campaigns still gets a digest ' + 'under 100 KB, the rest as one-line entries',
    () => {
      const many = Array.from({ length: 1000 }, (_, i) =>
        campaign(`campaign-${String(i).padStart(4, '0')}-with-a-long-descriptive-name-for-the-audience`, {
          recommendation: i % 3 === 0 ? 'PAUSE_CAMPAIGN' : i % 3 === 1 ? 'TEST_CHANGES' : 'INCREASE_BUDGET',
          totalHundredths: 1000 + i,
          flags: ['MISSING_SPEND', 'HIGH_CPL'],
        }),
      );
      const bigPlan = planDigest(DATE, select(many), null, new Map());
      const bigDetails = new Map(many.map((c) => [c.campaignId, details([1, 2, 3, 4, 5])]));
      const { html, htmlBytes, view } = renderDigest(bigPlan, { ...ctx, details: bigDetails });
      expect(htmlBytes).toBeLessThanOrEqual(MAX_HTML_BYTES);
      expect(Buffer.byteLength(html)).toBe(htmlBytes);
      expect(view.sections[0]!.cards.length).toBeGreaterThan(0);
      const listed = view.sections.reduce((n, s) => n + s.cards.length + s.more.length + s.hidden, 0);
      expect(listed).toBe(1000);
      expect(html).toMatch(/… and \d+ more\./);
    },
  );
});

describe('the action (docs/decisions.md) in the digest', () => {
  // A campaign whose score says TEST_CHANGES but whose evidence makes it REDUCE_BUDGET (its cost is surely above
  // target): the digest tells the action, and the card says what the score alone said, why, and the evidence.
  const overruled = campaign('Expensive-Leads', {
    recommendation: 'REDUCE_BUDGET',
    overruled: { recommendation: 'TEST_CHANGES', reason: '15 qualified leads on 3035 spent: P(CPQL > target) = 1.00' },
    totalHundredths: 5066,
    previous: { totalHundredths: 5100, recommendation: 'REDUCE_BUDGET' },
  });
  const withEvidence = {
    ...details([5, 10, 10, 10, 6]),
    evidence: '15 qualified leads on 3,035 spent; CPQL 202.33 (80 % interval 160.10–262.40)',
  };

  test('the section is chosen by the action, and the card shows the recommendation beside it and the evidence', () => {
    const plan = planDigest(DATE, select([overruled]), null, standing([overruled]));
    const view = buildDigestView(plan, {
      client: { id: 'acme', name: 'Acme' },
      date: DATE,
      previousDate: PREVIOUS,
      baselineDate: null,
      details: new Map([['Expensive-Leads', withEvidence]]),
    });
    const section = view.sections.find((s) => s.cards.some((c) => c.campaignId === 'Expensive-Leads'))!;
    expect(section.title).toBe('Act now');
    const card = section.cards.find((c) => c.campaignId === 'Expensive-Leads')!;
    expect(card.recommendation).toBe('REDUCE_BUDGET');
    expect(card.reasons[0]).toBe(
      'The score alone says "test changes"; 15 qualified leads on 3035 spent: P(CPQL > target) = 1.00.',
    );
    expect(card.reasons).toContain(withEvidence.evidence);
  });
});

describe('inWords', () => {
  test('a stored reason reads without codes: each recommendation code becomes its label', async () => {
    const { inWords } = await import('../../../src/core/alerts/wording.js');
    expect(inWords('PAUSE_CAMPAIGN called for (0 qualified leads on 2993 spent); REDUCE_BUDGET stands')).toBe(
      '"pause campaign" called for (0 qualified leads on 2993 spent); "reduce budget" stands',
    );
  });
});

describe('evidenceInWords', () => {
  test('the stored evidence and inputs in one sentence, an unbounded interval said as "above"', async () => {
    const { evidenceInWords } = await import('../../../src/core/alerts/view.js');
    expect(
      evidenceInWords({
        inputs: { spend: '310.00', qualified_leads: 4, cpql: 77.5 },
        evidence: { window: { cpql_80: [41.2, 190.1] } },
      }),
    ).toBe('4 qualified leads on 310.00 spent; CPQL 77.50 (80 % interval 41.20–190.10)');
    expect(
      evidenceInWords({
        inputs: { spend: '1520', qualified_leads: 0, cpql: null },
        evidence: { window: { cpql_80: [900.5, null] } },
      }),
    ).toBe('0 qualified leads on 1,520 spent; no CPQL yet (80 % interval above 900.50)');
    expect(evidenceInWords({ inputs: { spend: '10', qualified_leads: 1 } })).toBeNull();
  });

  test('amounts carry the campaign currency; in lead mode the evidence is on leads and CPL', async () => {
    const { evidenceInWords } = await import('../../../src/core/alerts/view.js');
    expect(
      evidenceInWords({
        currency: 'IDR',
        inputs: { spend: '7500000', qualified_leads: 90, cpql: 83333.33 },
        evidence: { window: { cpql_80: [75012.5, 92500] } },
      }),
    ).toBe('90 qualified leads on 7,500,000 IDR spent; CPQL 83,333 IDR (80 % interval 75,013–92,500 IDR)');
    expect(
      evidenceInWords({
        currency: 'MYR',
        inputs: { spend: '2968', qualified_leads: 0, total_leads: 121, cpql: 24.53 },
        evidence: { basis: 'leads', window: { cpql_80: [21.1, 28.4] } },
      }),
    ).toBe('121 leads on 2,968 MYR spent; CPL 24.53 MYR (80 % interval 21.10–28.40 MYR)');
  });
});
