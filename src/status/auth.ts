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

/** Failed sign-ins allowed per address per window before every attempt from it is refused for the rest of it. */
export const FAILED_SIGN_INS = { limit: 10, windowMs: 15 * 60_000 };
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
  private readonly failures = new RateLimiter(FAILED_SIGN_INS.limit, FAILED_SIGN_INS.windowMs);

  constructor(
    private readonly deps: {
      users: () => Promise<Map<string, DashboardUser>>;
      now: () => number;
      log: (level: 'warn', message: string, meta: Record<string, unknown>) => void;
    },
  ) {}

  async signIn(header: string | undefined, address: string): Promise<SignIn> {
    if (!header?.startsWith('Basic ')) return { ok: false, status: 401, reason: 'sign in to see this page' };
    const now = this.deps.now();
    const blocked = this.failures.blocked(address, now);
    if (!blocked.ok) return { ok: false, status: 429, retryAfterSeconds: blocked.retryAfterSeconds };
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const username = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    const users = await this.deps.users();
    const user = users.get(username);
    const cacheKey = createHmac('sha256', this.key).update(header).digest('base64');
    const hit = this.verified.get(cacheKey);
    if (user && hit && hit.until > now && hit.username === user.username && hit.hash === user.passwordHash)
      return { ok: true, viewer: viewerOf(user) };
    // An unknown user costs the same scrypt as a known one: the time taken does not tell which names exist.
    const good = (await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH)) && user !== undefined;
    if (!good) {
      this.failures.take(address, now);
      this.deps.log('warn', 'sign-in failed', {
        username: username.slice(0, 64).replace(/[^\x20-\x7e]/g, '?'),
        address,
        known_user: user !== undefined,
      });
      return { ok: false, status: 401, reason: 'the user name or password is wrong' };
    }
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
