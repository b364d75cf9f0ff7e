import { compare, rational, toNumber } from '../rational.js';
import type { ScoringConfig } from './config.js';
import { FLAGS, RECOMMENDATIONS, type CampaignScore, type Flag, type Recommendation } from './types.js';

export interface RunWarning {
  /** Stable code for alerting and tests. */
  code: 'MISSING_DATA_SHARE' | 'SCORED_COUNT_DROP' | 'NO_TARGET_CURRENCIES';
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

/** What a run-level check reads of one score. `currency` comes from its details. */
export type ScoredForSummary = Pick<CampaignScore, 'recommendation' | 'flags'> & {
  currency?: string | null;
};

/**
 * The two run-level checks of scoring.md section 7, plus counts per
 * recommendation and flag, and one of ours: campaigns left without a target
 * because of their currency (100 USD and 100 IDR are not the same cost per
 * lead), with what to set.
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
  // A plain target is in the configuration's currency (scoring.md section 4, v3): campaigns in another currency
  // without a target of their own are not scored, and the run says which currencies and what to set.
  const untargeted = new Map<string, number>();
  for (const s of scores)
    if (s.currency && s.flags.includes('NO_TARGET')) untargeted.set(s.currency, (untargeted.get(s.currency) ?? 0) + 1);
  if (untargeted.size > 0) {
    const codes = [...untargeted.keys()].sort();
    const n = [...untargeted.values()].reduce((a, b) => a + b, 0);
    const setting =
      'plain' in config.targetCpql
        ? `the plain target_cpql ${toNumber(config.targetCpql.plain, 2)} is in ${config.currency} (the ` +
          "configuration's currency), never in another"
        : `target_cpql lists neither ${codes.length === 1 ? 'it' : 'them'} nor "*"`;
    warnings.push({
      code: 'NO_TARGET_CURRENCIES',
      message:
        `${n} campaign${n === 1 ? '' : 's'} in ${codes.join(', ')} ${n === 1 ? 'has' : 'have'} no target and ` +
        `${n === 1 ? 'is' : 'are'} not scored: ${setting}. Set target_cpql per currency ` +
        `({"${config.currency}": …, "${codes[0]}": …}) or the clients' own targets.`,
      value: codes.length,
      limit: 0,
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
