import { randomBytes } from 'node:crypto';
import { access, constants, rm, stat, writeFile, rename } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isIsoDate } from '../core/dates.js';
import { renderBacktestHtml } from '../core/reports/backtest-html.js';
import { reportBacktest } from '../core/reports/backtest-scoring.js';
import { UsageError } from '../errors.js';
import type { JobDefinition } from '../runtime/runner.js';
import { type BacktestOptions, backtestScoring } from './backtest-scoring/backtest.js';
import { readScoringConfig } from './scoring-config.js';

export type BacktestJobOptions = BacktestOptions & { html: string | null };

/** The page goes next to its name under a name no one else can have chosen, then is renamed over it. */
async function writePage(path: string, html: string): Promise<void> {
  const temporary = `${path}.partial-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(temporary, html, { flag: 'wx', mode: 0o644 });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new UsageError(`--html ${path}: cannot write it (${(error as Error).message}); choose a writable path`, {
      cause: error,
    });
  }
}

/** --html FILE is checked before the replay, so a typo does not cost the whole run. */
async function checkHtmlPath(value: string): Promise<string> {
  const path = resolve(value);
  const info = await stat(path).catch(() => null);
  if (info?.isDirectory())
    throw new UsageError(`--html ${value}: a directory; name a file, e.g. ${value}/backtest.html`);
  try {
    await access(dirname(path), constants.W_OK);
  } catch {
    throw new UsageError(`--html ${value}: the folder ${dirname(path)} does not exist or is not writable`);
  }
  return path;
}

/** At most this many dates in one replay (a year and a quarter). */
const MAX_DATES = 460;

export const backtestScoringJob: JobDefinition<BacktestJobOptions> = {
  name: 'backtest-scoring',
  description:
    'Replay scoring and the action for every date of a range over the stored data, for one configuration or two side ' +
    'by side, and judge each action against what the campaign did next (docs/decisions.md). Writes nothing to the ' +
    'scoring tables.',
  examples: [
    'bin/backtest-scoring --from 2025-09-01 --to 2025-10-31',
    'bin/backtest-scoring --from 2025-09-01 --to 2025-10-31 --config stricter.json --against current.json --json',
    'bin/backtest-scoring --from 2025-10-01 --to 2025-10-31 --client acme --horizon 7',
    'bin/backtest-scoring --from 2025-10-01 --to 2025-10-31 --warmup 0   # start from the stored decision state',
    'bin/backtest-scoring --from 2025-09-01 --to 2025-10-31 --html backtest.html',
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
      .option(
        '--warmup <days>',
        'days replayed before --from and not judged, so the first dates start warm (0–90; 0: start from the ' +
          'decision state stored before --from)',
        '14',
      )
      .option('--client <id>', "only this client's campaigns")
      .option('--html <file>', 'also write the report as a self-contained HTML page with charts to this file');
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
    const warmupText = String(raw.warmup);
    const warmup = Number(warmupText);
    if (!/^\d+$/.test(warmupText) || warmup > 90)
      throw new UsageError(`--warmup ${warmupText}: expected whole days from 0 to 90`);
    const clientId = raw.client === undefined ? null : String(raw.client).trim();
    if (clientId === '') throw new UsageError('--client: empty; name a client_id');
    const b = await readScoringConfig((raw.config as string | undefined) ?? config.scoringConfigPath);
    const configs = [{ label: 'B', config: b.config, source: b.source }];
    if (raw.against !== undefined) {
      const a = await readScoringConfig(String(raw.against), '--against');
      configs.push({ label: 'A', config: a.config, source: a.source });
    }
    const html = raw.html === undefined ? null : await checkHtmlPath(String(raw.html));
    return { from, to, horizon, clientId, configs, html, warmup };
  },
  async run(ctx) {
    const result = await backtestScoring(ctx, ctx.options);
    const report = reportBacktest(result);
    if (ctx.options.html === null) return report;
    await writePage(ctx.options.html, renderBacktestHtml(result));
    return {
      ...report,
      summary: { ...report.summary, html: ctx.options.html },
      text: `${report.text}\n\nThe page with charts: ${ctx.options.html}`,
    };
  },
};
