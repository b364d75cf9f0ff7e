import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { statusUsersJob } from '../../src/jobs/status-users.js';
import { verifyPassword } from '../../src/core/security/passwords.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { loadSample, runAsFunction, runProcess } from '../helpers/run-job.js';

// bin/status-server users add|remove|list|passwd against a real database: what is stored (a scrypt hash, never the
// password), what is printed, and every mistake an operator can make. Each test makes the users it changes (the order
// is shuffled); ann and bob exist from the start.
let t: TestDatabase;
const users = (argv: string[], stdin?: string) =>
  runAsFunction(statusUsersJob, ['users', ...argv], { DATABASE_URL: t.url }, stdin === undefined ? {} : { stdin });
const stored = (name: string) =>
  t.db.selectFrom('dashboard_users').selectAll().where('username', '=', name).executeTakeFirst();

beforeAll(async () => {
  t = await createTestDatabase();
  await loadSample(t.url);
  for (const argv of [
    ['add', 'ann', '--agency', '--password-stdin'],
    ['add', 'bob', '--clients', 'acme,globex', '--password-stdin'],
  ]) {
    const r = await users(argv, 'a-long-enough-password\n');
    if (r.code !== 0) throw new Error(r.stderr);
  }
});
afterAll(async () => {
  await t.drop();
});

describe('status-server users', () => {
  test('add with a generated password: printed once, only its scrypt hash stored', async () => {
    const r = await users(['add', 'gen', '--agency']);
    expect(r.code).toBe(0);
    const password = /shown this once: (\S+)/.exec(r.stdout)![1]!;
    expect(password).toHaveLength(24);
    const row = await stored('gen');
    expect(row).toMatchObject({ agency_wide: true, client_ids: [] });
    expect(row!.password_hash).not.toContain(password);
    expect(await verifyPassword(password, row!.password_hash)).toBe(true);
    expect(r.stderr).not.toContain(password);
  });

  test('add limited to clients, the password piped in', async () => {
    const r = await users(['add', 'carla', '--clients', 'acme, globex', '--password-stdin'], 'bobs-long-password\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Added carla (clients acme, globex).');
    expect(r.stdout).not.toContain('shown this once');
    const row = await stored('carla');
    expect(row).toMatchObject({ agency_wide: false, client_ids: ['acme', 'globex'] });
    expect(await verifyPassword('bobs-long-password', row!.password_hash)).toBe(true);
  });

  test('a name that differs from an existing one only in case is refused (64): Bob beside bob', async () => {
    const r = await users(['add', 'Bob', '--agency', '--password-stdin'], 'another-long-password\n');
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('user Bob exists already');
    expect(await stored('Bob')).toBeUndefined();
  });

  test('a password of spaces, or one character repeated, is refused (64) and nothing is stored', async () => {
    for (const [password, problem] of [
      ['              ', 'no spaces at its start or end'],
      ['xxxxxxxxxxxxxxxx', 'at least 5 different characters'],
    ] as const) {
      const r = await users(['add', 'weak', '--agency', '--password-stdin'], `${password}\n`);
      expect(r.code).toBe(64);
      expect(r.stderr).toContain(problem);
    }
    expect(await stored('weak')).toBeUndefined();
  });

  test('list shows names and scopes, never a hash; --json too', async () => {
    const r = await users(['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ann\s+agency-wide\s+password set /m);
    expect(r.stdout).toMatch(/^bob\s+clients acme, globex\s+password set /m);
    expect(r.stdout).not.toContain('scrypt');
    const j = await runAsFunction(statusUsersJob, ['users', 'list', '--json'], { DATABASE_URL: t.url });
    const doc = JSON.parse(j.stdout);
    expect(doc.users.map((u: { username: string }) => u.username)).toEqual(expect.arrayContaining(['ann', 'bob']));
    expect(j.stdout).not.toContain('scrypt');
  });

  test('passwd replaces the hash; remove deletes the user', async () => {
    expect((await users(['add', 'dave', '--agency', '--password-stdin'], 'daves-first-password\n')).code).toBe(0);
    const before = (await stored('dave'))!.password_hash;
    const p = await users(['passwd', 'dave', '--password-stdin'], 'another-long-password\n');
    expect(p.code).toBe(0);
    const after = (await stored('dave'))!;
    expect(after.password_hash).not.toBe(before);
    expect(await verifyPassword('another-long-password', after.password_hash)).toBe(true);
    expect((await users(['remove', 'dave'])).code).toBe(0);
    expect(await stored('dave')).toBeUndefined();
  });

  test.each([
    [['add', 'carol'], 'give exactly one of --agency (every client) or --clients a,b'],
    [['add', 'carol', '--agency', '--clients', 'acme'], 'give exactly one of'],
    [['add', 'carol', '--clients', 'acme,nosuch'], '--clients: no client nosuch in the clients table'],
    [['add', 'ann', '--agency'], 'user ann exists already (names are compared without regard to case)'],
    [['add', 'bad name!', '--agency'], 'use letters, digits and . _ @ + -'],
    [['remove', 'nobody'], 'no user nobody; see users list'],
    [['passwd', 'nobody'], 'no user nobody'],
    [['rename', 'ann'], 'users rename: unknown command; expected one of add, remove, list, passwd'],
    [['remove'], 'users remove: name the user'],
    [['list', 'ann'], 'users list takes no user name'],
    [['passwd', 'ann', '--agency'], 'users passwd: --agency and --clients are for add'],
  ])('users %j is exit 64: %s', async (argv, message) => {
    const r = await users(argv as string[]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(message);
  });

  test('a piped password that is too short is exit 64 and changes nothing', async () => {
    const before = (await stored('ann'))!.password_hash;
    const r = await users(['passwd', 'ann', '--password-stdin'], 'short\n');
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--password-stdin: the password must have at least 12 characters');
    expect((await stored('ann'))!.password_hash).toBe(before);
  });

  test('bin/status-server users runs as its own command, with the owner DATABASE_URL', async () => {
    const r = await runProcess('status-server', ['users', 'list'], { DATABASE_URL: t.url });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ann');
  });
});
