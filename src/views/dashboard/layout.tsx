import type { ComponentChildren } from 'preact';
import { FLAG_LABELS, FLAG_WORDING, RECOMMENDATION_WORDING } from '../../core/alerts/wording.js';
import { ACTION_COLORS } from '../../core/charts/palette.js';
import { CHART_CSS } from '../../core/charts/svg.js';
import type { Recommendation } from '../../core/scoring/types.js';
import { renderPage } from '../render.js';

/**
 * The frame every page of status-server's dashboard shares: no script, styles inline in the page (the CSP allows
 * nothing else), legible from a phone to a desktop, contrast at least 4.5:1 for text.
 */

export const CSS =
  '*{box-sizing:border-box}body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;' +
  'color:#111827;background:#f3f4f6;margin:0;line-height:1.45;font-size:15px}' +
  'header.top{background:#111827;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;' +
  'align-items:baseline}header.top a{color:#fff}header.top .who{margin-left:auto;color:#d1d5db;font-size:.85rem}' +
  'main{max-width:1480px;margin:0 auto;padding:.75rem 1rem 2rem}h1{font-size:1.35rem;margin:.5rem 0 .25rem}' +
  'h2{font-size:1.1rem;margin:1.5rem 0 .5rem}h3{font-size:.95rem;margin:.9rem 0 .2rem;color:#374151}' +
  'a{color:#1d4ed8}.muted{color:#4b5563}.small{font-size:.85rem}' +
  '.banner{padding:.45rem .75rem;border-radius:4px;margin:.5rem 0;font-weight:600}' +
  '.banner.ok{background:#dcfce7;color:#14532d}.banner.late{background:#fef3c7;color:#78350f}' +
  '.banner.failed{background:#fee2e2;color:#7f1d1d}.banner a{color:inherit}' +
  '.table-wrap{overflow-x:auto;background:#fff;border:1px solid #e5e7eb;border-radius:6px}' +
  'table{border-collapse:collapse;width:100%;font-size:.9rem}caption{text-align:left;padding:.5rem .75rem}' +
  'th,td{text-align:left;padding:.45rem .45rem;border-bottom:1px solid #e5e7eb;vertical-align:top}' +
  'thead th{background:#f9fafb;white-space:nowrap}th a{color:#111827;text-decoration:none}' +
  'th a:hover,th a:focus{text-decoration:underline}td.num,th.num{text-align:right;' +
  'font-variant-numeric:tabular-nums;white-space:nowrap}' +
  '.badge{display:inline-block;color:#fff;font-weight:700;font-size:.75rem;padding:.1rem .45rem;border-radius:3px;' +
  'white-space:nowrap}.flag{display:inline-block;font-size:.72rem;border:1px solid #9ca3af;border-radius:3px;' +
  'padding:0 .3rem;margin:0 .2rem .2rem 0;white-space:nowrap;color:#374151}' +
  '.up{color:#166534}.down{color:#b91c1c}.stale{color:#b45309;font-weight:600}' +
  // A phone: each scorecard row a card, every value under its column's name, nothing to scroll sideways.
  '@media (max-width:640px){table.cards thead{position:absolute;width:1px;height:1px;overflow:hidden;' +
  'clip:rect(0 0 0 0)}table.cards tr{display:block;padding:.5rem .6rem;border-bottom:1px solid #d1d5db}' +
  'table.cards th,table.cards td{display:block;border:0;padding:.1rem 0;text-align:left}' +
  'table.cards td[data-label]::before{content:attr(data-label);display:inline-block;min-width:7.5rem;' +
  'color:#4b5563;font-size:.8rem}table.cards td:empty{display:none}}' +
  'form.filters{display:flex;flex-wrap:wrap;gap:.5rem .75rem;' +
  'align-items:flex-end;background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:.6rem .75rem;' +
  'margin:.5rem 0}form.filters label{display:flex;flex-direction:column;font-size:.8rem;color:#374151;gap:.15rem}' +
  'input,select,button{font:inherit;font-size:.9rem;padding:.3rem .4rem;border:1px solid #6b7280;border-radius:4px;' +
  'background:#fff;color:#111827}button{background:#1d4ed8;color:#fff;border-color:#1d4ed8;cursor:pointer}' +
  'nav.pages{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;margin:.6rem 0}' +
  '.card{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:.75rem 1rem;margin:.75rem 0}' +
  '.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:0 1rem}' +
  '.bar{background:#e5e7eb;border-radius:3px;height:.6rem;overflow:hidden}.bar span{display:block;height:100%}' +
  'dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .9rem;margin:0}dl.facts dt{color:#4b5563}' +
  '.dim{margin:.35rem 0}dl.facts dd{margin:0}' +
  '.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}' +
  CHART_CSS;

/** The one-line health of the jobs, linking to /jobs. */
export interface JobBanner {
  state: 'ok' | 'late' | 'failed';
  text: string;
}

export function Banner({ banner }: { banner: JobBanner }) {
  return (
    <p class={`banner ${banner.state}`} role="status">
      <a href="/jobs">{banner.text}</a>
    </p>
  );
}

/** An action as a coloured label, in words. */
export function ActionBadge({ action }: { action: Recommendation }) {
  return (
    <span class="badge" style={`background:${ACTION_COLORS[action]}`}>
      {RECOMMENDATION_WORDING[action].label}
    </span>
  );
}

/** A flag in words, its sentence on hover; a code the wording does not know (a newer version's) as it is. */
export function FlagBadge({ flag }: { flag: string }) {
  const label = (FLAG_LABELS as Record<string, string>)[flag];
  const sentence = (FLAG_WORDING as Record<string, string>)[flag];
  return label ? (
    <span class="flag" title={sentence ?? ''}>
      {label}
    </span>
  ) : (
    <span class="flag">{flag}</span>
  );
}

/** A recommendation or action in words ("Pause campaign"); a dash for none. */
export function actionWords(a: string | null): string {
  return a === null ? '—' : ((RECOMMENDATION_WORDING as Record<string, { label: string }>)[a]?.label ?? a);
}

/** A whole page: the header with the signed-in user, then the body. */
export function page(f: { title: string; username: string | null; children: ComponentChildren }): string {
  return renderPage(
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <title>{`${f.title} · Leadsmart`}</title>
        <style dangerouslySetInnerHTML={{ __html: CSS }} />
      </head>
      <body>
        <header class="top">
          <strong>
            <a href="/">Leadsmart</a>
          </strong>
          <a href="/">Scorecard</a>
          <a href="/jobs">Jobs</a>
          {f.username === null ? null : <span class="who">Signed in as {f.username}</span>}
        </header>
        <main>{f.children}</main>
      </body>
    </html>,
  );
}

/** A page for an error a person sees instead of a stack trace: what happened and what to do. */
export function errorPage(status: number, title: string, message: string, username: string | null = null): string {
  return page({
    title,
    username,
    children: (
      <>
        <h1>{title}</h1>
        <p>{message}</p>
        <p class="muted small">HTTP {status}</p>
        <p>
          <a href="/">Back to the scorecard</a>
        </p>
      </>
    ),
  });
}
