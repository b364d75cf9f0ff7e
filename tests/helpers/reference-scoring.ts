// An independent, deliberately naive implementation of docs/scoring.md
// (default configuration) computed straight from the sample CSV files in
// plain floating point: no SQL, no shared code with src/. Integration tests
// compare the job's stored scores with it to 0.01 points.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';

type Row = Record<string, string>;
const read = (dir: string, name: string): Row[] =>
  parse(readFileSync(join(dir, name)), { columns: true, skip_empty_lines: true });

export interface ReferenceScore {
  total: number;
  dims: Record<string, number>;
  recommendation: string;
  flags: string[];
}

const curve = (x: number, pts: [number, number][]): number => {
  if (x <= pts[0]![0]) return pts[0]![1];
  const last = pts[pts.length - 1]!;
  if (x >= last[0]) return last[1];
  for (let i = 1; i < pts.length; i++) {
    const [x2, y2] = pts[i]!;
    const [x1, y1] = pts[i - 1]!;
    if (x <= x2) return y1 + ((x - x1) * (y2 - y1)) / (x2 - x1);
  }
  return last[1];
};
const round2 = (x: number): number => (Math.sign(x) * Math.round(Math.abs(x) * 100 + 1e-7)) / 100;
const dayMs = 86400000;
const dateMs = (d: string): number => Date.parse(`${d}T00:00:00Z`);

/**
 * `target_cpql` of the configuration: one number, or per currency code with "*" for the rest (scoring.md section 4).
 */
export type ReferenceTarget = number | Record<string, number>;

export function referenceScores(
  sampleDir: string,
  D: string,
  previous?: Map<string, ReferenceScore>,
  configTarget: ReferenceTarget = 100,
  options: { currency?: string; targetCpl?: ReferenceTarget | null } = {},
): Map<string, ReferenceScore> {
  const configCurrency = options.currency ?? 'USD';
  // scoring.md section 4 (v3): a plain number is in the configuration's currency and in no other.
  const targetOf = (setting: ReferenceTarget | null | undefined, currency: string | null): number | null =>
    setting === null || setting === undefined
      ? null
      : typeof setting === 'number'
        ? currency === null || currency === configCurrency
          ? setting
          : null
        : ((currency !== null ? setting[currency] : undefined) ?? setting['*'] ?? null);
  const clients = new Map(read(sampleDir, 'clients.csv').map((c) => [c.client_id!, c]));
  const campaigns = new Map(read(sampleDir, 'campaigns.csv').map((c) => [c.campaign_id!, c]));
  const metrics = read(sampleDir, 'metrics.csv');
  const leads = read(sampleDir, 'leads.csv');
  const changes = read(sampleDir, 'lead-status.csv');
  const end = dateMs(D) + dayMs; // changes strictly before the next midnight are "as of the end of D"
  const wFrom = dateMs(D) - 29 * dayMs;
  const rFrom = dateMs(D) - 6 * dayMs;
  const pFrom = dateMs(D) - 13 * dayMs;
  const inRange = (t: number, a: number, b: number): boolean => t >= a && t < b;
  const num = (s: string | undefined): number | null => (s === undefined || s === '' ? null : Number(s));

  const statusAtEnd = new Map<string, string>();
  for (const l of leads) statusAtEnd.set(l.lead_id!, l.status!);
  const latest = new Map<string, number>();
  for (const c of changes) {
    const t = Date.parse(c.changed_at!);
    if (t < end && t >= (latest.get(c.lead_id!) ?? -Infinity)) {
      latest.set(c.lead_id!, t);
      statusAtEnd.set(c.lead_id!, c.status!);
    }
  }
  const qualified = (leadId: string): boolean =>
    ['qualified', 'converted'].includes((statusAtEnd.get(leadId) ?? '').toLowerCase());

  const out = new Map<string, ReferenceScore>();
  for (const [id, c] of campaigns) {
    const rows = metrics.filter((m) => m.campaign_id === id && inRange(dateMs(m.date!), wFrom, end));
    if (rows.length === 0) continue;
    const sum = (rs: Row[], k: string): number => rs.reduce((s, r) => s + (num(r[k]) ?? 0), 0);
    const recentRows = rows.filter((r) => dateMs(r.date!) >= rFrom);
    const priorRows = rows.filter((r) => inRange(dateMs(r.date!), pFrom, rFrom));
    const spend = sum(rows, 'spend');
    const impressions = sum(rows, 'impressions');
    const clicks = sum(rows, 'clicks');
    const spendRows = rows.filter((r) => num(r.spend) !== null).length;
    const myLeads = leads.filter((l) => l.campaign_id === id);
    let total: number, q: number, qRecent: number, qPrior: number;
    if (myLeads.length > 0) {
      const inW = myLeads.filter((l) => inRange(Date.parse(l.created_at!), wFrom, end));
      total = inW.length;
      q = inW.filter((l) => qualified(l.lead_id!)).length;
      qRecent = inW.filter((l) => Date.parse(l.created_at!) >= rFrom && qualified(l.lead_id!)).length;
      qPrior = inW.filter((l) => inRange(Date.parse(l.created_at!), pFrom, rFrom) && qualified(l.lead_id!)).length;
    } else {
      total = sum(rows, 'total_leads');
      q = sum(rows, 'qualified_leads');
      qRecent = sum(recentRows, 'qualified_leads');
      qPrior = sum(priorRows, 'qualified_leads');
    }
    const currency = c.currency ? c.currency : null;
    const clientT = num(clients.get(c.client_id ?? '')?.target_cpql);
    const T: number | null = clientT ?? targetOf(configTarget, currency);
    const noLeadData =
      myLeads.length === 0 && rows.every((r) => num(r.total_leads) === null && num(r.qualified_leads) === null);
    // v3: leads without any qualification information. Lead-level: the client (a campaign without one alone) has no
    // status change by the end of D and every lead created by then is at `new`.
    const group = (cid: string) => campaigns.get(cid)?.client_id || `campaign:${cid}`;
    const groupLeads = leads.filter((l) => group(l.campaign_id!) === group(id) && Date.parse(l.created_at!) < end);
    const groupIds = new Set(groupLeads.map((l) => l.lead_id!));
    const noQualifiedData =
      !noLeadData &&
      (myLeads.length === 0
        ? rows.every((r) => num(r.qualified_leads) === null)
        : groupLeads.every((l) => l.status!.toLowerCase() === 'new') &&
          !changes.some((ch) => groupIds.has(ch.lead_id!) && Date.parse(ch.changed_at!) < end));
    const clientTL = num(clients.get(c.client_id ?? '')?.target_cpl);
    const TL: number | null = noQualifiedData ? (clientTL ?? targetOf(options.targetCpl, currency)) : null;
    if (noQualifiedData && TL !== null) {
      // Lead mode: every qualified count reads the lead count.
      const recentLeads =
        myLeads.length > 0
          ? myLeads.filter((l) => inRange(Date.parse(l.created_at!), rFrom, end)).length
          : sum(recentRows, 'total_leads');
      const priorLeads =
        myLeads.length > 0
          ? myLeads.filter((l) => inRange(Date.parse(l.created_at!), pFrom, rFrom)).length
          : sum(priorRows, 'total_leads');
      q = total;
      qRecent = recentLeads;
      qPrior = priorLeads;
    }
    const judgedOn: number | null = noQualifiedData ? TL : T;
    const flags: string[] = [];
    if (rows.some((r) => num(r.spend) === null)) flags.push('MISSING_SPEND');
    if (rows.some((r) => num(r.impressions) === null)) flags.push('MISSING_IMPRESSIONS');
    if (T !== null && total > 0 && spend / total > 10 * T) flags.push('HIGH_CPL');
    if (impressions > 0 && clicks / impressions > 0.5) flags.push('HIGH_CTR');
    const budget = num(c.daily_budget);
    if (budget !== null && budget > 0 && rows.some((r) => (num(r.spend) ?? 0) > 1.5 * budget)) flags.push('OVERSPEND');

    let dims: Record<string, number>;
    let recommendation: string;
    if (spendRows === 0 || (spend === 0 && impressions === 0) || noLeadData || judgedOn === null) {
      dims = { cost_efficiency: 0, lead_quality: 0, volume: 0, trend: 0, engagement: 0 };
      recommendation = 'INSUFFICIENT_DATA';
    } else {
      const sR = sum(recentRows, 'spend');
      const sP = sum(priorRows, 'spend');
      let trend: number;
      if (sP === 0 || sR === 0) trend = 10;
      else if (qPrior / sP === 0) trend = qRecent / sR > 0 ? 20 : 10;
      else
        trend = curve((qRecent / sR - qPrior / sP) / (qPrior / sP), [
          [-0.5, 0],
          [0, 10],
          [0.5, 20],
        ]);
      dims = {
        cost_efficiency:
          q === 0
            ? 0
            : round2(
                curve(spend / q, [
                  [0.5 * judgedOn, 25],
                  [judgedOn, 20],
                  [3.5 * judgedOn, 0],
                ]),
              ),
        lead_quality: noQualifiedData
          ? 12.5
          : total === 0
            ? 0
            : round2(
                curve(q / total, [
                  [0, 0],
                  [0.1, 5],
                  [0.3, 20],
                  [0.5, 25],
                ]),
              ),
        volume: round2(
          curve(q, [
            [0, 0],
            [5, 6],
            [20, 14],
            [50, 20],
          ]),
        ),
        trend: round2(trend),
        engagement:
          impressions === 0
            ? 0
            : round2(
                curve(clicks / impressions, [
                  [0, 0],
                  [0.005, 3],
                  [0.01, 6],
                  [0.02, 10],
                ]),
              ),
      };
      const t = Object.values(dims).reduce((a, b) => a + b, 0);
      const isNew = (c.start_date ? (dateMs(D) - dateMs(c.start_date)) / dayMs < 14 : false) || rows.length < 7;
      if (isNew && t >= 20 && t < 80) recommendation = 'MONITOR_CLOSELY';
      else
        recommendation =
          t >= 80
            ? 'INCREASE_BUDGET'
            : t >= 60
              ? 'CONTINUE_OPTIMIZE'
              : t >= 40
                ? 'TEST_CHANGES'
                : t >= 20
                  ? 'REDUCE_BUDGET'
                  : 'PAUSE_CAMPAIGN';
    }
    const totalScore = round2(Object.values(dims).reduce((a, b) => a + b, 0));
    const prev = previous?.get(id);
    if (prev && Math.abs(totalScore - prev.total) > 50) flags.push('SCORE_JUMP');
    if (noLeadData) flags.push('NO_LEAD_DATA');
    if (T === null) flags.push('NO_TARGET');
    if (noQualifiedData) flags.push('NO_QUALIFIED_DATA');
    // v3: SPEND_SPIKE and STALE_DATA.
    const dayRow = rows.find((r) => dateMs(r.date!) === dateMs(D));
    const before = rows.filter(
      (r) => inRange(dateMs(r.date!), dateMs(D) - 14 * dayMs, dateMs(D)) && num(r.spend) !== null,
    );
    const mean = before.length === 0 ? 0 : sum(before, 'spend') / before.length;
    const daySpend = dayRow === undefined ? null : num(dayRow.spend);
    if (daySpend !== null && before.length >= 7 && mean > 0 && daySpend > 1.5 * mean) flags.push('SPEND_SPIKE');
    if (!rows.some((r) => dateMs(r.date!) >= dateMs(D) - 13 * dayMs)) flags.push('STALE_DATA');
    out.set(id, { total: totalScore, dims, recommendation, flags });
  }
  return out;
}
