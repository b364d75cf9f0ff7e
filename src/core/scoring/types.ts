import type { Rational } from '../rational.js';
import type { Dimension } from './config.js';

export const RECOMMENDATIONS = [
  'INCREASE_BUDGET',
  'CONTINUE_OPTIMIZE',
  'TEST_CHANGES',
  'REDUCE_BUDGET',
  'PAUSE_CAMPAIGN',
  'MONITOR_CLOSELY',
  'INSUFFICIENT_DATA',
] as const;
export type Recommendation = (typeof RECOMMENDATIONS)[number];

export const FLAGS = [
  'MISSING_SPEND',
  'MISSING_IMPRESSIONS',
  'HIGH_CPL',
  'HIGH_CTR',
  'OVERSPEND',
  'SCORE_JUMP',
  'NO_LEAD_DATA',
  'NO_TARGET',
  'NO_QUALIFIED_DATA',
  'SPEND_SPIKE',
  'STALE_DATA',
] as const;
export type Flag = (typeof FLAGS)[number];

/** Spend and qualified leads of one 7-day trend period (Recent or Prior). */
export interface PeriodFacts {
  /** Sum of spend in the period, account currency; NULL rows count as 0. */
  spend: Rational;
  /** Qualified leads of the period (lead-level: created in it and qualified as of the end of D). */
  qualifiedLeads: number;
  /** Leads of the period (lead-level: created in it): what lead mode reads as qualified_leads. */
  totalLeads: number;
}

/**
 * What the evidence of the action reads beyond the score's facts (docs/decisions.md); never part of the score.
 * Absent where nothing is known beyond the facts (an aggregate campaign whose window reaches the spend it needs).
 */
export interface EvidenceFacts {
  /**
   * Lead-level: leads of the window still at a pending status (new, contacted) as of the end of D and younger than
   * the client's qualification lag (and those of the last 7 days): unknown, not unqualified.
   */
  pendingLeads: number;
  recentPendingLeads: number;
  /** The qualified leads expected among them (the campaign's resolved rate, shrunk to its client's). */
  pendingQualified: number;
  recentPendingQualified: number;
  /** The client's qualification lag in days, as measured (or the default when it has too little history). */
  lagDays: number | null;
  /**
   * The longer window (up to 90 days ending on D) of a campaign whose 30-day spend is below the spend the gates
   * need: its length in days, spend and qualified (lead mode: all) leads; null when not read.
   */
  long: { days: number; spend: Rational; qualifiedLeads: number; totalLeads: number } | null;
}

/** Everything scoring.md needs to know about one campaign for one date `D`. */
export interface CampaignFacts {
  campaignId: string;
  /** 'lead-level' when the campaign has any row in campaign_leads, else 'aggregate'. */
  mode: 'lead-level' | 'aggregate';
  /** campaigns.start_date (YYYY-MM-DD) or null when unknown. */
  startDate: string | null;
  /** campaigns.daily_budget in currency units, or null when the campaign has none. */
  dailyBudget: Rational | null;
  /** The client's own target CPQL, or null to use the configuration default. */
  clientTargetCpql: Rational | null;
  /** The client's own target cost per lead (lead mode), or null to use the configuration's target_cpl. */
  clientTargetCpl: Rational | null;
  /** campaigns.currency (ISO 4217), or null when unknown. */
  currency: string | null;
  /**
   * Rows in the window with total_leads or qualified_leads not NULL (aggregate mode: 0 means the source carries no lead
   * counts).
   */
  leadCountRows: number;
  /** Rows in the window with qualified_leads not NULL (aggregate mode: 0 with lead counts means NO_QUALIFIED_DATA). */
  qualifiedCountRows: number;
  /**
   * Lead-level mode: whether the CRM has spoken for the campaign's client as of the end of D (a status change at or
   * before it, or a lead first recorded at a status other than `new`). False means NO_QUALIFIED_DATA.
   */
  qualificationKnown: boolean;
  /** Window sums (NULL = 0). */
  spend: Rational;
  impressions: bigint;
  clicks: bigint;
  totalLeads: number;
  qualifiedLeads: number;
  /** Rows in the window whose spend is not NULL. */
  spendRows: number;
  /** Rows in the window. */
  dataDays: number;
  /** Rows in the window with NULL spend / NULL impressions. */
  nullSpendRows: number;
  nullImpressionRows: number;
  /** Largest single-day spend in the window, or null when every row's spend is NULL. */
  maxDaySpend: Rational | null;
  /** The spend of D's own row, or null when D has no row or its spend is NULL (SPEND_SPIKE). */
  daySpend: Rational | null;
  /** Rows of D−14 … D−1 whose spend is not NULL, and their spend (SPEND_SPIKE's average). */
  spikeBase: { rows: number; spend: Rational };
  /** Rows in D−13 … D (STALE_DATA when 0). */
  rowsLast14: number;
  recent: PeriodFacts;
  prior: PeriodFacts;
  /** total_score stored for D−1, or null when there is none. */
  previousTotal: Rational | null;
  /** What only the action's evidence reads; absent when there is nothing beyond the facts. */
  evidence?: EvidenceFacts;
}

/**
 * What a score is judged on: cost per qualified lead against T, or (lead mode of a NO_QUALIFIED_DATA campaign) cost
 * per lead against T_L; null when the campaign is not judged on cost (INSUFFICIENT_DATA).
 */
export interface Judgement {
  basis: 'qualified' | 'leads';
  /** The target of that basis, in the campaign's currency. */
  target: Rational;
}

export interface DimensionScore {
  /** Points in hundredths (2188n = 21.88 points). */
  hundredths: bigint;
  reason: string;
}

export interface CampaignScore {
  campaignId: string;
  date: string;
  dimensions: Record<Dimension, DimensionScore>;
  /** Sum of the rounded dimensions, in hundredths. */
  totalHundredths: bigint;
  recommendation: Recommendation;
  isNew: boolean;
  flags: Flag[];
  /** What the campaign was judged on, for the evidence of the action; null when not judged. */
  judgement: Judgement | null;
  /** The JSON stored in campaign_scores.recommendation_details. */
  details: Record<string, unknown>;
}
