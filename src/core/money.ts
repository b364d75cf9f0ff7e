/**
 * Amounts and counts in words, the same on every surface. Formatted by hand: toLocaleString builds a formatter per
 * call (measured: 60 % of a scorecard page's CPU), and even a kept Intl.NumberFormat cost a tenth of it.
 */

const grouped = (digits: string) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/**
 * From here up an amount is told in trillions: no real spend or cost reaches it, and the digits (or the exponent
 * notation JavaScript falls back to from 10^21) would only push a table's columns off the screen.
 */
const TRILLION = 1e12;

/** "12,345": a whole number with thousands separators; "3.2 trillion", "over 1,000 trillion" for the absurd. */
export function count(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const sign = n < 0 ? '-' : '';
  const a = Math.abs(n);
  if (a >= TRILLION) return `${sign}${a >= 1000 * TRILLION ? 'over 1,000' : (a / TRILLION).toFixed(1)} trillion`;
  return sign + grouped(Math.round(a).toString());
}

/** "1,234.50"; thousands without decimals from 10,000 up; "—" for no number. */
export function money(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '—';
  if (Math.abs(n) >= 10_000) return count(n);
  const [whole, cents] = Math.abs(n).toFixed(2).split('.');
  return `${n < 0 && Math.abs(n) >= 0.005 ? '-' : ''}${grouped(whole!)}.${cents}`;
}

/** An axis label: short ("950", "12.5k", "476M", "1.2B"), the magnitude always there; cents only below 10. */
export function compact(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const a = Math.abs(n);
  const sign = n < 0 ? '-' : '';
  const short = (v: number, unit: string) => `${sign}${Number(v.toFixed(v < 100 ? 1 : 0))}${unit}`;
  if (a >= 1e12) return count(n);
  if (a >= 1e9) return short(a / 1e9, 'B');
  if (a >= 1e6) return short(a / 1e6, 'M');
  if (a >= 1e3) return short(a / 1e3, 'k');
  if (a >= 10 || a === 0 || Number.isInteger(a)) return sign + Math.round(a).toString();
  return sign + a.toFixed(2);
}

/**
 * An 80 % interval of a cost: "41.20–190.10 USD", or "above 900.50 USD" when it has no upper end worth the name
 * (none, or one in the trillions: a window without a qualified lead bounds the cost from below only).
 */
export function intervalIn(
  low: number | null,
  high: number | null,
  currency: string | null | undefined,
): string | null {
  if (low === null || !Number.isFinite(low)) return null;
  if (high === null || !Number.isFinite(high) || high >= TRILLION) return `above ${moneyIn(low, currency)}`;
  return `${money(low)}–${moneyIn(high, currency)}`;
}

/** "1,234.50 USD": an amount with its currency (the bare amount when the currency is unknown). */
export function moneyIn(n: number | null, currency: string | null | undefined): string {
  const shown = money(n);
  return currency && shown !== '—' ? `${shown} ${currency}` : shown;
}
