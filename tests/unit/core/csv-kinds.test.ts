import { describe, expect, test } from '@jest/globals';
import { matchHeader, normalizeHeaderName } from '../../../src/core/csv-import/kinds.js';

const kindOf = (header: string[]): string => {
  const r = matchHeader(header);
  return r.ok ? r.match.kind : `${r.failure}: ${r.message}`;
};

describe('kind inference from the header', () => {
  test.each([
    [['client_id', 'client_name', 'alert_emails', 'target_cpql', 'timezone'], 'clients'],
    [
      ['campaign_id', 'campaign_name', 'client_id', 'daily_budget', 'start_date', 'end_date', 'platform', 'status'],
      'campaigns',
    ],
    [['campaign_id', 'date', 'impressions', 'clicks', 'spend', 'total_leads', 'qualified_leads'], 'metrics'],
    [['lead_id', 'campaign_id', 'created_at', 'status'], 'leads'],
    [['lead_id', 'status', 'changed_at'], 'lead-status'],
    [['campaign_id'], 'campaigns'],
    [['campaign_id', 'date'], 'metrics'],
  ])('%j is %s', (header, kind) => {
    expect(kindOf(header)).toBe(kind);
  });

  test('reads names case-insensitively, trimmed, with spaces and hyphens as underscores', () => {
    expect(normalizeHeaderName('  Campaign-ID ')).toBe('campaign_id');
    expect(normalizeHeaderName('Total Leads')).toBe('total_leads');
    expect(kindOf([' Campaign ID', 'DATE ', 'Qualified-Leads'])).toBe('metrics');
  });

  test('a header that fits no kind is a usage error listing every kind and its columns', () => {
    const r = matchHeader(['foo', 'bar']);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.failure).toBe('usage');
    expect(r.message).toContain('fits no kind');
    expect(r.problems).toHaveLength(6);
    expect(r.problems[2]).toMatch(
      /^metrics: campaign_id, date \(or campaign_name in place of campaign_id\) \(optional: impressions/,
    );
  });

  test('a semicolon-separated header is recognised as such and the fix named', () => {
    const r = matchHeader(['campaign_id;date;spend']);
    expect(!r.ok && r.message).toContain('separated by semicolons');
  });

  test('a header that fits two kinds equally well is ambiguous and asks for --kind', () => {
    // client_id and client_name are clients columns, campaign_id and client_id campaigns ones: two each.
    const tie = matchHeader(['client_id', 'campaign_id', 'client_name']);
    expect(tie.ok).toBe(false);
    if (!tie.ok) {
      expect(tie.failure).toBe('usage');
      expect(tie.message).toBe('the header fits clients and campaigns equally well; pass --kind to say which');
    }
    expect(kindOf(['client_id', 'campaign_id', 'campaign_name'])).toBe('campaigns');
    const chosen = matchHeader(['client_id', 'campaign_id', 'client_name'], 'clients');
    expect(chosen.ok && chosen.match.ignored).toEqual(['campaign_id']);
  });

  test('with --kind, missing required columns are named together with the columns the kind expects', () => {
    const r = matchHeader(['lead_id', 'status'], 'leads');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.failure).toBe('data');
    expect(r.problems[0]).toBe(
      'missing required columns campaign_id, created_at; a leads file needs lead_id, campaign_id, created_at, status',
    );
  });

  test('a column given twice is refused, naming both positions', () => {
    const r = matchHeader(['campaign_id', 'date', 'spend', 'Spend']);
    expect(!r.ok && r.problems).toEqual(['spend is fed by two header fields (columns 3 and 4): keep one']);
  });
});

describe('Meta Ads Manager daily exports', () => {
  const meta = [
    'Campaign name',
    'Campaign ID',
    'Day',
    'Impressions',
    'Reach',
    'Link clicks',
    'Clicks (all)',
    'Amount spent (EUR)',
    'Leads',
    'Reporting starts',
    'Reporting ends',
  ];

  test(
    'map onto the metrics columns, with the other columns ignored ' +
      'and named; with Day, the report range is not compared',
    () => {
      const r = matchHeader(meta);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.match.kind).toBe('metrics');
      // Clicks are Link clicks (as the API path's inline_link_clicks); Clicks (all) is kept beside them.
      expect(Object.fromEntries(r.match.columns)).toEqual({
        campaign_name: 0,
        campaign_id: 1,
        date: 2,
        impressions: 3,
        clicks: 5,
        all_clicks: 6,
        spend: 7,
        total_leads: 8,
      });
      expect(r.match.ignored).toEqual(['Reach', 'Reporting starts', 'Reporting ends']);
      expect(r.match.reportingEndsIndex).toBeUndefined();
      expect(r.match.currency).toBe('EUR');
      expect(r.match.keyedByName).toBeUndefined();
    },
  );

  test('accept any currency code in "Amount spent (XXX)"', () => {
    for (const code of ['USD', 'JPY', 'brl']) {
      const r = matchHeader(['Campaign ID', 'Day', `Amount spent (${code})`]);
      expect(r.ok && r.match.columns.get('spend')).toBe(2);
    }
  });

  test(
    'use Reporting starts as the date when there is no Day column, ' + 'and Clicks (all) when there are no link clicks',
    () => {
      const r = matchHeader(['Campaign ID', 'Reporting starts', 'Reporting ends', 'Clicks (all)']);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.match.columns.get('date')).toBe(1);
      expect(r.match.columns.get('clicks')).toBe(3);
      expect(r.match.clicksAreAllClicks).toBe(true);
      expect(r.match.reportingEndsIndex).toBe(2);
    },
  );
});

describe('real Ads Manager exports', () => {
  const ok = (header: string[], kind?: Parameters<typeof matchHeader>[1], renames?: Map<string, string>) => {
    const r = matchHeader(header, kind, renames);
    if (!r.ok) throw new Error(`${r.message}: ${r.problems.join('; ')}`);
    return r.match;
  };

  test('without Campaign ID, a metrics file is keyed by Campaign name', () => {
    const m = ok(['Campaign name', 'Day', 'Amount spent (IDR)']);
    expect(m).toMatchObject({ kind: 'metrics', keyedByName: true, currency: 'IDR', meta: true });
  });

  test('"Amount spent" without a currency code is spend, with no currency', () => {
    const m = ok(['Campaign name', 'Day', 'Amount spent']);
    expect(m.columns.get('spend')).toBe(2);
    expect(m.currency).toBeUndefined();
  });

  test(
    'Results with Result indicator (or Result type) are read as ' +
      'leads; Leads wins over them; Results alone are not leads',
    () => {
      expect(ok(['Campaign name', 'Day', 'Results', 'Result indicator']).leadResults).toEqual({
        results: 2,
        indicator: 3,
      });
      expect(ok(['Campaign name', 'Day', 'Result type', 'Results']).leadResults).toEqual({ results: 3, indicator: 2 });
      const both = ok(['Campaign name', 'Day', 'Leads', 'Results', 'Result indicator']);
      expect(both.leadResults).toBeUndefined();
      expect(both.columns.get('total_leads')).toBe(2);
      const bare = ok(['Campaign name', 'Day', 'Results']);
      expect(bare).toMatchObject({ unlabelledResults: true });
      expect(bare.ignored).toContain('Results');
    },
  );

  test('ad, ad set and placement columns are breakdowns, named as written', () => {
    expect(ok(['Campaign name', 'Ad set name', 'Ad name', 'Placement', 'Day']).breakdown).toEqual([
      'Ad set name',
      'Ad name',
      'Placement',
    ]);
    expect(ok(['Campaign ID', 'Day', 'Impressions']).breakdown).toBeUndefined();
  });

  test('--map renames header fields before matching, for any kind', () => {
    const m = ok(
      ['Customer', 'Name'],
      undefined,
      new Map([
        ['customer', 'client_id'],
        ['name', 'client_name'],
      ]),
    );
    expect(m.kind).toBe('clients');
  });

  test('a Meta header without a date or a campaign says which Ads Manager column to add', () => {
    const r = matchHeader(['Reach', 'Amount spent (USD)']);
    expect(!r.ok && r.problems.slice(0, 2)).toEqual([
      expect.stringMatching(
        /^no campaign column: add Campaign name \(or Campaign ID: Columns → Customize → Campaign ID\)/,
      ),
      expect.stringMatching(/^no date column: export with Breakdown → By time → Day/),
    ]);
  });

  test("the lead result pattern matches Meta's lead indicators and nothing else", async () => {
    const { LEAD_RESULT_PATTERN } = await import('../../../src/core/csv-import/meta-export.js');
    const re = new RegExp(LEAD_RESULT_PATTERN, 'i');
    for (const s of [
      'actions:lead',
      'actions:onsite_conversion.lead_grouped',
      'actions:offsite_conversion.fb_pixel_lead',
      'Leads',
      'On-Facebook leads',
      'Website leads',
      'Clientes potenciales',
      'Prospects',
    ])
      expect({ s, lead: re.test(s) }).toEqual({ s, lead: true });
    for (const s of ['actions:offsite_conversion.fb_pixel_purchase', 'Link clicks', 'Reach', 'Leadership video views'])
      expect({ s, lead: re.test(s) }).toEqual({ s, lead: false });
  });
});

describe('--map parsing', () => {
  test('pairs, with spaces around names; bad pairs each reported', async () => {
    const { parseColumnMap } = await import('../../../src/core/csv-import/meta-export.js');
    const known = new Set(['spend', 'date']);
    expect(parseColumnMap(' Spent = spend , Date=date', known, normalizeHeaderName)).toEqual({
      map: new Map([
        ['spent', 'spend'],
        ['date', 'date'],
      ]),
    });
    expect(parseColumnMap('Spent,A=cost,B=spend,b=date', known, normalizeHeaderName)).toEqual({
      problems: [
        '"Spent": expected Their column=our_column',
        '"A=cost": cost is not a column of any kind (known: date, spend)',
        '"b=date": b is mapped twice',
      ],
    });
  });
});

describe('Ads Manager exports in other languages', () => {
  const ok = (header: string[], kind?: Parameters<typeof matchHeader>[1]) => {
    const r = matchHeader(header, kind);
    if (!r.ok) throw new Error(`${r.message}: ${r.problems.join('; ')}`);
    return r.match;
  };

  test('an export in French or German maps as the English one, its breakdowns and currency included', () => {
    const fr = ok([
      'Début des rapports',
      'Fin des rapports',
      'Nom de la campagne',
      "Nom de l'ensemble de publicités",
      'Jour',
      'Montant dépensé (EUR)',
      'Impressions',
      'Clics sur un lien',
      'Résultats',
      'Indicateur de résultats',
    ]);
    expect(fr).toMatchObject({ kind: 'metrics', keyedByName: true, currency: 'EUR', meta: true });
    expect(fr.breakdown).toEqual(["Nom de l'ensemble de publicités"]);
    expect([...fr.columns]).toEqual(
      expect.arrayContaining([
        ['campaign_name', 2],
        ['date', 4],
        ['spend', 5],
        ['impressions', 6],
        ['clicks', 7],
      ]),
    );
    expect(fr.leadResults).toEqual({ results: 8, indicator: 9 });
    const de = ok(['Kampagnenname', 'Tag', 'Ausgegebener Betrag (EUR)', 'Impressionen', 'Link-Klicks', 'Leads']);
    expect(de).toMatchObject({ kind: 'metrics', keyedByName: true, currency: 'EUR' });
    expect(de.columns.get('clicks')).toBe(4);
    expect(de.columns.get('total_leads')).toBe(5);
  });

  test('a Portuguese export without a day breakdown says which Ads Manager column to add', () => {
    const r = matchHeader(['Início dos relatórios', 'Nome da campanha', 'Valor usado (BRL)']);
    expect(r.ok).toBe(true);
    // Reporting starts is the date: it must equal Reporting ends on every row, which is checked row by row.
    const noDate = matchHeader(['Nome da campanha', 'Valor usado (BRL)', 'Alcance']);
    expect(!noDate.ok && noDate.problems[0]).toMatch(/^no date column: export with Breakdown → By time → Day/);
  });

  test('other kinds keep their own column names: a localized name is not read outside metrics', () => {
    expect(kindOf(['campaign_id', 'Nombre de la campaña'])).toBe('campaigns');
    const m = ok(['campaign_id', 'Nombre de la campaña'], 'campaigns');
    expect(m.ignored).toEqual(['Nombre de la campaña']);
  });
});
