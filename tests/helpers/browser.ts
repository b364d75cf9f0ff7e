import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { ROOT } from './run-job.js';

/** Debian's headless Chromium (scripts/test.sh installs it), or CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where a test's screenshots go, for a person to look at: .state/test-output/<name>/. */
export function screenshotDir(name: string): string {
  const dir = join(ROOT, '.state', 'test-output', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Headless Chromium with its own network chatter off (these machines refuse it anyway). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (make test does: scripts/system-packages.sh), ` +
        'or set CHROMIUM_PATH',
    );
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
