/**
 * Classifying Graph API failures by `error.code` / `error_subcode`, never by
 * HTTP status alone (throttles arrive as 400, unknown errors as 500).
 */

export type GraphErrorKind =
  /**
   * Retry with backoff: codes 1 and 2, is_transient, 5xx/429 without a Graph body, malformed bodies, network failures.
   */
  | 'transient'
  /** Rate limited: wait if the API says it is soon, else defer the account. */
  | 'throttle'
  /** "Please reduce the amount of data": split the date range or ask for smaller pages. */
  | 'reduce-data'
  /** The access token is invalid or expired: stop every account using it. */
  | 'token'
  /**
   * The token may not read this account (codes 3, 10, 200–299, 100/3191001, "(#100) Missing permissions", a 190 about
   * a Page permission not granted) or the account does not exist.
   */
  | 'permission'
  /** A paging cursor no longer points anywhere (an item was deleted between pages): restart the listing. */
  | 'invalid-cursor'
  /** Anything else the API refused: a bug or an unsupported parameter; not retried. */
  | 'request';

export interface GraphErrorInfo {
  kind: GraphErrorKind;
  /** HTTP status of the response (0 when there was none). */
  status: number;
  code?: number;
  subcode?: number;
  message: string;
  fbtraceId?: string;
  /** True for throttles that apply to the whole app (code 4, 341): every account waits. */
  appWide: boolean;
  /** Seconds until access returns, from the usage headers of the same response (0 = not said). */
  regainSeconds?: number;
}

const THROTTLE_CODES = new Set([
  4, 17, 32, 341, 613, 80000, 80001, 80002, 80003, 80004, 80005, 80006, 80008, 80009, 80014,
]);
const REDUCE_DATA = /reduce the amount of data/i;
/** "(#100) Missing permissions" (code 100, no subcode). */
const MISSING_PERMISSIONS = /missing permission/i;
/**
 * A 190 about a Page permission ("…must be granted before impersonating a user's page…"): the token is valid, a
 * permission is missing.
 */
const PAGE_PERMISSION = /must be granted|impersonat|page access token|permission/i;

/** What a failed response (or a 200 whose body is not what the Graph API sends) means. */
export function classifyGraphError(status: number, body: unknown): GraphErrorInfo {
  const error =
    body && typeof body === 'object' && !Array.isArray(body) ? (body as { error?: unknown }).error : undefined;
  if (!error || typeof error !== 'object') {
    // A 429 is a throttle whatever its body (a proxy or the edge answers it empty): waited out or deferred, not
    // hammered with retries.
    const kind: GraphErrorKind =
      status === 429 ? 'throttle' : status >= 500 || status === 200 || status === 0 ? 'transient' : 'request';
    return {
      kind,
      status,
      message: status === 200 ? 'malformed response body' : `HTTP ${status} without a Graph API error body`,
      appWide: false,
    };
  }
  const e = error as Record<string, unknown>;
  const code = typeof e.code === 'number' ? e.code : Number.isFinite(Number(e.code)) ? Number(e.code) : undefined;
  const subcode =
    typeof e.error_subcode === 'number'
      ? e.error_subcode
      : e.error_subcode === undefined
        ? undefined
        : Number(e.error_subcode);
  // error_user_title and error_user_msg are Meta's words for a person; for some errors (2853001) the only useful ones.
  const userText = [e.error_user_title, e.error_user_msg].filter((x): x is string => typeof x === 'string' && x !== '');
  const message =
    (typeof e.message === 'string' ? e.message : 'no message') +
    (userText.length > 0 ? ` (${userText.join(': ')})` : '');
  const base = {
    status,
    code,
    subcode,
    message,
    fbtraceId: typeof e.fbtrace_id === 'string' ? e.fbtrace_id : undefined,
    appWide: false,
  };
  const kind = ((): GraphErrorKind => {
    if (
      code === 190 &&
      PAGE_PERMISSION.test(message) &&
      !/session has expired|invalid oauth|validating access token/i.test(message)
    )
      return 'permission';
    if (code === 190 || code === 102) return 'token';
    if (code !== undefined && THROTTLE_CODES.has(code)) return 'throttle';
    if (
      REDUCE_DATA.test(message) ||
      (code === 100 && (subcode === 1487534 || subcode === 1504018)) ||
      (code === 2 && subcode === 1504038)
    )
      return 'reduce-data';
    // Code 3: the app lacks the capability (Marketing API access not granted): a permission to ask for, not a request
    // to change.
    if (
      code === 3 ||
      code === 10 ||
      (code !== undefined && code >= 200 && code <= 299) ||
      (code === 100 && subcode === 3191001)
    )
      return 'permission';
    // Invalid breakdowns or custom metrics (2/1504041, 2/1504042) are the request's fault, whatever code 2 usually
    // means: retrying cannot help.
    if (code === 2 && (subcode === 1504041 || subcode === 1504042)) return 'request';
    if (code === 2642 || (code === 100 && /invalid cursors?/i.test(message))) return 'invalid-cursor';
    if (code === 100 && subcode === 33) return 'permission';
    if (code === 100 && subcode === undefined && MISSING_PERMISSIONS.test(message)) return 'permission';
    if (e.is_transient === true) return 'transient';
    // is_transient: false outweighs a code that is usually temporary (1, 2): only a server failure (5xx) is retried
    // then.
    if ((code === 1 || code === 2) && e.is_transient !== false) return 'transient';
    if (status >= 500) return 'transient';
    return 'request';
  })();
  return { ...base, kind, appWide: kind === 'throttle' && (code === 4 || code === 341) };
}

/** One line for a person: what failed, Facebook's words, the trace id to quote to Meta support. */
export function describeGraphError(info: GraphErrorInfo): string {
  const code =
    info.code === undefined
      ? `HTTP ${info.status}`
      : `code ${info.code}${info.subcode === undefined ? '' : `/${info.subcode}`}`;
  return `${code}: ${info.message}${info.fbtraceId ? ` (fbtrace_id ${info.fbtraceId})` : ''}`;
}
