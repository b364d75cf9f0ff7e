import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Passwords of status-server's users: scrypt from node:crypto (N = 2^15, r = 8, p = 1, a 16-byte salt, a 32-byte
 * key), stored as `scrypt$15$8$1$<salt>$<key>` (base64). Verification runs on libuv's thread pool, never on the event
 * loop, and compares in constant time.
 */
const LOG_N = 15;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
const MAX_MEM = 64 * 1024 * 1024;

function derive(password: string, salt: Buffer, logN: number, r: number, p: number, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, bytes, { N: 2 ** logN, r, p, maxmem: MAX_MEM }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, LOG_N, R, P, KEY_BYTES);
  return `scrypt$${LOG_N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** A hash of a password no one has: verified against when the user does not exist, so both take the same time. */
const zeros = (n: number) => Buffer.alloc(n).toString('base64');
export const DUMMY_HASH = `scrypt$${LOG_N}$${R}$${P}$${zeros(16)}$${zeros(KEY_BYTES)}`;

/** True when `password` is the one `stored` was made from; false for a wrong password or a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!m) return false;
  const [logN, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (logN < 10 || logN > 20 || r < 1 || r > 32 || p < 1 || p > 4) return false;
  const expected = Buffer.from(m[5]!, 'base64');
  if (expected.length < 16) return false;
  const actual = await derive(password, Buffer.from(m[4]!, 'base64'), logN, r, p, expected.length);
  return timingSafeEqual(actual, expected);
}

/** What a new password must be: long enough to resist guessing, short enough to hash quickly. */
export function passwordProblem(password: string): string | null {
  if ([...password].length < 12) return 'at least 12 characters';
  if (password.length > 1024) return 'at most 1024 characters';
  if (/[\r\n\0]/.test(password)) return 'no line breaks or NUL characters';
  // Spaces around a password are lost by whoever copies it; twelve of one character is no password.
  if (password.trim() !== password) return 'no spaces at its start or end';
  if (new Set(password).size < 5) return 'at least 5 different characters';
  return null;
}

/** A password for people who would rather be given one: 24 characters of base64url, 144 random bits. */
export const generatePassword = (): string => randomBytes(18).toString('base64url');
