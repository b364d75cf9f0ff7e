/**
 * What a failed database call means, next to the connection code: the server could not be reached or went away
 * (exit 69, try again), or it answered and refused the credentials or the database (exit 78, fix the settings).
 */

// EPIPE and ECONNRESET: the server closed the socket under a query (backend terminated, server
// restarted); which of the two, or "Connection terminated", depends on who notices first.
const PG_CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOENT',
  'EHOSTUNREACH',
]);
// 57P01 admin shutdown (also pg_terminate_backend), 57P02 crash shutdown, 57P03 cannot connect
// now (starting up, shutting down), 53300 too many connections; class 08 is connection exceptions.
const PG_UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

// 28000 invalid authorization (no such role, pg_hba refuses), 28P01 wrong password, 3D000 no such database.
const PG_REFUSED_SQLSTATES = new Set(['28000', '28P01', '3D000']);

// node-pg's own words: pool connect timeout, socket closed, and a query on a client that already lost its connection.
const PG_CONNECTION_LOST_MESSAGE =
  /timeout exceeded when trying to connect|Connection terminated|encountered a connection error and is not queryable/i;

/** True for a server that answered but refused these credentials or this database: configuration, not an outage. */

export function isCredentialsError(error: unknown): boolean {
  const e = error as { code?: string } | null;
  return !!e && typeof e.code === 'string' && PG_REFUSED_SQLSTATES.has(e.code);
}

/** True for errors meaning the database (or another service) could not be reached or went away. */
export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: string; message?: string; syscall?: string } | null;
  if (!e) return false;
  // ENOENT is a connection error only for a unix socket that is not there (server not running).
  if (e.code === 'ENOENT') return e.syscall === 'connect';
  if (e.code && PG_CONNECTION_CODES.has(e.code)) return true;
  if (e.code && (e.code.startsWith('08') || PG_UNAVAILABLE_SQLSTATES.has(e.code))) return true;
  return PG_CONNECTION_LOST_MESSAGE.test(e.message ?? '');
}
