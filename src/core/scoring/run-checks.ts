import { compare, rational, toNumber } from '../rational.js';
import type { ScoringConfig } from './config.js';
import { FLAGS, RECOMMENDATIONS, type CampaignScore, type Flag, type Recommendation } from './types.js';

export interface RunWarning {
  /** Stable code for alerting and tests. */
  code: 'MISSING_DATA_SHARE' | 'SCORED_COUNT_DROP' | 'MIXED_CURRENCIES';
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

/** What a run-level check reads of one score. `currency` and `targetSource` come from its details. */
export type ScoredForSummary = Pick<CampaignScore, 'recommendation' | 'flags'> & {
  currency?: string | null;
  targetSource?: string | null;
};

/**
 * The two run-level checks of scoring.md section 7, plus counts per
 * recommendation and flag, and one of ours: campaigns in several currencies
 * measured against one configured target (100 USD and 100 IDR are not the
 * same cost per lead).
 */
export function summarizeRun(
  date: string,
  scores: readonly ScoredForSummary[],
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
      message:
        `${missing} of ${n} scored campaigns ` +
        `(${(share * 100).toFixed(1)}%) have missing spend or ` +
        `impressions, more than ${toNumber(missingLimit, 4) * 100}%: ` +
        `check the last fetch or import.`,
      value: share,
      limit: toNumber(missingLimit, 4),
    });
  }
  const dropLimit = config.runChecks.scoredDropShare;
  if (previous && previous.count > 0 && compare(rational(previous.count - n, previous.count), dropLimit) > 0) {
    const drop = toNumber(rational(previous.count - n, previous.count), 4);
    warnings.push({
      code: 'SCORED_COUNT_DROP',
      message:
        `${n} campaigns scored for ${date}, ${(drop * 100).toFixed(1)}% ` +
        `fewer than the ${previous.count} scored for ${previous.date} ` +
        `(limit ${toNumber(dropLimit, 4) * 100}%): data may be missing for ${date}.`,
      value: drop,
      limit: toNumber(dropLimit, 4),
    });
  }
  if ('any' in config.targetCpql) {
    const currencies = [
      ...new Set(scores.filter((s) => s.targetSource === 'default' && s.currency).map((s) => s.currency!)),
    ].sort();
    if (currencies.length > 1) {
      const t = toNumber(config.targetCpql.any, 2);
      warnings.push({
        code: 'MIXED_CURRENCIES',
        message:
          `campaigns in ${currencies.join(', ')} are all measured against ` +
          `the one target_cpql ${t}: give target_cpql per currency ` +
          `({"${currencies[0]}": …, "${currencies[1]}": …}) or set the ` +
          `clients' targets.`,
        value: currencies.length,
        limit: 1,
      });
    }
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
export function topReasons(
  details: { dimensions?: Record<string, { points: number; max: number; reason: string }> },
  count = 2,
): string[] {
  const dims = Object.values(details.dimensions ?? {});
  return dims
    .map((d, i) => ({ d, i, shortfall: d.max === 0 ? 0 : (d.max - d.points) / d.max }))
    .sort((a, b) => b.shortfall - a.shortfall || a.i - b.i)
    .slice(0, count)
    .map((x) => x.d.reason);
}
