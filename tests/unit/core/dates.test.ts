import { describe, expect, test } from '@jest/globals';
import { addDays, dateInZone, dayNumber, daysBetween, isIsoDate } from '../../../src/core/dates.js';

describe('calendar dates', () => {
  test.each(['2025-02-30', '2025-13-01', '2025-11-31', '2023-02-29', '25-11-15', '2025-11-15T00:00:00Z', ''])(
    'rejects %j',
    (d) => {
      expect(isIsoDate(d)).toBe(false);
      expect(() => dayNumber(d)).toThrow(/not a calendar date/);
    },
  );
  test.each(['2025-11-15', '2024-02-29', '2000-02-29', '1999-12-31'])('accepts %s', (d) => {
    expect(isIsoDate(d)).toBe(true);
  });
  test('adds days across month, year and leap-day boundaries', () => {
    expect(addDays('2025-11-15', -29)).toBe('2025-10-17');
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2025-12-31', 1)).toBe('2026-01-01');
    expect(daysBetween('2025-11-15', '2025-11-01')).toBe(14);
  });
  test('the date of an instant depends on the time zone', () => {
    const instant = new Date('2025-11-16T09:00:00Z');
    expect(dateInZone(instant, 'UTC')).toBe('2025-11-16');
    expect(dateInZone(instant, 'Pacific/Pago_Pago')).toBe('2025-11-15');
    expect(dateInZone(new Date('2025-11-16T23:30:00Z'), 'Europe/Berlin')).toBe('2025-11-17');
  });
});
