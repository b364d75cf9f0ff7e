import { describe, expect, test } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCHEDULE } from '../../src/core/status/health.js';
import { ROOT, runProcess } from '../helpers/run-job.js';

// The operations packaging: crontab, systemd units, CloudWatch agent and alarms, make install.
const crontab = readFileSync(join(ROOT, 'crontab', 'leadsmart'), 'utf8');
const entries = crontab
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('#') && !/^[A-Z_]+=/.test(l))
  .map((l) => {
    const f = l.trim().split(/\s+/);
    return { minute: f[0]!, hour: f[1]!, dom: f[2]!, month: f[3]!, dow: f[4]!, command: f.slice(5).join(' ') };
  });
const CRON_FIELD = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\d+(-\d+)?)(\/\d+)?)*$/;
const jobsIn = (command: string) => [...command.matchAll(/\$LEADSMART_HOME\/bin\/([a-z-]+)/g)].map((m) => m[1]!);

describe('crontab/leadsmart', () => {
  test('every line has five valid time fields and runs executables that exist and answer --help', async () => {
    expect(entries.length).toBeGreaterThanOrEqual(4);
    const jobs = new Set<string>();
    for (const e of entries) {
      for (const field of [e.minute, e.hour, e.dom, e.month, e.dow])
        expect({ field, ok: CRON_FIELD.test(field) }).toEqual({ field, ok: true });
      for (const job of jobsIn(e.command)) jobs.add(job);
      expect(e.command).toMatch(/^\. \/etc\/leadsmart\/env && /);
    }
    for (const job of jobs) {
      accessSync(join(ROOT, 'bin', job), constants.X_OK);
      const r = await runProcess(job, ['--help'], {});
      expect({ job, code: r.code }).toEqual({ job, code: 0 });
    }
    expect([...jobs].sort()).toEqual(['backup-db', 'fetch-facebook', 'score-campaigns', 'send-alerts']);
  });

  test(
    'follows operations.md: fetch every 4 h; scoring then alerts ' +
      "every 6 h, never at a fetch's start; backup daily at 02:00; a " +
      'monthly drill',
    () => {
      const fetch = entries.find((e) => jobsIn(e.command)[0] === 'fetch-facebook')!;
      expect([fetch.minute, fetch.hour]).toEqual(['0', '*/4']);
      const score = entries.find((e) => jobsIn(e.command)[0] === 'score-campaigns')!;
      expect(jobsIn(score.command)).toEqual(['score-campaigns', 'send-alerts']);
      expect(score.command).toMatch(/score-campaigns .*&& .*send-alerts/);
      const hours = score.hour.split(',').map(Number);
      expect(hours).toHaveLength(4);
      expect(hours.every((h, i) => i === 0 || h - hours[i - 1]! === 6)).toBe(true);
      expect(score.minute).not.toBe(fetch.minute);
      const backup = entries.find((e) => jobsIn(e.command)[0] === 'backup-db' && !e.command.includes('--verify'))!;
      expect([backup.minute, backup.hour, backup.dom]).toEqual(['0', '2', '*']);
      const drill = entries.find((e) => e.command.includes('backup-db --verify'))!;
      expect([drill.dom, drill.month]).toEqual(['1', '*']);
    },
  );

  test("the status service's schedule (stale detection) matches the crontab", () => {
    const every = (job: string) => SCHEDULE.find((s) => s.job === job)!.intervalSeconds / 3600;
    expect([every('fetch-facebook'), every('score-campaigns'), every('send-alerts'), every('backup-db')]).toEqual([
      4, 6, 6, 24,
    ]);
  });
});

describe('systemd units', () => {
  test('systemd-analyze verify passes on every unit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'leadsmart-units-'));
    try {
      const units = readdirSync(join(ROOT, 'systemd'));
      for (const u of units)
        writeFileSync(join(dir, u), readFileSync(join(ROOT, 'systemd', u), 'utf8').replaceAll('/opt/leadsmart', ROOT));
      const out = execFileSync('systemd-analyze', ['verify', ...units.map((u) => join(dir, u))], {
        stdio: 'pipe',
      }).toString();
      expect(out).toBe('');
      expect(units.filter((u) => u.endsWith('.timer')).length).toBeGreaterThanOrEqual(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each(['status-server', 'crm-webhook'])(
    'the %s service runs as its own user, hardened, restarted on failure',
    (name) => {
      const unit = readFileSync(join(ROOT, 'systemd', `leadsmart-${name}.service`), 'utf8');
      expect(unit).toContain(`ExecStart=/opt/leadsmart/bin/${name}`);
      for (const line of [
        'User=leadsmart',
        'NoNewPrivileges=yes',
        'ProtectSystem=strict',
        'Restart=on-failure',
        'CapabilityBoundingSet=',
        'PrivateTmp=yes',
      ])
        expect(unit).toContain(line);
    },
  );

  test('every job has a oneshot service; every timer starts an existing service', () => {
    const units = readdirSync(join(ROOT, 'systemd'));
    for (const job of ['fetch-facebook', 'score-campaigns', 'send-alerts', 'backup-db']) {
      expect(readFileSync(join(ROOT, 'systemd', `leadsmart-${job}.service`), 'utf8')).toContain('Type=oneshot');
    }
    for (const timer of units.filter((u) => u.endsWith('.timer')))
      expect(units).toContain(timer.replace('.timer', '.service'));
  });
});

describe('CloudWatch', () => {
  const alarms = JSON.parse(readFileSync(join(ROOT, 'ops', 'cloudwatch', 'alarms.json'), 'utf8')) as {
    AlarmName: string;
    Namespace: string;
    MetricName: string;
    Dimensions: { Name: string; Value: string }[];
    TreatMissingData: string;
    EvaluationPeriods: number;
    DatapointsToAlarm?: number;
  }[];

  test('alarms use the metrics the jobs emit (namespace Leadsmart, dimension Job)', () => {
    for (const a of alarms) {
      expect(a.Namespace).toBe('Leadsmart');
      expect(['Failed', 'DurationMs', 'ExitCode']).toContain(a.MetricName);
      expect(a.Dimensions.map((d) => d.Name)).toEqual(['Job']);
      // A job is an executable, or a run name one records (backup-db --verify reports as backup-db-drill).
      expect(existsSync(join(ROOT, 'bin', a.Dimensions[0]!.Value.replace(/-drill$/, '')))).toBe(true);
    }
  });

  test(
    'each scheduled job has a "failed" alarm and a "did not run" ' +
      'alarm that treats missing data as breaching; slow scoring and ' +
      'two failures in a row alarm too',
    () => {
      for (const job of ['fetch-facebook', 'score-campaigns', 'send-alerts', 'backup-db']) {
        const mine = alarms.filter((a) => a.Dimensions[0]!.Value === job);
        expect(mine.some((a) => a.MetricName === 'Failed')).toBe(true);
        expect(mine.find((a) => a.AlarmName.endsWith('did-not-run'))?.TreatMissingData).toBe('breaching');
      }
      // The monthly restore drill reports as its own job: its failure alarms on its own.
      expect(alarms.find((a) => a.Dimensions[0]!.Value === 'backup-db-drill')?.MetricName).toBe('Failed');
      expect(alarms.some((a) => a.AlarmName === 'leadsmart-score-campaigns-slow')).toBe(true);
      expect(
        alarms
          .filter((a) => a.AlarmName.endsWith('failed-twice'))
          .every((a) => a.EvaluationPeriods === 2 && a.DatapointsToAlarm === 2),
      ).toBe(true);
    },
  );

  test('the agent ships every log file the crontab writes', () => {
    const agent = JSON.parse(readFileSync(join(ROOT, 'ops', 'cloudwatch', 'amazon-cloudwatch-agent.json'), 'utf8')) as {
      logs: { logs_collected: { files: { collect_list: { file_path: string }[] } } };
    };
    const shipped = agent.logs.logs_collected.files.collect_list.map((f) => f.file_path);
    for (const m of crontab.matchAll(/>>(\/var\/log\/leadsmart\/[a-z-]+\.log)/g)) expect(shipped).toContain(m[1]);
  });
});

describe('make install', () => {
  test(
    'installs the jobs, the pinned runtime, the environment template with every setting, ' +
      'the units and the crontab under a prefix; uninstall removes them',
    () => {
      const dest = mkdtempSync(join(tmpdir(), 'leadsmart-install-'));
      const env = {
        ...process.env,
        DESTDIR: dest,
        PREFIX: '/opt/ls',
        SYSCONFDIR: '/etc/ls',
        UNITDIR: '/etc/systemd/system',
        SKIP_NPM: '1',
      };
      try {
        execFileSync('make', ['-s', 'install'], { cwd: ROOT, env, stdio: 'pipe' });
        const prefix = join(dest, 'opt/ls');
        for (const f of [
          'bin/score-campaigns',
          'bin/status-server',
          'dist/cli.js',
          'sql/001_schema.sql',
          'scripts/pg-cluster.sh',
          'scripts/create-readonly-role.sh',
          // The pinned Node.js and the script that installs it where the host's node is older (SKIP_NPM skips that).
          'scripts/runtime.sh',
          'scripts/use-runtime.sh',
          'runtime/package.json',
          'runtime/package-lock.json',
          'crontab',
        ])
          expect(existsSync(join(prefix, f))).toBe(true);
        expect(readFileSync(join(prefix, 'crontab'), 'utf8')).toContain('LEADSMART_HOME=/opt/ls');
        const unit = readFileSync(join(dest, 'etc/systemd/system/leadsmart-status-server.service'), 'utf8');
        expect(unit).toContain('ExecStart=/opt/ls/bin/status-server');
        expect(unit).toContain('EnvironmentFile=/etc/ls/env');
        const template = readFileSync(join(dest, 'etc/ls/env.example'), 'utf8');
        const settings = [
          ...readFileSync(join(ROOT, 'src', 'config', 'load-config.ts'), 'utf8').matchAll(
            /(?:raw|wholeNumber)\('([A-Z_]+)'/g,
          ),
        ].map((m) => m[1]!);
        for (const s of new Set(settings))
          expect({ s, listed: new RegExp(`^#?${s}(_FILE)?=`, 'm').test(template) }).toEqual({ s, listed: true });
        const help = execFileSync(join(prefix, 'bin', 'score-campaigns'), ['--help'], { stdio: 'pipe' }).toString();
        expect(help).toContain('Exit codes:');
        execFileSync('make', ['-s', 'uninstall'], { cwd: ROOT, env, stdio: 'pipe' });
        expect(existsSync(join(prefix, 'bin'))).toBe(false);
        expect(existsSync(join(prefix, 'runtime'))).toBe(false);
        expect(existsSync(join(dest, 'etc/systemd/system/leadsmart-status-server.service'))).toBe(false);
        expect(existsSync(join(dest, 'etc/ls/env'))).toBe(true);
      } finally {
        rmSync(dest, { recursive: true, force: true });
      }
    },
  );
});

describe('the local database in a private home', () => {
  // As root, PostgreSQL runs as the postgres user, which cannot enter a home of mode 0700 (root's default).
  (process.getuid?.() === 0 ? test : test.skip)(
    'a checkout under a folder the postgres user cannot enter still ' +
      'gets its cluster, linked from .state/pg, and says where',
    () => {
      const home = mkdtempSync(join(tmpdir(), 'leadsmart-privhome-'));
      chmodSync(home, 0o700);
      const state = join(home, 'checkout', '.state', 'pg');
      try {
        const started = spawnSync(join(ROOT, 'scripts', 'pg-cluster.sh'), ['start', state, '--fast'], {
          encoding: 'utf8',
        });
        expect(started.status).toBe(0);
        expect(started.stderr).toMatch(
          new RegExp(
            '^note: the postgres user cannot reach .*\\.state/pg \\(a folder above it is private\\); ' +
              'the cluster lives in /var/lib/leadsmart-pg/',
          ),
        );
        expect(lstatSync(state).isSymbolicLink()).toBe(true);
        expect(readlinkSync(state)).toMatch(/^\/var\/lib\/leadsmart-pg\/[0-9a-f]{16}$/);
        const one = execFileSync(
          'psql',
          ['-X', '-tA', '-h', join(state, 'run'), '-U', 'postgres', '-d', 'postgres', '-c', 'SELECT 1'],
          { encoding: 'utf8' },
        );
        expect(one.trim()).toBe('1');
        // A second start finds the same cluster through the link.
        execFileSync(join(ROOT, 'scripts', 'pg-cluster.sh'), ['start', state], { stdio: 'ignore' });
      } finally {
        const target = existsSync(state) ? readlinkSync(state) : null;
        execFileSync(join(ROOT, 'scripts', 'pg-cluster.sh'), ['stop', state], { stdio: 'ignore' });
        rmSync(home, { recursive: true, force: true });
        if (target) rmSync(target, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
