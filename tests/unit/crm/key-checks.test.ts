import { expect, test } from '@jest/globals';
import { FAILED_KEY_MS, KEY_CHECKS, KeyChecks } from '../../../src/crm/key-checks.js';
import type { CrmKey } from '../../../src/db/repositories/crm.repository.js';

// The slow key check of crm-webhook, with a stand-in for scrypt that counts its calls and answers when told: how
// many slow checks a burst, a stranger's repeated guess or a flood of guesses really costs.
const KEY: CrmKey = {
  keyId: '1',
  name: 'crm',
  prefix: 'abcdefgh',
  hash: 'scrypt$stored',
  clientIds: null,
  createdAt: new Date(0),
  revokedAt: null,
};

function setup() {
  let now = 1_000_000;
  const calls: string[] = [];
  let running = 0;
  let most = 0;
  const waiting: (() => void)[] = [];
  const checks = new KeyChecks({
    verify: async (secret) => {
      calls.push(secret);
      running += 1;
      most = Math.max(most, running);
      await new Promise<void>((resolve) => waiting.push(resolve));
      running -= 1;
      return secret === 'the-right-secret';
    },
    now: () => now,
  });
  /** Lets the slow checks finish, as they start, until every answer asked for is in. */
  const settle = async <T>(answers: Promise<T>[]): Promise<T[]> => {
    let done = false;
    const all = Promise.all(answers).finally(() => {
      done = true;
    });
    while (!done) {
      while (waiting.length > 0) waiting.shift()!();
      await new Promise((res) => setTimeout(res, 1));
    }
    return all;
  };
  return { checks, calls, settle, most: () => most, tick: (ms: number) => (now += ms) };
}

test('a hundred requests with one key after a restart cost one slow check, not a hundred', async () => {
  const { checks, calls, settle } = setup();
  const answers = Array.from({ length: 100 }, () => checks.check('the-right-secret', KEY));
  expect(await settle(answers)).toEqual(Array(100).fill('good'));
  expect(calls).toHaveLength(1);
  expect(await settle([checks.check('the-right-secret', KEY)])).toEqual(['good']);
  expect(calls).toHaveLength(1);
});

test("a wrong key with a real key's prefix, sent again and again, is checked once a minute", async () => {
  const { checks, calls, settle, tick } = setup();
  for (let i = 0; i < 20; i++) expect(await settle([checks.check('a-wrong-secret', KEY)])).toEqual(['bad']);
  expect(calls).toHaveLength(1);
  tick(FAILED_KEY_MS + 1);
  expect(await settle([checks.check('a-wrong-secret', KEY)])).toEqual(['bad']);
  expect(calls).toHaveLength(2);
});

test('a key given a new hash (re-created) is checked again', async () => {
  const { checks, calls, settle } = setup();
  expect(await settle([checks.check('the-right-secret', KEY)])).toEqual(['good']);
  expect(await settle([checks.check('the-right-secret', { ...KEY, hash: 'scrypt$other' })])).toEqual(['good']);
  expect(calls).toHaveLength(2);
});

test('many different guesses: two slow checks at a time, and past the waiting room "busy" at once', async () => {
  const { checks, settle, most } = setup();
  const n = KEY_CHECKS.concurrent + KEY_CHECKS.waiting + 50;
  const answers = Array.from({ length: n }, (_, i) => checks.check(`guess-${i}`, KEY));
  // All of them arrive while the first two checks are still running.
  await new Promise((res) => setTimeout(res, 200));
  const results = await settle(answers);
  expect(most()).toBeLessThanOrEqual(KEY_CHECKS.concurrent);
  expect(results.filter((r) => r === 'busy').length).toBeGreaterThanOrEqual(50);
  expect(results.filter((r) => r === 'bad').length).toBeGreaterThan(0);
  expect(results).not.toContain('good');
});
