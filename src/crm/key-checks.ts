import { createHmac, randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import type { CrmKey } from '../db/repositories/crm.repository.js';

/** How long a failed check is remembered: the same wrong key again costs nothing for a minute. */
export const FAILED_KEY_MS = 60_000;

/** Slow checks (scrypt, ~0.1 s of a core each) running at once, and waiting, before a check is refused as busy. */
export const KEY_CHECKS = { concurrent: 2, waiting: 200 };

/**
 * The slow check of a key against its stored hash, done once per key and remembered: a good key while it keeps its
 * hash, a bad one for a minute. Remembered by an HMAC of the key under a secret made at start, so a memory dump
 * shows no key. Concurrent checks of one key share one verification (a burst after a restart costs one scrypt, not
 * a hundred); different keys are verified at most two at a time, with at most 200 waiting, so a stranger's guesses
 * cannot take every core.
 */
export class KeyChecks {
  private readonly secret = randomBytes(32);
  private readonly remembered = new Map<
    string,
    { keyId: string; hash: string; good: Promise<boolean>; until: number }
  >();
  private readonly limit = pLimit(KEY_CHECKS.concurrent);

  constructor(private readonly deps: { verify(secret: string, hash: string): Promise<boolean>; now(): number }) {}

  /** 'good', 'bad', or 'busy' when too many checks are waiting already (answer 503; nothing was decided). */
  async check(secret: string, key: CrmKey): Promise<'good' | 'bad' | 'busy'> {
    const id = createHmac('sha256', this.secret).update(secret).digest('base64');
    const now = this.deps.now();
    let entry = this.remembered.get(id);
    if (!entry || entry.keyId !== key.keyId || entry.hash !== key.hash || entry.until < now) {
      if (this.limit.pendingCount >= KEY_CHECKS.waiting) return 'busy';
      const good = this.limit(() => this.deps.verify(secret, key.hash));
      const fresh = { keyId: key.keyId, hash: key.hash, good, until: Number.POSITIVE_INFINITY };
      if (this.remembered.size >= 10_000) this.remembered.clear();
      this.remembered.set(id, fresh);
      good.then(
        (ok) => {
          if (!ok) fresh.until = this.deps.now() + FAILED_KEY_MS;
        },
        () => {
          if (this.remembered.get(id) === fresh) this.remembered.delete(id);
        },
      );
      entry = fresh;
    }
    return (await entry.good) ? 'good' : 'bad';
  }
}
