import { isIsoDate } from '../core/dates.js';
import { reportBacktest } from '../core/reports/backtest-scoring.js';
import { UsageError } from '../errors.js';
import type { JobDefinition } from '../runtime/runner.js';
import { type BacktestOptions, backtestScoring } from './backtest-scoring/backtest.js';
import { readScoringConfig } from './scoring-config.js';

export type { BacktestOptions };

/** At most this many dates in one replay (a year and a quarter). */
const MAX_DATES = 460;

export const backtestScoringJob: JobDefinition<BacktestOptions> = {
  name: 'backtest-scoring',
  description:
    'Replay scoring and the action for every date of a range over the stored data, for one configuration or two side ' +
    'by side, and judge each action against what the campaign did next (docs/decisions.md). Writes nothing to the ' +
    'scoring tables.',
  examples: [
    'bin/backtest-scoring --from 2025-09-01 --to 2025-10-31',
    'bin/backtest-scoring --from 2025-09-01 --to 2025-10-31 --config stricter.json --against current.json --json',
    'bin/backtest-scoring --from 2025-10-01 --to 2025-10-31 --client acme --horizon 7',
  ],
  writes: false,
  addOptions(cmd) {
    cmd
      .requiredOption('--from <YYYY-MM-DD>', 'the first date to replay')
      .requiredOption('--to <YYYY-MM-DD>', 'the last date to replay')
      .option('--config <file>', 'the configuration replayed (default: SCORING_CONFIG, else the defaults)')
      .option(
        '--against <file>',
        'a second configuration, replayed side by side, and the campaigns whose action differs',
      )
      .option('--horizon <days>', 'days after each date over which its action is judged (1–90)', '14')
      .option('--client <id>', "only this client's campaigns");
  },
  async parseOptions(raw, args, { config }) {
    if (args.length > 0) throw new UsageError(`unexpected argument ${args[0]}`);
    const from = String(raw.from);
    const to = String(raw.to);
    for (const [flag, d] of [
      ['--from', from],
      ['--to', to],
    ] as const)
      if (!isIsoDate(d)) throw new UsageError(`${flag} ${d}: not a calendar date; expected YYYY-MM-DD`);
    if (to < from) throw new UsageError(`--to ${to} is before --from ${from}`);
    const days = (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;
    if (days > MAX_DATES)
      throw new UsageError(`--from ${from} --to ${to}: ${days} dates; at most ${MAX_DATES} at once`);
    const horizonText = String(raw.horizon);
    const horizon = Number(horizonText);
    if (!/^\d+$/.test(horizonText) || horizon < 1 || horizon > 90)
      throw new UsageError(`--horizon ${horizonText}: expected whole days from 1 to 90`);
    const clientId = raw.client === undefined ? null : String(raw.client).trim();
    if (clientId === '') throw new UsageError('--client: empty; name a client_id');
    const b = await readScoringConfig((raw.config as string | undefined) ?? config.scoringConfigPath);
    const configs = [{ label: 'B', config: b.config, source: b.source }];
    if (raw.against !== undefined) {
      const a = await readScoringConfig(String(raw.against), '--against');
      configs.push({ label: 'A', config: a.config, source: a.source });
    }
    return { from, to, horizon, clientId, configs };
  },
  async run(ctx) {
    return reportBacktest(await backtestScoring(ctx, ctx.options));
  },
};
