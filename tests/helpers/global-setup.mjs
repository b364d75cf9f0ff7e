// Starts a throwaway PostgreSQL cluster (unix socket only, fsync off) and
// builds one template database migrated by the real bin/migrate; each test
// file clones it (CREATE DATABASE … TEMPLATE). Plain JS: Jest loads global
// setup outside its ESM/TypeScript pipeline.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

export default async function globalSetup() {
  if (!existsSync(join(ROOT, 'dist', 'cli.js'))) {
    throw new Error('dist/cli.js is missing: run the tests with `make test`, which builds first');
  }
  const dir = mkdtempSync(join(tmpdir(), 'leadsmart-test-'));
  process.env.LEADSMART_TEST_PG_DIR = dir;
  process.env.LEADSMART_TEST_PGHOST = join(dir, 'run');
  execFileSync(join(ROOT, 'scripts', 'pg-cluster.sh'), ['start', dir, '--fast'], { stdio: 'inherit' });
  const host = join(dir, 'run');
  execFileSync(
    'psql',
    ['-X', '-q', '-h', host, '-U', 'postgres', '-d', 'postgres', '-c', 'CREATE DATABASE leadsmart_template'],
    { stdio: 'inherit' },
  );
  execFileSync('node', [join(ROOT, 'dist', 'cli.js'), 'migrate', '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'pipe'], // on failure its log is in the thrown error
    env: {
      ...process.env,
      DATABASE_URL: `postgresql://postgres@/leadsmart_template?host=${encodeURIComponent(host)}`,
      LOG_FORMAT: 'json',
    },
  });
}
