import { describe, expect, test } from '@jest/globals';
import {
  csvRecord,
  filterRows,
  pageOf,
  parseScorecardQuery,
  queryString,
  type ScorecardRow,
  searchText,
  sortRows,
} from '../../../../src/core/dashboard/scorecard.js';
import { BadRequest } from '../../../../src/core/status/requests.js';

const row = (id: string, over: Partial<Omit<ScorecardRow, 'search'>> = {}): ScorecardRow => ({
  campaignId: id,
  name: `Campaign ${id}`,
  clientId: 'acme',
  clientName: 'Acme',
  score: 50,
  previousScore: 50,
  action: 'CONTINUE_OPTIMIZE',
  recommendation: 'CONTINUE_OPTIMIZE',
  flags: [],
  spend: 100,
  qualifiedLeads: 1,
  cpql: 100,
  target: 100,
  currency: 'USD',
  ...over,
  search: searchText(over.name === undefined ? `Campaign ${id}` : over.name, id),
});
const q = (s = '') => parseScorecardQuery(new URLSearchParams(s));
const all = () => true;

describe('parseScorecardQuery', () => {
  test('defaults: most urgent first, page 1 of 50 rows, no filter', () => {
    expect(q()).toEqual({
      date: null,
      client: null,
      action: null,
      flag: null,
      q: null,
      sort: 'urgency',
      dir: 'asc',
      page: 1,
      size: 50,
    });
    expect(q('sort=spend').dir).toBe('desc');
    expect(q('client=&action=&q=%20').client).toBeNull();
  });

  test.each([
    ['sort=price', 'sort=price'],
    ['dir=up', 'dir=up'],
    ['page=-1', 'page=-1'],
    ['size=1000', 'size=1000'],
    ['flag=BAD', 'flag=BAD'],
    ['date=2025-02-30', 'date=2025-02-30'],
    ['client=%01', 'client'],
    ['q=a&q=b', 'parameter "q" given more than once'],
  ])('%s is refused, naming it', (s, named) => {
    expect(() => q(s)).toThrow(BadRequest);
    expect(() => q(s)).toThrow(named);
  });

  test('a client page fixes the client: a client parameter does not change it', () => {
    expect(parseScorecardQuery(new URLSearchParams(''), 'acme').client).toBe('acme');
    expect(parseScorecardQuery(new URLSearchParams('client=globex'), 'acme').client).toBe('acme');
  });

  test('parameters a link picked up on its way (fbclid, utm_source) are ignored, not refused', () => {
    expect(q('fbclid=IwAR0abc&utm_source=digest&utm_medium=email&sort=score')).toEqual(q('sort=score'));
  });

  test('queryString gives back what parses to the same query, defaults left out', () => {
    const x = q('client=acme&action=PAUSE_CAMPAIGN&flag=HIGH_CPL&q=spring&sort=score&dir=asc&page=3&size=10');
    expect(q(queryString(x).slice(1))).toEqual(x);
    expect(queryString(q())).toBe('');
    expect(queryString(x, { page: 1 }, true)).toBe(
      '?action=PAUSE_CAMPAIGN&flag=HIGH_CPL&q=spring&sort=score&dir=asc&size=10',
    );
  });
});

describe('filtering and sorting', () => {
  const rows = [
    row('a', { action: 'INCREASE_BUDGET', spend: 900, score: 90 }),
    row('b', { action: 'PAUSE_CAMPAIGN', spend: 100, score: 10, clientId: 'globex', name: 'Spring sale' }),
    row('c', { action: 'PAUSE_CAMPAIGN', spend: 500, score: 12, flags: ['HIGH_CPL'] }),
    row('d', { action: 'REDUCE_BUDGET', spend: null, score: 30, cpql: null, previousScore: null }),
    row('e', { action: 'CONTINUE_OPTIMIZE', spend: 50, score: 70, clientId: null }),
  ];
  const order = (s: string, visible: (c: string | null) => boolean = all) =>
    sortRows(rows, filterRows(rows, q(s), visible), q(s)).map((i) => rows[i]!.campaignId);

  test('default: most urgent action first, then the most money at risk', () => {
    expect(order('')).toEqual(['c', 'b', 'd', 'a', 'e']);
  });

  test('a column both ways; a missing value always last', () => {
    expect(order('sort=spend')).toEqual(['a', 'c', 'b', 'e', 'd']);
    expect(order('sort=spend&dir=asc')).toEqual(['e', 'b', 'c', 'a', 'd']);
    expect(order('sort=change&dir=asc').at(-1)).toBe('d');
    expect(order('sort=cpql').at(-1)).toBe('d');
  });

  test('filters combine; the text matches names and ids whatever the case', () => {
    expect(order('client=acme')).toEqual(['c', 'd', 'a']);
    expect(order('action=PAUSE_CAMPAIGN&flag=HIGH_CPL')).toEqual(['c']);
    expect(order('q=SPRING')).toEqual(['b']);
    expect(order('q=e')).toContain('e');
  });

  test("the viewer's scope comes first: a campaign without a client is agency-only", () => {
    expect(order('', (c) => c === 'acme')).toEqual(['c', 'd', 'a']);
  });

  test('pages: the last page when asked past the end, never an empty middle', () => {
    const sorted = Array.from({ length: 23 }, (_, i) => i);
    expect(pageOf(sorted, 1, 10)).toEqual({ indexes: sorted.slice(0, 10), page: 1, pages: 3, total: 23 });
    expect(pageOf(sorted, 9, 10)).toMatchObject({ indexes: [20, 21, 22], page: 3 });
    expect(pageOf([], 1, 10)).toEqual({ indexes: [], page: 1, pages: 1, total: 0 });
  });
});

test('a CSV record: a fall in score is a plain negative number, not a defused formula', () => {
  const r = csvRecord(row('x', { score: 59.86, previousScore: 60 }));
  expect(r[5]).toBe('-0.14');
  expect(csvRecord(row('=x', { name: '-1+2' })).slice(0, 2)).toEqual(["'=x", "'-1+2"]);
});

test('a CSV record: numbers fixed to cents, flags space-separated, formulas defused', () => {
  const r = csvRecord(
    row('x', { name: '=cmd()', clientName: '+1', score: 66.5, previousScore: 60, flags: ['A', 'B'] }),
  );
  expect(r).toEqual([
    'x',
    "'=cmd()",
    'acme',
    "'+1",
    '66.50',
    '6.50',
    'CONTINUE_OPTIMIZE',
    'CONTINUE_OPTIMIZE',
    '100.00',
    '1',
    '100.00',
    '100.00',
    'USD',
    'A B',
  ]);
});
