import { describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { conninfoEnv, parseConninfo } from '../../../src/config/libpq-conninfo.js';
import { childEnvironment, toolConnection } from '../../../src/integrations/pg-dump/pg-tools.js';

describe('libpq connection strings become PG* variables', () => {
  test.each([
    [
      'postgresql://app:s3cr%40t@db.example:5433/leads',
      { PGUSER: 'app', PGPASSWORD: 's3cr@t', PGHOST: 'db.example', PGPORT: '5433', PGDATABASE: 'leads' },
    ],
    // The socket form the URL parser used to pass through whole, password included.
    [
      'postgresql://app:pw@/leads?host=/run/dir',
      { PGUSER: 'app', PGPASSWORD: 'pw', PGHOST: '/run/dir', PGDATABASE: 'leads' },
    ],
    [
      'postgresql://app:pw@%2Fvar%2Frun%2Fpostgresql/leads',
      { PGUSER: 'app', PGPASSWORD: 'pw', PGHOST: '/var/run/postgresql', PGDATABASE: 'leads' },
    ],
    [
      'postgres:///leads?host=/run/dir&user=app&password=pw&port=5433&sslmode=disable&application_name=backup',
      {
        PGDATABASE: 'leads',
        PGHOST: '/run/dir',
        PGUSER: 'app',
        PGPASSWORD: 'pw',
        PGPORT: '5433',
        PGSSLMODE: 'disable',
        PGAPPNAME: 'backup',
      },
    ],
    [
      'postgresql://app@h1:5433,h2,[::1]:5434/leads?target_session_attrs=read-write',
      {
        PGUSER: 'app',
        PGHOST: 'h1,h2,::1',
        PGPORT: '5433,,5434',
        PGDATABASE: 'leads',
        PGTARGETSESSIONATTRS: 'read-write',
      },
    ],
    ['postgresql://', {}],
    [
      "host=/run/dir dbname=leads user=app password='it\\'s a secret'",
      { PGHOST: '/run/dir', PGDATABASE: 'leads', PGUSER: 'app', PGPASSWORD: "it's a secret" },
    ],
    [
      'host = localhost port=5432 dbname = leads keepalives=1',
      { PGHOST: 'localhost', PGPORT: '5432', PGDATABASE: 'leads' },
    ],
  ])('%s', (conninfo, env) => {
    expect(conninfoEnv(conninfo)).toEqual(env);
  });

  test.each([
    ['postgresql://app@host/db?colour=red', /"colour" is not a connection keyword/],
    ['host=/tmp dbname', /expected keyword=value/],
    ["password='never closed", /never closed/],
    ['postgresql://app:%zz@host/db', /password: bad percent-encoding/],
  ])('%s is refused, saying why', (conninfo, message) => {
    expect(() => parseConninfo(conninfo)).toThrow(message);
  });
});

describe('what a pg_dump or pg_restore child receives', () => {
  const parent = {
    PATH: '/usr/bin',
    HOME: '/home/leadsmart',
    LANG: 'C.UTF-8',
    DATABASE_URL: 'postgresql://app:pw@/leads?host=/run/dir',
    STATUS_TOKEN: 'a-long-status-token-value',
    FB_ACCESS_TOKEN: 'EAAB-token',
    AWS_SECRET_ACCESS_KEY: 'aws-secret',
    PGSSLROOTCERT: '/etc/ssl/pg-root.crt',
  };

  test('the connection as PG* variables and the locale; no DATABASE_URL, token or key', () => {
    const env = childEnvironment(parent.DATABASE_URL, parent);
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/leadsmart',
      LANG: 'C.UTF-8',
      PGSSLROOTCERT: '/etc/ssl/pg-root.crt',
      PGUSER: 'app',
      PGPASSWORD: 'pw',
      PGHOST: '/run/dir',
      PGDATABASE: 'leads',
      PGCONNECT_TIMEOUT: '15',
    });
  });

  test("without a URL, libpq reads the operator's PG* variables", () => {
    expect(childEnvironment(undefined, { ...parent, PGHOST: '/run/x', PGCONNECT_TIMEOUT: '5' })).toMatchObject({
      PGHOST: '/run/x',
      PGCONNECT_TIMEOUT: '5',
    });
  });
});

describe('what the other jobs accept in a URL, the dump and restore tools accept too', () => {
  test("node-postgres' sslmode=no-verify is libpq's require (encrypted, not verified)", () => {
    expect(conninfoEnv('postgresql://app@db.example/leads?sslmode=no-verify')).toMatchObject({ PGSSLMODE: 'require' });
  });

  test('sslpassword (in no libpq variable) reaches the tool in a service file only its user can read', () => {
    const url = 'postgresql://app@db.example/leads?sslmode=verify-full&sslkey=%2Fkeys%2Fapp.key&sslpassword=k3y-Pa55';
    const { env, cleanup } = toolConnection(url, {});
    try {
      expect(env).toMatchObject({ PGSERVICE: 'leadsmart', PGSSLMODE: 'verify-full', PGSSLKEY: '/keys/app.key' });
      expect(JSON.stringify(Object.entries(env).filter(([k]) => k !== 'PGSERVICEFILE'))).not.toContain('k3y-Pa55');
      const file = env.PGSERVICEFILE!;
      expect(readFileSync(file, 'utf8')).toBe('[leadsmart]\nsslpassword=k3y-Pa55\n');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      cleanup();
      expect(existsSync(file)).toBe(false);
    } finally {
      cleanup();
    }
    // Without it, no file at all.
    expect(toolConnection('postgresql://app@db.example/leads', {}).env.PGSERVICEFILE).toBeUndefined();
  });
});
