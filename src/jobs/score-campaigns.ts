import { readFile } from 'node:fs/promises';
import { dateInZone, addDays, isIsoDate } from '../core/dates.js';
import { formatHundredths } from '../core/rational.js';
import { displayWidth, fitToWidth } from '../core/text/columns.js';
import {
  notJudgedReason,
  resolveScoringConfig,
  scoreCampaign,
  summarizeRun,
  topReasons,
  type CampaignScore,
  type Flag,
  type Recommendation,
  type RunSummary,
  type ScoringConfig,
} from '../core/scoring/index.js';
import type { ScoringInput } from '../db/repositories/scoring-inputs.js';
import { ConfigError, UsageError } from '../errors.js';
import type { JobDefinition } from '../runtime/runner.js';

export interface ScoreCampaignsOptions {
  /** The scoring date D (YYYY-MM-DD). */
  date: string;
  config: ScoringConfig;
  /** Where the configuration came from: a file path, or "defaults". */
  configSource: string;
  /** Print one line per campaign (name, score, recommendation, weakest reasons). */
  list: boolean;
}

async function readScoringConfig(path: string | undefined): Promise<{ config: ScoringConfig; source: string }> {
  if (path === undefined) {
    const r = resolveScoringConfig({});
    if (!r.ok) throw new ConfigError('built-in scoring configuration is invalid', { problems: r.problems });
    return { config: r.config, source: 'defaults' };
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `--config ${path}: cannot read the file ` +
        `(${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ` +
        `check the path, or leave --config out to use the defaults`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      `--config ${path}: not valid JSON (${(error as Error).message}); ` +
        `see README.md, Scoring configuration, for the format`,
    );
  }
  const r = resolveScoringConfig(parsed);
  if (!r.ok)
    throw new ConfigError(
      `--config ${path}: ${r.problems.length} invalid setting${r.problems.length === 1 ? '' : 's'}; nothing was scored`,
      { problems: r.problems },
    );
  return { config: r.config, source: path };
}

/** What the run keeps of each score once it is written: enough for the summary and --list. */
interface ScoreOutcome {
  campaignId: string;
  name: string | null;
  totalHundredths: bigint;
  recommendation: Recommendation;
  flags: Flag[];
  /** The weakest dimension's reason, only kept for --list. */
  weakest: string | null;
  currency: string | null;
  targetSource: string | null;
}

function outcomeOf(s: CampaignScore, name: string | null, keepReason: boolean): ScoreOutcome {
  const weakest = !keepReason
    ? null
    : s.recommendation === 'INSUFFICIENT_DATA'
      ? String(s.details.reason)
      : (topReasons(s.details as never, 1)[0] ?? '');
  const d = s.details as { currency?: string | null; target_cpql_source?: string | null };
  return {
    campaignId: s.campaignId,
    name,
    totalHundredths: s.totalHundredths,
    recommendation: s.recommendation,
    flags: s.flags,
    weakest,
    currency: d.currency ?? null,
    targetSource: d.target_cpql_source ?? null,
  };
}

const NAME_WIDTH = 34;

/**
 * One line per campaign: its name cut to NAME_WIDTH cells by grapheme and display width (emoji and wide characters
 * keep the columns straight), then its id in full, so two names that only differ past the cut stay apart.
 */
function formatTable(outcomes: readonly ScoreOutcome[]): string {
  const sorted = [...outcomes].sort((a, b) =>
    a.totalHundredths === b.totalHundredths
      ? a.campaignId.localeCompare(b.campaignId)
      : a.totalHundredths > b.totalHundredths
        ? -1
        : 1,
  );
  const idWidth = Math.max('campaign id'.length, ...sorted.map((s) => displayWidth(s.campaignId)));
  const line = (name: string, id: string, score: string, rec: string, rest: string): string =>
    `${fitToWidth(name, NAME_WIDTH)}  ` +
    `${fitToWidth(id, idWidth)}  ` +
    `${fitToWidth(score, 6, 'right')}  ${rec.padEnd(17)} ${rest}`.trimEnd();
  const rows = sorted.map((s) => {
    const flags = s.flags.length > 0 ? ` [${s.flags.join(',')}]` : '';
    // A campaign not judged on leads or on a target says why instead of a weakest point.
    const why = notJudgedReason(s.flags) ?? s.weakest ?? '';
    return line(s.name ?? '', s.campaignId, formatHundredths(s.totalHundredths), s.recommendation, `${why}${flags}`);
  });
  return [line('campaign', 'campaign id', 'score', 'recommendation', 'weakest point'), ...rows].join('\n');
}

function formatSummary(summary: RunSummary, dryRun: boolean): string {
  const recs = Object.entries(summary.recommendations)
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  const flags = Object.entries(summary.flags)
    .filter(([, n]) => n > 0)
    .map(([f, n]) => `${f} ${n}`)
    .join(', ');
  const lines = [
    `${dryRun ? 'Would score' : 'Scored'} ${summary.campaignsScored} ` +
      `campaign${summary.campaignsScored === 1 ? '' : 's'} ` +
      `for ${summary.date} (configuration ${summary.configId}).`,
    `Recommendations: ${recs || 'none'}.`,
    `Flags: ${flags || 'none'}.`,
    ...summary.warnings.map((w) => `WARNING ${w.code}: ${w.message}`),
  ];
  return lines.join('\n');
}

export const scoreCampaignsJob: JobDefinition<ScoreCampaignsOptions> = {
  name: 'score-campaigns',
  description:
    'Score every campaign with metrics in the 30 days ending on ' +
    '--date and store score, recommendation and reasons (docs/scoring.md).',
  examples: [
    'bin/score-campaigns                      # score yesterday',
    'bin/score-campaigns --date 2025-11-15    # re-score a day by hand',
    'bin/score-campaigns --date 2025-11-15 --dry-run --list',
    'bin/score-campaigns --config scoring.json --json',
  ],
  writes: true,
  // The lock's connection, the transaction's, and the two that read the snapshot.
  poolSize: 4,
  addOptions(cmd) {
    cmd
      .option('--date <YYYY-MM-DD>', 'the date to score (default: yesterday in SCORING_TIMEZONE, UTC unless set)')
      .option(
        '--config <file>',
        'scoring configuration JSON overriding the defaults (default: SCORING_CONFIG, else the defaults of scoring.md)',
      )
      .option('--list', 'also print one line per campaign: score, recommendation and its weakest point');
  },
  async parseOptions(raw, _args, { clock, config }) {
    const today = dateInZone(clock.now(), config.timezone);
    let date = addDays(today, -1);
    if (raw.date !== undefined) {
      const d = String(raw.date);
      if (!isIsoDate(d))
        throw new UsageError(`--date ${d}: not a calendar date; expected YYYY-MM-DD, for example --date ${date}`);
      if (d > today)
        throw new UsageError(
          `--date ${d} is in the future (today is ${today} ` +
            `in ${config.timezone}); scores need the day's data: use ${date} or earlier`,
        );
      date = d;
    }
    const configPath = (raw.config as string | undefined) ?? config.scoringConfigPath;
    const { config: scoring, source } = await readScoringConfig(configPath);
    return { date, config: scoring, configSource: source, list: raw.list === true };
  },
  async run(ctx) {
    // The data layer loads here, not at the top: --help does not need it.
    const { openScoringSource } = await import('../db/repositories/scoring-inputs.js');
    const { applyRetention, clearScores, ensureHistoryPartition, recordScoringRun, writeScores } = await import(
      '../db/repositories/scoring.repository.js'
    );
    const { date, config, list } = ctx.options;
    const started = Date.now();
    // One snapshot for every input of the run, read in chunks of campaigns while earlier chunks are scored and written.
    const source = await openScoringSource(
      ctx.database,
      date,
      config.qualifiedStatuses,
      ctx.config.scoringChunkCampaigns,
    );
    // Scores are computed one at a time as the write consumes them; only a compact outcome stays.
    const outcomes: ScoreOutcome[] = [];
    function* scoreChunk(inputs: ScoringInput[]): Generator<CampaignScore> {
      for (const input of inputs) {
        const s = scoreCampaign(input.facts, date, config);
        outcomes.push(outcomeOf(s, input.campaignName, list));
        yield s;
      }
    }
    async function* scoreAll(): AsyncGenerator<Iterable<CampaignScore>> {
      for await (const inputs of source.chunks()) {
        ctx.throwIfInterrupted();
        yield scoreChunk(inputs);
      }
    }
    let summary: RunSummary;
    try {
      if (ctx.dryRun) {
        for await (const scores of scoreAll()) for (const _ of scores);
        summary = summarizeRun(date, outcomes, source.previous, config);
      } else {
        await ensureHistoryPartition(ctx.db, date);
        summary = await ctx.transaction(async (work) => {
          // The old scores are deleted on the transaction's connection while the first chunks are read on the other
          // two.
          await clearScores(work.trx, date, config);
          await writeScores(work, scoreAll(), config, ctx.runId);
          const s = summarizeRun(date, outcomes, source.previous, config);
          if (ctx.runId !== null) await recordScoringRun(work.trx, ctx.runId, s);
          return s;
        });
      }
    } finally {
      await source.close();
    }
    for (const w of summary.warnings)
      ctx.logger.warn(w.message, { code: w.code, value: w.value, limit: w.limit, date });
    if (!ctx.dryRun) {
      // Retention, after the scores are committed: old score_history months dropped whole, old job_runs and digest
      // bodies.
      // The scores are committed by now: retention that cannot take its locks is put off to the next run, not a
      // failure.
      const retentionStarted = performance.now();
      const kept = await applyRetention(ctx.db, dateInZone(ctx.clock.now(), 'UTC'), date, ctx.config.retention).catch(
        (error: unknown) => {
          ctx.logger.warn(`retention put off to the next run: ${(error as Error).message}`);
          return { partitions: [], jobRuns: 0, digestBodies: 0 };
        },
      );
      if (kept.partitions.length + kept.jobRuns + kept.digestBodies > 0) {
        ctx.logger.info(
          `retention: dropped ` +
            `score_history ${kept.partitions.join(', ') || 'nothing'}; ` +
            `removed ${kept.jobRuns} job_runs row(s); ` +
            `cleared ${kept.digestBodies} digest bod(ies)`,
          {
            partitions_dropped: kept.partitions,
            job_runs_removed: kept.jobRuns,
            digest_bodies_cleared: kept.digestBodies,
            retention_ms: Math.round(performance.now() - retentionStarted),
          },
        );
      }
    }
    const text =
      formatSummary(summary, ctx.dryRun) + (list && outcomes.length > 0 ? `\n\n${formatTable(outcomes)}` : '');
    ctx.logger.info(`${ctx.dryRun ? 'would score' : 'scored'} ${outcomes.length} campaigns for ${date}`, {
      date,
      config_id: config.id,
      config_source: ctx.options.configSource,
      chunks: source.chunkCount,
      read_wait_ms: Math.round(source.waitMs),
      total_ms: Date.now() - started,
      warnings: summary.warnings.length,
    });
    return {
      counts: {
        campaigns_scored: summary.campaignsScored,
        warnings: summary.warnings.length,
        ...Object.fromEntries(Object.entries(summary.recommendations).map(([k, v]) => [k.toLowerCase(), v])),
      },
      summary: {
        date,
        dry_run: ctx.dryRun,
        config_id: config.id,
        config_source: ctx.options.configSource,
        campaigns_scored: summary.campaignsScored,
        recommendations: summary.recommendations,
        flags: summary.flags,
        warnings: summary.warnings,
        previous_scored_date: summary.previousScoredDate,
        previous_scored_count: summary.previousScoredCount,
      },
      text,
    };
  },
};
