// `npm run test:unit`: the unit tests alone, for the inner loop — no PostgreSQL, no build (make test runs everything).
import base from './jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  testMatch: ['<rootDir>/tests/unit/**/*.test.ts'],
  globalSetup: undefined,
  globalTeardown: undefined,
};
