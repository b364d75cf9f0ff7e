export * from './config.js';
export * from './curve.js';
export * from './run-checks.js';
export * from './score-campaign.js';
export * from './types.js';
export * from './not-judged.js';
export * from './decision.js';
export * from './evidence.js';
