import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isUtf8 } from 'node:buffer';
import { ConfigError, TempFailError } from '../../errors.js';

/** What one pass over the raw bytes learns while copying them to a local file. */
export interface SpooledInput {
  /** The local copy: read as often as needed, unlike standard input. */
  path: string;
  size: number;
  /** Hex SHA-256 of the raw bytes (the archive key). */
  sha256: string;
  /** Byte offset of the first byte that is not valid UTF-8, or -1. */
  invalidUtf8At: number;
  /** UTF-16 byte-order mark: the usual "Unicode text" export of Excel. */
  utf16: boolean;
  /** Byte offset of the last double quote, or -1. */
  lastQuoteAt: number;
  /** Offset just past the last byte that is not CR or LF: trailing empty lines end here. */
  contentEnd: number;
  /** Length in bytes of the longest line (line end excluded). */
  maxLineBytes: number;
  /** A line holding only `\.` (PostgreSQL's end-of-data marker in COPY). */
  hasCopyEndMarker: boolean;
  remove(): Promise<void>;
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** An input longer than the limit: the spool stops there and is removed. */
/**
 * The spool's own failures, as what the operator can do about them: a full disk is temporary (75: free space, the
 * next run completes); a folder that cannot be written is a setting (78: TMPDIR). Null for anything else, the
 * input's own errors included (a file that went away is the caller's to report). `spoolPath` is the working copy,
 * or null when the folder itself could not be made.
 */
export function spoolError(error: unknown, spoolPath: string | null): Error | null {
  const { code, path } = error as NodeJS.ErrnoException;
  const where = `the import's working copy in ${tmpdir()}`;
  // Writing only: reading the input never runs out of space.
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new TempFailError(
      `cannot write ${where}: the disk is full (${code}); nothing was imported. Free space there, or set TMPDIR to ` +
        'a folder with room for the largest file, and run the import again',
      { cause: error },
    );
  const ours = spoolPath === null || path === spoolPath;
  if (ours && (code === 'EACCES' || code === 'EROFS' || code === 'ENOENT' || code === 'ENOTDIR' || code === 'EPERM'))
    return new ConfigError(`cannot write ${where} (${code}); set TMPDIR to a folder this user can write to`, {
      cause: error,
    });
  return null;
}

export class InputTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`the input is larger than ${limitBytes} bytes`);
  }
}

export interface SpoolOptions {
  /**
   * Stops the copy (and removes the spool) as soon as it fires: a signal must end a run reading a FIFO or /dev/zero.
   */
  signal?: AbortSignal;
  /** The most bytes read before the input is refused (InputTooLargeError). */
  maxBytes?: number;
}

/** Prefix of every spool folder: `leadsmart-import-*` in TMPDIR (swept when a killed run left one behind). */
export const SPOOL_PREFIX = 'leadsmart-import-';

/**
 * Removes spool folders (`leadsmart-import-*` in TMPDIR) last changed before `before`: what killed or crashed imports
 * left behind. A running import's spool is hours younger than the cutoff. Returns how many were removed.
 */
export async function sweepStaleSpools(before: Date, dir = tmpdir()): Promise<number> {
  let removed = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(SPOOL_PREFIX) || !/^leadsmart-import-[A-Za-z0-9]{6}$/.test(name)) continue;
    const s = await stat(join(dir, name)).catch(() => null);
    if (s === null || !s.isDirectory() || s.mtime >= before) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}

/**
 * Copies an input stream to a private temporary file, hashing it and noting
 * what decides how it can be loaded. Memory stays at one chunk whatever
 * the size. `open` is called only once the temporary file exists, so that a
 * file that cannot be opened fails the returned promise rather than the
 * process (a stream's 'error' with no listener yet). On any failure, a
 * signal or an input over `maxBytes`, the temporary file is removed.
 */
export async function spoolInput(open: () => Readable, options: SpoolOptions = {}): Promise<SpooledInput> {
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  let dir: string;
  try {
    dir = await mkdtemp(join(tmpdir(), SPOOL_PREFIX));
  } catch (error) {
    throw spoolError(error, null) ?? error;
  }
  const path = join(dir, 'input.csv');
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const hash = createHash('sha256');
  let size = 0;
  let invalidUtf8At = -1;
  let lastQuoteAt = -1;
  let contentEnd = 0;
  let head = Buffer.alloc(0);
  let hasCopyEndMarker = false;
  let maxLineBytes = 0;
  let lineStart = 0;
  // The bytes of a UTF-8 sequence cut by the chunk boundary, and the end of the previous chunk for the `\.` check.
  let carry = Buffer.alloc(0);
  let tail = Buffer.from([LF]);
  try {
    options.signal?.throwIfAborted();
    await pipeline(
      open(),
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          if (size + chunk.length > maxBytes) throw new InputTooLargeError(maxBytes);
          if (head.length < 4) head = Buffer.concat([head, chunk.subarray(0, 4)]);
          hash.update(chunk);
          if (invalidUtf8At < 0) {
            const joined = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
            const cut = incompleteTail(joined);
            const whole = joined.subarray(0, joined.length - cut);
            if (!isUtf8(whole)) invalidUtf8At = size - carry.length + firstInvalidUtf8(whole);
            carry = Buffer.from(joined.subarray(joined.length - cut));
          }
          const q = chunk.lastIndexOf(QUOTE);
          if (q >= 0) lastQuoteAt = size + q;
          for (let i = chunk.length - 1; i >= 0; i--) {
            const b = chunk[i]!;
            if (b !== LF && b !== CR) {
              contentEnd = size + i + 1;
              break;
            }
          }
          if (!hasCopyEndMarker) {
            const window = Buffer.concat([tail, chunk]);
            hasCopyEndMarker = /(^|\n)\\\.(\r?\n|$)/.test(window.toString('latin1'));
            tail = window.subarray(Math.max(0, window.length - 3));
          }
          for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, i + 1)) {
            maxLineBytes = Math.max(maxLineBytes, size + i - lineStart);
            lineStart = size + i + 1;
          }
          size += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(path, { flags: 'wx', mode: 0o600 }),
      options.signal ? { signal: options.signal } : {},
    );
  } catch (error) {
    await remove();
    // An abort surfaces as AbortError: the caller wants the reason it aborted with (the signal that stopped the run).
    if (options.signal?.aborted) throw options.signal.reason;
    throw spoolError(error, path) ?? error;
  }
  if (invalidUtf8At < 0 && carry.length > 0) invalidUtf8At = size - carry.length;
  maxLineBytes = Math.max(maxLineBytes, size - lineStart);
  const utf16 = (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff);
  return {
    path,
    size,
    sha256: hash.digest('hex'),
    invalidUtf8At,
    utf16,
    lastQuoteAt,
    contentEnd,
    maxLineBytes,
    hasCopyEndMarker,
    remove,
  };
}

/** How many bytes at the end of `buf` start a UTF-8 sequence that the next chunk completes. */
function incompleteTail(buf: Buffer): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const b = buf[buf.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

/**
 * Offset of the first invalid sequence in a buffer known to hold one. A
 * prefix is judged without a sequence cut at its end, which keeps "this
 * prefix is valid" monotone, so a binary search over isUtf8 finds it.
 */
function firstInvalidUtf8(buf: Buffer): number {
  const valid = (p: number): boolean => isUtf8(buf.subarray(0, p - incompleteTail(buf.subarray(0, p))));
  let lo = 0;
  let hi = buf.length;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (valid(mid)) lo = mid;
    else hi = mid;
  }
  return lo - incompleteTail(buf.subarray(0, lo));
}

/** The 1-based line of a byte offset (for messages about a bad byte). */
export async function lineOfOffset(path: string, offset: number): Promise<number> {
  let line = 1;
  let seen = 0;
  for await (const chunk of createReadStream(path, { end: Math.max(0, offset - 1) }) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, i + 1)) line++;
    seen += chunk.length;
  }
  return seen === 0 ? 1 : line;
}

/** The first `max` bytes of a file. */
export async function readHead(path: string, max: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(max);
    const { bytesRead } = await fh.read(buf, 0, max, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
