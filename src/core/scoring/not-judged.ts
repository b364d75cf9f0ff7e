import type { Flag } from './types.js';

/**
 * Campaigns that cannot be judged on cost per qualified lead at all
 * (scoring.md section 2): INSUFFICIENT_DATA with a flag saying why. The one
 * line every surface (digest, status API, --list) shows for them.
 */
export const NOT_JUDGED: Readonly<Partial<Record<Flag, string>>> = {
  NO_LEAD_DATA:
    'Not judged on leads: its data carries no lead counts (a sales ' +
    'or traffic campaign, or an export without a leads column).',
  NO_TARGET:
    'Not scored: no target cost per qualified lead is set for its ' +
    'currency; set target_cpql for that currency or for the client.',
};

/** Why a campaign is not judged, in one line, or null when it is judged. */
export function notJudgedReason(flags: readonly string[]): string | null {
  for (const flag of flags) {
    const why = NOT_JUDGED[flag as Flag];
    if (why !== undefined) return why;
  }
  return null;
}
