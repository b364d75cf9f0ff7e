/**
 * What real Meta Ads Manager exports look like (csv-import.md, "Real Ads
 * Manager exports"): the columns that break rows down below the campaign,
 * the result indicators that mean leads, and what to tell an analyst whose
 * export lacks a column, in Ads Manager's own words. Pure: no I/O.
 */

/**
 * Normalized header names that split a campaign's day over several rows: per
 * ad or ad set, per placement or device, per audience slice. Such rows are
 * summed per campaign and day.
 */
const BREAKDOWN_COLUMNS = new Set([
  'ad_id',
  'ad_name',
  'ad_set_id',
  'ad_set_name',
  'adset_id',
  'adset_name',
  'placement',
  'platform',
  'publisher_platform',
  'platform_position',
  'device_platform',
  'impression_device',
  'age',
  'gender',
  'region',
  'country',
  'dma_region',
  "time_of_day_(viewer's_time_zone)",
  'time_of_day_(ad_account_time_zone)',
]);

export function isBreakdownColumn(normalized: string): boolean {
  return BREAKDOWN_COLUMNS.has(normalized);
}

/**
 * Header names only Meta's exports use: a file with one of them that fits no kind is a Meta export missing a column.
 */
const META_MARKER_NAMES = [
  'reporting_starts?',
  'reporting_ends?',
  'amount_spent(_\\([a-z]{3}\\))?',
  'campaign_name',
  'ad_set_name',
  'ad_name',
  'result_indicator',
  'result_type',
  'results',
  'reach',
  'link_clicks',
  'clicks_\\(all\\)',
  'cost_per_result',
  'campaign_delivery',
  'attribution_setting',
];
const META_MARKERS = new RegExp(`^(${META_MARKER_NAMES.join('|')})$`);

export function looksLikeMetaExport(normalized: readonly string[]): boolean {
  return normalized.some((h) => META_MARKERS.test(h));
}

/**
 * A `Result indicator` (or `Result type`) naming a lead action:
 * `actions:lead`, `actions:onsite_conversion.lead_grouped`,
 * `actions:offsite_conversion.fb_pixel_lead`, `Leads`, `On-Facebook leads`,
 * `Website leads`, `Meta leads`. PostgreSQL regular expression, matched
 * case-insensitively.
 */
export const LEAD_RESULT_PATTERN = '(^|[^a-z])leads?($|[^a-z])';

/** What a metrics file needs and a Meta export may lack, said in Ads Manager's words. */
export function missingInMetaWords(missing: { date: boolean; campaign: boolean }): string[] {
  const out: string[] = [];
  if (missing.campaign) {
    out.push(
      'no campaign column: add Campaign name (or Campaign ID: Columns ' +
        '→ Customize → Campaign ID) to the export, or name yours with ' +
        "--map 'Your column=campaign_name'",
    );
  }
  if (missing.date) {
    out.push(
      'no date column: export with Breakdown → By time → Day (a Day ' +
        "column), or name yours with --map 'Your column=date'; a report " +
        'over a range without Day cannot be split into days',
    );
  }
  return out;
}

/** Date layouts `--date-format` accepts besides ISO `YYYY-MM-DD`. */
export const DATE_FORMATS = ['DD/MM/YYYY', 'MM/DD/YYYY', 'DD-MM-YYYY', 'DD.MM.YYYY'] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];

export function isDateFormat(s: string): s is DateFormat {
  return (DATE_FORMATS as readonly string[]).includes(s);
}

/** Separator and the order of day and month in a `DateFormat`. */
export function dateLayout(f: DateFormat): { sep: '/' | '-' | '.'; dayFirst: boolean } {
  return { sep: f[2] as '/' | '-' | '.', dayFirst: f.startsWith('DD') };
}

/**
 * `--map 'Their column=our_column,…'`: pairs of a header name as the file
 * writes it and a contract column. Returns the pairs (keys normalized) or
 * the problems with the text.
 */
export function parseColumnMap(
  text: string,
  known: ReadonlySet<string>,
  normalize: (s: string) => string,
): { map: Map<string, string> } | { problems: string[] } {
  const map = new Map<string, string>();
  const problems: string[] = [];
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.lastIndexOf('=');
    if (eq <= 0 || eq === part.length - 1) {
      problems.push(`"${part.trim()}": expected Their column=our_column`);
      continue;
    }
    const from = normalize(part.slice(0, eq));
    const to = normalize(part.slice(eq + 1));
    if (!known.has(to))
      problems.push(`"${part.trim()}": ${to} is not a column of any kind (known: ${[...known].sort().join(', ')})`);
    else if (map.has(from)) problems.push(`"${part.trim()}": ${part.slice(0, eq).trim()} is mapped twice`);
    else map.set(from, to);
  }
  if (problems.length === 0 && map.size === 0)
    problems.push("no pairs given: expected --map 'Their column=our_column,…'");
  return problems.length > 0 ? { problems } : { map };
}
