/**
 * Exact rational numbers on BigInt, so that scores round "halves away from
 * zero" exactly as scoring.md says, with no binary floating-point drift
 * (0.375 on the quality curve must give 21.875 and round to 21.88).
 *
 * Values are not reduced by a gcd after every operation: scoring does a few
 * dozen operations per campaign, so the numbers stay small, and skipping the
 * gcd keeps 100,000 campaigns fast. Comparison and rounding do not need a
 * reduced form.
 */
export interface Rational {
  /** Numerator (any sign). */
  readonly n: bigint;
  /** Denominator, always > 0. */
  readonly d: bigint;
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;

export function rational(n: bigint | number, d: bigint | number = 1n): Rational {
  let nn = BigInt(n);
  let dd = BigInt(d);
  if (dd === 0n) throw new RangeError('rational: division by zero');
  if (dd < 0n) {
    nn = -nn;
    dd = -dd;
  }
  return { n: nn, d: dd };
}

export const ZERO = rational(0n);

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Parses a plain decimal string such as "1234.50" or "-0.005" exactly. */
export function parseDecimal(text: string): Rational {
  const m = DECIMAL.exec(text.trim());
  if (!m) throw new RangeError(`not a decimal number: ${JSON.stringify(text)}`);
  const sign = m[1] === '-' ? -1n : 1n;
  const frac = m[3] ?? '';
  return { n: sign * BigInt((m[2] ?? '0') + frac), d: 10n ** BigInt(frac.length) };
}

/** An integer count of millionths ("2929650000" → 2929.65), in its shortest decimal form. */
export function fromMicros(text: string): Rational {
  if (text === '0') return { n: 0n, d: 1n };
  // Trailing zeros are cut on the text: one BigInt instead of a division per digit.
  let zeros = 0;
  while (zeros < 6 && zeros < text.length - 1 && text.charCodeAt(text.length - 1 - zeros) === 48) zeros++;
  return { n: BigInt(text.slice(0, text.length - zeros)), d: POWERS_OF_TEN[6 - zeros]! };
}

const POWERS_OF_TEN = [1n, 10n, 100n, 1_000n, 10_000n, 100_000n, 1_000_000n];

export function isDecimal(text: string): boolean {
  return DECIMAL.test(text.trim());
}

/**
 * A JS number as the decimal it prints as (0.005 → 5/1000), which is what a
 * person wrote in a JSON configuration file.
 */
export function fromNumber(value: number): Rational {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  const text = String(value);
  if (/e/i.test(text)) return parseDecimal(value.toFixed(20).replace(/0+$/, '').replace(/\.$/, ''));
  return parseDecimal(text);
}

export function add(a: Rational, b: Rational): Rational {
  if (a.d === b.d) return { n: a.n + b.n, d: a.d };
  return { n: a.n * b.d + b.n * a.d, d: a.d * b.d };
}

export function sub(a: Rational, b: Rational): Rational {
  if (a.d === b.d) return { n: a.n - b.n, d: a.d };
  return { n: a.n * b.d - b.n * a.d, d: a.d * b.d };
}

export function mul(a: Rational, b: Rational): Rational {
  return { n: a.n * b.n, d: a.d * b.d };
}

export function div(a: Rational, b: Rational): Rational {
  if (b.n === 0n) throw new RangeError('rational: division by zero');
  return b.n < 0n ? { n: -a.n * b.d, d: a.d * -b.n } : { n: a.n * b.d, d: a.d * b.n };
}

/** -1, 0 or 1. */
export function compare(a: Rational, b: Rational): number {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
}

export function isZero(a: Rational): boolean {
  return a.n === 0n;
}

/** Rounds to a whole number of hundredths, halves away from zero. */
export function roundToHundredths(a: Rational): bigint {
  const scaled = a.n * 100n;
  const negative = scaled < 0n;
  const abs = negative ? -scaled : scaled;
  const q = (abs * 2n + a.d) / (2n * a.d);
  return negative ? -q : q;
}

/** Hundredths as a fixed two-decimal string: 2188n → "21.88". */
export function formatHundredths(h: bigint): string {
  // Scores and money in hundredths are far below 2^53: format through Number, which is much faster than BigInt.
  if (h <= SAFE && h >= -SAFE) {
    const n = Number(h);
    const abs = Math.abs(n);
    const cents = abs % 100;
    return `${n < 0 ? '-' : ''}${(abs - cents) / 100}.${cents < 10 ? '0' : ''}${cents}`;
  }
  const negative = h < 0n;
  const abs = negative ? -h : h;
  const whole = abs / 100n;
  const cents = (abs % 100n).toString().padStart(2, '0');
  return `${negative ? '-' : ''}${whole}.${cents}`;
}

/** A readable approximation for reports and JSON details (never used for scoring). */
export function toNumber(a: Rational, decimals = 6): number {
  if (a.n <= SAFE && a.n >= -SAFE && a.d <= SAFE) {
    const scale = 10 ** decimals;
    const x = Number(a.n) / Number(a.d);
    return (Math.sign(x) * Math.round(Math.abs(x) * scale)) / scale;
  }
  const scale = 10n ** BigInt(decimals);
  const scaled = a.n * scale;
  const negative = scaled < 0n;
  const abs = negative ? -scaled : scaled;
  const q = (abs * 2n + a.d) / (2n * a.d);
  return Number(negative ? -q : q) / Number(scale);
}
