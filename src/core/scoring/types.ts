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
] as const;
export type Flag = (typeof FLAGS)[number];

/** Spend and qualified leads of one 7-day trend period (Recent or Prior). */
export interface PeriodFacts {
  /** Sum of spend in the period, account currency; NULL rows count as 0. */
  spend: Rational;
  /** Qualified leads of the period (lead-level: created in it and qualified as of the end of D). */
  qualifiedLeads: number;
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
  /** campaigns.currency (ISO 4217), or null when unknown. */
  currency: string | null;
  /**
   * Rows in the window with total_leads or qualified_leads not NULL (aggregate mode: 0 means the source carries no lead
   * counts).
   */
  leadCountRows: number;
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
  recent: PeriodFacts;
  prior: PeriodFacts;
  /** total_score stored for D−1, or null when there is none. */
  previousTotal: Rational | null;
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
  /** The JSON stored in campaign_scores.recommendation_details. */
  details: Record<string, unknown>;
}
