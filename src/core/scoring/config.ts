import { createHash } from 'node:crypto';
import { compare, fromNumber, type Rational } from '../rational.js';
import { DEFAULT_DECISION_SETTINGS, type DecisionSettings, decisionSettingsProblems } from './decision.js';

/** The five scored dimensions, in the order scoring.md lists them. */
export const DIMENSIONS = ['cost_efficiency', 'lead_quality', 'volume', 'trend', 'engagement'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/**
 * The scoring configuration as written in a `--config` JSON file (snake_case,
 * plain numbers). Every key is optional in a file: missing keys keep the
 * defaults of scoring.md. This normalized, complete form is what is hashed
 * into the configuration identity and stored with every score.
 */
export interface ScoringConfigFile {
  /**
   * Default target cost per qualified lead `T`, in the campaign's currency; clients may override.
   * One number for every currency, or per ISO 4217 code with an optional `"*"` for any other
   * (`{"USD": 100, "IDR": 1500000}`): a campaign whose currency is not listed has no target.
   */
  target_cpql: number | Record<string, number>;
  /**
   * The currency of a plain target number (`target_cpql` or `target_cpl` given as one number), ISO 4217: such a target
   * is T for campaigns in this currency and for those whose currency is unknown, and no target at all for the others
   * (100 means 100 USD, never 100 IDR).
   */
  currency: string;
  /**
   * Target cost per lead `T_L`, same shapes and currency rules as target_cpql; null for none. A campaign that brought
   * leads but whose qualification is unknown (NO_QUALIFIED_DATA) is scored on its cost per lead against it, and is
   * INSUFFICIENT_DATA without it.
   */
  target_cpl: number | Record<string, number> | null;
  /** Lead statuses that count as qualified, compared case-insensitively. */
  qualified_statuses: string[];
  /**
   * Lead statuses that are not final (the CRM has not said yet whether the lead qualifies), compared
   * case-insensitively: a lead at one of them younger than its client's qualification lag is unknown to the
   * evidence of the action, not unqualified (docs/decisions.md).
   */
  pending_statuses: string[];
  /**
   * Per dimension: the maximum points and the curve breakpoints `[x, points]`.
   * For cost_efficiency, x is a multiple of `T` (0.5 means half the target).
   */
  dimensions: Record<Dimension, { max: number; breakpoints: [number, number][] }>;
  /** Trend points when there is not enough history (either period has no spend). */
  trend_neutral_points: number;
  /** Trend points when prior efficiency was 0 and recent efficiency is above 0. */
  trend_from_zero_points: number;
  /** Lowest total (inclusive) for each recommendation, 0–100. */
  thresholds: { increase_budget: number; continue_optimize: number; test_changes: number; reduce_budget: number };
  /** A campaign is new when younger than max_age_days or with fewer than min_data_days metric rows in the window. */
  new_campaign: { max_age_days: number; min_data_days: number };
  /**
   * Data-quality flag limits. high_cpl_multiple a multiple of the target `T` (cost per lead above
   * 10 × T), high_ctr a fraction, overspend a multiple of daily budget, score_jump in points.
   */
  flags: {
    high_cpl_multiple: number;
    high_ctr: number;
    overspend_factor: number;
    score_jump: number;
    spend_spike_factor: number;
  };
  /**
   * Run-level checks: share of campaigns with missing data, and drop in campaigns scored vs the previous scored date
   * (fractions).
   */
  run_checks: { missing_data_share: number; scored_drop_share: number };
  /**
   * The gates of the action (docs/decisions.md): probabilities from 0 to 1, a spend multiple of the target (0 or
   * more), and persistence in scored dates (1 or more). They change the configuration identity like every key.
   */
  decision: {
    cut_probability: number;
    min_spend_multiple: number;
    risk_probability: number;
    recent_strictness: number;
    increase_probability: number;
    release_probability: number;
    persistence: number;
    long_window_days: number;
    default_lag_days: number;
  };
}

export const DEFAULT_SCORING_CONFIG: ScoringConfigFile = Object.freeze({
  target_cpql: 100,
  currency: 'USD',
  target_cpl: null,
  qualified_statuses: ['qualified', 'converted'],
  pending_statuses: ['new', 'contacted'],
  dimensions: {
    cost_efficiency: {
      max: 25,
      breakpoints: [
        [0.5, 25],
        [1, 20],
        [3.5, 0],
      ],
    },
    lead_quality: {
      max: 25,
      breakpoints: [
        [0, 0],
        [0.1, 5],
        [0.3, 20],
        [0.5, 25],
      ],
    },
    volume: {
      max: 20,
      breakpoints: [
        [0, 0],
        [5, 6],
        [20, 14],
        [50, 20],
      ],
    },
    trend: {
      max: 20,
      breakpoints: [
        [-0.5, 0],
        [0, 10],
        [0.5, 20],
      ],
    },
    engagement: {
      max: 10,
      breakpoints: [
        [0, 0],
        [0.005, 3],
        [0.01, 6],
        [0.02, 10],
      ],
    },
  },
  trend_neutral_points: 10,
  trend_from_zero_points: 20,
  thresholds: { increase_budget: 80, continue_optimize: 60, test_changes: 40, reduce_budget: 20 },
  new_campaign: { max_age_days: 14, min_data_days: 7 },
  flags: { high_cpl_multiple: 10, high_ctr: 0.5, overspend_factor: 1.5, score_jump: 50, spend_spike_factor: 1.5 },
  run_checks: { missing_data_share: 0.2, scored_drop_share: 0.3 },
  decision: {
    cut_probability: DEFAULT_DECISION_SETTINGS.cutProbability,
    min_spend_multiple: DEFAULT_DECISION_SETTINGS.minSpendMultiple,
    risk_probability: DEFAULT_DECISION_SETTINGS.riskProbability,
    recent_strictness: DEFAULT_DECISION_SETTINGS.recentStrictness,
    increase_probability: DEFAULT_DECISION_SETTINGS.increaseProbability,
    release_probability: DEFAULT_DECISION_SETTINGS.releaseProbability,
    persistence: DEFAULT_DECISION_SETTINGS.persistence,
    long_window_days: DEFAULT_DECISION_SETTINGS.longWindowDays,
    default_lag_days: DEFAULT_DECISION_SETTINGS.defaultLagDays,
  },
}) as ScoringConfigFile;

export interface Breakpoint {
  x: Rational;
  y: Rational;
}

/** The configuration in the exact form the scoring core computes with. */
export interface ScoringConfig {
  /** Identity of this configuration: `cfg_` + 16 hex digits of the SHA-256 of its canonical JSON. */
  id: string;
  /** The complete configuration as stored in `scoring_configs`. */
  file: ScoringConfigFile;
  /** `T`: one number in `currency`, or per currency code with `*` as the fallback. */
  targetCpql: TargetSetting;
  /** `T_L` likewise, or null when no target cost per lead is set. */
  targetCpl: TargetSetting | null;
  /** The currency of a plain target number (ISO 4217, capitals). */
  currency: string;
  qualifiedStatuses: string[];
  /** Non-final statuses, lower case. */
  pendingStatuses: string[];
  curves: Record<Dimension, { max: Rational; breakpoints: Breakpoint[] }>;
  trendNeutral: Rational;
  trendFromZero: Rational;
  thresholds: { increaseBudget: Rational; continueOptimize: Rational; testChanges: Rational; reduceBudget: Rational };
  newCampaign: { maxAgeDays: number; minDataDays: number };
  flags: {
    highCplMultiple: Rational;
    highCtr: Rational;
    overspendFactor: Rational;
    scoreJump: Rational;
    spendSpikeFactor: Rational;
  };
  runChecks: { missingDataShare: Rational; scoredDropShare: Rational };
  /** The gates of the action. */
  decision: DecisionSettings;
}

/** A target setting: one number in the configuration's currency, or per currency code with `*` as the fallback. */
export type TargetSetting = { plain: Rational } | { byCurrency: ReadonlyMap<string, Rational> };

export type ConfigResult = { ok: true; config: ScoringConfig } | { ok: false; problems: string[] };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep-merges a user's partial file over the defaults; arrays replace. Records unknown keys as problems. */
function merge(base: unknown, override: unknown, path: string, problems: string[]): unknown {
  if (override === undefined) return base;
  // Settings whose value may be a number or an object of their own: taken whole, checked later.
  if (path === 'target_cpql' || path === 'target_cpl') return override;
  if (isPlainObject(base)) {
    if (!isPlainObject(override)) {
      problems.push(`${path || 'configuration'}: expected an object`);
      return base;
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(base))
      out[key] = merge(base[key], override[key], path ? `${path}.${key}` : key, problems);
    for (const key of Object.keys(override)) {
      if (`${path}.${key}` === 'flags.high_cpl') {
        problems.push(
          'flags.high_cpl: replaced by flags.high_cpl_multiple, a multiple ' +
            'of the target T (default 10: a cost per lead above 10 × T)',
        );
      } else if (!Object.hasOwn(base, key))
        // Own keys only: `constructor`, `toString` or `__proto__` are not settings because every object has them.
        problems.push(`${path ? `${path}.` : ''}${key}: unknown setting (known: ${Object.keys(base).join(', ')})`);
    }
    return out;
  }
  return override;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isPlainObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Builds the effective scoring configuration from an optional partial file
 * (already parsed JSON). Every problem is collected and returned at once.
 */
export function resolveScoringConfig(partial: unknown = {}): ConfigResult {
  const problems: string[] = [];
  const file = merge(DEFAULT_SCORING_CONFIG, partial, '', problems) as ScoringConfigFile;

  const num = (path: string, v: unknown, check?: (n: number) => string | null): Rational => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      problems.push(`${path}: expected a number, got ${JSON.stringify(v)}`);
      return fromNumber(0);
    }
    // Exact rationals from a double: 1e21 or 5e-324 would make numbers of hundreds of digits (and a division by
    // zero); no setting needs more than twelve digits either side of the point.
    if (v !== 0 && (Math.abs(v) > 1e12 || Math.abs(v) < 1e-9)) {
      problems.push(`${path}: ${v} is out of range; use a decimal between 0.000000001 and 1000000000000 (or 0)`);
      return fromNumber(0);
    }
    const msg = check?.(v);
    if (msg) problems.push(`${path}: ${msg}, got ${v}`);
    return fromNumber(v);
  };
  const positive = (n: number): string | null => (n > 0 ? null : 'must be greater than 0');
  const nonNegative = (n: number): string | null => (n >= 0 ? null : 'must not be negative');
  const fraction = (n: number): string | null => (n >= 0 && n <= 1 ? null : 'must be between 0 and 1');
  const wholeDays = (path: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      problems.push(`${path}: expected a whole number of days (0 or more), got ${JSON.stringify(v)}`);
      return 0;
    }
    return v;
  };

  const curves = {} as ScoringConfig['curves'];
  for (const dim of DIMENSIONS) {
    const spec = file.dimensions?.[dim];
    const path = `dimensions.${dim}`;
    const max = num(`${path}.max`, spec?.max, positive);
    const points: Breakpoint[] = [];
    if (!Array.isArray(spec?.breakpoints) || spec.breakpoints.length < 2) {
      problems.push(`${path}.breakpoints: expected at least two [x, points] pairs`);
    } else {
      spec.breakpoints.forEach((bp, i) => {
        if (!Array.isArray(bp) || bp.length !== 2) {
          problems.push(`${path}.breakpoints[${i}]: expected [x, points]`);
          return;
        }
        const x = num(`${path}.breakpoints[${i}][0]`, bp[0]);
        const y = num(`${path}.breakpoints[${i}][1]`, bp[1], nonNegative);
        if (compare(y, max) > 0)
          problems.push(`${path}.breakpoints[${i}]: ${bp[1]} points exceeds the maximum ${spec.max}`);
        const prev = points[points.length - 1];
        if (prev && compare(x, prev.x) <= 0)
          problems.push(`${path}.breakpoints: x values must increase strictly (at index ${i})`);
        points.push({ x, y });
      });
    }
    curves[dim] = { max, breakpoints: points };
  }

  const statuses = file.qualified_statuses;
  if (
    !Array.isArray(statuses) ||
    statuses.length === 0 ||
    statuses.some((s) => typeof s !== 'string' || s.trim() === '')
  ) {
    problems.push('qualified_statuses: expected a non-empty list of status names');
  }
  const pending = file.pending_statuses;
  if (!Array.isArray(pending) || pending.some((s) => typeof s !== 'string' || s.trim() === '')) {
    problems.push('pending_statuses: expected a list of status names (may be empty)');
  } else if (Array.isArray(statuses)) {
    const q = new Set(statuses.map((s) => String(s).trim().toLowerCase()));
    const both = pending.filter((s) => q.has(s.trim().toLowerCase()));
    if (both.length > 0)
      problems.push(`pending_statuses: ${both.join(', ')} also in qualified_statuses; a status is one or the other`);
  }
  const currency = typeof file.currency === 'string' ? file.currency : '';
  if (!/^[A-Z]{3}$/.test(currency))
    problems.push(
      `currency: ${JSON.stringify(file.currency)} is not an ISO 4217 code in capitals (USD, EUR, IDR); ` +
        'it is the currency of a plain target number',
    );

  const trendMax = curves.trend.max;
  const trendNeutral = num('trend_neutral_points', file.trend_neutral_points, nonNegative);
  const trendFromZero = num('trend_from_zero_points', file.trend_from_zero_points, nonNegative);
  if (compare(trendNeutral, trendMax) > 0) problems.push('trend_neutral_points: exceeds dimensions.trend.max');
  if (compare(trendFromZero, trendMax) > 0) problems.push('trend_from_zero_points: exceeds dimensions.trend.max');

  const t = file.thresholds ?? ({} as ScoringConfigFile['thresholds']);
  const thresholds = {
    increaseBudget: num('thresholds.increase_budget', t.increase_budget, nonNegative),
    continueOptimize: num('thresholds.continue_optimize', t.continue_optimize, nonNegative),
    testChanges: num('thresholds.test_changes', t.test_changes, nonNegative),
    reduceBudget: num('thresholds.reduce_budget', t.reduce_budget, nonNegative),
  };
  const order = [
    thresholds.reduceBudget,
    thresholds.testChanges,
    thresholds.continueOptimize,
    thresholds.increaseBudget,
  ];
  if (order.some((v, i) => i > 0 && compare(order[i - 1]!, v) > 0)) {
    problems.push('thresholds: must satisfy reduce_budget <= test_changes <= continue_optimize <= increase_budget');
  }

  const decision = resolveDecision(file.decision, problems);
  const f = file.flags ?? ({} as ScoringConfigFile['flags']);
  const rc = file.run_checks ?? ({} as ScoringConfigFile['run_checks']);
  const config: ScoringConfig = {
    id: '',
    file,
    targetCpql: resolveTarget('target_cpql', file.target_cpql, num, problems),
    targetCpl: file.target_cpl === null ? null : resolveTarget('target_cpl', file.target_cpl, num, problems),
    currency,
    qualifiedStatuses: Array.isArray(statuses) ? statuses.map((s) => String(s).trim().toLowerCase()) : [],
    pendingStatuses: Array.isArray(pending) ? pending.map((s) => String(s).trim().toLowerCase()) : [],
    curves,
    trendNeutral,
    trendFromZero,
    thresholds,
    newCampaign: {
      maxAgeDays: wholeDays('new_campaign.max_age_days', file.new_campaign?.max_age_days),
      minDataDays: wholeDays('new_campaign.min_data_days', file.new_campaign?.min_data_days),
    },
    flags: {
      highCplMultiple: num('flags.high_cpl_multiple', f.high_cpl_multiple, positive),
      highCtr: num('flags.high_ctr', f.high_ctr, fraction),
      overspendFactor: num('flags.overspend_factor', f.overspend_factor, positive),
      scoreJump: num('flags.score_jump', f.score_jump, nonNegative),
      spendSpikeFactor: num('flags.spend_spike_factor', f.spend_spike_factor, positive),
    },
    runChecks: {
      missingDataShare: num('run_checks.missing_data_share', rc.missing_data_share, fraction),
      scoredDropShare: num('run_checks.scored_drop_share', rc.scored_drop_share, fraction),
    },
    decision,
  };
  if (problems.length > 0) return { ok: false, problems };
  config.id = `cfg_${createHash('sha256').update(canonicalJson(file)).digest('hex').slice(0, 16)}`;
  return { ok: true, config: Object.freeze(config) };
}

/** The decision gates from the file's snake_case keys; every problem (a type or a gate that makes no sense) listed. */
function resolveDecision(d: ScoringConfigFile['decision'] | undefined, problems: string[]): DecisionSettings {
  const keys = {
    cutProbability: 'cut_probability',
    minSpendMultiple: 'min_spend_multiple',
    riskProbability: 'risk_probability',
    recentStrictness: 'recent_strictness',
    increaseProbability: 'increase_probability',
    releaseProbability: 'release_probability',
    persistence: 'persistence',
    longWindowDays: 'long_window_days',
    defaultLagDays: 'default_lag_days',
  } as const;
  const settings = { ...DEFAULT_DECISION_SETTINGS };
  let typed = true;
  for (const [camel, snakeKey] of Object.entries(keys) as [keyof DecisionSettings, string][]) {
    const v = (d as Record<string, unknown> | undefined)?.[snakeKey];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      problems.push(`decision.${snakeKey}: expected a number, got ${JSON.stringify(v)}`);
      typed = false;
    } else settings[camel] = v;
  }
  if (typed) problems.push(...decisionSettingsProblems(settings));
  return settings;
}

type NumberCheck = (path: string, v: unknown, check?: (n: number) => string | null) => Rational;

/** A target (`target_cpql`, `target_cpl`) as one number, or an object of ISO 4217 codes (and `*`) to numbers. */
function resolveTarget(key: string, value: unknown, num: NumberCheck, problems: string[]): TargetSetting {
  const positive = (n: number): string | null => (n > 0 ? null : 'must be greater than 0');
  if (!isPlainObject(value)) return { plain: num(key, value, positive) };
  const byCurrency = new Map<string, Rational>();
  for (const [code, v] of Object.entries(value)) {
    if (code !== '*' && !/^[A-Z]{3}$/.test(code)) {
      problems.push(
        `${key}.${code}: not a currency code; use ISO 4217 codes in ` +
          `capitals (USD, EUR, IDR) or "*" for any other currency`,
      );
      continue;
    }
    byCurrency.set(code, num(`${key}.${code}`, v, positive));
  }
  if (byCurrency.size === 0 && Object.keys(value).length === 0)
    problems.push(
      `${key}: an empty object gives no campaign a target; name currencies ({"USD": 100}) or use one number`,
    );
  return { byCurrency };
}

/** Where a campaign's target came from: its client, the configuration's currency entry, or its plain number / "*". */
export type TargetSource = 'client' | 'default' | 'currency';

/**
 * A target of a setting for a campaign's currency: the client's own when set (stated in its own currency), else the
 * setting's. A plain number is in the configuration's currency: it holds for that currency and for an unknown one,
 * and for no other (scoring.md section 4, v3). Null when there is none.
 */
export function targetIn(
  setting: TargetSetting | null,
  configCurrency: string,
  currency: string | null,
  clientTarget: Rational | null,
): { target: Rational; source: TargetSource } | null {
  if (clientTarget !== null) return { target: clientTarget, source: 'client' };
  if (setting === null) return null;
  const code = currency === null || currency.trim() === '' ? null : currency.trim().toUpperCase();
  if ('plain' in setting)
    return code === null || code === configCurrency ? { target: setting.plain, source: 'default' } : null;
  const own = code === null ? undefined : setting.byCurrency.get(code);
  if (own !== undefined) return { target: own, source: 'currency' };
  const fallback = setting.byCurrency.get('*');
  return fallback === undefined ? null : { target: fallback, source: 'default' };
}

/**
 * The target cost per qualified lead `T` of a campaign: its client's, else the configuration's for its currency;
 * null when there is none (NO_TARGET).
 */
export function targetFor(
  config: ScoringConfig,
  currency: string | null,
  clientTarget: Rational | null,
): { target: Rational; source: TargetSource } | null {
  return targetIn(config.targetCpql, config.currency, currency, clientTarget);
}

/** The default configuration of scoring.md. */
export function defaultScoringConfig(): ScoringConfig {
  const r = resolveScoringConfig({});
  if (!r.ok) throw new Error(`default scoring configuration is invalid: ${r.problems.join('; ')}`);
  return r.config;
}
