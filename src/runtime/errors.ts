/** sysexits codes (README, "Exit codes"). */
export const ExitCode = {
  OK: 0,
  SOFTWARE: 1,
  USAGE: 64,
  DATA_ERR: 65,
  NO_INPUT: 66,
  UNAVAILABLE: 69,
  TEMP_FAIL: 75,
  CONFIG: 78,
} as const;

export const EXIT_CODE_HELP = [
  ['0', 'success'],
  ['1', 'unexpected error (a bug): see the log and Sentry'],
  ['64', 'usage: unknown flag or bad value (for example --date)'],
  ['65', 'input data invalid'],
  ['66', 'an input file does not exist'],
  ['69', 'an outside service (PostgreSQL, Graph API, SES, S3) still failing after retries'],
  ['75', 'temporary: another run holds the lock, or a rate limit deferred the work; try later'],
  ['78', 'configuration invalid or credentials rejected'],
  ['130/143', 'interrupted by SIGINT/SIGTERM; the unit of work in progress was rolled back'],
] as const;

/** An error whose message is meant for the operator and that carries its exit code. */
export class JobError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    options?: { cause?: unknown; problems?: string[] },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.problems = options?.problems ?? [];
  }
  readonly problems: string[];
}

export class UsageError extends JobError {
  constructor(message: string, options?: { cause?: unknown; problems?: string[] }) {
    super(message, ExitCode.USAGE, options);
  }
}
export class DataError extends JobError {
  constructor(message: string, options?: { cause?: unknown; problems?: string[] }) {
    super(message, ExitCode.DATA_ERR, options);
  }
}
export class NoInputError extends JobError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.NO_INPUT, options);
  }
}
export class UnavailableError extends JobError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.UNAVAILABLE, options);
  }
}
export class TempFailError extends JobError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.TEMP_FAIL, options);
  }
}
export class ConfigError extends JobError {
  constructor(message: string, options?: { cause?: unknown; problems?: string[] }) {
    super(message, ExitCode.CONFIG, options);
  }
}
/** Thrown inside a job when SIGTERM/SIGINT arrived; the runner maps it to 128 + signal. */
export class InterruptedError extends JobError {
  constructor(readonly signalName: NodeJS.Signals) {
    super(`interrupted by ${signalName}; the work in progress was rolled back`, signalName === 'SIGINT' ? 130 : 143);
  }
}

// EPIPE and ECONNRESET: the server closed the socket under a query (backend terminated, server
// restarted); which of the two, or "Connection terminated", depends on who notices first.
const PG_CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOENT', 'EHOSTUNREACH']);
// 57P01 admin shutdown (also pg_terminate_backend), 57P02 crash shutdown, 57P03 cannot connect
// now (starting up, shutting down), 53300 too many connections; class 08 is connection exceptions.
const PG_UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

// 28000 invalid authorization (no such role, pg_hba refuses), 28P01 wrong password, 3D000 no such database.
const PG_REFUSED_SQLSTATES = new Set(['28000', '28P01', '3D000']);

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
  // node-pg's own words: pool connect timeout, socket closed, and a query on a client that already lost its connection.
  return /timeout exceeded when trying to connect|Connection terminated|encountered a connection error and is not queryable/i.test(e.message ?? '');
}
