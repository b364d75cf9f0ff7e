// No line of code over 120 characters (Biome's formatter keeps code within its
// lineWidth but leaves long strings, comments and non-JavaScript files alone).
// Counts characters (code points), not bytes. Data (CSV, JSON, test fixtures)
// and Markdown prose are not code and are not checked.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const LIMIT = 120;
const root = new URL('..', import.meta.url).pathname;
// crontab/ is not checked: a crontab line cannot be continued on the next one.
const DIRS = ['bin', 'src', 'tests', 'scripts', 'bench', 'sql', 'systemd', 'ops', '.ci'];
const TOP = ['Makefile', 'jest.config.js', 'jest.unit.config.js'];
const SKIP_DIRS = new Set(['fixtures', 'node_modules', '.state']);
const CODE = /\.(ts|tsx|mts|js|mjs|cjs|sh|sql|service|timer|conf)$/;
// Migrations up to this number were released before the check: bin/migrate
// refuses an applied migration whose text changed, so they stay as they are.
const FROZEN_MIGRATIONS_UP_TO = 9;
const frozen = (path) => {
  const m = /^sql\/(\d+)_.*\.sql$/.exec(relative(root, path));
  return m !== null && Number(m[1]) <= FROZEN_MIGRATIONS_UP_TO;
};

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) yield* walk(path);
    } else if ((CODE.test(entry.name) || !entry.name.includes('.')) && !frozen(path)) {
      yield path;
    }
  }
}

const files = [];
for (const d of DIRS) {
  const path = join(root, d);
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) files.push(...walk(path));
}
for (const f of TOP) {
  const path = join(root, f);
  if (statSync(path, { throwIfNoEntry: false })) files.push(path);
}

let long = 0;
for (const file of files) {
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    const length = [...line].length;
    if (length > LIMIT) {
      long++;
      console.error(`${relative(root, file)}:${i + 1}: ${length} characters (at most ${LIMIT})`);
    }
  });
}
if (long > 0) {
  console.error(`${long} line(s) over ${LIMIT} characters: break the string or comment across lines`);
  process.exit(1);
}
