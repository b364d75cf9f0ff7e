import { createHmac, randomBytes } from 'node:crypto';
import { RateLimiter } from '../core/status/requests.js';
import type { DashboardUser } from '../db/repositories/users.repository.js';
import { DUMMY_HASH, verifyPassword } from '../core/security/passwords.js';

/** Who is looking: agency-wide (clientIds null) or limited to some clients. */
export interface Viewer {
  username: string;
  clientIds: ReadonlySet<string> | null;
}

export type SignIn =
  | { ok: true; viewer: Viewer }
  | { ok: false; status: 401; reason: string }
  | { ok: false; status: 429; retryAfterSeconds: number };

/**
 * Failed sign-ins allowed per window: per user name from one client address (`perUser`), and from one client address
 * whatever the names (`perAddress`, against guesses spread over many names). Past either, that user from that
 * address (or that address) is refused for the rest of the window; other users and other addresses are not.
 */
export const FAILED_SIGN_INS = { perUser: 10, perAddress: 30, windowMs: 15 * 60_000 };
const CACHE_MS = 10 * 60_000;

/**
 * HTTP Basic sign-in for the pages. scrypt takes ~0.1 s by design, so a verified Authorization header is remembered
 * for 10 minutes, keyed by an HMAC under a key made at start (a memory dump shows no password), and only while the
 * user's stored hash is the one it was checked against: `users passwd` or `users remove` take effect as soon as the
 * users are read again (every 5 s).
 */
export class BasicAuth {
  private readonly key = randomBytes(32);
  private readonly verified = new Map<string, { username: string; hash: string; until: number }>();
  private readonly userFailures = new RateLimiter(FAILED_SIGN_INS.perUser, FAILED_SIGN_INS.windowMs);
  private readonly addressFailures = new RateLimiter(FAILED_SIGN_INS.perAddress, FAILED_SIGN_INS.windowMs);

  constructor(
    private readonly deps: {
      users: () => Promise<Map<string, DashboardUser>>;
      now: () => number;
      log: (level: 'warn', message: string, meta: Record<string, unknown>) => void;
    },
  ) {}

  /**
   * `address` is the client's (behind TRUSTED_PROXIES, the one X-Forwarded-For names). A failure is counted before
   * the slow check, not after it: guesses sent in parallel are refused once the count is reached, instead of all
   * running scrypt and all being counted too late. A good password gives its count back.
   */
  async signIn(header: string | undefined, address: string): Promise<SignIn> {
    // RFC 7617: the scheme name is case-insensitive.
    const m = /^basic +([A-Za-z0-9+/=]*) *$/i.exec(header ?? '');
    if (!m) return { ok: false, status: 401, reason: 'sign in to see this page' };
    const now = this.deps.now();
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const username = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    const users = await this.deps.users();
    // User names are unique without regard to case (users add refuses Bob beside bob): either finds the user.
    const user = users.get(username.toLowerCase());
    const userKey = `${address} ${(user?.username ?? username).toLowerCase().slice(0, 64)}`;
    const userTurn = this.userFailures.take(userKey, now);
    const addressTurn = this.addressFailures.take(address, now);
    const refused = !userTurn.ok ? userTurn : !addressTurn.ok ? addressTurn : null;
    if (refused) {
      this.userFailures.giveBack(userKey);
      this.addressFailures.giveBack(address);
      return { ok: false, status: 429, retryAfterSeconds: refused.retryAfterSeconds };
    }
    const cacheKey = createHmac('sha256', this.key).update(m[1]!).digest('base64');
    const hit = this.verified.get(cacheKey);
    let good: boolean;
    if (user && hit && hit.until > now && hit.username === user.username && hit.hash === user.passwordHash) good = true;
    // An unknown user costs the same scrypt as a known one: the time taken does not tell which names exist.
    else good = (await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH)) && user !== undefined;
    if (!good || !user) {
      this.deps.log('warn', 'sign-in failed', {
        username: username.slice(0, 64).replace(/[^\x20-\x7e]/g, '?'),
        address,
        known_user: user !== undefined,
      });
      return { ok: false, status: 401, reason: 'the user name or password is wrong' };
    }
    // The user got in: their mistyped tries no longer count (the address's count stays, against guesses spread over
    // names with one known password among them).
    this.userFailures.reset(userKey);
    this.addressFailures.giveBack(address);
    if (this.verified.size >= 1000) this.verified.clear();
    this.verified.set(cacheKey, { username: user.username, hash: user.passwordHash, until: now + CACHE_MS });
    return { ok: true, viewer: viewerOf(user) };
  }
}

function viewerOf(u: DashboardUser): Viewer {
  return { username: u.username, clientIds: u.clientIds === null ? null : new Set(u.clientIds) };
}

/** Whether a viewer may see a client's campaigns (campaigns without a client: agency-wide viewers only). */
export function maySee(viewer: Viewer, clientId: string | null): boolean {
  return viewer.clientIds === null || (clientId !== null && viewer.clientIds.has(clientId));
}
