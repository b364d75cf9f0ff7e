import { count, money } from '../money.js';
import type { Recommendation } from '../scoring/types.js';
import { isFresh, type DigestPlan, type ItemChange } from './diff.js';
import { formatDay, type Priority } from './select.js';
import { NOT_JUDGED } from '../scoring/not-judged.js';
import { describeSignal, DIMENSION_LABELS, inWords, points, RECOMMENDATION_WORDING, signedPoints } from './wording.js';

/** The part of campaign_scores.recommendation_details a card shows. */
export interface ScoreDetails {
  /** The scoring's one-line reason for the recommendation. */
  reason: string;
  dimensions: Record<string, { points: number; max: number; reason: string }>;
  /**
   * The evidence in words, when the score has it: "4 qualified leads on 310 spent; CPQL 77.50 (80 % interval
   * 41.20–190.10)".
   */
  evidence?: string | null;
}

export interface DigestContext {
  client: { id: string; name: string };
  /** The scoring date D. */
  date: string;
  /** The scored date before D (score changes are measured against it). */
  previousDate: string | null;
  /** The date of the last digest sent to this client, if any. */
  baselineDate: string | null;
  /** Details of the campaigns shown as cards (loaded for the ids cardCampaignIds returns). */
  details: ReadonlyMap<string, ScoreDetails>;
}

export interface DimensionBar {
  label: string;
  points: number;
  max: number;
  /** 0–100, for the bar width. */
  percent: number;
  tone: 'good' | 'fair' | 'poor';
}

export interface Card {
  campaignId: string;
  name: string;
  change: 'new' | 'escalated' | 'updated';
  score: string;
  /** "−12.30 since 14 Nov", or "first score" when not scored on the previous date. */
  scoreChange: string;
  recommendation: Recommendation;
  /** The headline: the recommendation, or "Data gap" when a destructive one is held back. */
  headline: string;
  /** What to do, in a sentence. */
  action: string;
  held: boolean;
  /** Why, most important first: the signals, then the scoring's reasons. */
  reasons: string[];
  dimensions: DimensionBar[];
}

export interface Line {
  campaignId: string;
  name: string;
  text: string;
}

export interface Section {
  priority: Priority;
  title: string;
  intro: string;
  cards: Card[];
  /** Beyond the card limit: one line each. */
  more: Line[];
  /** Not even listed: how many. */
  hidden: number;
}

export interface DigestView {
  subject: string;
  /** The preview line mail clients show after the subject. */
  preheader: string;
  client: { id: string; name: string };
  date: string;
  heading: string;
  summary: string;
  sections: Section[];
  notices: { message: string; isNew: boolean }[];
  stillOpen: Line[];
  stillOpenHidden: number;
  resolved: Line[];
  resolvedHidden: number;
}

/** Cards per section and one-line entries per list. */
export interface Limits {
  cards: Record<Priority, number>;
  lines: number;
}

/** The most a digest shows; renderDigest shows less when the HTML would not fit in 100 KB. */
export const LIMITS: Limits = { cards: { high: 12, medium: 8, opportunity: 5 }, lines: 20 };

const SECTION_TEXT: Record<Priority, { title: string; intro: string }> = {
  high: { title: 'Act now', intro: 'Campaigns to pause or cut back, sharp drops and score jumps.' },
  medium: {
    title: 'Look this week',
    intro: 'Campaigns to test or watch, and data that needs checking before anyone acts on it.',
  },
  opportunity: { title: 'Opportunities', intro: 'Strong performers that could take more budget.' },
};

const PRIORITIES: readonly Priority[] = ['high', 'medium', 'opportunity'];

/** The campaigns that get a full card (and so need their score details loaded). */
export function cardCampaignIds(plan: DigestPlan, limits: Limits = LIMITS): string[] {
  return PRIORITIES.flatMap((p) =>
    plan.changes
      .filter((c) => c.item.priority === p && isFresh(c.change))
      .slice(0, limits.cards[p])
      .map((c) => c.item.campaignId),
  );
}

function plural(n: number, one: string, many: string = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The weakest dimensions' reasons first (largest shortfall), or the strongest for an opportunity. */
function dimensionReasons(details: ScoreDetails, strongest: boolean, count: number): string[] {
  return Object.values(details.dimensions)
    .map((d, i) => ({ d, i, share: d.max === 0 ? 1 : d.points / d.max }))
    .sort((a, b) => (strongest ? b.share - a.share : a.share - b.share) || a.i - b.i)
    .slice(0, count)
    .map((x) => x.d.reason);
}

function bars(details: ScoreDetails | undefined): DimensionBar[] {
  if (details === undefined) return [];
  return Object.entries(details.dimensions).map(([key, d]) => {
    const share = d.max === 0 ? 0 : Math.min(1, Math.max(0, d.points / d.max));
    return {
      label: DIMENSION_LABELS[key] ?? key,
      points: d.points,
      max: d.max,
      percent: Math.round(share * 100),
      tone: share >= 0.7 ? 'good' : share >= 0.4 ? 'fair' : 'poor',
    };
  });
}

function scoreChange(c: ItemChange, previousDate: string | null): string {
  const prev = c.item.previousTotalHundredths;
  if (prev === null || previousDate === null) return 'first score';
  return `${signedPoints(c.item.totalHundredths - prev)} since ${formatDay(previousDate, false)}`;
}

function card(c: ItemChange, ctx: DigestContext): Card {
  const details = ctx.details.get(c.item.campaignId);
  const held = c.item.signals.some((s) => s.kind === 'gap');
  // The gap, a fall, a jump or a flag first: they are why the card is here; then the score's weakest (or, for an
  // opportunity, strongest) points.
  const reasons = c.item.signals.filter((s) => s.kind !== 'recommendation').map(describeSignal);
  // A campaign that delivers but cannot be judged on cost per lead (NO_LEAD_DATA, NO_TARGET): its flag says why, and
  // "not enough delivery" would be wrong; its zero dimensions say nothing more.
  const notJudged =
    c.item.recommendation === 'INSUFFICIENT_DATA' &&
    c.item.signals.some((s) => s.kind === 'flag' && NOT_JUDGED[s.flag] !== undefined);
  // An action other than the score's rule says so first, with its gate's reason; then the evidence in words.
  if (c.item.overruled && !held) {
    const spec = RECOMMENDATION_WORDING[c.item.overruled.recommendation].label;
    reasons.unshift(`The score alone says "${spec.toLowerCase()}"; ${inWords(c.item.overruled.reason)}.`);
  }
  if (details?.evidence && !held && !notJudged) reasons.push(details.evidence);
  if (details !== undefined && !held && !notJudged)
    reasons.push(...dimensionReasons(details, c.item.priority === 'opportunity', 2));
  return {
    campaignId: c.item.campaignId,
    name: c.item.name,
    change: c.change === 'new' ? 'new' : c.change === 'escalated' ? 'escalated' : 'updated',
    score: points(c.item.totalHundredths),
    scoreChange: scoreChange(c, ctx.previousDate),
    recommendation: c.item.recommendation,
    headline: held
      ? 'Data gap: check before acting'
      : notJudged
        ? 'Not scored'
        : RECOMMENDATION_WORDING[c.item.recommendation].label,
    action: held
      ? 'Check the data, or whether the campaign was stopped on purpose, before acting.'
      : notJudged
        ? 'It delivers, but cannot be judged on cost per qualified lead: nothing to do unless it should bring leads.'
        : RECOMMENDATION_WORDING[c.item.recommendation].action,
    held,
    reasons: [...new Set(reasons)],
    dimensions: bars(details),
  };
}

function line(c: ItemChange, previousDate: string | null): Line {
  const held = c.item.signals.some((s) => s.kind === 'gap');
  const what = held ? 'data gap' : RECOMMENDATION_WORDING[c.item.recommendation].label.toLowerCase();
  const note = c.change === 'improved' ? ', improved' : '';
  return {
    campaignId: c.item.campaignId,
    name: c.item.name,
    text: `${points(c.item.totalHundredths)} (${scoreChange(c, previousDate)}), ${what}${note}`,
  };
}

function subjectOf(plan: DigestPlan, ctx: DigestContext, opportunities: number): string {
  const tail = `${ctx.client.name} — ${ctx.date}`;
  const prefix = ctx.baselineDate === ctx.date ? 'Update: ' : '';
  if (plan.needAttention > 0)
    return (
      `${prefix}${plural(plan.needAttention, 'campaign')} ` +
      `need${plan.needAttention === 1 ? 's' : ''} attention — ${tail}`
    );
  if (opportunities > 0) return `${prefix}${plural(opportunities, 'campaign')} ready for more budget — ${tail}`;
  if (plan.notices.some((n) => n.isNew)) return `${prefix}Data warning — ${tail}`;
  return `${prefix}${plural(plan.resolved.length, 'issue')} resolved — ${tail}`;
}

/**
 * Everything a digest says, in reading order, for both the HTML and the
 * text part (they render this one value, so they carry the same facts).
 */
export function buildDigestView(plan: DigestPlan, ctx: DigestContext, limits: Limits = LIMITS): DigestView {
  const fresh = plan.changes.filter((c) => isFresh(c.change));
  const sections: Section[] = [];
  for (const p of PRIORITIES) {
    const mine = fresh.filter((c) => c.item.priority === p);
    if (mine.length === 0) continue;
    const shown = mine.slice(0, limits.cards[p]);
    const rest = mine.slice(limits.cards[p]);
    sections.push({
      priority: p,
      ...SECTION_TEXT[p],
      cards: shown.map((c) => card(c, ctx)),
      more: rest.slice(0, limits.lines).map((c) => line(c, ctx.previousDate)),
      hidden: Math.max(0, rest.length - limits.lines),
    });
  }
  const open = plan.changes.filter((c) => !isFresh(c.change) && c.item.priority !== 'opportunity');
  const resolvedLines = plan.resolved.map((r) => ({
    campaignId: r.before.campaignId,
    name: r.before.name,
    text:
      r.now === null
        ? 'no longer scored (no metrics in the last 30 days)'
        : r.stopped
          ? 'stopped'
          : `now ${points(r.now.totalHundredths)}, ${RECOMMENDATION_WORDING[r.now.recommendation].label.toLowerCase()}`,
  }));
  const opportunities = fresh.filter((c) => c.item.priority === 'opportunity').length;
  const high = fresh.filter((c) => c.item.priority === 'high').length;
  const medium = fresh.filter((c) => c.item.priority === 'medium').length;

  const parts = [
    high > 0 ? `${high} to act on now` : null,
    medium > 0 ? `${medium} to look at this week` : null,
    opportunities > 0 ? `${plural(opportunities, 'opportunity', 'opportunities')}` : null,
    plan.resolved.length > 0 ? `${plan.resolved.length} resolved` : null,
  ].filter((x): x is string => x !== null);
  const since =
    ctx.baselineDate === null
      ? 'First digest'
      : ctx.baselineDate === ctx.date
        ? `Since the earlier digest for ${formatDay(ctx.date)}`
        : `Since the digest for ${formatDay(ctx.baselineDate)}`;
  const changes = parts.length > 0 ? parts.join(', ') : 'no campaign changes';
  const summary = `${since}: ${changes}${plan.notices.some((n) => n.isNew) ? ', and a data warning' : ''}.`;

  return {
    subject: subjectOf(plan, ctx, opportunities),
    preheader: summary,
    client: ctx.client,
    date: ctx.date,
    heading: `${ctx.client.name}: campaigns for ${formatDay(ctx.date)}`,
    summary,
    sections,
    notices: plan.notices.map((n) => ({ message: n.message, isNew: n.isNew })),
    stillOpen: open.slice(0, limits.lines).map((c) => line(c, ctx.previousDate)),
    stillOpenHidden: Math.max(0, open.length - limits.lines),
    resolved: resolvedLines.slice(0, limits.lines),
    resolvedHidden: Math.max(0, resolvedLines.length - limits.lines),
  };
}

/** Reads the card fields out of stored recommendation_details; null when they are not there. */
export function parseScoreDetails(json: unknown): ScoreDetails | null {
  if (typeof json !== 'object' || json === null) return null;
  const o = json as { reason?: unknown; dimensions?: unknown };
  if (typeof o.dimensions !== 'object' || o.dimensions === null) return null;
  const dimensions: ScoreDetails['dimensions'] = {};
  for (const [k, v] of Object.entries(o.dimensions as Record<string, unknown>)) {
    const d = v as { points?: unknown; max?: unknown; reason?: unknown };
    if (typeof d?.points !== 'number' || typeof d.max !== 'number') return null;
    dimensions[k] = { points: d.points, max: d.max, reason: typeof d.reason === 'string' ? d.reason : '' };
  }
  return { reason: typeof o.reason === 'string' ? o.reason : '', dimensions, evidence: evidenceInWords(json) };
}

/** Whole units from 1,000 up, cents below. */
const amount = (n: number): string => (Math.abs(n) >= 1000 ? count(n) : money(n));

/**
 * "4 qualified leads on 310.00 USD spent; CPQL 77.50 USD (80 % interval 41.20–190.10)", from a score's stored evidence.
 * Without a qualified lead: "no CPQL yet (80 % interval above 900.50 USD)". In lead mode the evidence is on leads and
 * their cost per lead.
 */
export function evidenceInWords(json: unknown): string | null {
  const o = json as {
    currency?: unknown;
    inputs?: { spend?: unknown; qualified_leads?: unknown; total_leads?: unknown; cpql?: unknown };
    evidence?: { basis?: unknown; window?: { cpql_80?: unknown } };
  } | null;
  const spend = Number(o?.inputs?.spend);
  const leadMode = o?.evidence?.basis === 'leads';
  const leads = leadMode ? o?.inputs?.total_leads : o?.inputs?.qualified_leads;
  const interval = o?.evidence?.window?.cpql_80;
  if (!Number.isFinite(spend) || typeof leads !== 'number' || !Array.isArray(interval)) return null;
  const unit = typeof o?.currency === 'string' && o.currency !== '' ? ` ${o.currency}` : '';
  const what = leadMode ? 'lead' : 'qualified lead';
  const counted = `${leads} ${what}${leads === 1 ? '' : 's'} on ${amount(spend)}${unit} spent`;
  const [lo, hi] = interval as [number | null, number | null];
  const name = leadMode ? 'CPL' : 'CPQL';
  const cost = typeof o?.inputs?.cpql === 'number' ? `${name} ${amount(o.inputs.cpql)}${unit}` : `no ${name} yet`;
  const range =
    lo === null
      ? null
      : hi === null || hi >= 1e12
        ? `above ${amount(lo)}${unit}`
        : `${amount(lo)}–${amount(hi)}${unit}`;
  return `${counted}; ${cost}${range === null ? '' : ` (80 % interval ${range})`}`;
}
