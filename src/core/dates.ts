/**
 * Calendar dates as `YYYY-MM-DD` strings and whole-day arithmetic in UTC.
 * Pure: the current instant is always passed in.
 */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** True for a real calendar date in `YYYY-MM-DD` form (2025-02-30 is not). */
export function isIsoDate(text: string): boolean {
  const m = ISO_DATE.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/** Parsed dates, remembered: scoring asks for the same few thousand dates 100,000 times. */
const dayNumbers = new Map<string, number>();

/** Days since 1970-01-01 of a valid ISO date. */
export function dayNumber(date: string): number {
  const known = dayNumbers.get(date);
  if (known !== undefined) return known;
  const m = ISO_DATE.exec(date);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const t = Date.UTC(y, mo - 1, d);
    // Date.UTC rolls 2025-02-30 over to March; a real date survives the round trip.
    if (mo >= 1 && mo <= 12 && d >= 1 && (d <= 28 || new Date(t).getUTCDate() === d)) {
      if (dayNumbers.size >= 50_000) dayNumbers.clear();
      dayNumbers.set(date, t / DAY_MS);
      return t / DAY_MS;
    }
  }
  throw new RangeError(`not a calendar date: ${JSON.stringify(date)}`);
}

export function fromDayNumber(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return fromDayNumber(dayNumber(date) + days);
}

/** `a − b` in whole days. */
export function daysBetween(a: string, b: string): number {
  return dayNumber(a) - dayNumber(b);
}

/** One formatter per time zone: building an Intl.DateTimeFormat costs far more than using one. */
const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar date of an instant in an IANA time zone. */
export function dateInZone(instant: Date, timeZone: string): string {
  let format = dayFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, format);
  }
  const parts = format.formatToParts(instant);
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
