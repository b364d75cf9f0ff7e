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
  NO_QUALIFIED_DATA:
    'Not judged: it brought leads but nothing says which qualified, so its cost per qualified lead is unknown; ' +
    'import lead statuses (or a qualified_leads column), connect the CRM, or set target_cpl for its currency to ' +
    'judge it on cost per lead.',
};

/** What a campaign judged on cost per lead (lead mode, scoring.md section 2) shows beside its score. */
export const LEAD_MODE_NOTE =
  'Judged on cost per lead against target_cpl: nothing says which of its leads qualified; import lead statuses ' +
  'or connect the CRM to judge it on qualified leads.';

/**
 * Why a campaign is not judged, in one line, or null when it is judged. `recommendation` tells a NO_QUALIFIED_DATA
 * campaign judged on cost per lead (any recommendation but INSUFFICIENT_DATA) from one not judged at all.
 */
export function notJudgedReason(flags: readonly string[], recommendation?: string): string | null {
  for (const flag of flags) {
    if (flag === 'NO_QUALIFIED_DATA' && recommendation !== undefined && recommendation !== 'INSUFFICIENT_DATA')
      return LEAD_MODE_NOTE;
    const why = NOT_JUDGED[flag as Flag];
    if (why !== undefined) return why;
  }
  return null;
}
