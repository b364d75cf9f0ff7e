import { addDays, dateInZone, isIsoDate } from '../core/dates.js';
import { reportScoreCampaigns } from '../core/reports/score-campaigns.js';
import { UsageError } from '../errors.js';
import type { JobDefinition } from '../runtime/runner.js';
import { type ScoreCampaignsOptions, scoreCampaigns } from './score-campaigns/score.js';
import { readScoringConfig } from './scoring-config.js';

export type { ScoreCampaignsOptions };

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
      if (d === today)
        throw new UsageError(
          `--date ${d} is today (in ${config.timezone}): its data is not complete until the day ends, and a score ` +
            `of part of a day would be read as the day's; use ${date} or earlier`,
        );
      date = d;
    }
    const configPath = (raw.config as string | undefined) ?? config.scoringConfigPath;
    const { config: scoring, source } = await readScoringConfig(configPath);
    return { date, config: scoring, configSource: source, list: raw.list === true };
  },
  async run(ctx) {
    return reportScoreCampaigns(await scoreCampaigns(ctx, ctx.options));
  },
};
