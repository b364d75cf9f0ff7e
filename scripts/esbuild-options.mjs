// What every Node bundle of the project's sources shares: the jobs' (scripts/build.mjs) and the benches' that call a
// job's function in their own process (bench/score-decisions.mjs).
export const nodeBundle = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node26',
  external: ['pg-native', '@aws-sdk/*', '@sentry/node', '@smithy/*'],
  banner: {
    // Bundled CommonJS packages (pg, winston) call require() for Node's built-ins.
    js:
      "import { createRequire as __createRequire } from 'node:module'; " +
      'const require = __createRequire(import.meta.url);',
  },
  // The views (src/views) are TSX rendered to strings by Preact.
  jsx: 'automatic',
  jsxImportSource: 'preact',
  logLevel: 'warning',
};
