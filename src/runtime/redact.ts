/**
 * Removes secrets from text before it reaches a log line, an error report,
 * job_runs or a stored raw response: every known secret value, passwords in
 * URLs, and access tokens in query strings or headers.
 */
export type Redactor = (text: string) => string;

const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*:)([^@/\s]+)@/gi;
const TOKEN_PARAM = /((?:access_token|token|client_secret|appsecret_proof|password|sig)=)[^&\s"']+/gi;
const BEARER = /(bearer\s+)[a-z0-9._~+/=-]+/gi;

/** Shorter values are not removed by value (see createRedactor). */
export const MIN_SECRET_LENGTH = 8;

export function createRedactor(secrets: readonly (string | undefined)[]): Redactor {
  // Longest first, so a secret that contains another is removed whole.
  // Only values long enough to be secrets: removing a short one ("short", "admin") mangles every message holding that
  // word ("too [REDACTED]"). Passwords inside URLs are removed by the URL rule below whatever their length.
  const values = [
    ...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH)),
  ].sort((a, b) => b.length - a.length);
  return (text: string): string => {
    let out = text;
    for (const v of values) out = out.split(v).join('[REDACTED]');
    return out
      .replace(URL_PASSWORD, '$1[REDACTED]@')
      .replace(TOKEN_PARAM, '$1[REDACTED]')
      .replace(BEARER, '$1[REDACTED]');
  };
}

/** Applies a redactor to every string inside a JSON-like value. */
export function redactDeep<T>(value: T, redact: Redactor): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact)) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, redact)])) as T;
  }
  return value;
}
