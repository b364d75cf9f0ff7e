import { toNumber } from '../rational.js';
import type { ScoringConfig } from './config.js';
import { type Decision, decideAction, type PreviousDecision } from './decision.js';
import {
  addToMoments,
  emptyMoments,
  type GammaPrior,
  type PriorMoments,
  priorFromMoments,
  targetPrior,
  type WindowEvidence,
  windowEvidence,
} from './evidence.js';
import type { CampaignFacts, CampaignScore } from './types.js';

/** A scored campaign's action, and the window numbers the next run's client prior reads. */
export interface ScoredAction extends Omit<Decision, 'streak'> {
  /** The candidate's streak (PreviousDecision.streak); null when the decision layer is off (nothing was counted). */
  streak: number | null;
  /**
   * The 30-day window's spend and qualified leads the evidence read (with those expected among pending leads); null
   * when the campaign is not judged on cost per qualified lead (no target, no lead data, lead mode).
   */
  windowSpend: number | null;
  windowQualifiedLeads: number | null;
}

/** A score with its action: what score-campaigns writes. */
export interface ActedScore extends CampaignScore {
  act: ScoredAction;
}

/** The key of a client prior: rates in two currencies do not compare. */
export const priorKey = (clientId: string | null, currency: string | null): string =>
  `${clientId ?? ''}\u0000${currency ?? ''}`;

/** The client id and currency of a priorKey ('' for none). */
export function splitPriorKey(key: string): { clientId: string; currency: string } {
  const cut = key.indexOf('\u0000');
  return { clientId: key.slice(0, cut), currency: key.slice(cut + 1) };
}

/**
 * Adds a scored campaign's window numbers to the prior moments of its client and currency (`key`), made when missing:
 * what the next scored date's priors are built from. A campaign not judged on cost adds nothing.
 */
export function addToPriorMoments(all: Map<string, PriorMoments>, key: string, act: ScoredAction): void {
  if (act.windowSpend === null || act.windowQualifiedLeads === null) return;
  let m = all.get(key);
  if (m === undefined) {
    m = emptyMoments();
    all.set(key, m);
  }
  addToMoments(m, act.windowSpend, act.windowQualifiedLeads);
}

/**
 * The client priors of a run, each built once from the previous scored date's moments of that client and currency
 * (empirical Bayes, docs/decisions.md); the target's own prior when there are none.
 */
export function priorCache(moments: ReadonlyMap<string, PriorMoments>): (key: string, target: number) => GammaPrior {
  const cache = new Map<string, GammaPrior>();
  return (key, target) => {
    const cacheKey = `${key}\u0000${target}`;
    let prior = cache.get(cacheKey);
    if (prior === undefined) {
      const m = moments.get(key);
      prior = m ? priorFromMoments(m, target) : targetPrior(target);
      cache.set(cacheKey, prior);
    }
    return prior;
  };
}

const round = (x: number, digits: number): number | null =>
  Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : null;

/**
 * What a stored score keeps of a window's evidence: the spend and qualified leads are in `inputs` already (and the
 * spend multiple and P(CPQL ≤ T) follow from them), so only the probabilities and the interval are added: every
 * byte is written 100,000 times a run.
 */
function evidenceDetails(e: WindowEvidence): Record<string, unknown> {
  return {
    // P(CPQL > T) and P(CPQL > 2T).
    p_above: round(e.pAboveTarget, 3),
    p_above_2x: round(e.pAboveTwiceTarget, 3),
    // The 80 % credible interval of the CPQL (10th and 90th percentiles); null for an unbounded upper end.
    cpql_80: [round(e.cpqlLow, 2), round(e.cpqlHigh, 2)],
  };
}

/**
 * The evidence and the action of one scored campaign (docs/decisions.md). Adds `evidence` to score.details; the
 * action, its candidate, gate, reason, streak and trigger go to columns of their own. `previous` is the decision of
 * the campaign's latest earlier scored date (null when there is none); `priorFor` gives the client prior for a target.
 *
 * The evidence reads what the score judged (score.judgement: qualified leads against T, or leads against T_L in lead
 * mode), with the qualified leads expected among those still awaiting their status (facts.evidence), and a longer
 * window for a small spender.
 */
export function actOn(
  score: CampaignScore,
  facts: CampaignFacts,
  config: ScoringConfig,
  previous: PreviousDecision | null,
  priorFor: (target: number) => GammaPrior,
): ScoredAction {
  const judged = score.judgement;
  const extra = facts.evidence;
  let window: WindowEvidence | null = null;
  let recent: WindowEvidence | null = null;
  let long: WindowEvidence | null = null;
  const leadMode = judged?.basis === 'leads';
  if (judged !== null && toNumber(judged.target) > 0) {
    const target = toNumber(judged.target);
    // Rates of leads and of qualified leads do not compare: lead mode takes the target's own prior.
    const prior = leadMode ? targetPrior(target) : priorFor(target);
    // Lead mode counts every lead; otherwise the qualified leads, and those expected among the leads still pending.
    const expected = leadMode ? 0 : (extra?.pendingQualified ?? 0);
    window = windowEvidence(
      toNumber(facts.spend),
      (leadMode ? facts.totalLeads : facts.qualifiedLeads) + expected,
      target,
      prior,
    );
    recent = windowEvidence(
      toNumber(facts.recent.spend),
      leadMode ? facts.recent.totalLeads : facts.recent.qualifiedLeads + (extra?.recentPendingQualified ?? 0),
      target,
      prior,
    );
    if (extra?.long)
      long = windowEvidence(
        toNumber(extra.long.spend),
        (leadMode ? extra.long.totalLeads : extra.long.qualifiedLeads) + expected,
        target,
        prior,
      );
    score.details.evidence = {
      basis: judged.basis,
      window: evidenceDetails(window),
      recent: evidenceDetails(recent),
      ...(long === null ? {} : { long: { days: extra!.long!.days, ...evidenceDetails(long) } }),
      ...(extra && extra.pendingLeads > 0
        ? {
            pending: {
              leads: extra.pendingLeads,
              expected_qualified: round(extra.pendingQualified, 2),
              lag_days: extra.lagDays,
            },
          }
        : {}),
    };
  }
  const decision = decideAction(
    {
      recommendation: score.recommendation,
      isNew: score.isNew,
      window,
      recent,
      long,
      longDays: extra?.long?.days,
      basis: judged?.basis ?? 'qualified',
      currency: facts.currency,
      pending:
        extra && extra.pendingLeads > 0
          ? { leads: extra.pendingLeads, lagDays: extra.lagDays ?? 0, expected: extra.pendingQualified }
          : null,
      previous,
    },
    config.decision,
  );
  return {
    ...decision,
    windowSpend: window === null || leadMode ? null : window.spend,
    // A whole number, as stored (the expected qualified leads among pending ones are a fraction).
    windowQualifiedLeads: window === null || leadMode ? null : Math.round(window.qualifiedLeads),
  };
}

/** The action when the decision layer is switched off (SCORING_ACTIONS=off): the recommendation, said so. */
export function actionsOff(score: CampaignScore): ScoredAction {
  const reason = 'the decision layer is off (SCORING_ACTIONS=off): the recommendation as it is';
  return {
    action: score.recommendation,
    candidate: score.recommendation,
    gate: 'off',
    reason,
    streak: null,
    trigger: null,
    windowSpend: null,
    windowQualifiedLeads: null,
  };
}
