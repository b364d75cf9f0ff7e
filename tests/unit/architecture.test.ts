import { expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

// The dependency direction of STYLE.md: core imports only core (and pure
// Node modules); db and integrations never import jobs; only bin/ and
// src/cli.ts import jobs.
const SRC = resolve(import.meta.dirname, '..', '..', 'src');
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : [],
  );
/** Static imports and re-exports, and dynamic import() with a literal specifier (the lazily loaded modules). */
const imports = (file: string): string[] => {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(/^\s*(?:import|export)[^'"]*from\s+'([^']+)'/gm),
    ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ].map((m) => m[1]!);
};
const layer = (file: string): string => relative(SRC, file).split('/')[0]!;
const target = (file: string, spec: string): string | null =>
  spec.startsWith('.') ? layer(resolve(file, '..', spec)) : null;

/** Packages core may use: pure computation, no network, disk, clock or environment. */
const PURE_PACKAGES = new Set(['node:crypto', 'string-width']);

test('core imports nothing but core, the errors leaf and pure modules', () => {
  const offenders = files(join(SRC, 'core')).flatMap((f) =>
    imports(f)
      .filter((s) => (s.startsWith('.') ? !['core', 'errors.js'].includes(target(f, s)!) : !PURE_PACKAGES.has(s)))
      .map((s) => `${relative(SRC, f)} imports ${s}`),
  );
  expect(offenders).toEqual([]);
});

test('nothing below jobs imports jobs', () => {
  const offenders = files(SRC)
    .filter((f) => !['jobs', 'cli.ts'].includes(layer(f)))
    .flatMap((f) =>
      imports(f)
        .filter((s) => target(f, s) === 'jobs')
        .map((s) => `${relative(SRC, f)} imports ${s}`),
    );
  expect(offenders).toEqual([]);
});

test('only the runner ends the process', () => {
  const offenders = files(SRC)
    .filter((f) => !f.endsWith(join('runtime', 'runner.ts')) && !f.endsWith('cli.ts'))
    .filter((f) => /process\.exit(Code)?\b/.test(readFileSync(f, 'utf8')))
    .map((f) => relative(SRC, f));
  expect(offenders).toEqual([]);
});

/**
 * Every direction of STYLE.md: core at the bottom; config on core; db and integrations on core and config (db does
 * not import runtime, jobs or status); runtime on everything below it but not jobs or status; http (the services'
 * shared Fastify foundation) on core and db; views (pure rendering) on core; status, crm and jobs on top.
 * errors.ts is a leaf every layer may use.
 */
test.each([
  ['config', ['core', 'config', 'errors.js']],
  ['db', ['core', 'config', 'db', 'errors.js']],
  ['integrations', ['core', 'config', 'integrations', 'errors.js']],
  ['runtime', ['core', 'config', 'db', 'integrations', 'runtime', 'errors.js']],
  // What both services share on Fastify: below the services, above the database (its "not answering" errors).
  ['http', ['core', 'config', 'db', 'http', 'errors.js']],
  // The views: pure rendering (TSX) on core only.
  ['views', ['core', 'views', 'errors.js']],
  ['status', ['core', 'config', 'db', 'integrations', 'runtime', 'http', 'views', 'status', 'errors.js']],
  ['crm', ['core', 'config', 'db', 'integrations', 'runtime', 'http', 'crm', 'errors.js']],
])('%s imports only from %j (static and dynamic imports)', (from, allowed) => {
  const offenders = files(join(SRC, from)).flatMap((f) =>
    imports(f)
      .filter((s) => s.startsWith('.') && !allowed.includes(target(f, s)!))
      .map((s) => `${relative(SRC, f)} imports ${s}`),
  );
  expect(offenders).toEqual([]);
});

test('nothing imports a command definition but the CLI entry (src/commands: one folder per executable)', () => {
  const offenders = files(SRC)
    .filter((f) => !['commands', 'cli.ts'].includes(layer(f)))
    .flatMap((f) =>
      imports(f)
        .filter((s) => target(f, s) === 'commands')
        .map((s) => `${relative(SRC, f)} imports ${s}`),
    );
  expect(offenders).toEqual([]);
});

test('errors.ts, the errors every layer throws, is a leaf: it imports nothing', () => {
  expect(imports(join(SRC, 'errors.ts'))).toEqual([]);
});

test('the import scan sees dynamic import() too', () => {
  // src/cli.ts loads every job lazily: if the scan missed import(), it would see none of them.
  expect(imports(join(SRC, 'cli.ts')).filter((s) => s.startsWith('./jobs/')).length).toBeGreaterThanOrEqual(6);
});

/**
 * One way to the database: Kysely for queries, COPY in src/db/unit-of-work.ts. Only the data layer touches `pg`
 * (its pool, connections of its own for snapshots and migrations) and pg-copy-streams; jobs, the runner's
 * callers and the status service get Kysely, a UnitOfWork or repositories.
 */
test('only the data layer imports pg, and only unit-of-work.ts runs COPY', () => {
  const pgUsers = files(SRC)
    .filter((f) => layer(f) !== 'db')
    .flatMap((f) =>
      imports(f)
        .filter((s) => s === 'pg' || s === 'pg-copy-streams')
        .map((s) => `${relative(SRC, f)} imports ${s}`),
    );
  const copyUsers = files(SRC)
    .filter((f) => imports(f).includes('pg-copy-streams'))
    .map((f) => relative(SRC, f));
  expect(pgUsers).toEqual([]);
  expect(copyUsers).toEqual([join('db', 'unit-of-work.ts')]);
});

test('jobs never take a connection from the pool themselves', () => {
  const offenders = files(join(SRC, 'jobs'))
    .filter((f) => /\.pool\b|\.connect\(\)/.test(readFileSync(f, 'utf8')))
    .map((f) => relative(SRC, f));
  expect(offenders).toEqual([]);
});
