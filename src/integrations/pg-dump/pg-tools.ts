import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, readdir } from 'node:fs/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { promisify } from 'node:util';
import { conninfoEnv, conninfoServiceOnly } from '../../config/libpq-conninfo.js';
import { ConfigError } from '../../errors.js';

/**
 * pg_dump and pg_restore as child processes: finding a version that can
 * talk to the server, passing the connection through the environment only
 * (never on the command line), and collecting stderr for the error message.
 */

const run = promisify(execFile);

export interface PgTool {
  path: string;
  /** Major version, for example 15. */
  major: number;
  /** `pg_dump (PostgreSQL) 15.18` */
  version: string;
}

export class PgToolError extends Error {}

async function versionOf(path: string): Promise<PgTool | null> {
  try {
    await access(path);
    const { stdout } = await run(path, ['--version'], { timeout: 10_000 });
    const m = /\(PostgreSQL\)\s+(\d+)(?:\.\d+)?/.exec(stdout);
    return m ? { path, major: Number(m[1]), version: stdout.trim() } : null;
  } catch {
    return null;
  }
}

/**
 * The `tool` (pg_dump, pg_restore) to use with a server of major version
 * `serverMajor`: from `binDir` when given (PG_BINDIR), else Debian's
 * /usr/lib/postgresql/<N>/bin (the same major first, then the nearest newer),
 * else PATH. A tool older than the server cannot read it: never chosen.
 */
export async function findPgTool(
  tool: 'pg_dump' | 'pg_restore',
  serverMajor: number,
  binDir?: string,
): Promise<PgTool> {
  const candidates: string[] = [];
  if (binDir) candidates.push(join(binDir, tool));
  else {
    const versions = (await readdir('/usr/lib/postgresql').catch(() => [] as string[]))
      .filter((v) => /^\d+$/.test(v))
      .map(Number);
    const ordered = [
      ...versions.filter((v) => v === serverMajor),
      ...versions.filter((v) => v > serverMajor).sort((a, b) => a - b),
    ];
    candidates.push(...ordered.map((v) => `/usr/lib/postgresql/${v}/bin/${tool}`));
    candidates.push(
      ...(process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, tool)),
    );
  }
  const found: PgTool[] = [];
  for (const c of candidates) {
    const t = await versionOf(c);
    if (t === null) continue;
    if (t.major >= serverMajor) return t;
    found.push(t);
  }
  const where = binDir ? `PG_BINDIR=${binDir}` : '/usr/lib/postgresql/*/bin or PATH';
  const seen = found.length > 0 ? ` (found only ${found.map((f) => `${f.path}, version ${f.major}`).join('; ')})` : '';
  throw new PgToolError(
    `${tool} for PostgreSQL ${serverMajor} or newer is not installed ` +
      `in ${where}${seen}; install it (Debian/Ubuntu: sudo apt-get ` +
      `install -y postgresql-client-${serverMajor}) or point PG_BINDIR ` +
      `at its folder`,
  );
}

/**
 * What a libpq tool needs of this process's environment besides the connection: locale, time zone, home (~/.pgpass,
 * ~/.postgresql).
 */
const PASSED_THROUGH = ['PATH', 'HOME', 'LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'LC_MESSAGES', 'TZ', 'TMPDIR'];

/** PATH, home, locale and time zone of this process: all a PostgreSQL program needs besides its connection. */
export function baseToolEnvironment(parent: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of PASSED_THROUGH) if (parent[name] !== undefined) env[name] = parent[name];
  return env;
}

/**
 * The whole environment of a pg_dump or pg_restore child: the connection as
 * PG* variables (parsed from `url` in any form libpq accepts; nothing on the
 * command line), the operator's own PG* settings for what `url` leaves
 * unset, and the few variables above. Nothing else of this process's
 * environment (DATABASE_URL, tokens, keys) reaches the child.
 */
export function childEnvironment(url: string | undefined, parent: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = baseToolEnvironment(parent);
  for (const [name, value] of Object.entries(parent))
    if (name.startsWith('PG') && value !== undefined) env[name] = value;
  if (url) Object.assign(env, conninfoEnv(url));
  env.PGCONNECT_TIMEOUT ??= '15';
  return env;
}

/**
 * A tool's environment for `url`, and, when the URL holds what libpq reads only from a connection string or a
 * service file (sslpassword), that in a service file of its own: readable by this user only, in a fresh folder,
 * removed by `cleanup` once the tool has ended. Never on the command line, where `ps` shows it.
 */
export function toolConnection(
  url: string | undefined,
  parent: NodeJS.ProcessEnv = process.env,
): { env: NodeJS.ProcessEnv; cleanup: () => void } {
  const env = childEnvironment(url, parent);
  const extra = url ? conninfoServiceOnly(url) : null;
  if (extra === null) return { env, cleanup: () => undefined };
  for (const [key, value] of Object.entries(extra))
    if (/[\r\n]/.test(value))
      throw new ConfigError(`the database URL's ${key} holds a line break; libpq cannot read it`);
  const dir = mkdtempSync(join(tmpdir(), 'leadsmart-pgservice-'));
  const file = join(dir, 'pg_service.conf');
  writeFileSync(
    file,
    `[leadsmart]\n${Object.entries(extra)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
    {
      mode: 0o600,
    },
  );
  return {
    env: { ...env, PGSERVICEFILE: file, PGSERVICE: 'leadsmart' },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface RunningTool {
  child: ChildProcess;
  /** Resolves when the process ends: its exit code (or the signal) and the end of its stderr. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function start(
  path: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  stdio: ['ignore' | 'pipe', 'pipe' | 'ignore', 'pipe'],
): RunningTool {
  const child = spawn(path, args, { env, stdio });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    // Keep the end: the last lines say what went wrong.
    stderr = (stderr + d.toString()).slice(-8000);
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stderr: stderr.trim() }));
    },
  );
  // Callers await `done` where it matters; a tool stopped after its reader failed must not end the process.
  done.catch(() => undefined);
  for (const stream of [child.stdin, child.stdout]) stream?.on('error', () => undefined);
  return { child, done };
}

/** `pg_dump -Fc` of the database at an exported snapshot, to standard output. */
export function startPgDump(
  tool: PgTool,
  url: string | undefined,
  snapshot: string | null,
): RunningTool & { stdout: Readable } {
  const args = ['--format=custom', '--no-password', ...(snapshot ? [`--snapshot=${snapshot}`] : [])];
  const { env, cleanup } = toolConnection(url);
  const r = start(tool.path, args, env, ['ignore', 'pipe', 'pipe']);
  r.done.finally(cleanup).catch(() => undefined);
  return { ...r, stdout: r.child.stdout! };
}

/**
 * pg_restore from standard input into `url`, in one transaction (all or
 * nothing), without owners or grants of the source (roles differ between
 * servers); `clean` drops what the dump creates first.
 */
export function startPgRestore(
  tool: PgTool,
  url: string | undefined,
  clean: boolean,
): RunningTool & { stdin: Writable } {
  const { env, cleanup } = toolConnection(url);
  // pg_restore wants -d: the database name alone (no secret), as a keyword so that a name with "=" is not read as a
  // connection string; host, user and password stay in the environment.
  const dbname = env.PGDATABASE ?? env.PGUSER ?? 'postgres';
  const args = [
    '--no-password',
    '--single-transaction',
    '--exit-on-error',
    '--no-owner',
    '--no-privileges',
    ...(clean ? ['--clean', '--if-exists'] : []),
    `--dbname=dbname='${dbname.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`,
  ];
  const r = start(tool.path, args, env, ['pipe', 'ignore', 'pipe']);
  r.done.finally(cleanup).catch(() => undefined);
  return { ...r, stdin: r.child.stdin! };
}

/**
 * Passes bytes through while hashing them, holding back the last chunk
 * until the input has ended and its SHA-256 matches `expected`. A reader
 * (pg_restore in one transaction) therefore never sees the end of a
 * corrupted dump: the stream fails instead and the reader rolls back.
 */
export function verifiedPassThrough(
  expected: string,
  onMismatch?: () => void,
): Transform & { sha256(): string | null; bytes(): number } {
  const hash = createHash('sha256');
  let held: Buffer | null = null;
  let digest: string | null = null;
  let bytes = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      const out = held;
      held = chunk;
      cb(null, out ?? undefined);
    },
    flush(cb) {
      digest = hash.digest('hex');
      if (digest !== expected) {
        // Stop the reader before its input ends: a closed pipe must not look like a complete dump.
        onMismatch?.();
        cb(
          new Error(
            `checksum mismatch: the stored dump has SHA-256 ${digest}, the ` +
              `manifest says ${expected} (${bytes} bytes read): the object is ` +
              `corrupted or not the one recorded`,
          ),
        );
        return;
      }
      cb(null, held ?? undefined);
    },
  });
  return Object.assign(t, { sha256: () => digest, bytes: () => bytes });
}

/**
 * Passes a tool's output through and ends only once the tool has exited 0:
 * a pg_dump that fails halfway closes its standard output like one that
 * finished, and the upload must fail rather than keep a truncated dump.
 */
export function endsWhenToolSucceeds(tool: RunningTool, name: string): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      cb(null, chunk);
    },
    flush(cb) {
      tool.done.then(
        ({ code, signal, stderr }) =>
          cb(
            code === 0
              ? null
              : new PgToolError(
                  `${name} ${signal ? `was stopped by ${signal}` : `exited with code ${code}`}` +
                    (stderr ? `: ${stderr}` : ''),
                ),
          ),
        (error: Error) => cb(new PgToolError(`${name} could not run: ${error.message}`)),
      );
    },
  });
}
