/**
 * Amounts and counts in words, the same on every surface. Formatted by hand: toLocaleString builds a formatter per
 * call (measured: 60 % of a scorecard page's CPU), and even a kept Intl.NumberFormat cost a tenth of it.
 */

const grouped = (digits: string) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** "12,345": a whole number with thousands separators. */
export const count = (n: number): string => (n < 0 ? '-' : '') + grouped(Math.round(Math.abs(n)).toString());

/** "1,234.50"; thousands without decimals from 10,000 up; "—" for no number. */
export function money(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '—';
  if (Math.abs(n) >= 10_000) return count(n);
  const [whole, cents] = Math.abs(n).toFixed(2).split('.');
  return `${n < 0 && Math.abs(n) >= 0.005 ? '-' : ''}${grouped(whole!)}.${cents}`;
}

/** "1,234.50 USD": an amount with its currency (the bare amount when the currency is unknown). */
export function moneyIn(n: number | null, currency: string | null | undefined): string {
  const shown = money(n);
  return currency && shown !== '—' ? `${shown} ${currency}` : shown;
}
