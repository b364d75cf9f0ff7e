import { escapeHtml } from '../text/html.js';

/**
 * Charts as inline SVG: no script, no font, no external resource, so they work in a self-contained file, behind a
 * strict Content-Security-Policy and without JavaScript. Each chart has an accessible name, every mark a <title> with
 * its value (a tooltip in browsers), and the caller shows the numbers as a table too.
 */

/** One named series of values, one per category (null: nothing to draw there). */
export interface ChartSeries {
  name: string;
  color: string;
  values: readonly (number | null)[];
}

interface ChartBase {
  /** The accessible name, also the SVG's <title>. */
  label: string;
  categories: readonly string[];
  /** The x axis text of a category (default: the category itself); at most about eight are shown. */
  tickLabel?: (category: string) => string;
  series: readonly ChartSeries[];
  /** The tooltip text of a value (and the y axis', unless `axisFormat`). */
  format: (value: number) => string;
  /** The y axis text of a gridline value, when it should be shorter than the tooltip's ("12.5k" for 12,500.00). */
  axisFormat?: (value: number) => string;
  /** Whole numbers only (counts): gridlines one apart at least, never 0, 0.5, 1 shown as 0, 1, 1. */
  integer?: boolean;
  /** Top of the y axis (default: a round number above the largest value). */
  max?: number;
  height?: number;
}

export interface BarChartSpec extends ChartBase {
  /** Stacked: the series of a category on top of each other; grouped: side by side. */
  layout: 'stacked' | 'grouped';
}

export interface LineChartSpec extends ChartBase {
  /** Bottom of the y axis (default 0). */
  min?: number;
  /** A horizontal reference line, e.g. a target. */
  reference?: { value: number; label: string };
  /** Vertical marks at some categories, e.g. the dates an action changed. */
  marks?: readonly { category: string; label: string; color: string }[];
}

const WIDTH = 640;
const PAD = { left: 56, right: 12, top: 12, bottom: 30 };
/** About the width of one character of the axis font (13 px) in the chart's units, for the labels' room. */
const CHAR_W = 7.6;
const FONT = 'font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif" font-size="13"';
const INK = '#374151';
const GRID = '#e5e7eb';

/** 1, 2, 2.5 or 5 times a power of ten, at or above `v`. */
export function niceCeiling(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const power = 10 ** Math.floor(Math.log10(v));
  const f = v / power;
  const step = [1, 2, 2.5, 5, 10].find((s) => f <= s + 1e-9) ?? 10;
  return step * power;
}

/** 1, 2 or 5 times a power of ten, at or above `v`: gridline steps that read as whole numbers. */
export function niceStep(v: number): number {
  const c = niceCeiling(v);
  return c / 10 ** Math.floor(Math.log10(c)) === 2.5 ? c * 2 : c;
}

const n = (v: number) => (Math.round(v * 10) / 10).toString();

interface Frame {
  /** Room left of the plot for the y axis' labels: as wide as the widest. */
  left: number;
  height: number;
  plotW: number;
  plotH: number;
  min: number;
  max: number;
  /** The y axis' gridlines, bottom to top. */
  ticks: number[];
  y: (v: number) => number;
  band: number;
}

/** Round gridlines from `min` up past `dataMax` (about four), or four even steps up to a fixed `max`. */
function scale(min: number, dataMax: number, max: number | undefined, integer = false): number[] {
  if (max !== undefined) return [0, 1, 2, 3, 4].map((i) => min + ((max - min) * i) / 4);
  const raw = niceStep((Math.max(dataMax, min + 1e-9) - min) / 4);
  const step = integer ? Math.max(1, raw) : raw;
  const count = Math.max(1, Math.ceil((dataMax - min) / step - 1e-9));
  return Array.from({ length: count + 1 }, (_, i) => min + step * i);
}

function frame(spec: ChartBase, dataMax: number, min = 0): Frame {
  const height = spec.height ?? 240;
  const ticks = scale(min, dataMax, spec.max, spec.integer);
  const label = spec.axisFormat ?? spec.format;
  const left = Math.max(PAD.left, Math.ceil(Math.max(...ticks.map((t) => label(t).length)) * CHAR_W + 12));
  const plotW = WIDTH - left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const max = ticks[ticks.length - 1]!;
  const span = max - min || 1;
  return {
    left,
    height,
    plotW,
    plotH,
    min,
    max,
    ticks,
    y: (v) => PAD.top + plotH - ((Math.min(Math.max(v, min), max) - min) / span) * plotH,
    band: plotW / Math.max(1, spec.categories.length),
  };
}

function axes(spec: ChartBase, f: Frame): string {
  const out: string[] = [];
  for (const v of f.ticks) {
    const y = n(f.y(v));
    const text = (spec.axisFormat ?? spec.format)(v);
    out.push(
      `<line x1="${f.left}" x2="${WIDTH - PAD.right}" y1="${y}" y2="${y}" stroke="${GRID}"/>`,
      `<text x="${f.left - 6}" y="${y}" dy="4" text-anchor="end" fill="${INK}">${escapeHtml(text)}</text>`,
    );
  }
  const every = Math.ceil(spec.categories.length / 8);
  spec.categories.forEach((c, i) => {
    if (i % every !== 0) return;
    const x = n(f.left + f.band * (i + 0.5));
    const text = spec.tickLabel ? spec.tickLabel(c) : c;
    out.push(`<text x="${x}" y="${f.height - 10}" text-anchor="middle" fill="${INK}">${escapeHtml(text)}</text>`);
  });
  return out.join('');
}

function svg(spec: ChartBase, f: Frame, body: string): string {
  return (
    `<svg class="chart" viewBox="0 0 ${WIDTH} ${f.height}" role="img" aria-label="${escapeHtml(spec.label)}" ` +
    `xmlns="http://www.w3.org/2000/svg" ${FONT}><title>${escapeHtml(spec.label)}</title>` +
    `${axes(spec, f)}${body}</svg>`
  );
}

const tip = (spec: ChartBase, category: string, s: ChartSeries, v: number) =>
  `<title>${escapeHtml(`${category} · ${s.name}: ${spec.format(v)}`)}</title>`;

/** Bars, stacked or grouped, one band per category. */
export function barChart(spec: BarChartSpec): string {
  const totals = spec.categories.map((_, i) =>
    spec.layout === 'stacked'
      ? spec.series.reduce((sum, s) => sum + Math.max(0, s.values[i] ?? 0), 0)
      : Math.max(0, ...spec.series.map((s) => s.values[i] ?? 0)),
  );
  const f = frame(spec, Math.max(0, ...totals));
  const gap = f.band > 4 ? Math.min(f.band * 0.2, 12) : 0;
  const marks: string[] = [];
  spec.categories.forEach((c, i) => {
    const left = f.left + f.band * i + gap / 2;
    const width = f.band - gap;
    let base = 0;
    spec.series.forEach((s, k) => {
      const v = s.values[i];
      // A zero draws a hairline in a grouped chart, so that "0" differs from "nothing to show".
      if (v === null || v === undefined || v < 0 || (v === 0 && spec.layout === 'stacked')) return;
      const [x, w, from] =
        spec.layout === 'stacked'
          ? [left, width, base]
          : [left + (width / spec.series.length) * k, width / spec.series.length, 0];
      const top = f.y(from + v);
      const h = f.y(from) - top;
      if (spec.layout === 'stacked') base += v;
      marks.push(
        `<rect x="${n(x)}" y="${n(top)}" width="${n(Math.max(w - (spec.layout === 'grouped' ? 1 : 0), 0.5))}" ` +
          `height="${n(Math.max(h, 1))}" fill="${s.color}">${tip(spec, c, s, v)}</rect>`,
      );
    });
  });
  return svg(spec, f, marks.join(''));
}

/** Lines through each series' values (a null breaks the line), with an optional reference line and marks. */
export function lineChart(spec: LineChartSpec): string {
  const values = spec.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const f = frame(spec, Math.max(0, ...values, spec.reference?.value ?? 0), spec.min ?? 0);
  const x = (i: number) => f.left + f.band * (i + 0.5);
  const parts: string[] = [];
  for (const m of spec.marks ?? []) {
    const i = spec.categories.indexOf(m.category);
    if (i < 0) continue;
    parts.push(
      `<line x1="${n(x(i))}" x2="${n(x(i))}" y1="${PAD.top}" y2="${PAD.top + f.plotH}" stroke="${m.color}" ` +
        `stroke-dasharray="3 3"><title>${escapeHtml(`${m.category}: ${m.label}`)}</title></line>`,
    );
  }
  if (spec.reference) {
    const y = n(f.y(spec.reference.value));
    parts.push(
      `<line x1="${f.left}" x2="${WIDTH - PAD.right}" y1="${y}" y2="${y}" stroke="${INK}" stroke-dasharray="6 4">` +
        `<title>${escapeHtml(spec.reference.label)}</title></line>`,
    );
  }
  for (const s of spec.series) {
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${n(x(i))} ${n(f.y(v))}`;
      pen = true;
    });
    if (d !== '') parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    s.values.forEach((v, i) => {
      if (v === null) return;
      const c = spec.categories[i]!;
      parts.push(`<circle cx="${n(x(i))}" cy="${n(f.y(v))}" r="2.5" fill="${s.color}">${tip(spec, c, s, v)}</circle>`);
    });
  }
  return svg(spec, f, parts.join(''));
}

/** The key to a chart's colours, as HTML (it wraps on narrow screens, which text inside an SVG cannot). */
export function legend(series: readonly { name: string; color: string }[]): string {
  return (
    '<ul class="legend">' +
    series
      .map(
        (s) =>
          `<li><span class="swatch" style="background:${s.color}" aria-hidden="true"></span>${escapeHtml(s.name)}</li>`,
      )
      .join('') +
    '</ul>'
  );
}

/** The CSS the charts and legends need, for a page's <style>. */
export const CHART_CSS =
  // On a narrow screen the chart keeps a legible size and scrolls, starting from its right end: the newest dates.
  '.chart-wrap{overflow-x:auto;direction:rtl}.chart{direction:ltr;display:block;width:100%;min-width:480px;' +
  'max-width:820px;height:auto}' +
  '.legend{list-style:none;padding:0;margin:.25rem 0 1rem;display:flex;flex-wrap:wrap;gap:.25rem 1rem;' +
  'font-size:.875rem}.legend li{display:flex;align-items:center;gap:.35rem}' +
  '.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px}';
