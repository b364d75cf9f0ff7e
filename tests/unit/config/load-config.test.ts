import { describe, expect, test } from '@jest/globals';
import { loadConfig, localDatabaseUrl } from '../../../src/config/load-config.js';

const stateDir = '/srv/leadsmart/.state';

describe('loadConfig', () => {
  test('with nothing set, uses the local database, file blobs and the outbox under the state folder', () => {
    const r = loadConfig({}, { stateDir });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.databaseUrl).toBe(localDatabaseUrl(stateDir));
    expect(r.config.databaseSource).toBe('local');
    expect(r.config.blobUrl).toBe('file:///srv/leadsmart/.state/blobs');
    expect(r.config.mailTransport).toBe('outbox:/srv/leadsmart/.state/outbox');
    expect(r.config.timezone).toBe('UTC');
    expect(Object.isFrozen(r.config)).toBe(true);
  });

  test('the standard PG* variables replace the local default', () => {
    const r = loadConfig({ PGHOST: 'db.internal', PGDATABASE: 'leadsmart' }, { stateDir });
    expect(r.ok && [r.config.databaseUrl, r.config.databaseSource]).toEqual([undefined, 'PG*']);
  });

  test('parses FB_AD_ACCOUNTS with and without act_ and client ids', () => {
    const r = loadConfig({ FB_AD_ACCOUNTS: 'act_123, 456=acme' }, { stateDir });
    expect(r.ok && r.config.fbAdAccounts).toEqual([
      { accountId: 'act_123', clientId: null },
      { accountId: 'act_456', clientId: 'acme' },
    ]);
  });

  test('collects every problem, including settings a job requires', () => {
    const r = loadConfig(
      { DATABASE_URL: 'mysql://x', FB_AD_ACCOUNTS: 'act_12x', ALERT_TO: 'ops@example.com, nobody', MAIL_TRANSPORT: 'smtp', STATUS_TOKEN: 'short', SENTRY_DSN: 'nope' },
      { stateDir, require: ['FB_ACCESS_TOKEN', 'ALERT_FROM'] },
    );
    expect(r.ok).toBe(false);
    const problems = (r as { problems: string[] }).problems;
    expect(problems).toHaveLength(8);
    expect(problems.join('\n')).toMatch(/FB_ACCESS_TOKEN is not set: this job needs it/);
    expect(problems.join('\n')).toMatch(/ALERT_TO: "nobody" is not an email address/);
  });

  test('flags override the environment', () => {
    const r = loadConfig({ LOG_LEVEL: 'debug' }, { stateDir, overrides: { LOG_LEVEL: 'warn' } });
    expect(r.ok && r.config.logLevel).toBe('warn');
  });

  test('secrets are collected for redaction: tokens whole, database URLs by their password', () => {
    const r = loadConfig({ FB_ACCESS_TOKEN: 'EAAtoken123456', DATABASE_URL: 'postgresql://u:pa55word@h/db' }, { stateDir });
    expect(r.ok && r.config.secrets).toEqual(['pa55word', 'EAAtoken123456']);
  });

  test('NAME and NAME_FILE together is a problem', () => {
    const r = loadConfig({ FB_ACCESS_TOKEN: 'EAAtoken123456', FB_ACCESS_TOKEN_FILE: '/run/secrets/fb' }, { stateDir });
    expect(r.ok).toBe(false);
    expect((r as { problems: string[] }).problems).toEqual(['FB_ACCESS_TOKEN and FB_ACCESS_TOKEN_FILE are both set: keep one']);
  });
});
