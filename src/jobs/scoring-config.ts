import { open } from 'node:fs/promises';
import { resolveScoringConfig, type ScoringConfig } from '../core/scoring/index.js';
import { ConfigError } from '../errors.js';

/** A configuration is a few KB: past this it is the wrong file (or /dev/zero), read no further. */
const MAX_CONFIG_BYTES = 1024 * 1024;

class TooLarge extends Error {}

/** The file's text, reading at most `limit` bytes (TooLarge past it): a device or a huge file is not read whole. */
async function readCapped(path: string, limit: number): Promise<string> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > limit) throw new TooLarge();
    }
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    await file.close();
  }
}

/**
 * A scoring configuration file (`--config`, `SCORING_CONFIG`) read and checked, every problem listed (exit 78); the
 * defaults when `path` is undefined. `flag` names the option in messages.
 */
export async function readScoringConfig(
  path: string | undefined,
  flag = '--config',
): Promise<{ config: ScoringConfig; source: string }> {
  if (path === undefined) {
    const r = resolveScoringConfig({});
    if (!r.ok) throw new ConfigError('built-in scoring configuration is invalid', { problems: r.problems });
    return { config: r.config, source: 'defaults' };
  }
  let text: string;
  try {
    text = await readCapped(path, MAX_CONFIG_BYTES);
  } catch (error) {
    if (error instanceof TooLarge)
      throw new ConfigError(
        `${flag} ${path}: larger than ${MAX_CONFIG_BYTES / 1024} KiB (a scoring configuration is a few KB); ` +
          'check that it names the right file',
      );
    throw new ConfigError(
      `${flag} ${path}: cannot read the file ` +
        `(${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ` +
        `check the path, or leave ${flag} out to use the defaults`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      `${flag} ${path}: not valid JSON (${(error as Error).message}); ` +
        `see docs/jobs.md, Scoring configuration, for the format`,
    );
  }
  const r = resolveScoringConfig(parsed);
  if (!r.ok)
    throw new ConfigError(
      `${flag} ${path}: ${r.problems.length} invalid setting${r.problems.length === 1 ? '' : 's'}; nothing was scored`,
      { problems: r.problems },
    );
  return { config: r.config, source: path };
}
