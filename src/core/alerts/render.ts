import type { DigestPlan } from './diff.js';
import { escapeHtml } from '../text/html.js';
import {
  buildDigestView,
  LIMITS,
  type Card,
  type DigestContext,
  type DigestView,
  type Limits,
  type Line,
  type Section,
} from './view.js';

/**
 * The digest as HTML that survives real mail clients (Outlook's Word
 * engine, Gmail's style stripping, phones): tables for layout, every style
 * inline, explicit colours on light backgrounds, 600 px that shrinks to the
 * screen, bars drawn with table cells instead of images. And as plain text
 * with the same facts.
 */

const FONT = 'Arial,sans-serif';
const INK = '#111827';
const MUTED = '#4b5563';
const RULE = '#e5e7eb';
const PAGE = '#f3f4f6';
const TONE = {
  high: { accent: '#b91c1c', tint: '#fef2f2' },
  medium: { accent: '#b45309', tint: '#fffbeb' },
  opportunity: { accent: '#15803d', tint: '#f0fdf4' },
} as const;
const BAR = { good: '#16a34a', fair: '#d97706', poor: '#dc2626' } as const;
const BADGE = { new: '#1d4ed8', escalated: '#7c3aed', updated: '#0f766e' } as const;

const style = (s: string): string => ` style="${s}"`;
const text = (size: number, color: string, extra = ''): string =>
  style(`font-family:${FONT};font-size:${size}px;color:${color};${extra}`);
const TABLE = 'role="presentation" cellpadding="0" cellspacing="0" border="0"';

function bar(percent: number, tone: keyof typeof BAR): string {
  const fill =
    percent > 0
      ? `<td width="${percent}%" height="8" bgcolor="${BAR[tone]}"${style('font-size:0;line-height:0;')}>&nbsp;</td>`
      : '';
  const rest = percent < 100 ? `<td height="8"${style('font-size:0;line-height:0;')}>&nbsp;</td>` : '';
  return `<table ${TABLE} width="100%" bgcolor="${RULE}"><tr>${fill}${rest}</tr></table>`;
}

function cardHtml(c: Card, tone: (typeof TONE)[keyof typeof TONE]): string {
  const badgeStyle =
    `font-family:${FONT};font-size:11px;font-weight:bold;color:#ffffff;` +
    `background-color:${BADGE[c.change]};padding:1px 6px;border-radius:3px;`;
  const badge = `<span${style(badgeStyle)}>${c.change.toUpperCase()}</span>`;
  const reasons = c.reasons
    .map(
      (r) =>
        `<tr><td valign="top" width="14"${text(14, MUTED)}>&bull;</td><td${text(14, INK)}>${escapeHtml(r)}</td></tr>`,
    )
    .join('');
  const dims = c.dimensions
    .map(
      (d) =>
        `<tr><td width="96"` +
        `${text(12, MUTED, 'padding:2px 8px 2px 0;white-space:nowrap;')}>${escapeHtml(d.label)}</td>` +
        `<td${style('padding:2px 0;')}>${bar(d.percent, d.tone)}</td>` +
        `<td width="72" align="right"` +
        `${text(12, MUTED, 'padding:2px 0 2px 8px;white-space:nowrap;')}>${d.points.toFixed(2)} ` +
        `/ ${d.max}</td></tr>`,
    )
    .join('');
  return (
    `<tr><td${style(`padding:14px 20px;border-top:1px solid ${RULE};`)}>` +
    `<table ${TABLE} width="100%"><tr>` +
    `<td valign="top"${text(16, INK, 'font-weight:bold;')}>${escapeHtml(c.name)} ${badge}</td>` +
    `<td valign="top" align="right" ` +
    `width="120"${style('white-space:nowrap;')}><span` +
    `${text(20, INK, 'font-weight:bold;')}>` +
    `${escapeHtml(c.score)}</span><br><span` +
    `${text(12, MUTED)}>${escapeHtml(c.scoreChange)}</span></td>` +
    `</tr></table>` +
    `<p${text(15, tone.accent, 'font-weight:bold;margin:6px 0 0 0;')}>${escapeHtml(c.headline)}</p>` +
    `<p${text(14, INK, 'margin:2px 0 4px 0;')}>${escapeHtml(c.action)}</p>` +
    `<table ${TABLE} width="100%">${reasons}</table>` +
    (dims ? `<table ${TABLE} width="100%"${style('margin-top:8px;')}>${dims}</table>` : '') +
    `</td></tr>`
  );
}

function linesHtml(lines: readonly Line[], hidden: number): string {
  const rows = lines
    .map(
      (l) => `<tr><td${text(14, INK, 'padding:3px 0;')}><b>${escapeHtml(l.name)}</b>: ${escapeHtml(l.text)}</td></tr>`,
    )
    .join('');
  const more = hidden > 0 ? `<tr><td${text(13, MUTED, 'padding:3px 0;')}>… and ${hidden} more.</td></tr>` : '';
  return `<table ${TABLE} width="100%">${rows}${more}</table>`;
}

function sectionHtml(s: Section): string {
  const tone = TONE[s.priority];
  const head =
    `<tr><td bgcolor="${tone.tint}"` +
    `${style(`background-color:${tone.tint};border-left:4px solid ${tone.accent};padding:12px 16px;`)}>` +
    `<p${text(18, tone.accent, 'font-weight:bold;margin:0;')}>${escapeHtml(s.title)} ` +
    `(${s.cards.length + s.more.length + s.hidden})</p>` +
    `<p${text(13, MUTED, 'margin:2px 0 0 0;')}>${escapeHtml(s.intro)}</p></td></tr>`;
  const more =
    s.more.length > 0 || s.hidden > 0
      ? `<tr><td${style(`padding:10px 20px;border-top:1px solid ${RULE};`)}>${linesHtml(s.more, s.hidden)}</td></tr>`
      : '';
  return head + s.cards.map((c) => cardHtml(c, tone)).join('') + more;
}

function block(title: string, body: string): string {
  return (
    `<tr><td${style(`padding:14px 20px;border-top:1px solid ${RULE};`)}>` +
    `<p${text(16, INK, 'font-weight:bold;margin:0 0 6px 0;')}>${escapeHtml(title)}</p>${body}</td></tr>`
  );
}

function noticeRow(n: DigestView['notices'][number]): string {
  return (
    `<tr><td valign="top" width="14"${text(14, TONE.medium.accent)}>!</td>` +
    `<td${text(14, INK, 'padding-bottom:4px;')}>${n.isNew ? '<b>New:</b> ' : ''}${escapeHtml(n.message)}</td></tr>`
  );
}

export function renderDigestHtml(v: DigestView): string {
  const notices = v.notices.length
    ? block('Data warnings', `<table ${TABLE} width="100%">${v.notices.map(noticeRow).join('')}</table>`)
    : '';
  const open = v.stillOpen.length
    ? block('Still open from earlier digests', linesHtml(v.stillOpen, v.stillOpenHidden))
    : '';
  const resolved = v.resolved.length ? block('Resolved', linesHtml(v.resolved, v.resolvedHidden)) : '';
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta ` +
    `charset="utf-8"><meta name="viewport" ` +
    `content="width=device-width, initial-scale=1">` +
    `<meta name="color-scheme" content="light only"><meta ` +
    `name="supported-color-schemes" ` +
    `content="light"><title>${escapeHtml(v.subject)}</title></head>\n` +
    `<body${style(`margin:0;padding:0;background-color:${PAGE};`)}>\n` +
    `<div${style('display:none;max-height:0;overflow:hidden;mso-hide:all;')}>${escapeHtml(v.preheader)}</div>\n` +
    `<table ${TABLE} width="100%" ` +
    `bgcolor="${PAGE}"${style(`background-color:${PAGE};`)}><tr><td ` +
    `align="center"${style('padding:16px 8px;')}>\n` +
    `<table ${TABLE} width="600" ` +
    `bgcolor="#ffffff"${style('width:100%;max-width:600px;background-color:#ffffff;border-collapse:collapse;')}>\n` +
    `<tr><td${style('padding:20px 20px 12px 20px;')}><p` +
    `${text(12, MUTED, 'margin:0;text-transform:uppercase;letter-spacing:1px;')}>Leadsmart ` +
    `campaign digest</p>` +
    `<h1${text(22, INK, 'margin:4px 0 6px 0;')}>` +
    `${escapeHtml(v.heading)}</h1><p` +
    `${text(15, INK, 'margin:0;')}>` +
    `${escapeHtml(v.summary)}</p></td></tr>\n` +
    v.sections.map(sectionHtml).join('\n') +
    notices +
    open +
    resolved +
    `\n<tr><td${style(`padding:16px 20px;border-top:1px solid ${RULE};`)}><p${text(12, MUTED, 'margin:0;')}>` +
    `Scores run from 0 to 100 over the last 30 days: cost per ` +
    `qualified lead, lead quality, volume, trend and engagement. ` +
    `Sent by Leadsmart to the alert recipients ` +
    `of ${escapeHtml(v.client.name)}. To stop receiving it, use your ` +
    `mail app's unsubscribe link or reply with “unsubscribe”.</p></td></tr>\n` +
    `</table>\n</td></tr></table>\n</body></html>\n`
  );
}

function wrap(text: string, indent: string, width = 76): string {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let current = '';
  for (const w of words) {
    if (current && current.length + 1 + w.length > width - indent.length) {
      lines.push(current);
      current = w;
    } else current = current ? `${current} ${w}` : w;
  }
  if (current) lines.push(current);
  return lines.map((l, i) => (i === 0 ? l : `${indent}${l}`)).join('\n');
}

function linesText(lines: readonly Line[], hidden: number): string[] {
  const out = lines.map((l) => `- ${wrap(`${l.name}: ${l.text}`, '  ')}`);
  if (hidden > 0) out.push(`- … and ${hidden} more.`);
  return out;
}

export function renderDigestText(v: DigestView): string {
  const out: string[] = [v.heading, v.summary, ''];
  for (const s of v.sections) {
    out.push(`${s.title.toUpperCase()} (${s.cards.length + s.more.length + s.hidden}): ${s.intro}`, '');
    for (const c of s.cards) {
      out.push(`* ${c.name} [${c.change.toUpperCase()}]`);
      out.push(`  ${c.headline} · score ${c.score} (${c.scoreChange})`);
      out.push(`  ${wrap(c.action, '  ')}`);
      for (const r of c.reasons) out.push(`  - ${wrap(r, '    ')}`);
      if (c.dimensions.length > 0)
        out.push(`  ${wrap(c.dimensions.map((d) => `${d.label} ${d.points.toFixed(2)}/${d.max}`).join(' | '), '  ')}`);
      out.push('');
    }
    if (s.more.length > 0 || s.hidden > 0) out.push(...linesText(s.more, s.hidden), '');
  }
  if (v.notices.length > 0)
    out.push('DATA WARNINGS', ...v.notices.map((n) => `- ${wrap(`${n.isNew ? 'New: ' : ''}${n.message}`, '  ')}`), '');
  if (v.stillOpen.length > 0)
    out.push('STILL OPEN FROM EARLIER DIGESTS', ...linesText(v.stillOpen, v.stillOpenHidden), '');
  if (v.resolved.length > 0) out.push('RESOLVED', ...linesText(v.resolved, v.resolvedHidden), '');
  out.push(
    '-- ',
    wrap(
      `Scores run from 0 to 100 over the last 30 days: cost per ` +
        `qualified lead, lead quality, volume, trend and engagement. ` +
        `Sent by Leadsmart to the alert recipients of ${v.client.name}. ` +
        `To stop receiving it, use your mail app's unsubscribe link or ` +
        `reply with "unsubscribe".`,
      '',
    ),
  );
  return `${out.join('\n')}\n`;
}

/** Gmail clips a message whose HTML passes about 102 KB; stay under 100 KB. */
export const MAX_HTML_BYTES = 100 * 1024;

export interface RenderedDigest {
  view: DigestView;
  html: string;
  text: string;
  /** Bytes of the HTML part. */
  htmlBytes: number;
}

/**
 * The digest in both forms. When the HTML would pass `maxHtmlBytes`, fewer
 * campaigns get a full card (the rest become one-line entries, then "and N
 * more") until it fits.
 */
export function renderDigest(plan: DigestPlan, ctx: DigestContext, maxHtmlBytes = MAX_HTML_BYTES): RenderedDigest {
  const encoder = new TextEncoder();
  let limits: Limits = LIMITS;
  for (;;) {
    const view = buildDigestView(plan, ctx, limits);
    const html = renderDigestHtml(view);
    const htmlBytes = encoder.encode(html).length;
    const smallest = Object.values(limits.cards).every((n) => n === 0) && limits.lines === 0;
    if (htmlBytes <= maxHtmlBytes || smallest) return { view, html, text: renderDigestText(view), htmlBytes };
    limits = {
      cards: {
        high: Math.floor(limits.cards.high / 2),
        medium: Math.floor(limits.cards.medium / 2),
        opportunity: Math.floor(limits.cards.opportunity / 2),
      },
      lines: Object.values(limits.cards).some((n) => n > 0) ? limits.lines : Math.max(0, limits.lines - 5),
    };
  }
}
