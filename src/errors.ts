/**
 * Errors that carry an exit code, shared by every layer: a leaf that imports nothing. The sysexits codes are in
 * docs/configuration.md, "Exit codes".
 */
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
