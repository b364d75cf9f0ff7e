/** The only way code reads the current time, so tests can fix it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock stopped at one instant, for tests and reproducible runs. */
export function fixedClock(iso: string): Clock {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) throw new RangeError(`fixedClock: not an instant: ${iso}`);
  return { now: () => new Date(t) };
}
