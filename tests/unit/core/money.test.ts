import { expect, test } from '@jest/globals';
import { count, intervalIn, money } from '../../../src/core/money.js';

test('money: cents with thousands separators below 10,000, whole numbers from there; a dash for nothing', () => {
  expect(
    [0, 0.004, 5, 12.345, 999.999, 1234.5, 9999.994, 10_000, 1_234_567.8, -42.1, -0.001, null, Number.NaN].map(money),
  ).toEqual([
    '0.00',
    '0.00',
    '5.00',
    '12.35',
    '1,000.00',
    '1,234.50',
    '9,999.99',
    '10,000',
    '1,234,568',
    '-42.10',
    '0.00',
    '—',
    '—',
  ]);
});

test('count: whole numbers with thousands separators', () => {
  expect([0, 7, 999, 1000, 100000, 2_000_001, -1500].map(count)).toEqual([
    '0',
    '7',
    '999',
    '1,000',
    '100,000',
    '2,000,001',
    '-1,500',
  ]);
});

test('never exponent notation or hundreds of digits: the absurd is told in trillions', () => {
  expect([1e12, 3.25e12, 999e12, 1e15, 2.009e98, -4e13].map(count)).toEqual([
    '1.0 trillion',
    '3.3 trillion',
    '999.0 trillion',
    'over 1,000 trillion',
    'over 1,000 trillion',
    '-40.0 trillion',
  ]);
  expect(money(2.009097789650659e98)).toBe('over 1,000 trillion');
  for (const n of [1e21, 1e98, Number.MAX_VALUE]) expect(money(n)).not.toMatch(/e\+|\d{16}/);
});

test('an 80 % interval: both ends, or "above" when the top is missing or absurd (no qualified lead yet)', () => {
  expect(intervalIn(41.2, 190.1, 'USD')).toBe('41.20–190.10 USD');
  expect(intervalIn(476_108_937, 2.009097789650659e98, 'IDR')).toBe('above 476,108,937 IDR');
  expect(intervalIn(900.5, null, 'EUR')).toBe('above 900.50 EUR');
  expect(intervalIn(null, 5, 'EUR')).toBeNull();
});
