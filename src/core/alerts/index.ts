export * from './diff.js';
export * from './render.js';
export * from './select.js';
export * from './view.js';
export * from './wording.js';
