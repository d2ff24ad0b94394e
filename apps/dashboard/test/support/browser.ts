import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import type { EventStore } from '@kapkit/store';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { createDashboardApp, type DashboardOptions } from '../../src/server/app.js';
import { loadStaticFiles, type StaticFiles } from '../../src/server/static.js';
import { openTempStore } from './store.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The Debian Chromium binary (`command -v chromium`), or null. */
function findChromium(): string | null {
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

/**
 * The Chromium binary a browser suite runs with: the suites are skipped without one outside CI, and in CI a
 * missing binary fails the suite's set-up instead of skipping it.
 */
export function requireChromium(executablePath: string | null): string {
  if (!executablePath)
    throw new Error('CI is set but Chromium is not installed: apt-get install -y chromium');
  return executablePath;
}

/**
 * The Chromium a browser suite (`suite` names it in the warning) runs with, and whether it is skipped: it is
 * when Chromium is not installed, outside CI only (in CI, `startBrowserDashboard` fails instead).
 */
export function chromiumFor(suite: string): {
  readonly executablePath: string | null;
  readonly skip: boolean;
} {
  const executablePath = findChromium();
  const skip = !executablePath && !process.env.CI;
  if (skip) {
    console.warn(
      `\n  ⚠ SKIPPED: ${suite} — Chromium not found (\`command -v chromium\`). Install it with \`apt-get install -y chromium\`; in CI these tests must run.\n`,
    );
  }
  return { executablePath, skip };
}

/** A folder under artifacts/ at the repository root for screenshots (created). */
export function artifactsDir(...parts: string[]): string {
  const dir = join(here, '..', '..', '..', '..', 'artifacts', ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The built front end (`dist/client`, made by `vite build`), as the dashboard serves it. */
export function builtClient(): StaticFiles {
  return loadStaticFiles(join(here, '..', '..', 'dist', 'client'));
}

/** A server on 127.0.0.1 at a free port, its base URL, and how to stop it. */
interface LocalServer {
  readonly server: ReturnType<typeof serve>;
  readonly base: string;
  close(): Promise<void>;
}

/** Serve `fetch` on 127.0.0.1 at a free port. */
async function serveLocally(fetch: Parameters<typeof serve>[0]['fetch']): Promise<LocalServer> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  return {
    server,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Sign in on the password form and wait for the caseload. */
export async function signInWithPassword(page: Page, base: string, email: string, password: string) {
  await page.goto(`${base}/auth/sign-in`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')]);
}

/**
 * On a signed-in `page`: once `landing` shows, open `path` (under `base`) and, when it is ready, the text of its
 * main element (a refusal says why there).
 */
export async function mainTextAt(page: Page, base: string, landing: string, path: string) {
  await page.waitForSelector(landing);
  await page.goto(`${base}${path}`);
  await page.waitForSelector('main[data-ready]');
  return page.locator('main').textContent();
}

/** What a browser suite runs against: the dashboard on a temporary store, served on 127.0.0.1, and Chromium. */
export interface BrowserDashboard {
  readonly store: EventStore;
  readonly dashboard: ReturnType<typeof createDashboardApp>;
  readonly base: string;
  readonly browser: Browser;
  /** Close the browser, stop the server and remove the store. */
  close(): Promise<void>;
}

/** What a browser suite's dashboard starts with: `seed` writes to its store, `app` adds to its options. */
interface BrowserDashboardOptions {
  readonly seed?: (store: EventStore) => Promise<unknown>;
  readonly app?: Omit<DashboardOptions, 'store' | 'staticFiles'>;
}

/**
 * Open a temporary store, let `seed` write to it, serve the dashboard (the built front end, no log lines, and
 * `app`'s options) on 127.0.0.1 and launch Chromium. Whatever started is stopped again if a step fails.
 */
async function startBrowserDashboard(
  executablePath: string | null,
  o: BrowserDashboardOptions = {},
): Promise<BrowserDashboard> {
  const chromiumPath = requireChromium(executablePath);
  const { store, dispose } = await openTempStore();
  let server: LocalServer | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await server?.close();
    await dispose();
  };
  try {
    await o.seed?.(store);
    const dashboard = createDashboardApp({ store, staticFiles: builtClient(), log: () => {}, ...o.app });
    server = await serveLocally(dashboard.app.fetch);
    browser = await launchChromium(chromiumPath);
    return { store, dashboard, base: server.base, browser, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * A browser suite (`suite` names it in the skip warning): whether it is skipped (see {@link chromiumFor}) and
 * its dashboard, started before the suite's tests and closed after them.
 */
export function browserSuite(suite: string): {
  readonly skip: boolean;
  /**
   * Inside the suite's `describe`: start the dashboard in `beforeAll` (options made then) and close it in
   * `afterAll`. The returned object holds the running dashboard's parts once the tests run.
   */
  dashboard(options?: () => BrowserDashboardOptions): BrowserDashboard;
} {
  const { executablePath, skip } = chromiumFor(suite);
  return {
    skip,
    dashboard(options = () => ({})) {
      const running = {} as { -readonly [K in keyof BrowserDashboard]?: BrowserDashboard[K] };
      beforeAll(async () => {
        Object.assign(running, await startBrowserDashboard(executablePath, options()));
      });
      afterAll(() => running.close?.());
      return running as BrowserDashboard;
    },
  };
}
