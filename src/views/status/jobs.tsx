import type { JobHealth, JobSchedule } from '../../core/status/health.js';
import { actionWords } from '../dashboard/layout.js';
import { renderPage } from '../render.js';

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

const CSS =
  'body{font-family:Arial,Helvetica,sans-serif;color:#111827;background:#f3f4f6;margin:0;padding:16px}' +
  'main{max-width:960px;margin:0 auto;background:#fff;padding:16px 20px;border-radius:6px}' +
  'h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:20px 0 6px}' +
  'table{border-collapse:collapse;width:100%}' +
  'td,th{text-align:left;padding:6px 8px;border-top:1px solid #e5e7eb;vertical-align:top;font-size:14px}' +
  '.badge{color:#fff;font-weight:bold;font-size:12px;padding:2px 8px;border-radius:3px;white-space:nowrap}' +
  '.muted{color:#6b7280;font-size:12px}.err{color:#b91c1c;font-size:12px;margin-top:2px}' +
  '.num{text-align:right}.warn{color:#b45309}';

function Badge({ text, color }: { text: string; color: string }) {
  return (
    <span class="badge" style={`background:${color}`}>
      {text}
    </span>
  );
}

const when = (iso: string | null) => (iso === null ? 'none' : `${iso.replace('T', ' ').slice(0, 16)} UTC`);

/** What each refusal usually means, for the person reading the jobs page. */
const REFUSAL_MEANING: Record<string, string> = {
  '400': 'malformed (a sender changed its format?)',
  '401': 'bad key or signature (a rotated secret?)',
  '413': 'too large',
  '429': 'throttled',
  '503': 'overloaded or database down',
};

function Crm({ c }: { c: StatusView['crm'] }) {
  if (c === null) return null;
  const statuses = Object.keys(c.refused.lastDay).sort();
  return (
    <>
      <h2>CRM webhook</h2>
      <table>
        <tr>
          <th scope="row">events received</th>
          <td>
            {c.lastHour} in the last hour, {c.lastDay} in the last day · last {when(c.lastEventAt)}
          </td>
        </tr>
        <tr>
          <th scope="row">pending (lead not known yet)</th>
          <td>
            {c.pending.count}
            {c.pending.count > 0 ? ` · oldest ${when(c.pending.oldest)}` : ''}
          </td>
        </tr>
        <tr>
          <th scope="row">dead letters (invalid events)</th>
          <td>
            {c.deadLetters.count}
            {c.deadLetters.count > 0 ? ` · oldest ${when(c.deadLetters.oldest)}` : ''}
          </td>
        </tr>
        <tr>
          <th scope="row">expired (no lead within the expiry)</th>
          <td>{c.expired}</td>
        </tr>
        <tr>
          <th scope="row">requests refused</th>
          <td>
            {statuses.length === 0
              ? 'none in the last day'
              : statuses.map((s) => (
                  <div>
                    {c.refused.lastHour[s] ?? 0} in the last hour, {c.refused.lastDay[s]} in the last day: {s}{' '}
                    {REFUSAL_MEANING[s] ?? ''}
                  </div>
                ))}
          </td>
        </tr>
      </table>
    </>
  );
}

function Job({ j, agencyWide }: { j: StatusView['jobs'][number]; agencyWide: boolean }) {
  const state = j.health.lastRunFailed ? 'failed' : j.health.state;
  const r = j.lastRun;
  return (
    <tr>
      <td>
        <b>{j.schedule.job}</b>
        <div class="muted">{j.schedule.cron}</div>
      </td>
      <td>
        <Badge text={state === 'ok' ? 'OK' : state.toUpperCase()} color={COLOR[state]} />
      </td>
      <td>{j.health.summary}</td>
      <td>
        {r
          ? `${r.startedAt.replace('T', ' ').slice(0, 16)} UTC · ${r.status}` +
            `${r.exitCode === null ? '' : ` (exit ${r.exitCode})`}` +
            `${r.durationMs === null ? '' : ` · ${(r.durationMs / 1000).toFixed(1)} s`}`
          : 'never'}
        {r?.error && state === 'failed' && agencyWide ? <div class="err">{r.error.slice(0, 300)}</div> : null}
      </td>
    </tr>
  );
}

const PASSED = { text: 'PASSED', color: COLOR.ok };
const FAILED = { text: 'FAILED', color: COLOR.failed };

function Backups({ b }: { b: StatusView['backup'] }) {
  return (
    <>
      <h2>Backups</h2>
      <table>
        <tr>
          <th scope="row">latest good backup</th>
          <td>
            {b.lastBackup
              ? `${b.lastBackup.key} · ${b.lastBackup.ageHours.toFixed(1)} h old · ` +
                `${(b.lastBackup.size / 1048576).toFixed(1)} MB`
              : 'no backup recorded'}
          </td>
        </tr>
        <tr>
          <th scope="row">last restore drill</th>
          <td>
            {b.lastDrill ? (
              <>
                <Badge {...(b.lastDrill.ok ? PASSED : FAILED)} /> {b.lastDrill.at.slice(0, 10)} · {b.lastDrill.key}
                {b.lastDrill.problems.length ? (
                  <div class="err">{b.lastDrill.problems.slice(0, 3).join('; ')}</div>
                ) : null}
              </>
            ) : (
              'no restore drill recorded'
            )}
          </td>
        </tr>
      </table>
    </>
  );
}

function Scoring({ s }: { s: StatusView['scoring'] }) {
  if (!s)
    return (
      <>
        <h2>Scores</h2>
        <p>Nothing scored yet.</p>
      </>
    );
  return (
    <>
      <h2>Scores for {s.date}</h2>
      <p>{s.campaignsScored} campaigns scored.</p>
      {s.warnings.length ? (
        <ul class="warn">
          {s.warnings.map((w) => (
            <li>{w.message}</li>
          ))}
        </ul>
      ) : null}
      <table>
        <tr>
          <th>recommendation</th>
          <th class="num">campaigns</th>
        </tr>
        {Object.entries(s.recommendations)
          .filter(([, n]) => n > 0)
          .map(([r, n]) => (
            <tr>
              <td>{actionWords(r)}</td>
              <td class="num">{n}</td>
            </tr>
          ))}
      </table>
    </>
  );
}

/**
 * The page people read at a glance: one row per job (green / late / down / failed), the backup's age and the last
 * drill, the latest scoring date's recommendations. No scripts, no external resources.
 */
export function renderStatusPage(v: StatusView, opts: { agencyWide: boolean } = { agencyWide: true }): string {
  const [overall, color] =
    v.database === 'down'
      ? ['DATABASE DOWN', COLOR.down]
      : v.jobs.some((j) => j.health.lastRunFailed || j.health.state !== 'ok')
        ? ['NEEDS ATTENTION', COLOR.late]
        : ['ALL OK', COLOR.ok];
  return renderPage(
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Leadsmart status</title>
        <style dangerouslySetInnerHTML={{ __html: CSS }} />
      </head>
      <body>
        <main>
          <h1>
            Leadsmart status <Badge text={overall} color={color} />
          </h1>
          <p class="muted">
            As of {v.now.replace('T', ' ').slice(0, 19)} UTC · database {v.database}
          </p>
          <h2>Jobs</h2>
          <table>
            <tr>
              <th>job</th>
              <th>state</th>
              <th>schedule</th>
              <th>last run</th>
            </tr>
            {v.jobs.map((j) => (
              <Job j={j} agencyWide={opts.agencyWide} />
            ))}
          </table>
          {opts.agencyWide ? (
            <>
              <Crm c={v.crm} />
              <Backups b={v.backup} />
              <Scoring s={v.scoring} />
            </>
          ) : (
            <p class="muted">Error details, backups and the counts over every client are shown to agency-wide users.</p>
          )}
          <p>
            <a href="/">Back to the scorecard</a>
          </p>
        </main>
      </body>
    </html>,
  );
}
