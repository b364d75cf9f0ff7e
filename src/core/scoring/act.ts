import { toNumber } from '../rational.js';
import { type ScoringConfig, targetFor } from './config.js';
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
  /** Window spend and qualified leads; null when the campaign is not judged on cost (no target, no lead data). */
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
 * action, its candidate, gate, reason and streak go to columns of their own. `previous` is D−1's decision (null when
 * there is none); `priorFor` gives the client prior for a target.
 */
export function actOn(
  score: CampaignScore,
  facts: CampaignFacts,
  config: ScoringConfig,
  previous: PreviousDecision | null,
  priorFor: (target: number) => GammaPrior,
): ScoredAction {
  const resolved = targetFor(config, facts.currency, facts.clientTargetCpql);
  const judged =
    resolved !== null &&
    toNumber(resolved.target) > 0 &&
    !score.flags.includes('NO_LEAD_DATA') &&
    !score.flags.includes('NO_TARGET');
  let window: WindowEvidence | null = null;
  let recent: WindowEvidence | null = null;
  if (judged) {
    const target = toNumber(resolved.target);
    const prior = priorFor(target);
    window = windowEvidence(toNumber(facts.spend), facts.qualifiedLeads, target, prior);
    recent = windowEvidence(toNumber(facts.recent.spend), facts.recent.qualifiedLeads, target, prior);
    score.details.evidence = { window: evidenceDetails(window), recent: evidenceDetails(recent) };
  }
  const decision = decideAction(
    { recommendation: score.recommendation, isNew: score.isNew, window, recent, previous },
    config.decision,
  );
  return {
    ...decision,
    windowSpend: window === null ? null : window.spend,
    windowQualifiedLeads: window === null ? null : window.qualifiedLeads,
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
    windowSpend: null,
    windowQualifiedLeads: null,
  };
}
