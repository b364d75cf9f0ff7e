import { describe, expect, test } from '@jest/globals';
import { barChart, legend, lineChart, niceCeiling } from '../../../src/core/charts/svg.js';
import { compact, money } from '../../../src/core/money.js';

// The inline SVG charts: geometry read back from the markup.
const rects = (svg: string) =>
  [
    ...svg.matchAll(
      /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="([^"]+)"><title>([^<]*)/g,
    ),
  ].map((m) => ({ x: +m[1]!, y: +m[2]!, w: +m[3]!, h: +m[4]!, fill: m[5]!, title: m[6]! }));

describe('niceCeiling', () => {
  test.each([
    [0, 1],
    [-3, 1],
    [0.7, 1],
    [1, 1],
    [1.2, 2],
    [2.2, 2.5],
    [3, 5],
    [7, 10],
    [37, 50],
    [180, 200],
    [1234, 2000],
  ])('%d rounds up to %d', (v, nice) => {
    expect(niceCeiling(v)).toBe(nice);
  });
});

describe('barChart', () => {
  const stacked = barChart({
    label: 'Actions',
    categories: ['2025-10-01', '2025-10-02'],
    series: [
      { name: 'Cut', color: '#dc2626', values: [10, 30] },
      { name: 'Keep', color: '#2563eb', values: [30, 0] },
    ],
    layout: 'stacked',
    format: String,
  });

  test('stacks a category: heights follow the values, one on top of the other, on a round axis', () => {
    const r = rects(stacked);
    expect(r.map((x) => x.title)).toEqual(['2025-10-01 · Cut: 10', '2025-10-01 · Keep: 30', '2025-10-02 · Cut: 30']);
    // The axis runs to 40 in steps of 10; 240 high less 12 + 30 of margins: 198 for 40.
    expect(r[0]!.h).toBeCloseTo((10 / 40) * 198, 0);
    expect(r[1]!.h).toBeCloseTo((30 / 40) * 198, 0);
    expect(r[1]!.y + r[1]!.h).toBeCloseTo(r[0]!.y, 0);
    expect(r[0]!.x).toBe(r[1]!.x);
    expect(r[2]!.x).toBeGreaterThan(r[0]!.x);
    expect([...stacked.matchAll(/text-anchor="end"[^>]*>(\d+)</g)].map((m) => m[1])).toEqual([
      '0',
      '10',
      '20',
      '30',
      '40',
    ]);
  });

  test.each([
    [26, ['0', '10', '20', '30']],
    [9, ['0', '5', '10']],
    [3, ['0', '1', '2', '3']],
    [1234, ['0', '500', '1000', '1500']],
  ])('gridlines at whole, round steps for a largest value of %d', (top, ticks) => {
    const svg = barChart({
      label: 'x',
      categories: ['a'],
      series: [{ name: 's', color: '#000', values: [top] }],
      layout: 'stacked',
      format: String,
    });
    expect([...svg.matchAll(/text-anchor="end"[^>]*>(\d+)</g)].map((m) => m[1])).toEqual(ticks);
  });

  test('a zero or missing value draws nothing in a stack; in groups a zero is a hairline, unlike nothing', () => {
    expect(rects(stacked).some((x) => x.title.includes('Keep: 0'))).toBe(false);
    const zero = barChart({
      label: 'Zero',
      categories: ['a'],
      series: [{ name: 's', color: '#000', values: [0] }],
      layout: 'grouped',
      max: 1,
      format: String,
    });
    expect(rects(zero).map((x) => [x.h, x.title])).toEqual([[1, 'a · s: 0']]);
    const none = barChart({
      label: 'Empty',
      categories: ['a'],
      series: [{ name: 's', color: '#000', values: [null] }],
      layout: 'grouped',
      format: String,
    });
    expect(rects(none)).toEqual([]);
  });

  test('groups side by side, each bar its own height against a fixed top', () => {
    const svg = barChart({
      label: 'Precision',
      categories: ['0–20', '20–40'],
      series: [
        { name: 'Cut', color: '#dc2626', values: [0.5, 1] },
        { name: 'Increase', color: '#15803d', values: [0.25, null] },
      ],
      layout: 'grouped',
      max: 1,
      format: (v) => `${Math.round(v * 100)} %`,
    });
    const r = rects(svg);
    expect(r).toHaveLength(3);
    expect(r[1]!.x).toBeGreaterThan(r[0]!.x);
    expect(r[0]!.h / r[1]!.h).toBeCloseTo(2, 1);
    expect(r[2]!.h).toBeCloseTo(198, 0);
    expect(r[0]!.title).toBe('0–20 · Cut: 50 %');
  });

  test('names itself for screen readers and escapes every text', () => {
    const svg = barChart({
      label: 'A <b> & "c"',
      categories: ['<x>'],
      series: [{ name: "O'Brien & co", color: '#000', values: [1] }],
      layout: 'stacked',
      format: String,
    });
    expect(svg).toContain('role="img" aria-label="A &lt;b&gt; &amp; &quot;c&quot;"');
    expect(svg).toContain('&lt;x&gt; · O&#39;Brien &amp; co: 1');
    expect(svg).not.toContain('<b>');
  });

  test('labels at most about eight categories on the x axis', () => {
    const categories = Array.from({ length: 90 }, (_, i) => `d${i}`);
    const svg = barChart({
      label: 'many',
      categories,
      series: [{ name: 's', color: '#000', values: categories.map(() => 1) }],
      layout: 'stacked',
      format: String,
    });
    const xLabels = [...svg.matchAll(/text-anchor="middle"[^>]*>([^<]+)</g)].map((m) => m[1]);
    expect(xLabels.length).toBeGreaterThanOrEqual(6);
    expect(xLabels.length).toBeLessThanOrEqual(9);
    expect(xLabels[0]).toBe('d0');
  });
});

describe('lineChart', () => {
  const svg = lineChart({
    label: 'Score',
    categories: ['a', 'b', 'c', 'd'],
    series: [{ name: 'Score', color: '#2563eb', values: [40, 60, null, 80] }],
    max: 100,
    format: String,
    reference: { value: 50, label: 'target 50' },
    marks: [{ category: 'b', label: 'action changed to Increase budget', color: '#15803d' }],
  });

  test('a missing value breaks the line into two pieces', () => {
    const d = /<path d="([^"]+)"/.exec(svg)![1]!;
    expect(d.match(/M/g)).toHaveLength(2);
    expect(d.match(/L/g)).toHaveLength(1);
    expect(svg.match(/<circle /g)).toHaveLength(3);
  });

  test('draws the reference line and marks the categories asked for, each with its words', () => {
    expect(svg).toContain('<title>target 50</title>');
    expect(svg).toContain('<title>b: action changed to Increase budget</title>');
  });

  test('a higher value is drawn higher', () => {
    const ys = [...svg.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(ys[0]).toBeGreaterThan(ys[1]!);
    expect(ys[1]).toBeGreaterThan(ys[2]!);
  });
});

test('legend: one item per series with its colour, as HTML that wraps', () => {
  const html = legend([
    { name: 'Cut', color: '#dc2626' },
    { name: 'A & B', color: '#000000' },
  ]);
  expect(html.match(/<li>/g)).toHaveLength(2);
  expect(html).toContain('background:#dc2626');
  expect(html).toContain('A &amp; B');
});

describe('axes people can read (issue 28)', () => {
  const yLabels = (svg: string) =>
    [...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+" dy="4" text-anchor="end"[^>]*>([^<]*)<\/text>/g)].map((m) => ({
      x: Number(m[1]),
      text: m[2]!,
    }));
  const days = ['2025-11-13', '2025-11-14', '2025-11-15'];

  test('a CPQL axis in the thousands: labels short and whole, with room left of the plot for the widest', () => {
    const svg = lineChart({
      label: 'CPQL',
      categories: days,
      series: [{ name: 'CPQL', color: '#000', values: [9_800, 12_500, 11_000] }],
      format: (v) => money(v),
      axisFormat: compact,
    });
    const labels = yLabels(svg);
    expect(labels.map((l) => l.text)).toEqual(['0', '5k', '10k', '15k']);
    // Each label ends 6 units left of the plot and has its width's room (7.6 a character at 13 px) before it.
    for (const l of labels) expect(l.x - l.text.length * 7.6).toBeGreaterThanOrEqual(0);
  });

  test('an IDR axis in the hundreds of millions keeps its magnitude', () => {
    const svg = barChart({
      label: 'Spend (IDR)',
      categories: days,
      series: [{ name: 'Spend', color: '#000', values: [250_000_000, 476_000_000, 310_000_000] }],
      layout: 'grouped',
      format: (v) => money(v),
      axisFormat: compact,
    });
    expect(yLabels(svg).map((l) => l.text)).toEqual(['0', '200M', '400M', '600M']);
  });

  test('without a short format, the widest label still gets its room: nothing is cut at the left edge', () => {
    const svg = lineChart({
      label: 'CPQL',
      categories: days,
      series: [{ name: 'CPQL', color: '#000', values: [9_800, 12_500, 11_000] }],
      format: (v) => `${v.toFixed(2)} USD`,
    });
    for (const l of yLabels(svg)) expect(l.x - l.text.length * 7.6).toBeGreaterThanOrEqual(0);
  });

  test('counts: whole-number gridlines, never 0, 1, 1', () => {
    const svg = barChart({
      label: 'Qualified leads',
      categories: days,
      series: [{ name: 'Qualified', color: '#000', values: [0, 1, 1] }],
      layout: 'grouped',
      format: (v) => String(Math.round(v)),
      integer: true,
    });
    const labels = yLabels(svg).map((l) => l.text);
    expect(labels).toEqual(['0', '1']);
    expect(new Set(labels).size).toBe(labels.length);
  });

  test('compact: the magnitude always shown, cents only for small amounts', () => {
    expect([0, 7, 9.5, 950, 1_500, 12_500, 125_000, 2_500_000, 476_000_000, 1.2e9, -30_000].map(compact)).toEqual([
      '0',
      '7',
      '9.50',
      '950',
      '1.5k',
      '12.5k',
      '125k',
      '2.5M',
      '476M',
      '1.2B',
      '-30k',
    ]);
  });
});
