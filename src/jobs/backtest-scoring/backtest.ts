import { addDays } from '../../core/dates.js';
import type { BacktestResult } from '../../core/reports/backtest-scoring.js';
import { toNumber } from '../../core/rational.js';
import type { DailySeries } from '../../db/repositories/backtest.repository.js';
import {
  type ActionCounts,
  actOn,
  BandTally,
  CampaignAccumulator,
  measureParts,
  noActions,
  type Outcome,
  addToPriorMoments,
  type PreviousDecision,
  type PriorMoments,
  priorCache,
  priorKey,
  type Recommendation,
  type ScoringConfig,
  scoreCampaign,
} from '../../core/scoring/index.js';
import { DataError, UsageError } from '../../errors.js';
import type { JobDeps } from '../../runtime/job-deps.js';

export interface BacktestOptions {
  from: string;
  to: string;
  /** Days after each date over which its action is judged. */
  horizon: number;
  clientId: string | null;
  /** B (--config or the defaults) first; A (--against) second when given. */
  configs: { label: string; config: ScoringConfig; source: string }[];
  /**
   * Days replayed before --from and not judged, so that the first judged dates start warm (persistence and
   * hysteresis as on a server scoring daily); 0 starts from the decision state stored for the latest scored date
   * before --from instead (none stored: a cold start, said so).
   */
  warmup: number;
}

/** One campaign in one configuration's replay: constant size, whatever the number of dates. */
interface CampaignState {
  clientId: string | null;
  /** Its measures: made on the campaign's first judged (not warm-up) date. */
  acc: CampaignAccumulator | null;
  /** The decision of the previous replayed date. */
  previous: PreviousDecision | null;
  /** The action of the date being replayed, to compare the two configurations. */
  today: Recommendation | null;
}

/** Campaigns' state in one configuration's replay. */
interface Replay {
  label: string;
  config: ScoringConfig;
  source: string;
  campaigns: Map<string, CampaignState>;
  /** This date's window numbers by client and currency: the next date's priors. */
  samples: Map<string, PriorMoments>;
  /** Each date's count of every action: the page's "actions over time" (a few numbers a date). */
  timeline: ActionCounts[];
  bands: BandTally;
}

export const LIMITATIONS = [
  'A campaign that was cut or paused has no "what if it had run": its horizon shows what it did next, which the ' +
    'cut itself may have changed.',
  'Data restated since (late CRM statuses, corrected spend) is not what was seen on the date: every date is ' +
    'replayed on the data as it stands now, as of that date.',
  "Dates whose horizon has not matured (it must end the client's qualification lag before the newest data: " +
    'the days its leads take to get a final status, measured from its own history) are replayed, so that ' +
    'persistence is right, but not judged; so are horizons that spent less than the target.',
];

const datesFrom = (from: string, to: string): string[] => {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
};

/** Spend and qualified leads of days `first` to `last` (indexes, inclusive) of a campaign's series. */
function sum(series: DailySeries | undefined, first: number, last: number): Outcome {
  const o = { spend: 0, qualifiedLeads: 0 };
  if (!series) return o;
  for (let d = Math.max(0, first); d <= Math.min(last, series.spend.length - 1); d++) {
    o.spend += series.spend[d]!;
    o.qualifiedLeads += series.qualified[d]!;
  }
  return o;
}

/**
 * Replays scoring and the action for every date of the range over the stored data (as-of lead statuses, exactly as
 * score-campaigns would have scored each date), for one configuration or two, and judges each action against what
 * the campaign did over the horizon after it. Writes nothing to the scoring tables.
 */
export async function backtestScoring(deps: JobDeps, options: BacktestOptions): Promise<BacktestResult> {
  const { NO_CLIENT_GROUP, openScoringSource, qualificationGroup, readClientQualification } = await import(
    '../../db/repositories/scoring-inputs.js'
  );
  const repo = await import('../../db/repositories/backtest.repository.js');
  const { from, to, horizon, clientId, warmup } = options;
  if (clientId !== null && !(await repo.clientExists(deps.db, clientId)))
    throw new UsageError(`--client ${clientId}: no such client; see the clients table (bin/import-csv --kind clients)`);
  const newest = await repo.newestMetricsDate(deps.db);
  if (newest === null) throw new DataError('no metrics at all: import or fetch some, then backtest');
  const primary = options.configs[0]!.config;
  // Matured: a horizon ends at least the client's qualification lag before the newest data (measured as of it, the
  // default for a client without lead-level history).
  const defaultLag = primary.decision.defaultLagDays;
  const measured = await readClientQualification(deps.db, newest, primary.pendingStatuses, defaultLag);
  const lagOf = (client: string | null, campaignId: string) =>
    measured.get(qualificationGroup(client, campaignId))?.lagDays ?? defaultLag;
  const shortestLag = Math.min(defaultLag, ...[...measured.values()].map((q) => q.lagDays));
  const lastJudged = addDays(newest, -shortestLag - horizon);
  if (from > lastJudged)
    throw new DataError(
      `nothing has matured yet: a date's ${horizon}-day horizon must end a client's qualification lag ` +
        `(${shortestLag} days at the shortest) before the newest data (${newest}), so the latest date that can be ` +
        `judged is ${lastJudged}; start --from at or before it, or shorten --horizon`,
    );
  const dates = datesFrom(from, to);
  const warmupDates = warmup > 0 ? datesFrom(addDays(from, -warmup), addDays(from, -1)) : [];
  const outcomes = await repo.readDailyOutcomes(
    deps.db,
    from,
    addDays(to, horizon),
    primary.qualifiedStatuses,
    clientId,
  );
  if (outcomes.size === 0)
    throw new DataError(
      `no metrics between ${from} and ${addDays(to, horizon)}${clientId ? ` for client ${clientId}` : ''}: ` +
        'nothing to replay',
    );
  const replays: Replay[] = options.configs.map((c) => ({
    ...c,
    campaigns: new Map(),
    samples: new Map(),
    timeline: [],
    bands: new BandTally(),
  }));
  const names = new Map<string, string | null>();
  /** With no warm-up: the scored date whose stored state the replay starts from (null: none, a cold start). */
  let startState: string | null = null;
  const differs = new Map<string, { dates: number; first: number }>();

  // Warm-up dates first (index < 0: replayed, not judged), then the range.
  for (const [i, date] of [...warmupDates, ...dates].entries()) {
    const index = i - warmupDates.length;
    const judged = index >= 0;
    deps.throwIfInterrupted();
    const priors = replays.map((r) => priorCache(r.samples));
    for (const r of replays) {
      r.samples = new Map();
      if (judged) r.timeline.push({ date, counts: noActions() });
    }
    // Each replay keeps its own history; only a start without warm-up reads the state stored before --from.
    const storedState = warmup === 0 && index === 0;
    const source = await openScoringSource(deps.database, date, primary, deps.config.scoringChunkCampaigns, {
      actions: true,
      storedState,
    });
    if (storedState) startState = source.previous?.date ?? null;
    try {
      for await (const inputs of source.chunks()) {
        deps.throwIfInterrupted();
        for (const input of inputs) {
          if (clientId !== null && input.clientId !== clientId) continue;
          const id = input.facts.campaignId;
          const key = priorKey(input.clientId, input.facts.currency);
          const lastJudgedHere = addDays(newest, -lagOf(input.clientId, id) - horizon);
          replays.forEach((r, k) => {
            const score = scoreCampaign(input.facts, date, r.config);
            let state = r.campaigns.get(id);
            if (!state) {
              state = { clientId: input.clientId, acc: null, previous: input.previous, today: null };
              r.campaigns.set(id, state);
            }
            const act = actOn(score, input.facts, r.config, state.previous, (target) => priors[k]!(key, target));
            state.previous = {
              action: act.action,
              candidate: act.candidate,
              streak: act.streak ?? 1,
              trigger: act.trigger,
            };
            state.today = act.action;
            addToPriorMoments(r.samples, key, act);
            if (!judged) return;
            const t = score.judgement;
            state.acc ??= new CampaignAccumulator(t === null ? null : toNumber(t.target));
            // Day indexes count from --from: the horizon of date `index` is days index + 1 … index + horizon.
            const next = date <= lastJudgedHere ? sum(outcomes.get(id), index + 1, index + horizon) : null;
            state.acc.add(act.action, next);
            r.bands.add(Number(score.totalHundredths) / 100, act.action, next, state.acc.target);
            r.timeline[index]!.counts[act.action] += 1;
          });
          if (!judged) continue;
          names.set(id, input.campaignName);
          if (replays.length > 1) {
            const [b, a] = [replays[0]!.campaigns.get(id)!, replays[1]!.campaigns.get(id)!];
            if (b.today !== a.today) {
              const d = differs.get(id) ?? { dates: 0, first: index };
              d.dates += 1;
              differs.set(id, d);
            }
          }
        }
      }
    } finally {
      await source.close();
    }
    deps.logger.debug(`replayed ${date}${judged ? '' : ' (warm-up, not judged)'}`, {
      campaigns: replays[0]!.campaigns.size,
    });
  }
  // The campaigns of the range (not those seen only in the warm-up).
  const inRange = (r: Replay) => [...r.campaigns.entries()].filter(([, st]) => st.acc !== null);
  const campaigns = inRange(replays[0]!).length;
  if (campaigns === 0)
    throw new DataError(`no campaign was scored between ${from} and ${to}${clientId ? ` for client ${clientId}` : ''}`);

  const differing = [...differs]
    .sort(([x, dx], [y, dy]) => dy.dates - dx.dates || x.localeCompare(y))
    .map(([campaignId, d]) => ({
      campaignId,
      name: names.get(campaignId) ?? null,
      dates: d.dates,
      firstDate: dates[d.first]!,
    }));
  const measures = (r: Replay) => {
    const states = inRange(r);
    const parts = states.map(([id, st]) => st.acc!.parts(sum(outcomes.get(id), 0, dates.length - 1)));
    return measureParts(parts, new Set(states.map(([, st]) => st.clientId ?? '')).size);
  };
  const lags = [...measured.entries()]
    .filter(([group]) => !group.startsWith(NO_CLIENT_GROUP))
    .map(([client, q]) => ({ clientId: client, lagDays: q.lagDays }))
    .sort((x, y) => x.clientId.localeCompare(y.clientId));
  return {
    from,
    to,
    horizon,
    clientId,
    newestData: newest,
    // Dates compare as text (YYYY-MM-DD).
    lastJudgedDate: [lastJudged, to].sort()[0]!,
    maturity: { defaultLagDays: defaultLag, clients: lags },
    warmup: warmup > 0 ? { days: warmup } : { days: 0, storedStateFrom: startState },
    dates: dates.length,
    campaigns,
    runs: replays.map((r) => ({
      label: r.label,
      configId: r.config.id,
      source: r.source,
      measures: measures(r),
      timeline: r.timeline,
      bands: r.bands.result(),
    })),
    differing,
    limitations: LIMITATIONS,
  };
}
