import { expect, test } from '@jest/globals';
import { count, money } from '../../../../src/core/dashboard/layout.js';

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
