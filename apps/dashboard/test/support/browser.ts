import { execFileSync } from 'node:child_process';
import { type Browser, chromium } from 'playwright-core';

/** The Debian Chromium binary (`command -v chromium`), or null. */
export function findChromium(): string | null {
  try {
    const path = execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], {
      encoding: 'utf8',
    }).trim();
    return path || null;
  } catch {
    return null;
  }
}

/** Headless Debian Chromium with the flags the tests run it with. */
export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}
