import type { Recommendation } from '../scoring/types.js';

/**
 * One colour per action wherever actions are drawn, cuts in reds at the bottom of a stack and increases in green at
 * the top; each is at least 3:1 against white (WCAG's contrast for graphics).
 */
export const ACTION_COLORS: Record<Recommendation, string> = {
  PAUSE_CAMPAIGN: '#991b1b',
  REDUCE_BUDGET: '#dc2626',
  TEST_CHANGES: '#b45309',
  MONITOR_CLOSELY: '#7c3aed',
  CONTINUE_OPTIMIZE: '#2563eb',
  INCREASE_BUDGET: '#15803d',
  INSUFFICIENT_DATA: '#6b7280',
};

/** The order actions are stacked and listed in: the cuts first. */
export const ACTION_ORDER = Object.keys(ACTION_COLORS) as Recommendation[];
