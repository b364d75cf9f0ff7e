/**
 * Turning Marketing API objects into rows of the data model, and the data
 * quality rules of the fetch. Pure: no clock, no I/O.
 */
import { addDays, dateInZone, dayNumber, isIsoDate } from '../dates.js';
import { compare, div, isDecimal, mul, parseDecimal, rational } from '../rational.js';

/**
 * Currencies whose Marketing API "offset" is 1 (budgets are whole units);
 * every other currency has offset 100 (budgets in cents). Source: Meta's
 * Marketing API currency table (developers.facebook.com/docs/marketing-api/currencies).
 */
const OFFSET_ONE = new Set(['CLP', 'COP', 'CRC', 'HUF', 'ISK', 'IDR', 'JPY', 'KRW', 'PYG', 'TWD', 'VND']);

/**
 * A budget in the currency's minor unit ("5000") as an exact decimal string in currency units ("50.00"; JPY "5000").
 */
export function minorToUnits(minor: string, currency: string): string {
  if (!/^\d+$/.test(minor))
    throw new RangeError(`budget ${JSON.stringify(minor)} is not a whole number of minor units`);
  if (OFFSET_ONE.has(currency.toUpperCase())) return minor.replace(/^0+(?=\d)/, '');
  const padded = minor.padStart(3, '0');
  return `${padded.slice(0, -2).replace(/^0+(?=\d)/, '')}.${padded.slice(-2)}`;
}

/** Facebook's "2026-03-01T10:15:00+0000" as an ISO instant with a colon in the offset; null if it is not one. */
export function normalizeTime(text: unknown): string | null {
  if (typeof text !== 'string') return null;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:?\d{2})$/.exec(text);
  if (!m) return null;
  const zone = m[2] === 'Z' ? 'Z' : `${m[2]!.slice(0, 3)}:${m[2]!.slice(-2)}`;
  const iso = `${m[1]}${zone}`;
  return Number.isNaN(Date.parse(iso)) ? null : iso;
}

/** The 28-day lookback (insights are restated for 28 days), ending today in the ad account's time zone. */
export function lookbackWindow(now: Date, accountTimeZone: string, days = 28): { since: string; until: string } {
  const until = dateInZone(now, accountTimeZone);
  return { since: addDays(until, -(days - 1)), until };
}

/** Splits an inclusive date range into consecutive ranges of at most `maxDays` days. */
export function splitRange(since: string, until: string, maxDays: number): { since: string; until: string }[] {
  const out: { since: string; until: string }[] = [];
  for (let start = since; start <= until; start = addDays(start, maxDays)) {
    const end = addDays(start, maxDays - 1);
    out.push({ since: start, until: end < until ? end : until });
  }
  return out;
}

export function rangeDays(r: { since: string; until: string }): number {
  return dayNumber(r.until) - dayNumber(r.since) + 1;
}

export interface CampaignRecord {
  campaignId: string;
  name: string | null;
  status: string | null;
  effectiveStatus: string | null;
  objective: string | null;
  /** Currency units, exact decimal string; null when the budget lives on the ad sets. */
  dailyBudget: string | null;
  lifetimeBudget: string | null;
  /** Calendar dates in the ad account's time zone. */
  startDate: string | null;
  endDate: string | null;
  updatedAt: string | null;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; id: string | null; problems: string[] };

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export function parseCampaign(raw: unknown, currency: string, timeZone: string): Parsed<CampaignRecord> {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const problems: string[] = [];
  const id = str(o.id);
  if (id === null || !/^\d+$/.test(id)) problems.push(`campaign id ${JSON.stringify(o.id)} is not a numeric string`);
  const budget = (field: string): string | null => {
    const v = o[field];
    if (v === undefined || v === null || v === '') return null;
    if (typeof v !== 'string' || !/^\d+$/.test(v)) {
      problems.push(`${field} ${JSON.stringify(v)} is not a whole number of minor units`);
      return null;
    }
    return minorToUnits(v, currency);
  };
  const date = (field: string): string | null => {
    if (o[field] === undefined || o[field] === null) return null;
    const t = normalizeTime(o[field]);
    if (t === null) {
      problems.push(`${field} ${JSON.stringify(o[field])} is not a date-time`);
      return null;
    }
    return dateInZone(new Date(t), timeZone);
  };
  const value: CampaignRecord = {
    campaignId: id ?? '',
    name: str(o.name),
    status: str(o.status),
    effectiveStatus: str(o.effective_status),
    objective: str(o.objective),
    dailyBudget: budget('daily_budget'),
    lifetimeBudget: budget('lifetime_budget'),
    startDate: date('start_time'),
    endDate: date('stop_time'),
    updatedAt: normalizeTime(o.updated_time),
  };
  return problems.length > 0 ? { ok: false, id, problems } : { ok: true, value };
}

/**
 * Lead action types in order of preference. They overlap (one lead is counted under several): one is used, never their
 * sum.
 */
export const LEAD_ACTION_TYPES = [
  'lead',
  'onsite_conversion.lead_grouped',
  'leadgen_grouped',
  'offsite_conversion.fb_pixel_lead',
] as const;

export type QualityFlag = 'CTR_OVER_50' | 'SPEND_OVER_BUDGET' | 'CPL_OVER_1000';

export interface MetricRecord {
  campaignId: string;
  campaignName: string | null;
  date: string;
  /** Whole numbers and decimals exactly as Facebook sent them. */
  impressions: string;
  /**
   * Link clicks (inline_link_clicks), as an Ads Manager export's "Link clicks"; "0" when the row does not carry the
   * field.
   */
  clicks: string;
  /** All clicks (the API's `clicks`); null when the row leaves it out. */
  allClicks: string | null;
  spend: string;
  /** Facebook's CTR (a percentage string), kept as sent; campaign_metrics.ctr is computed from clicks/impressions. */
  ctr: string | null;
  /**
   * Leads of the canonical action type; "0" when the row has no lead action (a delivered day with no leads); null
   * when the campaign's objective does not bring leads and the row has no lead action (NO_LEAD_DATA in scoring).
   */
  leads: string | null;
  /** Which action type `leads` came from; null when there was none. */
  leadAction: string | null;
  actions: unknown[] | null;
  flags: QualityFlag[];
}

const WHOLE = /^\d+$/;

/** Campaign objectives that ask for leads (current and legacy names). */
export const LEAD_OBJECTIVES: ReadonlySet<string> = new Set(['OUTCOME_LEADS', 'LEAD_GENERATION']);

/**
 * Whether a campaign's insights rows without a lead action mean "0 leads" (true) or "no lead counts" (false): a
 * campaign whose objective is known and not a lead objective (sales, traffic, awareness) is not asked for leads.
 */
export function bringsLeads(objective: string | null): boolean {
  return objective === null || LEAD_OBJECTIVES.has(objective);
}

/**
 * Checks one insights row (level=campaign, time_increment=1): required
 * fields, numeric strings, a date inside the requested range; computes the
 * lead count and the data-quality flags. `dailyBudget` is the campaign's
 * daily budget in currency units, if it has one.
 */
export function parseInsightRow(
  raw: unknown,
  range: { since: string; until: string },
  dailyBudget: string | null,
  objective: string | null = null,
): Parsed<MetricRecord> {
  const o = (raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {}) as Record<string, unknown>;
  const problems: string[] = [];
  const id = str(o.campaign_id);
  if (id === null || !/^\d+$/.test(id))
    problems.push(`campaign_id ${JSON.stringify(o.campaign_id)} missing or not numeric`);
  const date = str(o.date_start);
  if (date === null || !isIsoDate(date)) problems.push(`date_start ${JSON.stringify(o.date_start)} is not a date`);
  else if (date < range.since || date > range.until)
    problems.push(`date_start ${date} is outside the requested range ${range.since}…${range.until}`);
  else if (o.date_stop !== undefined && o.date_stop !== date)
    problems.push(
      `date_stop ${JSON.stringify(o.date_stop)} differs from date_start ${date} (time_increment=1 expected)`,
    );
  const whole = (field: string): string => {
    const v = o[field];
    if (v === undefined || v === null) problems.push(`${field} missing`);
    else if (typeof v !== 'string' || !WHOLE.test(v))
      problems.push(`${field} ${JSON.stringify(v)} is not a whole-number string`);
    return typeof v === 'string' ? v : '';
  };
  const decimal = (field: string, required: boolean): string | null => {
    const v = o[field];
    if (v === undefined || v === null) {
      if (required) problems.push(`${field} missing`);
      return null;
    }
    if (typeof v !== 'string' || !isDecimal(v) || v.trim().startsWith('-')) {
      problems.push(`${field} ${JSON.stringify(v)} is not a non-negative decimal string`);
      return null;
    }
    return v.trim();
  };
  const impressions = whole('impressions');
  // The insights API leaves a metric out of a row where it has nothing to say: no link clicks that day.
  const optional = (field: string): string | null =>
    o[field] === undefined || o[field] === null ? null : whole(field);
  const allClicks = optional('clicks');
  const clicks = optional('inline_link_clicks') ?? '0';
  const spend = decimal('spend', true);
  const ctr = decimal('ctr', false);
  let actions: unknown[] | null = null;
  let leads: string | null = bringsLeads(objective) ? '0' : null;
  let leadAction: string | null = null;
  if (o.actions !== undefined) {
    if (!Array.isArray(o.actions)) problems.push('actions is not a list');
    else {
      actions = o.actions;
      for (const type of LEAD_ACTION_TYPES) {
        const a = o.actions.find(
          (x) => x && typeof x === 'object' && (x as { action_type?: unknown }).action_type === type,
        ) as { value?: unknown } | undefined;
        if (!a) continue;
        // Action values are counts, but Facebook sends them as decimal strings ("17" or "17.0").
        if (typeof a.value !== 'string' || !/^\d+(\.0+)?$/.test(a.value))
          problems.push(`actions ${type} value ${JSON.stringify(a.value)} is not a whole-number string`);
        else {
          leads = a.value.replace(/\.0+$/, '');
          leadAction = type;
        }
        break;
      }
    }
  }
  if (problems.length > 0) return { ok: false, id, problems: problems.map((p) => `${id ?? '?'} ${date ?? '?'}: ${p}`) };

  const flags: QualityFlag[] = [];
  const spendR = parseDecimal(spend!);
  const impressionsN = BigInt(impressions);
  if (impressionsN > 0n && compare(rational(BigInt(clicks) * 2n), rational(impressionsN)) > 0)
    flags.push('CTR_OVER_50');
  if (dailyBudget !== null && compare(spendR, mul(parseDecimal(dailyBudget), rational(3n, 2n))) > 0)
    flags.push('SPEND_OVER_BUDGET');
  if (leads !== null && BigInt(leads) > 0n && compare(div(spendR, rational(BigInt(leads))), rational(1000n)) > 0)
    flags.push('CPL_OVER_1000');
  return {
    ok: true,
    value: {
      campaignId: id!,
      campaignName: str(o.campaign_name),
      date: date!,
      impressions,
      clicks,
      allClicks,
      spend: spend!,
      ctr,
      leads,
      leadAction,
      actions,
      flags,
    },
  };
}

export interface LeadRecord {
  leadId: string;
  campaignId: string;
  adId: string | null;
  formId: string | null;
  /** ISO instant. */
  createdAt: string;
}

export function parseLead(raw: unknown, fallbackCampaignId: string | null): Parsed<LeadRecord> {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const problems: string[] = [];
  const id = str(o.id);
  if (id === null) problems.push('lead id missing');
  const createdAt = normalizeTime(o.created_time);
  if (createdAt === null) problems.push(`created_time ${JSON.stringify(o.created_time)} is not a date-time`);
  const campaignId = str(o.campaign_id) ?? fallbackCampaignId;
  if (campaignId === null) problems.push('campaign_id missing');
  if (problems.length > 0) return { ok: false, id, problems: problems.map((p) => `lead ${id ?? '?'}: ${p}`) };
  return {
    ok: true,
    value: { leadId: id!, campaignId: campaignId!, adId: str(o.ad_id), formId: str(o.form_id), createdAt: createdAt! },
  };
}

/**
 * A day the API fully returned with no row for a campaign means no delivery:
 * those (campaign, date) pairs are written as zeros. Only for campaigns that
 * delivered in the range or already have stored rows there (a dead campaign
 * gets no zero rows, and is not scored), only between the campaign's start
 * and end dates, and never for a day whose row was rejected.
 */
export function noDeliveryDays(input: {
  range: { since: string; until: string };
  returned: ReadonlySet<string>;
  rejected: ReadonlySet<string>;
  /** Campaigns with a stored row in the range, or a returned row. */
  active: ReadonlySet<string>;
  campaigns: ReadonlyMap<string, { startDate: string | null; endDate: string | null }>;
}): { campaignId: string; date: string }[] {
  const out: { campaignId: string; date: string }[] = [];
  for (const campaignId of input.active) {
    const c = input.campaigns.get(campaignId);
    const from = c?.startDate && c.startDate > input.range.since ? c.startDate : input.range.since;
    const to = c?.endDate && c.endDate < input.range.until ? c.endDate : input.range.until;
    for (let d = from; d <= to; d = addDays(d, 1)) {
      const key = `${campaignId}|${d}`;
      if (!input.returned.has(key) && !input.rejected.has(key)) out.push({ campaignId, date: d });
    }
  }
  return out;
}
