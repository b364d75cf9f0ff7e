import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { statusUsersJob } from '../../src/jobs/status-users.js';
import { ROOT, runAsFunction, spawnProcess } from './run-job.js';

/** bin/status-server as systemd runs it, on a free port, read-only, for the integration tests. */

export const TOKEN = 'test-token-0123456789abcdef';

export function readonlyUrl(url: string, user: string): string {
  return url.replace('postgresql://postgres@', `postgresql://${user}@`);
}

/** The read-only role the server connects as (scripts/create-readonly-role.sh). */
export function createRole(url: string, name: string): void {
  execFileSync(join(ROOT, 'scripts', 'create-readonly-role.sh'), [name], {
    env: { ...process.env, DATABASE_URL: url },
    stdio: 'pipe',
  });
}

export interface Running {
  url: string;
  /** The environment it was started with (beside the test's own). */
  env: Record<string, string>;
  child: ChildProcess;
  stderr: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startServer(env: Record<string, string>, args: string[] = []): Promise<Running> {
  const child = spawnProcess('status-server', ['--port', '0', ...args], { STATUS_TOKEN: TOKEN, ...env });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`status-server did not start: ${err}`)), 15_000);
    const check = () => {
      const m = /status-server listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stderr!.on('data', check);
    child.on('exit', (code) => reject(new Error(`status-server exited ${code}: ${err}`)));
  });
  return {
    url,
    env,
    child,
    stderr: () => err,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

/** Adds a dashboard user as an operator would: `status-server users add`, the password piped in. */
export async function addUser(url: string, name: string, password: string, scope: string[] | 'agency') {
  const r = await runAsFunction(
    statusUsersJob,
    ['users', 'add', name, ...(scope === 'agency' ? ['--agency'] : ['--clients', scope.join(',')]), '--password-stdin'],
    { DATABASE_URL: url },
    { stdin: `${password}\n` },
  );
  if (r.code !== 0) throw new Error(`users add ${name} failed (${r.code}): ${r.stderr}`);
}

export const basic = (user: string, password: string) => ({
  Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
