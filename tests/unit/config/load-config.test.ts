import { describe, expect, test } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
      {
        DATABASE_URL: 'mysql://x',
        FB_AD_ACCOUNTS: 'act_12x',
        ALERT_TO: 'ops@example.com, nobody',
        MAIL_TRANSPORT: 'smtp',
        STATUS_TOKEN: 'short',
        SENTRY_DSN: 'nope',
      },
      { stateDir, require: ['FB_ACCESS_TOKEN', 'ALERT_FROM'] },
    );
    expect(r.ok).toBe(false);
    const problems = (r as { problems: string[] }).problems;
    expect(problems).toHaveLength(8);
    expect(problems.join('\n')).toMatch(/FB_ACCESS_TOKEN is not set: this job needs it/);
    expect(problems.join('\n')).toMatch(/ALERT_TO: "nobody" is not an email address/);
  });

  test('send-alerts tuning: defaults are the SES sandbox rate, two gap days and mailto-only unsubscribe', () => {
    const r = loadConfig({}, { stateDir });
    expect(r.ok && r.config.alerts).toEqual({
      gapDays: 2,
      sendRate: 1,
      retries: 4,
      retryBaseMs: 1000,
      requestTimeoutMs: 30_000,
      unsubscribeUrl: undefined,
      sesConfigurationSet: undefined,
    });
    const tuned = loadConfig(
      { ALERT_SEND_RATE: '14.5', ALERT_GAP_DAYS: '3', ALERT_UNSUBSCRIBE_URL: 'https://example.com/unsub' },
      { stateDir },
    );
    expect(
      tuned.ok && [tuned.config.alerts.sendRate, tuned.config.alerts.gapDays, tuned.config.alerts.unsubscribeUrl],
    ).toEqual([14.5, 3, 'https://example.com/unsub']);
  });

  test('bad send-alerts settings are each named with what is expected', () => {
    const r = loadConfig(
      {
        ALERT_SEND_RATE: '0',
        ALERT_GAP_DAYS: '30',
        ALERT_UNSUBSCRIBE_URL: 'http://example.com/u',
        ALERT_TO: 'ops@x.example;not-an-address',
        ALERT_FROM: 'Ops <nope>',
      },
      { stateDir },
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual(
      expect.arrayContaining([
        'ALERT_SEND_RATE=0: expected messages per second from 0.01 to 1000 (default 1, the SES sandbox rate)',
        'ALERT_GAP_DAYS=30: expected a whole number from 1 to 14 (default 2)',
        'ALERT_UNSUBSCRIBE_URL=http://example.com/u: expected an ' +
          'https:// URL (one-click unsubscribe needs https), or leave it ' +
          'unset for mailto only',
        'ALERT_TO: "not-an-address" is not an email address',
        'ALERT_FROM=Ops <nope>: not an email address',
      ]),
    );
  });

  test(
    'Facebook tuning: batches of 50 by default, and a batch size the ' + 'API would refuse is named with the range',
    () => {
      const r = loadConfig({}, { stateDir });
      expect(r.ok && [r.config.fb.batchSize, r.config.fb.pageSize]).toEqual([50, 500]);
      const off = loadConfig({ FB_BATCH_SIZE: '1' }, { stateDir });
      expect(off.ok && off.config.fb.batchSize).toBe(1);
      const bad = loadConfig({ FB_BATCH_SIZE: '51', FB_PAGE_SIZE: '0' }, { stateDir });
      expect(!bad.ok && bad.problems).toEqual([
        'FB_PAGE_SIZE=0: expected a whole number from 5 to 5000 (default 500)',
        'FB_BATCH_SIZE=51: expected a whole number from 1 to 50 (default 50)',
      ]);
    },
  );

  test(
    'score-campaigns reads 10,000 campaigns per chunk by default; a ' +
      'chunk size of 0 or a word is named with the range',
    () => {
      const r = loadConfig({}, { stateDir });
      expect(r.ok && r.config.scoringChunkCampaigns).toBe(10_000);
      expect(loadConfig({ SCORING_CHUNK_CAMPAIGNS: '500' }, { stateDir })).toMatchObject({
        ok: true,
        config: { scoringChunkCampaigns: 500 },
      });
      for (const text of ['0', 'lots', '2000000']) {
        const bad = loadConfig({ SCORING_CHUNK_CAMPAIGNS: text }, { stateDir });
        expect(!bad.ok && bad.problems).toEqual([
          `SCORING_CHUNK_CAMPAIGNS=${text}: expected a whole number from 1 to 1000000 (default 10000)`,
        ]);
      }
    },
  );

  test('the decision layer is on unless SCORING_ACTIONS=off; another value is named with the choices', () => {
    expect(loadConfig({}, { stateDir })).toMatchObject({ ok: true, config: { scoringActions: true } });
    expect(loadConfig({ SCORING_ACTIONS: 'OFF' }, { stateDir })).toMatchObject({
      ok: true,
      config: { scoringActions: false },
    });
    const bad = loadConfig({ SCORING_ACTIONS: 'maybe' }, { stateDir });
    expect(!bad.ok && bad.problems).toEqual(['SCORING_ACTIONS=maybe: expected on or off (default on)']);
  });

  test('flags override the environment', () => {
    const r = loadConfig({ LOG_LEVEL: 'debug' }, { stateDir, overrides: { LOG_LEVEL: 'warn' } });
    expect(r.ok && r.config.logLevel).toBe('warn');
  });

  test('secrets are collected for redaction: tokens whole, database URLs by their password', () => {
    const r = loadConfig(
      { FB_ACCESS_TOKEN: 'EAAtoken123456', DATABASE_URL: 'postgresql://u:pa55word@h/db' },
      { stateDir },
    );
    expect(r.ok && r.config.secrets).toEqual(['pa55word', 'EAAtoken123456']);
  });

  test(
    'a STATUS_TOKEN_FILE holding only spaces is refused, and a ' + "file's trailing newline is not part of the token",
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
      writeFileSync(join(dir, 'blank'), '                        \n');
      writeFileSync(join(dir, 'token'), 'a3f1c09be2d84e7c9a1b5f60\n');
      const blank = loadConfig({ STATUS_TOKEN_FILE: join(dir, 'blank') }, { stateDir, require: ['STATUS_TOKEN'] });
      expect(blank.ok).toBe(false);
      expect((blank as { problems: string[] }).problems[0]).toBe(
        `STATUS_TOKEN_FILE=${join(dir, 'blank')}: the file is empty or ` +
          `holds only whitespace; write the STATUS_TOKEN value into it`,
      );
      const good = loadConfig({ STATUS_TOKEN_FILE: join(dir, 'token') }, { stateDir, require: ['STATUS_TOKEN'] });
      expect(good.ok && good.config.statusToken).toBe('a3f1c09be2d84e7c9a1b5f60');
      const spaced = loadConfig({ STATUS_TOKEN: 'a3f1c09be2d8 4e7c9a1b5f60' }, { stateDir });
      expect((spaced as { problems: string[] }).problems).toEqual([
        'STATUS_TOKEN: contains whitespace; use random characters only (for example: openssl rand -hex 24)',
      ]);
    },
  );

  test('a missing setting suggests NAME_FILE only where a file is read (secrets), never ALERT_FROM_FILE', () => {
    const r = loadConfig({}, { stateDir, require: ['ALERT_FROM', 'STATUS_TOKEN'] });
    const problems = (r as { problems: string[] }).problems;
    expect(problems.find((p) => p.startsWith('ALERT_FROM'))).toBe(
      'ALERT_FROM is not set: this job needs it (see docs/configuration.md)',
    );
    expect(problems.find((p) => p.startsWith('STATUS_TOKEN'))).toContain('it can also be given as STATUS_TOKEN_FILE');
  });

  test('NAME and NAME_FILE together is a problem', () => {
    const r = loadConfig({ FB_ACCESS_TOKEN: 'EAAtoken123456', FB_ACCESS_TOKEN_FILE: '/run/secrets/fb' }, { stateDir });
    expect(r.ok).toBe(false);
    expect((r as { problems: string[] }).problems).toEqual([
      'FB_ACCESS_TOKEN and FB_ACCESS_TOKEN_FILE are both set: keep one',
    ]);
  });
});
