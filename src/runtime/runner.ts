import { hostname } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { loadConfig, type AppConfig, type RequiredSetting } from '../config/load-config.js';
import type { DatabaseHandle, PooledConnection } from '../db/connect.js';
import { assertSchemaCurrent } from '../db/migrate.js';
import type { LockSession } from '../db/job-lock.js';
import type { JobReport } from '../core/reports/job-report.js';
import { systemClock, type Clock } from './clock.js';
import { emfLine } from './emf.js';
import { isConnectionError, isCredentialsError } from '../db/connection-errors.js';
import {
  ConfigError,
  EXIT_CODE_HELP,
  ExitCode,
  InterruptedError,
  JobError,
  UnavailableError,
  UsageError,
} from '../errors.js';
import { SQL_DIR, STATE_DIR } from './paths.js';
import type { JobDeps } from './job-deps.js';
import type { Logger } from './logger.js';
import { createRedactor, redactDeep } from './redact.js';
import { createErrorReporter, type ErrorReporter } from './sentry.js';

/** A job definition's run gets the JobDeps its typed function takes, its parsed options and standard streams. */
export interface JobContext<O> extends JobDeps {
  job: string;
  options: O;
  /** Standard input (a test can pass its own). */
  stdin: Readable;
  /** Standard error, for jobs whose human summary goes there (see JobDefinition.textTo). */
  stderr: Writable;
}

/** What a run tells the world (src/core/reports/job-report.ts): made by the job's pure report function. */
export type JobOutcome = JobReport;

export interface JobDefinition<O> {
  /** One name everywhere: bin/<name>, src/jobs/<name>.ts, job_runs.job, the lock key, log field `job`. */
  name: string;
  description: string;
  /** Example command lines for --help. */
  examples: string[];
  /** Adds --dry-run. */
  writes: boolean;
  /**
   * Where JobOutcome.text goes: standard output (default), or standard error for jobs that keep standard output for
   * data.
   */
  textTo?: 'stdout' | 'stderr';
  /** false for jobs that must run before the schema exists (migrate). Default true. */
  bookkeeping?: boolean;
  /**
   * The name job_runs records for a run with these options, when one executable does two jobs that health checks
   * must tell apart (backup-db --verify is a restore drill, not a nightly backup). The lock stays `name`'s.
   */
  runName?(options: O): string;
  /** A job option (camelCase) naming the database to work on instead of DATABASE_URL (restore's --target). */
  databaseOption?: string;
  /** Connect with DATABASE_URL_READONLY, every session read-only (the status service). */
  readOnlyDatabase?: boolean;
  /** Connections in the pool (default 4). */
  poolSize?: number;
  /** Let statements finish after SIGTERM instead of cancelling them (a service draining its requests). */
  drainOnSignal?: boolean;
  /** false: no advisory lock (a read-only service may run as several instances). Default true. */
  lock?: boolean;
  require?: readonly RequiredSetting[];
  addOptions?(command: Command): void;
  /** Checks the job's own flags; throws UsageError (64) or ConfigError (78). Runs before any connection. */
  parseOptions(
    raw: Record<string, unknown>,
    args: string[],
    env: { clock: Clock; config: Readonly<AppConfig> },
  ): O | Promise<O>;
  run(ctx: JobContext<O>): Promise<JobOutcome>;
}

export interface RunOptions {
  /** Arguments after the executable name. */
  argv: string[];
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  stdout?: Writable;
  stderr?: Writable;
  stdin?: Readable;
  /** Install SIGTERM/SIGINT handlers (the executables do; tests pass `abort` instead). */
  handleSignals?: boolean;
  /** Lets a test interrupt the run as a signal would. */
  abort?: AbortSignal;
}

const COMMON_FLAGS: Record<string, string> = {
  databaseUrl: 'DATABASE_URL',
  blobUrl: 'BLOB_URL',
  logLevel: 'LOG_LEVEL',
  logFormat: 'LOG_FORMAT',
};

function helpEpilogue(def: JobDefinition<unknown>): string {
  const codes = EXIT_CODE_HELP.map(([c, m]) => `  ${c.padEnd(8)} ${m}`).join('\n');
  const examples = def.examples.map((e) => `  $ ${e}`).join('\n');
  return (
    `\nExit codes:\n${codes}\n\nExamples:\n${examples}\n\nConfiguration ` +
    `comes from the environment (see docs/configuration.md); flags win.\n`
  );
}

function buildCommand(def: JobDefinition<unknown>, out: Writable, errors: string[]): Command {
  const cmd = new Command(def.name)
    .description(def.description)
    .option('--json', 'print a machine-readable JSON summary on standard output')
    .option(
      '--database-url <url>',
      'PostgreSQL connection URL (default: DATABASE_URL, PG* variables, or the local database)',
    )
    .option('--blob-url <url>', 'blob store: file:///path or s3://bucket/prefix (default: BLOB_URL)')
    .option('--log-level <level>', 'error, warn, info or debug (default: LOG_LEVEL or info)')
    .option('--log-format <format>', 'json or pretty (default: json unless standard error is a terminal)');
  if (def.writes) cmd.option('--dry-run', 'do all the work and report it, but write nothing');
  def.addOptions?.(cmd);
  cmd.addHelpText('after', helpEpilogue(def));
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: (s) => void out.write(s), writeErr: (s) => void errors.push(s.trim()) });
  return cmd;
}

/**
 * p-retry only accepts `instanceof Error`; errors made in another realm (a vm context, as under Jest) fail that test.
 */
function asLocalError(error: unknown): Error {
  if (error instanceof Error) return error;
  const e = error as { message?: string; code?: string; syscall?: string } | null;
  return Object.assign(new Error(e?.message ?? String(error), { cause: error }), {
    code: e?.code,
    syscall: e?.syscall,
  });
}

async function withDatabaseRetry<T>(fn: () => Promise<T>, describeDb: string): Promise<T> {
  const { default: pRetry } = await import('p-retry');
  try {
    return await pRetry(() => fn().catch((error: unknown) => Promise.reject(asLocalError(error))), {
      retries: 3,
      minTimeout: 300,
      maxTimeout: 2000,
      randomize: true,
      shouldRetry: ({ error }) => isConnectionError(error),
    });
  } catch (error) {
    if (isConnectionError(error)) {
      throw new UnavailableError(
        `cannot reach PostgreSQL (${describeDb}) after 4 ` +
          `attempts: ${(error as Error).message}. Check that the server is ` +
          `running and DATABASE_URL is ` +
          `right${describeDb.startsWith('local') ? '; for the local database run `make db`' : ''}.`,
        { cause: error },
      );
    }
    if (isCredentialsError(error)) {
      throw new ConfigError(
        `PostgreSQL (${describeDb}) refused the ` +
          `connection: ${(error as Error).message}. Check the user, the ` +
          `password and the database name in DATABASE_URL (or its *_FILE), ` +
          `and that the role may log in; nothing was done.`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** The modules a run needs past --help, loaded then so that help answers without winston, pg and Kysely. */
async function loadRunModules() {
  const [logger, connect, deps, lock, jobRuns] = await Promise.all([
    import('./logger.js'),
    import('../db/connect.js'),
    import('./job-deps.js'),
    import('../db/job-lock.js'),
    import('../db/repositories/job-runs.repository.js'),
  ]);
  return { ...logger, ...connect, ...deps, ...lock, ...jobRuns };
}
type RunModules = Awaited<ReturnType<typeof loadRunModules>>;

/** What one run holds as it goes through its phases; the report and the clean-up read what the others left. */
interface Run {
  readonly name: string;
  readonly started: number;
  readonly dryRun: boolean;
  readonly redact: (text: string) => string;
  /** job_runs' and the EMF line's name (JobDefinition.runName), known once the options are parsed. */
  recordedName: string;
  logger: Logger;
  reporter: ErrorReporter | null;
  handle: DatabaseHandle | null;
  lockSession: LockSession | null;
  runId: string | null;
  signalName: NodeJS.Signals | null;
  outcome: JobOutcome | null;
  failure: unknown;
  exitCode: number;
}

/** Phase 1: the command line. 'help' when --help (or its like) answered; otherwise the flags and what was wrong. */
function readCommandLine(
  def: JobDefinition<unknown>,
  argv: string[],
  stdout: Writable,
): 'help' | { raw: Record<string, unknown>; args: string[]; parseFailure: string | null } {
  const usageErrors: string[] = [];
  const cmd = buildCommand(def, stdout, usageErrors);
  try {
    cmd.parse(argv, { from: 'user' });
    return { raw: cmd.opts(), args: cmd.args, parseFailure: null };
  } catch (error) {
    if (
      error instanceof CommanderError &&
      ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code)
    )
      return 'help';
    const parseFailure = (usageErrors.join(' ').replace(/^error: /, '') || (error as Error).message).replace(
      /\s*\n\s*/g,
      ' ',
    );
    return { raw: {}, args: [], parseFailure };
  }
}

/** Phase 2: the settings (environment < flags), every problem collected; a bad database flag is a usage error. */
function loadSettings(def: JobDefinition<unknown>, raw: Record<string, unknown>, env: NodeJS.ProcessEnv) {
  const overrides: Record<string, string | undefined> = {};
  let flagProblem: string | null = null;
  for (const [flag, name] of Object.entries(COMMON_FLAGS))
    if (typeof raw[flag] === 'string') overrides[name] = raw[flag] as string;
  if (def.databaseOption !== undefined && typeof raw[def.databaseOption] === 'string') {
    const url = raw[def.databaseOption] as string;
    // A usage error about the flag, never echoing its value (it may hold a password).
    if (/^postgres(ql)?:\/\//.test(url)) overrides.DATABASE_URL = url;
    else
      flagProblem =
        `--${def.databaseOption}: expected a URL, ` +
        `postgresql://user@host:port/database or ` +
        `postgresql://user@/database?host=/socket/dir, with the password ` +
        `after the user name (the value given is not shown: it may hold a password)`;
  }
  const loaded = loadConfig(env, { overrides, require: def.require, stateDir: env.LEADSMART_STATE_DIR ?? STATE_DIR });
  return { loaded, flagProblem };
}

/**
 * Phase 3: the database, the job's lock and its job_runs row. Returns how this run takes a connection (retried
 * while the server is unreachable).
 */
async function openRun(
  run: Run,
  def: JobDefinition<unknown>,
  config: Readonly<AppConfig>,
  m: RunModules,
  argv: string[],
  onLockLost: (error: Error) => void,
): Promise<() => Promise<PooledConnection>> {
  const { redact } = run;
  const databaseUrl = def.readOnlyDatabase ? config.databaseUrlReadonly : config.databaseUrl;
  const describeDb = def.readOnlyDatabase
    ? redact(databaseUrl ?? 'DATABASE_URL_READONLY')
    : config.databaseSource === 'local'
      ? `local database in ${STATE_DIR}`
      : redact(config.databaseUrl ?? 'PG* environment variables');
  const handle = m.connectDatabase(databaseUrl, {
    applicationName: applicationNameOf(def.name),
    max: def.poolSize,
    readOnly: def.readOnlyDatabase,
    statementTimeoutMs: def.readOnlyDatabase ? 10_000 : undefined,
  });
  run.handle = handle;
  const connect = () => withDatabaseRetry(() => handle.pool.connect(), describeDb);
  let holdsLock = false;
  run.lockSession = await m.openLockSession(connect, (e: Error) => {
    if (holdsLock) onLockLost(e);
    else run.logger.warn(`lost the connection of the ${def.name} run's lock session: ${redact(e.message)}`);
  });
  if (def.bookkeeping !== false) await assertSchemaCurrent(handle.pool, SQL_DIR);

  const lockKey = def.bookkeeping !== false ? `job_locks.${def.name}` : `leadsmart:${def.name}`;
  const locked = def.lock === false || (await run.lockSession.take(def.name, def.bookkeeping !== false));
  holdsLock = def.lock !== false;
  if (!locked) {
    throw new JobError(
      `another ${def.name} run holds the lock (${lockKey}); nothing ` +
        `was done. It will run again on schedule; see job_runs for the ` +
        `run in progress.`,
      ExitCode.TEMP_FAIL,
    );
  }
  if (def.bookkeeping !== false && def.lock !== false && !run.dryRun) {
    // Holding the lock proves no other run of this job is alive: rows still `running` are of runs that were killed.
    const stale = await m.reconcileStaleRuns(handle.db, [...new Set([def.name, run.recordedName])]);
    if (stale > 0) run.logger.warn(`marked ${stale} earlier run(s) of ${def.name} interrupted: they ended unrecorded`);
  }
  if (def.bookkeeping !== false && !run.dryRun) {
    // On a connection of its own (autocommit): the lock connection holds the lock's transaction open for the run.
    run.runId = await m.startJobRun(handle.db, {
      job: run.recordedName,
      args: argv.map(redact),
      host: hostname(),
      pid: process.pid,
    });
  }
  return connect;
}

/** Every connection of a run carries this name, so a signal can cancel whatever statement is running. */
function applicationNameOf(job: string): string {
  return `leadsmart:${job}:${process.pid}`;
}

/** Phase 5: the outcome told everywhere it goes: the log, Sentry, job_runs, standard output, the EMF line. */
async function reportRun(
  run: Run,
  def: JobDefinition<unknown>,
  m: RunModules,
  io: { stdout: Writable; stderr: Writable; json: boolean },
): Promise<void> {
  const { failure, outcome, exitCode, redact, logger } = run;
  const counts = outcome && !failure ? outcome.counts : {};
  const durationMs = Date.now() - run.started;
  const errorSummary = failure ? redact(describeError(failure)) : null;
  if (failure) {
    const problems = failure instanceof JobError ? failure.problems.map(redact) : [];
    const meta: Record<string, unknown> = { exit_code: exitCode };
    if (problems.length > 0) meta.problems = problems;
    if (exitCode === ExitCode.SOFTWARE) meta.stack = redact((failure as Error)?.stack ?? String(failure));
    logger.error(errorSummary ?? 'failed', meta);
    if (run.reporter && (exitCode === ExitCode.SOFTWARE || exitCode === ExitCode.UNAVAILABLE)) {
      run.reporter.capture(failure, { job: def.name, run_id: run.runId, exit_code: exitCode });
    }
  } else {
    logger.info(`${def.name} finished`, { exit_code: exitCode, duration_ms: durationMs, counts });
  }

  const { runId, handle } = run;
  if (runId !== null && handle) {
    const end = {
      status: run.signalName ? 'interrupted' : exitCode === 0 ? 'succeeded' : 'failed',
      exitCode,
      counts,
      summary: outcome ? redactDeep(outcome.summary, redact) : null,
      errorSummary,
    } as const;
    // After a signal, the run's own cancel request (sent when the signal arrived) can land on this statement
    // instead of the one it was meant for: it is cancelled once at most, so try again once.
    await m
      .finishJobRun(handle.db, runId, end)
      .catch((e: unknown) => {
        if ((e as { code?: string }).code === '57014') return m.finishJobRun(handle.db, runId, end);
        throw e;
      })
      .catch((e: unknown) =>
        logger.error(`could not record the end of run ${runId} in job_runs: ${redact((e as Error).message)}`),
      );
  }

  if (io.json) {
    const doc =
      outcome && !failure
        ? { ok: exitCode === 0, exit_code: exitCode, run_id: runId, ...outcome.summary }
        : {
            ok: false,
            exit_code: exitCode,
            run_id: runId,
            error: errorSummary,
            problems: failure instanceof JobError ? failure.problems.map(redact) : [],
          };
    io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else if (outcome && !failure) {
    (def.textTo === 'stderr' ? io.stderr : io.stdout).write(
      outcome.text.endsWith('\n') || outcome.text === '' ? outcome.text : `${outcome.text}\n`,
    );
  }

  const metrics: Record<string, number> = {
    ExitCode: exitCode,
    DurationMs: durationMs,
    Failed: exitCode === 0 || exitCode === ExitCode.TEMP_FAIL ? 0 : 1,
    Deferred: exitCode === ExitCode.TEMP_FAIL ? 1 : 0,
  };
  for (const [k, v] of Object.entries(counts))
    metrics[k.replace(/(^|_)([a-z])/g, (_m, _p, c: string) => c.toUpperCase())] = v;
  // The same name as job_runs: a restore drill's metrics must not count as a nightly backup's either.
  io.stderr.write(`${emfLine(run.recordedName, Date.now(), metrics)}\n`);
}

/**
 * Runs one job from its command line to its exit code, in phases: the command line, the settings and logger, the
 * run opened (database, lock, job_runs), the job itself, the report; the clean-up (signal handlers, lock, pool,
 * Sentry, logs) in `finally`, whatever failed before it. Never calls process.exit: `main` does that with the result.
 */
export async function runJob<O>(def: JobDefinition<O>, opts: RunOptions): Promise<number> {
  const started = Date.now();
  const env = opts.env ?? process.env;
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const clock = opts.clock ?? systemClock;
  const anyDef = def as JobDefinition<unknown>;

  const line = readCommandLine(anyDef, opts.argv, stdout);
  if (line === 'help') return ExitCode.OK;
  const { raw, args } = line;
  const m = await loadRunModules();
  const { loaded, flagProblem } = loadSettings(anyDef, raw, env);
  const parseFailure = line.parseFailure ?? flagProblem;
  const redact = createRedactor(loaded.ok ? loaded.config.secrets : loaded.secrets);
  const fallbackFormat =
    (env.LOG_FORMAT ?? (process.stderr.isTTY ? 'pretty' : 'json')) === 'pretty' ? 'pretty' : 'json';
  const run: Run = {
    name: def.name,
    started,
    dryRun: raw.dryRun === true,
    redact,
    recordedName: def.name,
    logger: m.createLogger({
      job: def.name,
      level: loaded.ok ? loaded.config.logLevel : 'info',
      format: loaded.ok ? loaded.config.logFormat : fallbackFormat,
      redact,
      stream: stderr,
    }),
    reporter: null,
    handle: null,
    lockSession: null,
    runId: null,
    signalName: null,
    outcome: null,
    failure: null,
    exitCode: ExitCode.SOFTWARE,
  };

  // Signals: the first rolls the work in progress back (the abort reaches the job; its statements are cancelled),
  // a second ends the process at once.
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (run.signalName) {
      // A second signal: the operator means it. process.exit() can wait on a thread stuck in a system call (libuv
      // joins its thread pool at exit), so the signal is delivered again with its default action: the kernel ends
      // the process at once, whatever it is waiting for (exit status 128 + the signal, as the shell reports it).
      stderr.write(`${def.name}: second ${sig}, exiting now\n`);
      if (opts.handleSignals) {
        process.removeAllListeners(sig);
        process.kill(process.pid, sig);
      }
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    run.signalName = sig;
    run.logger.warn(
      def.drainOnSignal
        ? `received ${sig}: finishing the requests in progress and stopping`
        : `received ${sig}: rolling back the work in progress and stopping`,
    );
    controller.abort(new InterruptedError(sig));
    if (!def.drainOnSignal) run.lockSession?.cancelOthers(applicationNameOf(def.name));
  };
  const onExternalAbort = (): void => onSignal('SIGTERM');
  if (opts.handleSignals) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  opts.abort?.addEventListener('abort', onExternalAbort, { once: true });

  // Phase 4: the job, after its options are checked and the run is opened.
  let lockLost: JobError | null = null;
  /** Resolves to the lost connection's error when it was an outage (every connection gone), else null. */
  let lockProbe: Promise<Error | null> | null = null;
  try {
    if (parseFailure !== null) throw new UsageError(`${parseFailure}. Run ${def.name} --help for usage.`);
    if (!loaded.ok) {
      throw new JobError(
        `invalid configuration (${loaded.problems.length} ` +
          `problem${loaded.problems.length === 1 ? '' : 's'}); nothing was done`,
        ExitCode.CONFIG,
        { problems: loaded.problems },
      );
    }
    const config = loaded.config;
    run.reporter = await createErrorReporter(config.sentryDsn, def.name, redact);
    const options = await def.parseOptions(raw, args, { clock, config });
    run.recordedName = def.runName?.(options) ?? def.name;
    // The lock is held by its connection: once that is gone another run may start, so this one stops before it
    // writes anything more, as on a signal (its statements cancelled, no COMMIT), and exits 75.
    const onLockLost = (e: Error): void => {
      if (controller.signal.aborted) return;
      const lost = new JobError(
        `lost the connection holding the ${def.name} lock (${redact(e.message)}): another run may start now, so ` +
          'this one stopped and rolled back the work in progress; it runs again on schedule',
        ExitCode.TEMP_FAIL,
      );
      run.logger.error(lost.message);
      controller.abort(lost);
      lockLost = lost;
      const handle = run.handle;
      if (handle) {
        // Was it the lock's connection alone (ended on purpose: 75), or every connection (a restart, the network: an
        // outage, 69)? The server says whether the run's other connections are still there.
        // Terminated backends take a moment to leave pg_stat_activity: asked a few times over a second, an outage
        // shows as none left (or no server), a lock ended alone as the others staying.
        lockProbe = (async () => {
          for (let i = 0; i < 8; i++) {
            if ((await m.countConnections(handle, applicationNameOf(def.name))) <= 0) return e;
            await new Promise((resolve) => setTimeout(resolve, 150));
          }
          return null;
        })();
        void m.cancelStatements(handle, applicationNameOf(def.name));
      }
    };
    const connect = await openRun(run, anyDef, config, m, opts.argv, onLockLost);
    run.logger = run.logger.child({ run_id: run.runId ?? undefined });
    run.logger.info(`${def.name} started${run.dryRun ? ' (dry run: nothing will be written)' : ''}`, {
      args: opts.argv,
    });
    const deps = await m.createJobDeps({
      config,
      logger: run.logger,
      database: run.handle!,
      clock,
      dryRun: run.dryRun,
      runId: run.runId,
      signal: controller.signal,
      redact,
      connect,
    });
    run.outcome = await def.run({ ...deps, job: def.name, options, stdin: opts.stdin ?? process.stdin, stderr });
    // A run that lost its lock and still finished (nothing more to write) did not run alone: 75 (or 69) all the same.
    if (lockLost) throw lockLost;
    run.exitCode = run.outcome.exitCode ?? ExitCode.OK;
  } catch (error) {
    // The lock's connection lost with all the others (a server restart, the network) is an outage (69, its own
    // error); lost alone (ended on purpose), it is the lock that failed (75).
    const outage = lockProbe ? await lockProbe : null;
    const ownOutage =
      isConnectionError(error) || (error instanceof JobError && error.exitCode === ExitCode.UNAVAILABLE);
    run.failure =
      lockLost !== null && outage !== null
        ? ownOutage
          ? error
          : outage
        : controller.signal.aborted
          ? controller.signal.reason
          : error;
    run.exitCode =
      run.failure instanceof JobError
        ? run.failure.exitCode
        : isConnectionError(run.failure)
          ? ExitCode.UNAVAILABLE
          : ExitCode.SOFTWARE;
  }

  try {
    await reportRun(run, anyDef, m, { stdout, stderr, json: raw.json === true });
  } finally {
    // Phase 6, whatever failed before: a failure while reporting must still close the pool, release the lock
    // connection and take the signal handlers off.
    if (opts.handleSignals) {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
    opts.abort?.removeEventListener('abort', onExternalAbort);
    run.lockSession?.release();
    await run.handle?.close().catch(() => undefined);
    await run.reporter?.flush().catch(() => undefined);
    await m.flushLogger(run.logger);
  }
  return run.exitCode;
}

function describeError(error: unknown): string {
  if (error instanceof JobError) return error.message;
  if (isConnectionError(error)) {
    return (
      `lost a connection mid-run (${(error as Error).message}); the ` +
      `work in progress was not committed. Check that the service is ` +
      `up (for PostgreSQL, its log says why a connection ended), then re-run.`
    );
  }
  if (error instanceof Error) return `unexpected error: ${error.message}`;
  return `unexpected error: ${String(error)}`;
}

/**
 * Output to a reader that went away (`bin/score-campaigns --list | head -2`) ends quietly: the write fails with EPIPE,
 * which Node reports as an 'error' event that would otherwise crash the process with exit 1 after job_runs recorded
 * the run's real outcome. The run's exit code stays what job_runs says.
 */
export function endQuietlyOnClosedPipe(stream: NodeJS.WritableStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
    // Any other failure to write our own output cannot be reported through it either: keep the run's outcome.
  });
}

/** The entry point of every executable in bin/. The only place that ends the process. */
export function main<O>(def: JobDefinition<O>, argv: string[] = process.argv.slice(2)): void {
  endQuietlyOnClosedPipe(process.stdout);
  endQuietlyOnClosedPipe(process.stderr);
  runJob(def, { argv, handleSignals: true })
    .catch((error: unknown) => {
      process.stderr.write(`${def.name}: ${(error as Error)?.stack ?? String(error)}\n`);
      return ExitCode.SOFTWARE;
    })
    .then((code) => {
      process.exitCode = code;
      // Anything left open (a socket, a timer) must not keep cron waiting.
      setTimeout(() => process.exit(code), 3000).unref();
    });
}
