import { UsageError } from '../errors.js';

/** --clients a,b: the client ids, each once; an empty one is a usage error naming the fix. */
export function parseClientList(value: unknown): string[] {
  const ids = [
    ...new Set(
      String(value)
        .split(',')
        .map((c) => c.trim()),
    ),
  ];
  if (ids.some((c) => c === ''))
    throw new UsageError(`--clients ${String(value)}: an empty client id; list client_ids with commas`);
  return ids;
}
