import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/run-job.js';

// The Node.js the project runs on: scripts/runtime.sh chooses between the machine's node and the pinned one
// under runtime/, bin/* and the npm scripts use that choice, and a job on an older node refuses to start.
const runtimePackage = JSON.parse(readFileSync(join(ROOT, 'runtime', 'package.json'), 'utf8'));
const runtimeLock = JSON.parse(readFileSync(join(ROOT, 'runtime', 'package-lock.json'), 'utf8'));
const pinned: string = runtimePackage.version;

/** A copy of scripts/runtime.sh and runtime/package*.json in a folder of its own, and a bin/ for fake tools. */
function sandbox(): {
  dir: string;
  fakeBin: string;
  tools: string;
  run: (path?: string) => ReturnType<typeof spawnSync>;
} {
  const dir = mkdtempSync(join(tmpdir(), 'leadsmart-runtime-'));
  mkdirSync(join(dir, 'scripts'));
  mkdirSync(join(dir, 'runtime'));
  mkdirSync(join(dir, 'fake-bin'));
  copyFileSync(join(ROOT, 'scripts', 'runtime.sh'), join(dir, 'scripts', 'runtime.sh'));
  chmodSync(join(dir, 'scripts', 'runtime.sh'), 0o755);
  for (const f of ['package.json', 'package-lock.json'])
    copyFileSync(join(ROOT, 'runtime', f), join(dir, 'runtime', f));
  const fakeBin = join(dir, 'fake-bin');
  // The tools the script uses, without the machine's node and npm.
  const tools = join(dir, 'tools');
  mkdirSync(tools);
  for (const t of ['sed', 'tr', 'grep', 'paste', 'rm', 'uname', 'dirname', 'mkdir', 'printf', 'chmod', 'touch']) {
    symlinkSync(`/usr/bin/${t}`, join(tools, t));
  }
  const run = (path = `${fakeBin}:${tools}`) =>
    spawnSync('/bin/bash', [join(dir, 'scripts', 'runtime.sh')], { encoding: 'utf8', env: { PATH: path } });
  return { dir, fakeBin, tools, run };
}

function fakeTool(bin: string, name: string, script: string): void {
  writeFileSync(join(bin, name), `#!/bin/sh\n${script}\n`);
  chmodSync(join(bin, name), 0o755);
}

describe('the pinned runtime', () => {
  test('runtime/ pins one Node.js version for x64 and arm64 Linux, each with a SHA-512 checksum', () => {
    expect(pinned).toMatch(/^26\.\d+\.\d+$/);
    for (const arch of ['x64', 'arm64']) {
      expect(runtimePackage.optionalDependencies[`node-linux-${arch}`]).toBe(pinned);
      const locked = runtimeLock.packages[`node_modules/node-linux-${arch}`];
      expect(locked.version).toBe(pinned);
      expect(locked.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
      expect(locked).toMatchObject({ os: 'linux', cpu: arch });
    }
  });

  test('the build targets, the version check of the jobs and package.json engines name the same major', () => {
    const major = pinned.split('.')[0];
    expect(readFileSync(join(ROOT, 'src', 'cli.ts'), 'utf8')).toContain(`const NODE_MAJOR = ${major};`);
    expect(readFileSync(join(ROOT, 'scripts', 'build.mjs'), 'utf8')).toContain(`target: 'node${major}'`);
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node).toBe(`>=${major}`);
  });
});

describe('scripts/runtime.sh', () => {
  test('a machine whose node is new enough keeps it: nothing is installed and npm is never called', () => {
    const s = sandbox();
    try {
      fakeTool(s.fakeBin, 'node', 'echo 27.1.0');
      fakeTool(s.fakeBin, 'npm', `touch ${join(s.dir, 'npm-was-called')}; exit 1`);
      const r = s.run();
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(() => readFileSync(join(s.dir, 'npm-was-called'))).toThrow();
      expect(() => readFileSync(join(s.dir, 'runtime', 'node_modules', '.bin', 'node'))).toThrow();
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  });

  test('an older node gets the pinned runtime from npm ci --prefix runtime, checked by its version', () => {
    const s = sandbox();
    try {
      fakeTool(s.fakeBin, 'node', 'echo 20.20.2');
      // npm ci as it lays the package out: node_modules/.bin/node and the lockfile stamp.
      fakeTool(
        s.fakeBin,
        'npm',
        [
          `mkdir -p ${s.dir}/runtime/node_modules/.bin`,
          `printf '#!/bin/sh\\necho v${pinned}\\n' > ${s.dir}/runtime/node_modules/.bin/node`,
          `chmod +x ${s.dir}/runtime/node_modules/.bin/node`,
          `echo "$@" > ${s.dir}/npm-args`,
          `touch ${s.dir}/runtime/node_modules/.package-lock.json`,
        ].join('\n'),
      );
      const r = s.run();
      expect(r.status).toBe(0);
      expect(r.stderr).toContain(`This machine's node is 20.20.2; installing Node.js ${pinned}`);
      expect(readFileSync(join(s.dir, 'npm-args'), 'utf8')).toContain(`ci --prefix ${s.dir}/runtime`);
      // A second run has nothing to do: the stamp is newer than the lockfile.
      fakeTool(s.fakeBin, 'npm', 'echo called again >&2; exit 1');
      const again = s.run();
      expect(again.status).toBe(0);
      expect(again.stderr).toBe('');
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  });

  test('an install that does not give the pinned version is removed and refused with exit 69', () => {
    const s = sandbox();
    try {
      fakeTool(s.fakeBin, 'node', 'echo 18.0.0');
      fakeTool(
        s.fakeBin,
        'npm',
        [
          `mkdir -p ${s.dir}/runtime/node_modules/.bin`,
          `printf '#!/bin/sh\\necho v25.0.0\\n' > ${s.dir}/runtime/node_modules/.bin/node`,
          `chmod +x ${s.dir}/runtime/node_modules/.bin/node`,
        ].join('\n'),
      );
      const r = s.run();
      expect(r.status).toBe(69);
      expect(r.stderr).toContain(`runtime/: expected node v${pinned}, got v25.0.0`);
      expect(() => readFileSync(join(s.dir, 'runtime', 'node_modules', '.bin', 'node'))).toThrow();
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  });

  test('a failed download says what to do and exits 69', () => {
    const s = sandbox();
    try {
      fakeTool(s.fakeBin, 'node', 'echo 20.20.2');
      fakeTool(s.fakeBin, 'npm', 'echo "npm error code E404" >&2; exit 1');
      const r = s.run();
      expect(r.status).toBe(69);
      expect(r.stderr).toContain(`Could not install Node.js ${pinned} from the npm registry`);
      expect(r.stderr).toContain('install Node.js 26 or newer on the machine');
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  });

  test('a machine with an old node and no npm is told how to get one (exit 69)', () => {
    const s = sandbox();
    try {
      fakeTool(s.fakeBin, 'node', 'echo 20.20.2');
      const r = s.run(`${s.fakeBin}:${s.tools}`);
      expect(r.status).toBe(69);
      expect(r.stderr).toContain('Node.js 26 or newer is needed');
      expect(r.stderr).toContain('apt-get install -y nodejs npm');
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  });
});

describe('the jobs on the runtime', () => {
  test(`bin/* run on Node.js ${pinned.split('.')[0]} (the pinned runtime, or the machine's when new enough)`, () => {
    const r = spawnSync(join(ROOT, 'bin', 'migrate'), ['--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const probe = spawnSync('sh', ['-c', `. ${join(ROOT, 'scripts', 'use-runtime.sh')}; node --version`], {
      encoding: 'utf8',
      env: { ...process.env, root: ROOT },
    });
    expect(Number(probe.stdout.trim().slice(1).split('.')[0])).toBeGreaterThanOrEqual(26);
    const viaNpmScripts = spawnSync(join(ROOT, 'scripts', 'node'), ['-p', 'process.versions.node'], {
      encoding: 'utf8',
    });
    expect(viaNpmScripts.stdout.trim()).toBe(probe.stdout.trim().slice(1));
  });

  test('a job started on an older Node.js stops before doing anything: exit 78 and how to get the runtime', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"20.20.2"})',
        join(ROOT, 'dist', 'cli.js'),
        'score-campaigns',
        '--date',
        '2025-11-15',
      ],
      { encoding: 'utf8', env: { PATH: process.env.PATH, DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none' } },
    );
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('Node.js 20.20.2 is older than the 26 these jobs run on: run make deps');
    expect(r.stdout).toBe('');
  });
});
