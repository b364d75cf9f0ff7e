import { expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/run-job.js';

test('without PostgreSQL server binaries the cluster script exits 69 and gives the install command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nopg-'));
  const r = spawnSync(join(ROOT, 'scripts', 'pg-cluster.sh'), ['start', dir], {
    env: { ...process.env, PG_BINDIR: '/nonexistent/bin' },
    encoding: 'utf8',
  });
  expect(r.status).toBe(69);
  expect(r.stderr).toMatch(/PostgreSQL server binaries \(initdb, pg_ctl\) were not found/);
  expect(r.stderr).toMatch(/sudo apt-get install -y postgresql/);
  expect(r.stderr).toMatch(/PG_BINDIR=\/nonexistent\/bin has neither/);
});
