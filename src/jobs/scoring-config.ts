import { readFile } from 'node:fs/promises';
import { resolveScoringConfig, type ScoringConfig } from '../core/scoring/index.js';
import { ConfigError } from '../errors.js';

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
    text = await readFile(path, 'utf8');
  } catch (error) {
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
