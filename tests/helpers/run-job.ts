import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { JobDefinition } from '../../src/runtime/runner.js';
import { runJob } from '../../src/runtime/runner.js';
import { fixedClock } from '../../src/runtime/clock.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');

// The reference "now" of the tests: 2025-11-16 09:00 UTC, so "yesterday" is the sample's scoring date 2025-11-15.
export const TEST_NOW = '2025-11-16T09:00:00Z';

export interface JobResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Parsed JSON log lines of standard error. */
  logs: Record<string, unknown>[];
}

function parseLogs(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Runs a job as a function, with its output captured and a fixed clock. */
export async function runAsFunction<O>(
  def: JobDefinition<O>,
  argv: string[],
  env: Record<string, string | undefined>,
  options: { abort?: AbortSignal; now?: string; stdin?: string | Buffer } = {},
): Promise<JobResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runJob(def, {
    argv,
    env: { LOG_FORMAT: 'json', LOG_LEVEL: 'info', PATH: process.env.PATH, ...env },
    clock: fixedClock(options.now ?? TEST_NOW),
    stdout,
    stderr,
    abort: options.abort,
    stdin: options.stdin === undefined ? undefined : Readable.from([Buffer.from(options.stdin)]),
  });
  return { code, stdout: out, stderr: err, logs: parseLogs(err) };
}

/** Runs bin/<job> as a separate process, as cron does. */
export function runProcess(
  job: string,
  argv: string[],
  env: Record<string, string | undefined>,
  options: { input?: string | Buffer } = {},
): Promise<JobResult> {
  return new Promise((resolveRun) => {
    const child = spawn(resolve(ROOT, 'bin', job), argv, {
      env: { PATH: process.env.PATH, LOG_FORMAT: 'json', HOME: process.env.HOME, ...env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code, signal) =>
      resolveRun({ code: code ?? (signal ? 128 : -1), stdout: out, stderr: err, logs: parseLogs(err) }),
    );
  });
}

export function spawnProcess(job: string, argv: string[], env: Record<string, string | undefined>) {
  return spawn(resolve(ROOT, 'bin', job), argv, {
    env: { PATH: process.env.PATH, LOG_FORMAT: 'json', HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The sample dataset in dependency order, as make demo imports it. */
export const SAMPLE_FILES = ['clients', 'campaigns', 'metrics', 'leads', 'lead-status'].map((k) =>
  resolve(ROOT, 'sample', `${k}.csv`),
);

/** Loads sample/*.csv through import-csv, as make demo does; the raw files are archived in a throwaway folder. */
export async function loadSample(url: string): Promise<void> {
  const { importCsvJob } = await import('../../src/jobs/import-csv.js');
  const blobs = mkdtempSync(join(tmpdir(), 'leadsmart-sample-blobs-'));
  const r = await runAsFunction(importCsvJob, SAMPLE_FILES, { DATABASE_URL: url, BLOB_URL: `file://${blobs}` });
  rmSync(blobs, { recursive: true, force: true });
  if (r.code !== 0) throw new Error(`loading the sample failed (${r.code}): ${r.stderr}`);
}
