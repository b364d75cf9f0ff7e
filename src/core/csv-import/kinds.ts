import { englishHeader, isBreakdownColumn, looksLikeMetaExport, missingInMetaWords } from './meta-export.js';

/**
 * The CSV kinds of docs/csv-import.md: their columns, keys and value
 * types, and how a header row is matched to a kind. Pure: no I/O.
 */

/**
 * How a cell is checked and stored.
 * - id: text, surrounding spaces trimmed; an id that Excel turned into
 *   scientific notation (1.2021E+17) is refused, its digits are lost.
 * - text: free text, trimmed.
 * - count: whole, not negative (bigint, or integer when `int32`).
 * - money: plain decimal, not negative, stored exactly.
 * - date: YYYY-MM-DD, a real calendar date.
 * - timestamp: ISO 8601; no zone means UTC; a date alone is midnight UTC.
 * - emails: addresses separated by `;`.
 * - timezone: an IANA zone name known to PostgreSQL.
 * - currency: an ISO 4217 code (three letters), stored in capitals.
 */
export type ValueType = 'id' | 'text' | 'count' | 'money' | 'date' | 'timestamp' | 'emails' | 'timezone' | 'currency';

export interface ColumnSpec {
  /** The column name of the contract (and of the database table). */
  name: string;
  type: ValueType;
  required: boolean;
  /** count: stored in a 32-bit integer column. */
  int32?: boolean;
  /** money: must be greater than zero, not just not negative. */
  positive?: boolean;
}

export type KindName = 'clients' | 'campaigns' | 'metrics' | 'leads' | 'lead-status' | 'lead-links';

export interface KindSpec {
  name: KindName;
  /** Columns forming the key rows are upserted on. */
  key: string[];
  columns: ColumnSpec[];
}

const col = (name: string, type: ValueType, required = false, extra: Partial<ColumnSpec> = {}): ColumnSpec => ({
  name,
  type,
  required,
  ...extra,
});

export const KINDS: readonly KindSpec[] = [
  {
    name: 'clients',
    key: ['client_id'],
    columns: [
      col('client_id', 'id', true),
      col('client_name', 'text'),
      col('alert_emails', 'emails'),
      col('target_cpql', 'money', false, { positive: true }),
      col('target_cpl', 'money', false, { positive: true }),
      col('timezone', 'timezone'),
    ],
  },
  {
    name: 'campaigns',
    key: ['campaign_id'],
    columns: [
      col('campaign_id', 'id', true),
      col('campaign_name', 'text'),
      col('client_id', 'id'),
      col('daily_budget', 'money'),
      col('start_date', 'date'),
      col('end_date', 'date'),
      col('platform', 'text'),
      col('status', 'text'),
      col('currency', 'currency'),
    ],
  },
  {
    name: 'metrics',
    key: ['campaign_id', 'date'],
    columns: [
      col('campaign_id', 'id', true),
      col('date', 'date', true),
      col('impressions', 'count'),
      col('clicks', 'count'),
      col('all_clicks', 'count'),
      col('spend', 'money'),
      col('total_leads', 'count', false, { int32: true }),
      col('qualified_leads', 'count', false, { int32: true }),
      col('campaign_name', 'text'),
      col('client_id', 'id'),
    ],
  },
  {
    name: 'leads',
    key: ['lead_id'],
    columns: [
      col('lead_id', 'id', true),
      col('campaign_id', 'id', true),
      col('created_at', 'timestamp', true),
      col('status', 'text', true),
    ],
  },
  {
    name: 'lead-status',
    key: ['lead_id', 'changed_at'],
    columns: [col('lead_id', 'id', true), col('status', 'text', true), col('changed_at', 'timestamp', true)],
  },
  {
    // Which Lead Ads lead a CRM record is (crm-webhook): events sent by crm_record_id find their lead through it.
    name: 'lead-links',
    key: ['crm', 'crm_record_id'],
    columns: [col('crm', 'id', true), col('crm_record_id', 'id', true), col('lead_id', 'id', true)],
  },
];

export const KIND_NAMES: readonly KindName[] = KINDS.map((k) => k.name);

export function kindSpec(name: KindName): KindSpec {
  return KINDS.find((k) => k.name === name)!;
}

/** Header names compare case-insensitively, trimmed, with spaces and hyphens read as underscores. */
export function normalizeHeaderName(raw: string): string {
  return raw
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

/**
 * Meta Ads Manager's export headers, normalized, and the metrics column each
 * one feeds. Earlier entries win when a file has both (`Day` over
 * `Reporting starts`, `Link clicks` over `Clicks (all)`, `Leads` over a lead
 * `Results`).
 */
const METRICS_ALIASES: readonly { test: (h: string) => boolean; column: string; label: string }[] = [
  { test: (h) => h === 'day', column: 'date', label: 'Day' },
  { test: (h) => h === 'reporting_starts' || h === 'reporting_start', column: 'date', label: 'Reporting starts' },
  { test: (h) => h === 'link_clicks', column: 'clicks', label: 'Link clicks' },
  { test: (h) => h === 'clicks_(all)', column: 'clicks', label: 'Clicks (all)' },
  { test: (h) => /^amount_spent(_\([a-z]{3}\))?$/.test(h), column: 'spend', label: 'Amount spent (XXX)' },
  { test: (h) => h === 'leads', column: 'total_leads', label: 'Leads' },
];

export interface HeaderMatch {
  kind: KindName;
  /** Contract column → index of the header field that feeds it. */
  columns: Map<string, number>;
  /** Header fields that feed nothing, as written in the file. */
  ignored: string[];
  /**
   * Index of Meta's `Reporting ends`, checked to equal `Reporting starts` on every row (only when `Reporting starts` is
   * the date).
   */
  reportingEndsIndex?: number;
  /** metrics: no campaign_id column, so rows are keyed by campaign_name. */
  keyedByName?: boolean;
  /** metrics: the currency code of `Amount spent (XXX)`, in capitals. */
  currency?: string;
  /** metrics: `Results` counts leads on the rows whose `Result indicator` (at `indicator`) names a lead action. */
  leadResults?: { results: number; indicator: number };
  /** metrics: `Results` without a `Result indicator`: not read as leads (named in the summary). */
  unlabelledResults?: boolean;
  /** metrics: columns that break a campaign's day into several rows (ad, ad set, placement), as written. */
  breakdown?: string[];
  /** metrics: a Meta export (its rows may start with a totals row). */
  meta?: boolean;
  /**
   * metrics: no Link clicks column, so clicks come from Clicks (all) (a higher CTR than the API path's link clicks).
   */
  clicksAreAllClicks?: boolean;
  /**
   * A rejects file of an earlier run (its last column is `reason`): cells import-csv guarded against formulas get their
   * quote back off.
   */
  rejectsFile?: boolean;
}

export type HeaderResult =
  | { ok: true; match: HeaderMatch }
  /** usage: no kind fits or several fit equally (exit 64); data: the header itself is wrong (exit 65). */
  | { ok: false; failure: 'usage' | 'data'; message: string; problems: string[] };

function describeKinds(): string[] {
  return KINDS.map((k) => {
    const req = k.columns.filter((c) => c.required).map((c) => c.name);
    const opt = k.columns.filter((c) => !c.required).map((c) => c.name);
    const either = k.name === 'metrics' ? ' (or campaign_name in place of campaign_id)' : '';
    return `${k.name}: ${req.join(', ')}${either}${opt.length > 0 ? ` (optional: ${opt.join(', ')})` : ''}`;
  });
}

/** Every contract column name of every kind: what `--map` may name. */
export const CONTRACT_COLUMNS: ReadonlySet<string> = new Set(KINDS.flatMap((k) => k.columns.map((c) => c.name)));

interface Mapped {
  columns: Map<string, number>;
  ignored: string[];
  duplicates: string[];
  extras: Omit<HeaderMatch, 'kind' | 'columns' | 'ignored'>;
}

/** Maps a header row onto one kind's columns. Pure bookkeeping; the choice of kind is `matchHeader`'s. */
function mapHeader(fields: readonly string[], kind: KindSpec, renames: ReadonlyMap<string, string>): Mapped {
  const names = new Set(kind.columns.map((c) => c.name));
  const columns = new Map<string, number>();
  const rank = new Map<string, number>();
  const ignored: string[] = [];
  const duplicates: string[] = [];
  const extras: Mapped['extras'] = {};
  const metrics = kind.name === 'metrics';
  let reportingEnds: number | undefined;
  let results: number | undefined;
  let indicator: number | undefined;
  const breakdown: string[] = [];
  // An export in Spanish, Portuguese, French or German reads as the English one; --map names the header as written.
  const normalized = fields.map((raw) => {
    const h = normalizeHeaderName(raw);
    return renames.get(h) ?? (metrics ? englishHeader(h) : h);
  });
  normalized.forEach((h, i) => {
    const raw = fields[i]!;
    let target: string | undefined;
    let priority = 0;
    if (names.has(h)) target = h;
    else if (metrics) {
      const a = METRICS_ALIASES.findIndex((x) => x.test(h));
      if (a >= 0) {
        target = METRICS_ALIASES[a]!.column;
        priority = a + 1;
        const code = /^amount_spent_\(([a-z]{3})\)$/.exec(h);
        if (code) extras.currency = code[1]!.toUpperCase();
      } else if (h === 'reporting_ends' || h === 'reporting_end') {
        reportingEnds = i;
        return;
      } else if (h === 'results') {
        results = i;
        return;
      } else if (h === 'result_indicator' || h === 'result_type') {
        indicator ??= i;
        return;
      } else if (isBreakdownColumn(h)) {
        breakdown.push(raw.trim());
        return;
      }
    }
    if (target === undefined) {
      ignored.push(raw.trim());
      return;
    }
    const held = rank.get(target);
    if (held === undefined) {
      columns.set(target, i);
      rank.set(target, priority);
    } else if (held === priority) {
      duplicates.push(
        `${target} is fed by two header fields (columns ${columns.get(target)! + 1} and ${i + 1}): keep one`,
      );
    } else if (priority < held) {
      ignored.push(fields[columns.get(target)!]!.trim());
      columns.set(target, i);
      rank.set(target, priority);
    } else {
      ignored.push(raw.trim());
    }
  });
  if (metrics) {
    // Reporting ends is compared only when Reporting starts is the date: with Day, the report range does not matter.
    if (reportingEnds !== undefined) {
      const starts = normalized.findIndex((h) => h === 'reporting_starts' || h === 'reporting_start');
      if (columns.has('date') && columns.get('date') === starts) extras.reportingEndsIndex = reportingEnds;
      else ignored.push(fields[reportingEnds]!.trim());
    }
    if (results !== undefined) {
      if (columns.has('total_leads')) ignored.push(fields[results]!.trim());
      else if (indicator !== undefined) extras.leadResults = { results, indicator };
      else {
        extras.unlabelledResults = true;
        ignored.push(fields[results]!.trim());
      }
    }
    if (indicator !== undefined && extras.leadResults === undefined) ignored.push(fields[indicator]!.trim());
    // Clicks are link clicks, as the API path stores them; Clicks (all) is kept beside them (or is all there is).
    const allClicks = normalized.indexOf('clicks_(all)');
    if (allClicks >= 0 && columns.get('clicks') !== allClicks && !columns.has('all_clicks')) {
      columns.set('all_clicks', allClicks);
      ignored.splice(ignored.indexOf(fields[allClicks]!.trim()), 1);
    }
    if (allClicks >= 0 && columns.get('clicks') === allClicks) extras.clicksAreAllClicks = true;
    if (breakdown.length > 0) extras.breakdown = breakdown;
    if (!columns.has('campaign_id') && columns.has('campaign_name')) extras.keyedByName = true;
    if (looksLikeMetaExport(normalized)) extras.meta = true;
  }
  return { columns, ignored, duplicates, extras };
}

function missingColumns(spec: KindSpec, m: Mapped): string[] {
  return spec.columns
    .filter((c) => c.required && !m.columns.has(c.name) && !(c.name === 'campaign_id' && m.extras.keyedByName))
    .map((c) => c.name);
}

/**
 * The problems of a Meta export that does not make a metrics file, in Meta's words, or null when the header is not
 * Meta's.
 */
function metaProblems(fields: readonly string[], renames: ReadonlyMap<string, string>): string[] | null {
  const m = mapHeader(fields, kindSpec('metrics'), renames);
  if (!m.extras.meta) return null;
  const missing = missingColumns(kindSpec('metrics'), m);
  return missingInMetaWords({ date: missing.includes('date'), campaign: missing.includes('campaign_id') });
}

/**
 * Decides the kind of a header row (or checks it against `--kind`). Without
 * `--kind`, a kind fits when every required column is present; of the kinds
 * that fit, the one that recognizes most of the header wins, and a tie is
 * ambiguous. (Read literally, "fits more than one" would make every
 * campaigns file ambiguous, since it also holds a clients key.) `renames`
 * are the `--map` pairs, normalized: their header name → contract column.
 */
export function matchHeader(
  fields: readonly string[],
  kind?: KindName,
  renames: ReadonlyMap<string, string> = new Map(),
): HeaderResult {
  if (fields.length === 0 || fields.every((f) => f.trim() === '')) {
    return {
      ok: false,
      failure: 'data',
      message: 'the first line is empty: the input needs a header row naming its columns',
      problems: describeKinds(),
    };
  }
  const candidates = (kind ? [kindSpec(kind)] : KINDS).map((spec) => {
    const m = mapHeader(fields, spec, renames);
    return { spec, ...m, missing: missingColumns(spec, m) };
  });
  const rejectsFile = normalizeHeaderName(fields[fields.length - 1] ?? '') === 'reason';
  const matchOf = (c: (typeof candidates)[number]): HeaderMatch => ({
    kind: c.spec.name,
    columns: c.columns,
    ignored: c.ignored,
    ...c.extras,
    ...(rejectsFile ? { rejectsFile } : {}),
  });
  if (kind) {
    const c = candidates[0]!;
    const problems = [...c.duplicates];
    if (c.missing.length > 0) {
      const meta = kind === 'metrics' ? metaProblems(fields, renames) : null;
      if (meta) problems.unshift(...meta);
      else
        problems.unshift(
          `missing required column${c.missing.length === 1 ? '' : 's'} ${c.missing.join(', ')}; ` +
            `a ${kind} file needs ${describeKinds()
              .find((d) => d.startsWith(`${kind}:`))!
              .slice(kind.length + 2)}`,
        );
    }
    if (problems.length > 0)
      return {
        ok: false,
        failure: 'data',
        message: `the header (${fields.length} field${fields.length === 1 ? '' : 's'}) does not fit --kind ${kind}`,
        problems,
      };
    return { ok: true, match: matchOf(c) };
  }
  const fitting = candidates.filter((c) => c.missing.length === 0);
  if (fitting.length === 0) {
    const semicolons = fields.length === 1 && fields[0]!.includes(';');
    if (semicolons) {
      return {
        ok: false,
        failure: 'usage',
        message:
          'the header has one column that contains ";": this file looks ' +
          'separated by semicolons; save it as comma-separated CSV (Excel: ' +
          '"CSV UTF-8 (Comma delimited)")',
        problems: describeKinds(),
      };
    }
    const meta = metaProblems(fields, renames);
    if (meta) {
      return {
        ok: false,
        failure: 'usage',
        message: 'this looks like a Meta Ads Manager export, but it lacks what a metrics import needs',
        problems: [...meta, ...describeKinds().filter((d) => d.startsWith('metrics:'))],
      };
    }
    return {
      ok: false,
      failure: 'usage',
      // The input's own text is never echoed in an error about its header: the "CSV" may be any file the job can read.
      message:
        `the header (${fields.length} ` +
        `field${fields.length === 1 ? '' : 's'}) fits no kind; name the ` +
        `columns as below, or pass --kind to see what is missing, or ` +
        `--map 'Their column=our_column'`,
      problems: describeKinds(),
    };
  }
  const best = Math.max(...fitting.map((c) => c.columns.size));
  const top = fitting.filter((c) => c.columns.size === best);
  if (top.length > 1) {
    return {
      ok: false,
      failure: 'usage',
      message: `the header fits ${top.map((c) => c.spec.name).join(' and ')} equally well; pass --kind to say which`,
      problems: describeKinds(),
    };
  }
  const c = top[0]!;
  if (c.duplicates.length > 0)
    return {
      ok: false,
      failure: 'data',
      message: `the ${c.spec.name} header names a column twice`,
      problems: c.duplicates,
    };
  return { ok: true, match: matchOf(c) };
}

/** The one-line summary of a file's outcome: `inserted N, updated M, unchanged K`. */
export interface ImportCounts {
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  /** Rows whose every cell was empty (Excel's trailing `,,,,` lines): skipped, not errors. */
  blank: number;
  campaignsCreated: number;
  clientsCreated: number;
  /** Lead status changes recorded by a leads import (a new status for an existing lead). */
  statusChanges: number;
  /** metrics: rows per ad, ad set or placement summed into `summedInto` campaign-day rows. */
  summedRows: number;
  summedInto: number;
  /** metrics: the totals row of a Meta export, skipped. */
  totalsSkipped: number;
}

export const emptyCounts = (): ImportCounts => ({
  rows: 0,
  inserted: 0,
  updated: 0,
  unchanged: 0,
  rejected: 0,
  blank: 0,
  campaignsCreated: 0,
  clientsCreated: 0,
  statusChanges: 0,
  summedRows: 0,
  summedInto: 0,
  totalsSkipped: 0,
});
