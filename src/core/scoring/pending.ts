/**
 * Unknown is not unqualified (docs/decisions.md, decision-quality v2 rule 6): leads still at a pending status and
 * younger than their client's qualification lag are left out of the evidence, with their day's share of spend.
 * score-campaigns reads the numbers from the database; the simulation computes them from its own leads; both go
 * through these two functions.
 */

/** A client needs this many leads with a final status before its own lag is trusted. */
export const MIN_LAG_SAMPLES = 10;
/** The longest qualification lag, in days: a lead older than that and still pending counts as unqualified. */
export const MAX_LAG_DAYS = 30;

/**
 * A client's qualification lag in whole days: the 90th percentile of the days from a lead's creation to its first
 * final status (`p90Days`, over `resolved` leads), rounded up and at most MAX_LAG_DAYS; `defaultLagDays` with fewer
 * than MIN_LAG_SAMPLES such leads.
 */
export function qualificationLagDays(resolved: number, p90Days: number | null, defaultLagDays: number): number {
  if (resolved < MIN_LAG_SAMPLES || p90Days === null || !Number.isFinite(p90Days)) return defaultLagDays;
  return Math.min(MAX_LAG_DAYS, Math.max(0, Math.ceil(p90Days)));
}

/** One day of a lead-level campaign: its age (0 = D), spend, leads created that day and those still pending. */
export interface LeadDay {
  age: number;
  spend: number;
  leads: number;
  pending: number;
}

/** What the evidence leaves out: pending leads younger than the lag, their share of 30 and of 7 days' spend. */
export interface PendingShare {
  leads: number;
  spend: number;
  recentSpend: number;
}

/**
 * The pending leads of the days younger than `lagDays` and their share of spend: each such day's spend × its pending
 * leads ÷ its leads (a day without a pending lead leaves nothing out).
 */
export function pendingShare(days: Iterable<LeadDay>, lagDays: number): PendingShare {
  const out: PendingShare = { leads: 0, spend: 0, recentSpend: 0 };
  for (const d of days) {
    if (d.age >= lagDays || d.pending === 0 || d.leads === 0) continue;
    const share = (d.spend * d.pending) / d.leads;
    out.leads += d.pending;
    out.spend += share;
    if (d.age < 7) out.recentSpend += share;
  }
  return out;
}
