/**
 * What is kept of a Graph API answer for the raw archive: no access token
 * in any URL, form or paging link, no answers people typed into Lead Ads
 * forms, only the headers worth keeping; batch answers entry by entry.
 */
import { USAGE_HEADERS } from '../../core/facebook/usage.js';

export const KEPT_HEADERS = [...USAGE_HEADERS, 'content-type', 'x-fb-trace-id', 'x-fb-rev', 'x-fb-request-id'];

/** Strips the token from a URL; the rest (fields, time_range, cursors) is kept for the audit trail. */
export function stripToken(url: string): string {
  try {
    const u = new URL(url);
    for (const k of ['access_token', 'appsecret_proof']) u.searchParams.delete(k);
    return u.toString();
  } catch {
    return url.replace(/((?:access_token|appsecret_proof)=)[^&\s]+/g, '$1[REDACTED]');
  }
}

/** paging.next and paging.previous embed the access token. */
function withoutPagingTokens(body: unknown): unknown {
  const paging = (body as { paging?: Record<string, unknown> } | null)?.paging;
  if (!paging || typeof paging !== 'object') return body;
  const clean = { ...paging };
  for (const k of ['next', 'previous']) if (typeof clean[k] === 'string') clean[k] = stripToken(clean[k] as string);
  return { ...(body as object), paging: clean };
}

/**
 * What is archived of an answer: no tokens in paging URLs, no form answers; a batch answer entry by entry, its bodies
 * parsed.
 */
export function forArchive(body: unknown): unknown {
  if (!Array.isArray(body)) return withoutPagingTokens(withoutLeadPii(body));
  return body.map((entry) => {
    if (!entry || typeof entry !== 'object') return entry;
    const e = entry as { code?: unknown; headers?: unknown; body?: unknown };
    let inner: unknown = e.body;
    try {
      inner = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
    } catch {
      inner = { unparsed_body: String(e.body).slice(0, 2000) };
    }
    const headers = Array.isArray(e.headers)
      ? Object.fromEntries(
          e.headers
            .filter((h: { name?: unknown }) => KEPT_HEADERS.includes(String(h?.name).toLowerCase()))
            .map((h: { name: string; value: unknown }) => [h.name.toLowerCase(), h.value]),
        )
      : undefined;
    return { code: e.code, headers, body: withoutPagingTokens(withoutLeadPii(inner)) };
  });
}

/** A POST's form as archived: a batch's requests parsed, any token removed. */
export function archivedForm(form: Record<string, string> | undefined): Record<string, unknown> | undefined {
  if (!form) return undefined;
  const { access_token: _t, appsecret_proof: _p, ...rest } = form;
  if (rest.batch === undefined) return rest;
  let batch: unknown = rest.batch;
  try {
    batch = (JSON.parse(rest.batch) as { relative_url?: string }[]).map((r) => ({
      ...r,
      relative_url: stripToken(`http://x/${r.relative_url ?? ''}`).slice('http://x/'.length),
    }));
  } catch {
    // archived as sent
  }
  return { ...rest, batch };
}

/** Removes the answers people typed into Lead Ads forms; only the field names stay. */
export function withoutLeadPii(body: unknown): unknown {
  if (!body || typeof body !== 'object') return body;
  const o = body as { data?: unknown };
  if (!Array.isArray(o.data)) return body;
  return {
    ...o,
    data: o.data.map((item) => {
      if (!item || typeof item !== 'object') return item;
      const { field_data: fieldData, custom_disclaimer_responses: _c, ...rest } = item as Record<string, unknown>;
      return Array.isArray(fieldData)
        ? { ...rest, field_names: fieldData.map((f) => (f as { name?: unknown })?.name ?? null) }
        : rest;
    }),
  };
}
