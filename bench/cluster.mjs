// What the score benches share: a durable throwaway PostgreSQL cluster (fsync on, as in production: the job's write
// cost is part of what is measured), databases migrated by bin/migrate, the median and the machine line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export const machine = () =>
  `Machine: ${cpus().length} ` +
  `× ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} ` +
  `GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;

/** Starts a cluster in a new temporary folder; `stop()` stops it and removes the folder. */
export function startCluster(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const host = join(dir, 'run');
  const url = (db) => `postgresql://postgres@/${db}?host=${encodeURIComponent(host)}`;
  const psql = (db, args) =>
    execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url(db), ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  /** One value from a query, as text. */
  const value = (db, query) =>
    execFileSync('psql', ['-X', '-tA', '-d', url(db), '-c', query], { encoding: 'utf8' }).trim();
  /** CREATE DATABASE, then bin/migrate. Its stderr is piped, not inherited: migrate's EMF line would land among a
   * bench's table lines in a terminal or a 2>&1 log; a failure's stderr is in the thrown error. */
  const createMigrated = (db) => {
    psql('postgres', ['-c', `CREATE DATABASE ${db}`]);
    execFileSync(join(ROOT, 'bin', 'migrate'), [], {
      env: { ...process.env, DATABASE_URL: url(db), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  };
  const stop = () => {
    execFileSync(join(ROOT, 'scripts', 'pg-cluster.sh'), ['stop', dir], { stdio: 'inherit' });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    execFileSync(join(ROOT, 'scripts', 'pg-cluster.sh'), ['start', dir], { stdio: 'inherit' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { url, psql, value, createMigrated, stop };
}

/** The address a service (status-server, crm-webhook) prints once it listens; rejects if it exits first. */
export function listening(child, name) {
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    child.on('exit', (c) => reject(new Error(`${name} exited ${c}: ${err}`)));
  });
}
