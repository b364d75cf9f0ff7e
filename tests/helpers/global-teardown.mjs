import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

export default async function globalTeardown() {
  const dir = process.env.LEADSMART_TEST_PG_DIR;
  if (!dir) return;
  execFileSync(join(ROOT, 'scripts', 'pg-cluster.sh'), ['stop', dir], { stdio: 'inherit' });
  rmSync(dir, { recursive: true, force: true });
}
