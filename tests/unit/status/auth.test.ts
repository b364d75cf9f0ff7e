import { describe, expect, test } from '@jest/globals';
import type { DashboardUser } from '../../../src/db/repositories/users.repository.js';
import { BasicAuth, FAILED_SIGN_INS, maySee } from '../../../src/status/auth.js';
import { hashPassword, passwordProblem, verifyPassword } from '../../../src/core/security/passwords.js';

const header = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('passwords', () => {
  test('a hash verifies its password and no other; two hashes of one password differ (salted)', async () => {
    const a = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterz', a)).toBe(false);
    expect(await hashPassword('correct horse battery')).not.toBe(a);
  });

  test('a malformed or weakened stored hash never verifies', async () => {
    expect(await verifyPassword('x', 'plain')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$2$1$1$AAAA$AAAA')).toBe(false);
  });

  test('what a new password must be', () => {
    expect(passwordProblem('short')).toBe('at least 12 characters');
    expect(passwordProblem('line\nbreak-in-it')).toBe('no line breaks or NUL characters');
    expect(passwordProblem('twelve chars')).toBeNull();
    expect(passwordProblem('            ')).toBe('no spaces at its start or end');
    expect(passwordProblem(' leading-space-pw')).toBe('no spaces at its start or end');
    expect(passwordProblem('aaaaaaaaaaaaaaaa')).toBe('at least 5 different characters');
  });
});

describe('BasicAuth', () => {
  async function setup() {
    let now = 1_000_000;
    const users = new Map<string, DashboardUser>();
    const add = async (username: string, password: string, clientIds: string[] | null) =>
      users.set(username, {
        username,
        passwordHash: await hashPassword(password),
        clientIds,
        createdAt: new Date(0),
        passwordChangedAt: new Date(0),
      });
    const logs: Record<string, unknown>[] = [];
    const auth = new BasicAuth({
      users: async () => users,
      now: () => now,
      log: (_l, message, meta) => logs.push({ message, ...meta }),
    });
    return { auth, users, add, logs, tick: (ms: number) => (now += ms) };
  }

  test('the right password signs in as the user with its scope; no header asks to sign in', async () => {
    const { auth, add } = await setup();
    await add('ann', 'ann-password-1', ['acme']);
    const r = await auth.signIn(header('ann', 'ann-password-1'), '10.0.0.1');
    expect(r).toEqual({ ok: true, viewer: { username: 'ann', clientIds: new Set(['acme']) } });
    expect(await auth.signIn(undefined, '10.0.0.1')).toMatchObject({ ok: false, status: 401 });
    expect(await auth.signIn('Bearer abc', '10.0.0.1')).toMatchObject({ ok: false, status: 401 });
  });

  test('a wrong password or an unknown user: 401, logged without the password', async () => {
    const { auth, add, logs } = await setup();
    await add('ann', 'ann-password-1', null);
    expect(await auth.signIn(header('ann', 'wrong-password'), '10.0.0.1')).toMatchObject({ status: 401 });
    expect(await auth.signIn(header('bob', 'whatever-pass'), '10.0.0.1')).toMatchObject({ status: 401 });
    expect(logs).toEqual([
      { message: 'sign-in failed', username: 'ann', address: '10.0.0.1', known_user: true },
      { message: 'sign-in failed', username: 'bob', address: '10.0.0.1', known_user: false },
    ]);
    expect(JSON.stringify(logs)).not.toContain('wrong-password');
  });

  test('a new password or a removed user takes effect at once, whatever was remembered', async () => {
    const { auth, add, users } = await setup();
    await add('ann', 'ann-password-1', null);
    expect((await auth.signIn(header('ann', 'ann-password-1'), 'a')).ok).toBe(true);
    await add('ann', 'ann-password-2', null);
    expect((await auth.signIn(header('ann', 'ann-password-1'), 'a')).ok).toBe(false);
    expect((await auth.signIn(header('ann', 'ann-password-2'), 'a')).ok).toBe(true);
    users.delete('ann');
    expect((await auth.signIn(header('ann', 'ann-password-2'), 'a')).ok).toBe(false);
  });

  test('after the limit of failures a user is refused (429) from that address until its window ends; ' +
    'from another address, and other users, are not', async () => {
    const { auth, add, tick } = await setup();
    await add('ann', 'ann-password-1', null);
    await add('bob', 'bob-password-1', null);
    for (let i = 0; i < FAILED_SIGN_INS.perUser; i++)
      expect(await auth.signIn(header('ann', `guess-${i}-xxxxx`), '10.0.0.66')).toMatchObject({ status: 401 });
    const locked = await auth.signIn(header('ann', 'ann-password-1'), '10.0.0.66');
    expect(locked).toEqual({ ok: false, status: 429, retryAfterSeconds: FAILED_SIGN_INS.windowMs / 1000 });
    expect((await auth.signIn(header('ann', 'ann-password-1'), '10.0.0.67')).ok).toBe(true);
    expect((await auth.signIn(header('bob', 'bob-password-1'), '10.0.0.66')).ok).toBe(true);
    tick(FAILED_SIGN_INS.windowMs);
    expect((await auth.signIn(header('ann', 'ann-password-1'), '10.0.0.66')).ok).toBe(true);
  }, 20_000);

  test('guesses sent all at once are counted before the slow check: 60 at once, 10 × 401 and 50 × 429', async () => {
    const { auth, add } = await setup();
    await add('ann', 'ann-password-1', null);
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => auth.signIn(header('ann', `parallel-guess-${i}`), '10.0.0.9')),
    );
    const statuses = answers.map((a) => (a.ok ? 200 : a.status));
    expect(statuses.filter((x) => x === 401)).toHaveLength(FAILED_SIGN_INS.perUser);
    expect(statuses.filter((x) => x === 429)).toHaveLength(60 - FAILED_SIGN_INS.perUser);
  }, 20_000);

  test('guesses spread over many user names from one address stop at the per-address limit', async () => {
    const { auth } = await setup();
    const statuses: number[] = [];
    for (let i = 0; i < FAILED_SIGN_INS.perAddress + 3; i++) {
      const r = await auth.signIn(header(`user${i}`, 'some-guess-xx'), '10.0.0.8');
      statuses.push(r.ok ? 200 : r.status);
    }
    expect(statuses.slice(0, FAILED_SIGN_INS.perAddress).every((x) => x === 401)).toBe(true);
    expect(statuses.slice(FAILED_SIGN_INS.perAddress)).toEqual([429, 429, 429]);
  }, 60_000);

  test("a good password clears that user's failures: nine failures and a success leave ten more tries", async () => {
    const { auth, add } = await setup();
    await add('ann', 'ann-password-1', null);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < FAILED_SIGN_INS.perUser - 1; i++)
        expect(await auth.signIn(header('ann', `guess-${i}-yyyyy`), '10.0.0.5')).toMatchObject({ status: 401 });
      expect((await auth.signIn(header('ann', 'ann-password-1'), '10.0.0.5')).ok).toBe(true);
    }
  }, 30_000);

  test('the scheme name in any case (RFC 7617), and the user name in any case', async () => {
    const { auth, users, add } = await setup();
    await add('ann', 'ann-password-1', null);
    // The server keys its users by lower-case name (users add refuses Bob beside bob).
    expect([...users.keys()]).toEqual(['ann']);
    const b64 = Buffer.from('ann:ann-password-1').toString('base64');
    for (const h of [`basic ${b64}`, `BASIC ${b64}`, `Basic ${b64}`])
      expect((await auth.signIn(h, '10.0.0.1')).ok).toBe(true);
    expect(await auth.signIn(header('ANN', 'ann-password-1'), '10.0.0.1')).toMatchObject({
      ok: true,
      viewer: { username: 'ann' },
    });
  });
});

test('maySee: agency-wide sees everything; a limited user its clients only, never a campaign without a client', () => {
  expect(maySee({ username: 'a', clientIds: null }, null)).toBe(true);
  const limited = { username: 'b', clientIds: new Set(['acme']) };
  expect(maySee(limited, 'acme')).toBe(true);
  expect(maySee(limited, 'globex')).toBe(false);
  expect(maySee(limited, null)).toBe(false);
});
