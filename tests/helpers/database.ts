import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.js';

export interface TestDatabase extends DatabaseHandle {
  name: string;
  /** URL of this database, for jobs run as functions or processes. */
  url: string;
  drop(): Promise<void>;
}

function host(): string {
  const h = process.env.LEADSMART_TEST_PGHOST;
  if (!h)
    throw new Error(
      'LEADSMART_TEST_PGHOST is not set: run the tests with `make test` (jest globalSetup starts PostgreSQL)',
    );
  return h;
}

export function urlFor(database: string): string {
  return `postgresql://postgres@/${database}?host=${encodeURIComponent(host())}`;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ host: host(), user: 'postgres', database: 'postgres' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh, migrated database cloned from the template; drop it in afterAll. */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  await admin((c) =>
    c.query(
      options.migrated === false ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE leadsmart_template`,
    ),
  );
  const url = urlFor(name);
  const handle = connectDatabase(url, { max: 4 });
  return {
    ...handle,
    name,
    url,
    async drop() {
      await handle.close();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
