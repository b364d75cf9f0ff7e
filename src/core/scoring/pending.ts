/**
 * Unknown is not unqualified (docs/decisions.md, decision-quality v2 rule 6). A lead still at a pending status and
 * younger than its client's qualification lag has not been judged by the CRM yet: the evidence counts it as
 * qualified with the probability the campaign's resolved leads give (shrunk towards its client's), instead of as
 * unqualified. score-campaigns reads the counts from the database, the simulation from its own leads; both go
 * through these functions.
 */

/** A client needs this many leads with a final status before its own lag is trusted. */
export const MIN_LAG_SAMPLES = 10;
/** The longest qualification lag, in days: a lead older than that and still pending counts as unqualified. */
export const MAX_LAG_DAYS = 30;
/** How many resolved leads the client's rate weighs as in a campaign's expected rate. */
export const CLIENT_RATE_WEIGHT = 5;

/**
 * A client's qualification lag in whole days: the 90th percentile of the days from a lead's creation to its first
 * final status (`p90Days`, over `resolved` leads), rounded up and at most MAX_LAG_DAYS; `defaultLagDays` with fewer
 * than MIN_LAG_SAMPLES such leads.
 */
export function qualificationLagDays(resolved: number, p90Days: number | null, defaultLagDays: number): number {
  if (resolved < MIN_LAG_SAMPLES || p90Days === null || !Number.isFinite(p90Days)) return defaultLagDays;
  return Math.min(MAX_LAG_DAYS, Math.max(0, Math.ceil(p90Days)));
}

/** One day of a lead-level campaign's window: its age (0 = D) and its leads still pending as of the end of D. */
export interface PendingDay {
  age: number;
  pending: number;
}

/** Resolved leads (a final status by the end of D) and the qualified among them. */
export interface Resolved {
  leads: number;
  qualified: number;
}

/** The pending leads younger than the lag (window and last 7 days) and the qualified leads expected among them. */
export interface PendingExpectation {
  leads: number;
  recentLeads: number;
  qualified: number;
  recentQualified: number;
  /** The qualification rate they were expected at. */
  rate: number;
}

/**
 * The rate a campaign's pending leads are expected to qualify at: its own resolved leads' rate, shrunk towards its
 * client's by CLIENT_RATE_WEIGHT leads (a campaign with few resolved leads takes its client's).
 */
export function expectedRate(campaign: Resolved, clientRate: number): number {
  return (campaign.qualified + CLIENT_RATE_WEIGHT * clientRate) / (campaign.leads + CLIENT_RATE_WEIGHT);
}

/** The pending leads of the days younger than `lagDays`, and how many of them are expected to qualify. */
export function expectPending(days: Iterable<PendingDay>, lagDays: number, rate: number): PendingExpectation {
  let leads = 0;
  let recentLeads = 0;
  for (const d of days) {
    if (d.age >= lagDays || d.pending === 0) continue;
    leads += d.pending;
    if (d.age < 7) recentLeads += d.pending;
  }
  return { leads, recentLeads, qualified: leads * rate, recentQualified: recentLeads * rate, rate };
}
