import { expect, test } from '@jest/globals';
import { parseScorecardQuery, type ScorecardRow, searchText } from '../../../../src/core/dashboard/scorecard.js';
import { renderScorecard, type ScorecardView } from '../../../../src/views/dashboard/scorecard.js';

// The scorecard page's rows as people read them: words where the vocabulary has codes, numbers never in exponent
// notation, and data that stopped arriving shown as behind.
const row = (id: string, over: Partial<ScorecardRow> = {}): ScorecardRow => ({
  campaignId: id,
  name: `Campaign ${id}`,
  clientId: 'acme',
  clientName: 'Acme',
  score: 30,
  previousScore: 31,
  action: 'PAUSE_CAMPAIGN',
  recommendation: 'PAUSE_CAMPAIGN',
  flags: [],
  spend: 476_108_937,
  qualifiedLeads: 0,
  cpql: null,
  target: 150_000,
  currency: 'IDR',
  search: searchText(`Campaign ${id}`, id),
  ...over,
});

const view = (rows: ScorecardView['rows']): ScorecardView => ({
  username: 'ops',
  path: '/',
  heading: 'Campaign scorecard',
  client: null,
  date: '2025-11-15',
  previous: '2025-11-14',
  newestData: '2025-11-15',
  // The defaults, as the scorecard's own parser gives them.
  query: parseScorecardQuery(new URLSearchParams()),
  clients: null,
  rows,
  page: 1,
  pages: 1,
  total: rows.length,
  banner: { state: 'ok', text: 'Every job ran on time.' },
});

test('a campaign without a qualified lead: "no qualified lead yet", never an interval in exponent notation', () => {
  const html = renderScorecard(
    view([{ row: row('a'), extras: { weakest: null, interval: [476_108_937, 2.009097789650659e98], dataUpTo: null } }]),
  );
  expect(html).toContain('no qualified lead yet');
  expect(html).not.toMatch(/e\+\d|\d{16}/);
});

test('a CPQL whose interval has no real top end says "above"', () => {
  const html = renderScorecard(
    view([
      {
        row: row('b', { qualifiedLeads: 1, cpql: 476_108_937 }),
        extras: { weakest: null, interval: [98_000_000, 3e15], dataUpTo: '2025-11-15' },
      },
    ]),
  );
  expect(html).toContain('80 %: above 98,000,000');
  expect(html).not.toMatch(/e\+\d|\d{16}/);
});

test('flags in words with their sentence on hover; no code shown', () => {
  const html = renderScorecard(
    view([
      {
        row: row('c', { flags: ['MISSING_IMPRESSIONS', 'SPEND_SPIKE'] }),
        extras: { weakest: null, interval: null, dataUpTo: '2025-11-15' },
      },
    ]),
  );
  expect(html).toContain('>Impressions missing</span>');
  expect(html).toContain('>Spend spike</span>');
  expect(html).toContain('title="Impressions are missing on some days of the last 30');
  expect(html).not.toMatch(/>(MISSING_IMPRESSIONS|SPEND_SPIKE|PAUSE_CAMPAIGN)</);
});

test('data more than two days behind the scored date is shown as behind; two days is not', () => {
  const html = renderScorecard(
    view([
      { row: row('d'), extras: { weakest: null, interval: null, dataUpTo: '2025-11-13' } },
      { row: row('e'), extras: { weakest: null, interval: null, dataUpTo: '2025-11-01' } },
    ]),
  );
  expect(html).toContain('<span class="stale" title="no data for the 14 days up to the scored date">2025-11-01</span>');
  expect(html).toContain('14 days behind');
  expect(html).not.toContain('2 days behind');
});
