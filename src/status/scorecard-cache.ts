import type { Kysely } from 'kysely';
import {
  filterKey,
  filterRows,
  type ScorecardQuery,
  type ScorecardRow,
  searchText,
  sortRows,
} from '../core/dashboard/scorecard.js';
import { parseDecimal, toNumber } from '../core/rational.js';
import { resolveScoringConfig, type Recommendation, targetFor } from '../core/scoring/index.js';
import { loadConfigs, loadScorecardRows, scoredDates } from '../db/repositories/dashboard.repository.js';
import type { Database } from '../db/tables.js';

/** A scored date's scorecard rows, kept in memory, with the selections already sorted. */
export interface Snapshot {
  date: string;
  previous: string | null;
  /** When the date was last scored: a new run makes a new snapshot. */
  version: string;
  rows: ScorecardRow[];
  /** Sorted views without a name search, most recently used last. */
  selections: Map<string, number[]>;
  /** Name searches: apart, so that a stream of different searches cannot push out the views everyone opens. */
  searches: Map<string, number[]>;
}

const SELECTIONS = 64;
const SEARCHES = 64;
const DATES_MS = 5000;

/**
 * The scorecard's rows for a scored date, read once (100,000 campaigns in one statement) and kept until the date is
 * scored again; each filter and sort is worked out once and kept (at most 64 per date), so paging through a view,
 * or twenty people opening the same one, costs a slice. At most three dates are kept.
 */
export class ScorecardCache {
  private readonly snapshots = new Map<string, Promise<Snapshot>>();
  /** Newer versions being read while the older one is still served. */
  private readonly refreshing = new Map<string, Promise<Snapshot>>();
  private readonly dates = new Map<string, { at: number; value: ReturnType<typeof scoredDates> }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
  ) {}

  /** `date` if it was scored (null: the newest scored date), its previous scored date and its version; no rows. */
  scoredDate(date: string | null): ReturnType<typeof scoredDates> {
    const key = date ?? 'latest';
    let d = this.dates.get(key);
    if (!d || this.now() - d.at >= DATES_MS) {
      if (this.dates.size > 100) this.dates.clear();
      d = { at: this.now(), value: scoredDates(this.db, date) };
      d.value.catch(() => this.dates.delete(key));
      this.dates.set(key, d);
    }
    return d.value;
  }

  /** The snapshot of `date` (null: the newest scored date); null when that date was never scored. */
  async snapshot(date: string | null): Promise<Snapshot | null> {
    const found = await this.scoredDate(date);
    if (found.date === null || found.version === null) return null;
    const day = found.date;
    const cached = this.snapshots.get(day);
    const s = cached ? await cached.catch(() => null) : null;
    if (s && s.version === found.version && s.previous === found.previous) return s;
    if (s) {
      // The date was scored again: keep answering from the rows in hand while the new ones are read (a second or
      // two at 100,000 campaigns), then switch.
      if (!this.refreshing.has(day)) {
        const next = this.load(day, found.previous, found.version);
        this.refreshing.set(day, next);
        next.then(
          () => this.snapshots.set(day, next),
          () => undefined,
        );
        next.finally(() => this.refreshing.delete(day)).catch(() => undefined);
      }
      return s;
    }
    const loading = this.load(day, found.previous, found.version);
    loading.catch(() => this.snapshots.delete(day));
    this.snapshots.delete(day);
    this.snapshots.set(day, loading);
    while (this.snapshots.size > 3) this.snapshots.delete(this.snapshots.keys().next().value!);
    return loading;
  }

  private async load(date: string, previous: string | null, version: string): Promise<Snapshot> {
    const raw = await loadScorecardRows(this.db, date, previous);
    const configs = await loadConfigs(this.db, [...new Set(raw.map((r) => r.config_id))]);
    const resolved = new Map(
      [...configs].map(([id, c]) => {
        const r = resolveScoringConfig(c);
        return [id, r.ok ? r.config : null];
      }),
    );
    const rows = raw.map((r): ScorecardRow => {
      const config = resolved.get(r.config_id) ?? null;
      const t = config
        ? targetFor(config, r.currency, r.client_target === null ? null : parseDecimal(r.client_target))
        : null;
      const spend = r.window_spend === null ? null : Number(r.window_spend);
      const leads = r.window_qualified_leads;
      return {
        campaignId: r.campaign_id,
        name: r.campaign_name,
        clientId: r.client_id,
        clientName: r.client_name,
        score: Number(r.total_score),
        previousScore: r.previous_score === null ? null : Number(r.previous_score),
        action: r.action as Recommendation,
        recommendation: r.recommendation as Recommendation,
        flags: r.flags,
        spend,
        qualifiedLeads: leads,
        cpql: spend !== null && leads !== null && leads > 0 ? spend / leads : null,
        target: t === null ? null : toNumber(t.target),
        currency: r.currency,
        search: searchText(r.campaign_name, r.campaign_id),
      };
    });
    return { date, previous, version, rows, selections: new Map(), searches: new Map() };
  }

  /**
   * The query's rows for this viewer, sorted: indexes into `snapshot.rows`. A view is sorted once and kept; a name
   * search filters its view's sorted rows (no sort of its own: a few milliseconds at 100,000 rows) and is kept in its
   * own, separate list, so searches never push out the views.
   */
  select(
    snapshot: Snapshot,
    q: ScorecardQuery,
    scope: string,
    visible: (clientId: string | null) => boolean,
  ): number[] {
    const viewKey = `${scope}\u0000${filterKey({ ...q, q: null })}\u0000${q.sort}\u0000${q.dir}`;
    const view = recall(snapshot.selections, viewKey, SELECTIONS, () =>
      sortRows(snapshot.rows, filterRows(snapshot.rows, { ...q, q: null }, visible), q),
    );
    if (q.q === null) return view;
    const needle = q.q.toLowerCase();
    return recall(snapshot.searches, `${viewKey}\u0000${needle}`, SEARCHES, () => {
      // The rows are read in their own order (the view's order jumps about memory), the matches marked, and the
      // view walked for the marks: the view's order, without a sort.
      const rows = snapshot.rows;
      const match = new Uint8Array(rows.length);
      for (let i = 0; i < rows.length; i++) if (rows[i]!.search.includes(needle)) match[i] = 1;
      return view.filter((i) => match[i] === 1);
    });
  }
}

/** A kept value, most recently used last; the least recently used goes when there are more than `size`. */
function recall<T>(kept: Map<string, T>, key: string, size: number, make: () => T): T {
  const hit = kept.get(key);
  if (hit !== undefined) {
    kept.delete(key);
    kept.set(key, hit);
    return hit;
  }
  const value = make();
  kept.set(key, value);
  while (kept.size > size) kept.delete(kept.keys().next().value!);
  return value;
}
