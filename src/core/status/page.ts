import { escapeHtml } from '../text/html.js';
import type { JobHealth, JobSchedule } from './health.js';

/** Everything the status page and /status show. */
export interface StatusView {
  /** ISO instant the page was made. */
  now: string;
  database: 'up' | 'down';
  jobs: {
    schedule: JobSchedule;
    health: JobHealth;
    lastRun: {
      startedAt: string;
      status: string;
      exitCode: number | null;
      durationMs: number | null;
      error: string | null;
    } | null;
    lastSuccessAt: string | null;
  }[];
  scoring: {
    date: string;
    campaignsScored: number;
    recommendations: Record<string, number>;
    warnings: { code: string; message: string }[];
  } | null;
  /** crm-webhook's state (null before sql/013 or when the table cannot be read). */
  crm: {
    lastHour: number;
    lastDay: number;
    pending: { count: number; oldest: string | null };
    deadLetters: { count: number; oldest: string | null };
    lastEventAt: string | null;
    /** Pending events that expired without their lead. */
    expired: number;
    /** Requests refused, by status: in the last hour and the last day. */
    refused: { lastHour: Record<string, number>; lastDay: Record<string, number> };
  } | null;
  backup: {
    lastBackup: { key: string; createdAt: string; size: number; ageHours: number } | null;
    lastDrill: { key: string; at: string; ok: boolean; problems: string[] } | null;
  };
}

const COLOR = { ok: '#15803d', late: '#b45309', down: '#b91c1c', never: '#6b7280', failed: '#b91c1c' } as const;

function badge(text: string, color: string): string {
  return `<span class="badge" style="background:${color}">${escapeHtml(text)}</span>`;
}

function crmSection(c: StatusView['crm']): string {
  if (c === null) return '';
  const when = (iso: string | null) =>
    iso === null ? 'none' : `${escapeHtml(iso.replace('T', ' ').slice(0, 16))} UTC`;
  return (
    '<h2>CRM webhook</h2><table>' +
    `<tr><th scope="row">events received</th><td>${c.lastHour} in the last hour, ${c.lastDay} in the last day` +
    ` · last ${when(c.lastEventAt)}</td></tr>` +
    `<tr><th scope="row">pending (lead not known yet)</th><td>${c.pending.count}` +
    `${c.pending.count > 0 ? ` · oldest ${when(c.pending.oldest)}` : ''}</td></tr>` +
    `<tr><th scope="row">dead letters (invalid events)</th><td>${c.deadLetters.count}` +
    `${c.deadLetters.count > 0 ? ` · oldest ${when(c.deadLetters.oldest)}` : ''}</td></tr>` +
    `<tr><th scope="row">expired (no lead within the expiry)</th><td>${c.expired}</td></tr>` +
    `<tr><th scope="row">requests refused</th><td>${refusedText(c.refused)}</td></tr></table>`
  );
}

/** What each refusal usually means, for the person reading the jobs page. */
const REFUSAL_MEANING: Record<string, string> = {
  '400': 'malformed (a sender changed its format?)',
  '401': 'bad key or signature (a rotated secret?)',
  '413': 'too large',
  '429': 'throttled',
  '503': 'overloaded or database down',
};

function refusedText(r: { lastHour: Record<string, number>; lastDay: Record<string, number> }): string {
  const statuses = Object.keys(r.lastDay).sort();
  if (statuses.length === 0) return 'none in the last day';
  return statuses
    .map(
      (s) =>
        `${r.lastHour[s] ?? 0} in the last hour, ${r.lastDay[s]} in the last day: ${s} ` +
        escapeHtml(REFUSAL_MEANING[s] ?? ''),
    )
    .join('<br>');
}

/**
 * The page people read at a glance: one row per job (green / late / down /
 * failed), the backup's age and the last drill, the latest scoring date's
 * recommendations. No scripts, no external resources.
 */
export function renderStatusPage(v: StatusView, opts: { agencyWide: boolean } = { agencyWide: true }): string {
  const jobs = v.jobs
    .map((j) => {
      const state = j.health.lastRunFailed ? 'failed' : j.health.state;
      const label = state === 'ok' ? 'OK' : state.toUpperCase();
      const last = j.lastRun
        ? `${escapeHtml(j.lastRun.startedAt.replace('T', ' ').slice(0, 16))} ` +
          `UTC · ${escapeHtml(j.lastRun.status)}` +
          `${j.lastRun.exitCode === null ? '' : ` (exit ${j.lastRun.exitCode})`}` +
          `${j.lastRun.durationMs === null ? '' : ` · ${(j.lastRun.durationMs / 1000).toFixed(1)} s`}`
        : 'never';
      const error =
        j.lastRun?.error && state === 'failed' && opts.agencyWide
          ? `<div class="err">${escapeHtml(j.lastRun.error.slice(0, 300))}</div>`
          : '';
      return (
        `<tr><td><b>${escapeHtml(j.schedule.job)}</b><div ` +
        `class="muted">${escapeHtml(j.schedule.cron)}</div>` +
        `</td><td>${badge(label, COLOR[state])}</td><td>` +
        `${escapeHtml(j.health.summary)}</td><td>${last}` +
        `${error}</td></tr>`
      );
    })
    .join('');
  const b = v.backup;
  const backupLine = b.lastBackup
    ? `${escapeHtml(b.lastBackup.key)} ` +
      `· ${b.lastBackup.ageHours.toFixed(1)} h old ` +
      `· ${(b.lastBackup.size / 1048576).toFixed(1)} MB`
    : 'no backup recorded';
  const drillLine = b.lastDrill
    ? `${badge(b.lastDrill.ok ? 'PASSED' : 'FAILED', b.lastDrill.ok ? COLOR.ok : COLOR.failed)} ` +
      `${escapeHtml(b.lastDrill.at.slice(0, 10))} ` +
      `· ${escapeHtml(b.lastDrill.key)}` +
      (b.lastDrill.problems.length
        ? `<div class="err">${escapeHtml(b.lastDrill.problems.slice(0, 3).join('; '))}</div>`
        : '')
    : 'no restore drill recorded';
  const recs = v.scoring
    ? Object.entries(v.scoring.recommendations)
        .filter(([, n]) => n > 0)
        .map(([r, n]) => `<tr><td>${escapeHtml(r)}</td><td class="num">${n}</td></tr>`)
        .join('')
    : '';
  const warnings = v.scoring?.warnings.length
    ? `<ul class="warn">${v.scoring.warnings.map((w) => `<li>${escapeHtml(w.message)}</li>`).join('')}</ul>`
    : '';
  const scoring = v.scoring
    ? `<h2>Scores for ${escapeHtml(v.scoring.date)}</h2><p>${v.scoring.campaignsScored} ` +
      `campaigns scored.</p>${warnings}<table><tr><th>recommendation</th><th ` +
      `class="num">campaigns</th></tr>${recs}</table>`
    : '<h2>Scores</h2><p>Nothing scored yet.</p>';
  const overall =
    v.database === 'down'
      ? ['DATABASE DOWN', COLOR.down]
      : v.jobs.some((j) => j.health.lastRunFailed || j.health.state !== 'ok')
        ? ['NEEDS ATTENTION', COLOR.late]
        : ['ALL OK', COLOR.ok];
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Leadsmart status</title>
<style>
body{font-family:Arial,Helvetica,sans-serif;color:#111827;background:#f3f4f6;margin:0;padding:16px}
main{max-width:960px;margin:0 auto;background:#fff;padding:16px 20px;border-radius:6px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:20px 0 6px}
table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:6px 8px;border-top:1px solid #e5e7eb;vertical-align:top;font-size:14px}
.badge{color:#fff;font-weight:bold;font-size:12px;padding:2px 8px;border-radius:3px;white-space:nowrap}
.muted{color:#6b7280;font-size:12px}.err{color:#b91c1c;font-size:12px;margin-top:2px}
.num{text-align:right}.warn{color:#b45309}
</style></head><body><main>
<h1>Leadsmart status ${badge(overall[0]!, overall[1]!)}</h1>
<p class="muted">As of ${escapeHtml(v.now.replace('T', ' ').slice(0, 19))} UTC · database ${v.database}</p>
<h2>Jobs</h2>
<table><tr><th>job</th><th>state</th><th>schedule</th><th>last run</th></tr>${jobs}</table>
${
  opts.agencyWide
    ? `${crmSection(v.crm)}<h2>Backups</h2>
<table><tr><th scope="row">latest good backup</th><td>${backupLine}</td></tr>
<tr><th scope="row">last restore drill</th><td>${drillLine}</td></tr></table>
${scoring}`
    : '<p class="muted">Error details, backups and the counts over every client are shown to agency-wide users.</p>'
}
<p><a href="/">Back to the scorecard</a></p>
</main></body></html>
`;
}
