import { expect, test } from '@jest/globals';
import { createRedactor, redactDeep } from '../../../src/runtime/redact.js';

test('removes known secret values, URL passwords, access tokens and bearer tokens', () => {
  const redact = createRedactor(['EAAB-super-secret-token', 'abc']);
  expect(redact('token EAAB-super-secret-token in text')).toBe('token [REDACTED] in text');
  expect(redact('postgresql://app:s3cr3t@db:5432/leadsmart')).toBe('postgresql://app:[REDACTED]@db:5432/leadsmart');
  expect(redact('GET /v25.0/act_1/insights?fields=spend&access_token=EAAxyz123&limit=500')).toBe(
    'GET /v25.0/act_1/insights?fields=spend&access_token=[REDACTED]&limit=500',
  );
  expect(redact('Authorization: Bearer abc.def-ghi')).toBe('Authorization: Bearer [REDACTED]');
  // Values shorter than 8 characters are not treated as secrets (they would mangle ordinary text).
  expect(redact('abc')).toBe('abc');
});

test(
  'a short setting is not removed from ordinary words: ' +
    'STATUS_TOKEN=short is reported as "too short", not "too [REDACTED]"',
  () => {
    const redact = createRedactor(['short']);
    expect(redact('STATUS_TOKEN: too short; use at least 16 random characters')).toBe(
      'STATUS_TOKEN: too short; use at least 16 random characters',
    );
  },
);

test('redacts every string inside nested values', () => {
  const redact = createRedactor(['topsecret']);
  expect(redactDeep({ a: ['x topsecret'], b: { c: 'topsecret', n: 3 } }, redact)).toEqual({
    a: ['x [REDACTED]'],
    b: { c: '[REDACTED]', n: 3 },
  });
});
