/**
 * Reading the Marketing API's usage headers and deciding how fast to go.
 * Pure: the caller passes a header getter and gets numbers back.
 */

/** What one response said about how close this app and ad account are to their limits. */
export interface UsageReading {
  /** The highest percentage in any usage header (0 when none was sent); may exceed 100. */
  maxPct: number;
  /**
   * Seconds until access returns, from estimated_time_to_regain_access (minutes) or, at 100 %, reset_time_duration; 0
   * if not said.
   */
  regainSeconds: number;
  /** Percentage per header and key, for the summary's usage peaks, e.g. `x-app-usage.call_count`. */
  parts: Record<string, number>;
  /** Headers that were present but not the JSON we expected (the run goes on; they are logged). */
  malformed: string[];
}

export const USAGE_HEADERS = [
  'x-app-usage',
  'x-ad-account-usage',
  'x-business-use-case-usage',
  'x-fb-ads-insights-throttle',
] as const;

const PCT_KEYS = ['call_count', 'total_time', 'total_cputime', 'acc_id_util_pct', 'app_id_util_pct'];

function num(v: unknown): number | null {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

/**
 * Reads every usage header of one response (successes and errors alike).
 * `accountNumericId` selects this account's entries of
 * x-business-use-case-usage; other businesses' entries are ignored.
 */
export function readUsage(header: (name: string) => string | null | undefined, accountNumericId: string): UsageReading {
  const parts: Record<string, number> = {};
  const malformed: string[] = [];
  let regainSeconds = 0;
  let accountFull = false;
  let resetSeconds = 0;
  const take = (prefix: string, obj: Record<string, unknown>): void => {
    for (const k of PCT_KEYS) {
      const v = num(obj[k]);
      if (v !== null) parts[`${prefix}.${k}`] = Math.max(parts[`${prefix}.${k}`] ?? 0, v);
    }
  };
  for (const name of USAGE_HEADERS) {
    const text = header(name);
    if (text === null || text === undefined || text === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      malformed.push(name);
      continue;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      malformed.push(name);
      continue;
    }
    const obj = value as Record<string, unknown>;
    if (name === 'x-business-use-case-usage') {
      const entries = obj[accountNumericId] ?? obj[`act_${accountNumericId}`];
      if (entries === undefined) continue;
      if (!Array.isArray(entries)) {
        malformed.push(name);
        continue;
      }
      for (const e of entries) {
        if (!e || typeof e !== 'object') continue;
        const entry = e as Record<string, unknown>;
        take(`${name}.${String(entry.type ?? 'unknown')}`, entry);
        const eta = num(entry.estimated_time_to_regain_access);
        if (eta !== null && eta > 0) regainSeconds = Math.max(regainSeconds, eta * 60);
      }
      continue;
    }
    take(name, obj);
    if (name === 'x-ad-account-usage') {
      const pct = num(obj.acc_id_util_pct);
      const reset = num(obj.reset_time_duration);
      if (pct !== null && pct >= 100) accountFull = true;
      if (reset !== null && reset > 0) resetSeconds = reset;
    }
  }
  if (accountFull) regainSeconds = Math.max(regainSeconds, resetSeconds);
  const values = Object.values(parts);
  return { maxPct: values.length === 0 ? 0 : Math.max(...values), regainSeconds, parts, malformed };
}

/** When to slow down and when to stop calling an ad account (percentages of any usage header). */
export interface PacingPolicy {
  /** Below this, no added spacing. Default 50. */
  slowFromPct: number;
  /** At or above this, finish the current call and defer the account to the next run. Default 75. */
  deferAtPct: number;
  /** Spacing between calls just below deferAtPct, in ms; it grows linearly from slowFromPct. Default 10,000. */
  maxSpacingMs: number;
}

export const DEFAULT_PACING: PacingPolicy = { slowFromPct: 50, deferAtPct: 75, maxSpacingMs: 10_000 };

/** The spacing between the starts of two calls to one account, and whether to stop calling it. */
export function pacingFor(
  maxPct: number,
  policy: PacingPolicy = DEFAULT_PACING,
): { spacingMs: number; defer: boolean } {
  if (maxPct >= policy.deferAtPct) return { spacingMs: policy.maxSpacingMs, defer: true };
  if (maxPct < policy.slowFromPct) return { spacingMs: 0, defer: false };
  const share = (maxPct - policy.slowFromPct) / (policy.deferAtPct - policy.slowFromPct);
  return { spacingMs: Math.round(share * policy.maxSpacingMs), defer: false };
}
