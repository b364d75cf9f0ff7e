// Bundles the jobs into dist/ so that an executable loads a handful of files
// instead of hundreds: Node's ES module loader pays per file, and kysely
// alone is ~180 ms unbundled, which --help and every cron run would pay.
// The AWS SDK and Sentry stay behind dynamic import() in their own chunks.
import { build } from 'esbuild';
import { nodeBundle } from './esbuild-options.mjs';

await build({
  ...nodeBundle,
  entryPoints: ['src/cli.ts'],
  outdir: 'dist',
  splitting: true,
  sourcemap: true,
  minifySyntax: true,
  minifyWhitespace: true,
});

// The stand-in Graph API (tests/helpers/fake-graph-api.ts) for `make demo` and `make bench`; never loaded by the jobs.
await build({
  entryPoints: {
    'dev/fake-graph-api': 'tests/helpers/fake-graph-api.ts',
    'dev/fake-graph-server': 'scripts/fake-graph-server.ts',
  },
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node26',
  logLevel: 'warning',
});
