import { dateInZone } from '../../core/dates.js';
import type { ScoreCampaignsResult, ScoreOutcome } from '../../core/reports/score-campaigns.js';
import {
  type ActedScore,
  actionsOff,
  actOn,
  addToPriorMoments,
  type PriorMoments,
  priorCache,
  priorKey,
  type RunSummary,
  type ScoringConfig,
  scoreCampaign,
  summarizeRun,
  topReasons,
} from '../../core/scoring/index.js';
import type { ScoringInput } from '../../db/repositories/scoring-inputs.js';
import type { JobDeps } from '../../runtime/job-deps.js';
import { TempFailError } from '../../errors.js';

export interface ScoreCampaignsOptions {
  /** The scoring date D (YYYY-MM-DD). */
  date: string;
  config: ScoringConfig;
  /** Where the configuration came from: a file path, or "defaults". */
  configSource: string;
  /** Keep each campaign's weakest reason, for one line per campaign (--list). */
  list: boolean;
}

function outcomeOf(s: ActedScore, name: string | null, keepReason: boolean): ScoreOutcome {
  const weakest = !keepReason
    ? null
    : s.recommendation === 'INSUFFICIENT_DATA'
      ? String(s.details.reason)
      : (topReasons(s.details as never, 1)[0] ?? '');
  const d = s.details as { currency?: string | null };
  return {
    campaignId: s.campaignId,
    name,
    totalHundredths: s.totalHundredths,
    recommendation: s.recommendation,
    action: s.act.action,
    actionReason: keepReason ? s.act.reason : null,
    flags: s.flags,
    weakest,
    currency: d.currency ?? null,
  };
}

/**
 * Scores every campaign with metrics in the 30 days ending on `options.date` and replaces that date's scores (and
 * adds to score_history) in one transaction; with deps.dryRun, scores and writes nothing. Then applies retention.
 */
export async function scoreCampaigns(deps: JobDeps, options: ScoreCampaignsOptions): Promise<ScoreCampaignsResult> {
  // The data layer loads here, not at the top: --help does not need it.
  const { openScoringSource } = await import('../../db/repositories/scoring-inputs.js');
  const {
    clearScores,
    ensureHistoryPartition,
    PartitionLockTimeout,
    recordScoringRun,
    writePriorMoments,
    writeScores,
  } = await import('../../db/repositories/scoring.repository.js');
  const { date, config, list } = options;
  const started = Date.now();
  // One snapshot for every input of the run, read in chunks of campaigns while earlier chunks are scored and written.
  const source = await openScoringSource(deps.database, date, config, deps.config.scoringChunkCampaigns, {
    actions: deps.config.scoringActions,
  });
  // Scores are computed one at a time as the write consumes them; only a compact outcome stays.
  const outcomes: ScoreOutcome[] = [];
  // The client priors come from the previous scored date (docs/decisions.md); built once per client and currency.
  let priors: ReturnType<typeof priorCache> | null = null;
  // This date's moments, for the next date's priors (stored with the scores).
  const moments = new Map<string, PriorMoments>();
  function* scoreChunk(inputs: ScoringInput[]): Generator<ActedScore> {
    for (const input of inputs) {
      const s = scoreCampaign(input.facts, date, config);
      const key = priorKey(input.clientId, input.facts.currency);
      const act = deps.config.scoringActions
        ? actOn(s, input.facts, config, input.previous, (target) => priors!(key, target))
        : actionsOff(s);
      addToPriorMoments(moments, key, act);
      const acted: ActedScore = Object.assign(s, { act });
      outcomes.push(outcomeOf(acted, input.campaignName, list));
      yield acted;
    }
  }
  async function* scoreAll(): AsyncGenerator<Iterable<ActedScore>> {
    for await (const inputs of source.chunks()) {
      deps.throwIfInterrupted();
      priors ??= priorCache(await source.priorSamples);
      yield scoreChunk(inputs);
    }
  }
  let summary: RunSummary;
  try {
    if (deps.dryRun) {
      for await (const scores of scoreAll()) for (const _ of scores);
      summary = summarizeRun(date, outcomes, source.previous, config);
    } else {
      try {
        await ensureHistoryPartition(deps.db, date);
      } catch (error) {
        if (error instanceof PartitionLockTimeout) throw new TempFailError(error.message, { cause: error });
        throw error;
      }
      summary = await deps.transaction(async (work) => {
        // The old scores are deleted on the transaction's connection while the first chunks are read on the others.
        await clearScores(work.trx, date, config);
        await writeScores(work, scoreAll(), config, deps.runId);
        await writePriorMoments(work.trx, date, moments);
        const s = summarizeRun(date, outcomes, source.previous, config);
        if (deps.runId !== null) await recordScoringRun(work.trx, deps.runId, s);
        return s;
      });
    }
  } finally {
    await source.close();
  }
  for (const w of summary.warnings) deps.logger.warn(w.message, { code: w.code, value: w.value, limit: w.limit, date });
  if (!deps.dryRun) await applyRetention(deps, date);
  deps.logger.info(`${deps.dryRun ? 'would score' : 'scored'} ${outcomes.length} campaigns for ${date}`, {
    date,
    config_id: config.id,
    config_source: options.configSource,
    chunks: source.chunkCount,
    read_wait_ms: Math.round(source.waitMs),
    total_ms: Date.now() - started,
    warnings: summary.warnings.length,
  });
  return {
    date,
    dryRun: deps.dryRun,
    configId: config.id,
    configSource: options.configSource,
    summary,
    outcomes,
    list,
  };
}

/**
 * Retention, after the scores are committed: old score_history months dropped whole, old job_runs and digest
 * bodies. Retention that cannot take its locks is put off to the next run, not a failure: the scores are in.
 */
async function applyRetention(deps: JobDeps, keepDate: string): Promise<void> {
  const { applyRetention: dropExpired } = await import('../../db/repositories/scoring.repository.js');
  const started = performance.now();
  const kept = await dropExpired(deps.db, dateInZone(deps.clock.now(), 'UTC'), keepDate, deps.config.retention).catch(
    (error: unknown) => {
      deps.logger.warn(`retention put off to the next run: ${(error as Error).message}`);
      return { partitions: [], jobRuns: 0, digestBodies: 0 };
    },
  );
  if (kept.partitions.length + kept.jobRuns + kept.digestBodies > 0) {
    deps.logger.info(
      `retention: dropped score_history ${kept.partitions.join(', ') || 'nothing'}; ` +
        `removed ${kept.jobRuns} job_runs row(s); cleared ${kept.digestBodies} digest bod(ies)`,
      {
        partitions_dropped: kept.partitions,
        job_runs_removed: kept.jobRuns,
        digest_bodies_cleared: kept.digestBodies,
        retention_ms: Math.round(performance.now() - started),
      },
    );
  }
}
