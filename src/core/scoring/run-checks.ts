import { compare, rational, toNumber } from '../rational.js';
import type { ScoringConfig } from './config.js';
import { FLAGS, RECOMMENDATIONS, type CampaignScore, type Flag, type Recommendation } from './types.js';

export interface RunWarning {
  /** Stable code for alerting and tests. */
  code: 'MISSING_DATA_SHARE' | 'SCORED_COUNT_DROP';
  message: string;
  /** The measured value (a fraction) and the configured limit. */
  value: number;
  limit: number;
}

export interface RunSummary {
  date: string;
  configId: string;
  campaignsScored: number;
  recommendations: Record<Recommendation, number>;
  flags: Record<Flag, number>;
  warnings: RunWarning[];
  previousScoredDate: string | null;
  previousScoredCount: number | null;
}

/**
 * The two run-level checks of scoring.md section 7, plus counts per
 * recommendation and flag.
 */
export function summarizeRun(
  date: string,
  scores: readonly Pick<CampaignScore, 'recommendation' | 'flags'>[],
  previous: { date: string; count: number } | null,
  config: ScoringConfig,
): RunSummary {
  const recommendations = Object.fromEntries(RECOMMENDATIONS.map((r) => [r, 0])) as Record<Recommendation, number>;
  const flags = Object.fromEntries(FLAGS.map((f) => [f, 0])) as Record<Flag, number>;
  let missing = 0;
  for (const s of scores) {
    recommendations[s.recommendation] += 1;
    for (const f of s.flags) flags[f] += 1;
    if (s.flags.includes('MISSING_SPEND') || s.flags.includes('MISSING_IMPRESSIONS')) missing += 1;
  }
  const warnings: RunWarning[] = [];
  const n = scores.length;
  const missingLimit = config.runChecks.missingDataShare;
  if (n > 0 && compare(rational(missing, n), missingLimit) > 0) {
    const share = toNumber(rational(missing, n), 4);
    warnings.push({
      code: 'MISSING_DATA_SHARE',
      message: `${missing} of ${n} scored campaigns (${(share * 100).toFixed(1)}%) have missing spend or impressions, more than ${toNumber(missingLimit, 4) * 100}%: check the last fetch or import.`,
      value: share,
      limit: toNumber(missingLimit, 4),
    });
  }
  const dropLimit = config.runChecks.scoredDropShare;
  if (previous && previous.count > 0 && compare(rational(previous.count - n, previous.count), dropLimit) > 0) {
    const drop = toNumber(rational(previous.count - n, previous.count), 4);
    warnings.push({
      code: 'SCORED_COUNT_DROP',
      message: `${n} campaigns scored for ${date}, ${(drop * 100).toFixed(1)}% fewer than the ${previous.count} scored for ${previous.date} (limit ${toNumber(dropLimit, 4) * 100}%): data may be missing for ${date}.`,
      value: drop,
      limit: toNumber(dropLimit, 4),
    });
  }
  return {
    date,
    configId: config.id,
    campaignsScored: n,
    recommendations,
    flags,
    warnings,
    previousScoredDate: previous?.date ?? null,
    previousScoredCount: previous?.count ?? null,
  };
}

/** The dimension reasons of a score, weakest first (largest shortfall from its maximum). */
export function topReasons(details: { dimensions?: Record<string, { points: number; max: number; reason: string }> }, count = 2): string[] {
  const dims = Object.values(details.dimensions ?? {});
  return dims
    .map((d, i) => ({ d, i, shortfall: d.max === 0 ? 0 : (d.max - d.points) / d.max }))
    .sort((a, b) => b.shortfall - a.shortfall || a.i - b.i)
    .slice(0, count)
    .map((x) => x.d.reason);
}
