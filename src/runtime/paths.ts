import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project root: the nearest folder above this module that holds sql/ and
 * package.json. Found by walking up because this code runs both as source
 * (src/runtime/) and bundled (dist/).
 */
function findRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'sql'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the Leadsmart project root above ${start}`);
    dir = parent;
  }
}

export const PROJECT_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
export const SQL_DIR = resolve(PROJECT_ROOT, 'sql');
/** The local state folder: local database cluster, blobs, outbox. */
export const STATE_DIR = resolve(PROJECT_ROOT, '.state');
