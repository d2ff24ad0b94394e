import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startDashboard } from '../src/server/start.js';

const here = join(import.meta.dirname, '..');

describe('startDashboard', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kapkit-dashboard-start-'));
  cpSync(inject('pgliteTemplate'), dir, { recursive: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('binds 127.0.0.1, seeds an empty embedded store with demo data and serves the built page under CSP', async () => {
    const lines: string[] = [];
    const running = await startDashboard({
      port: 0,
      dataDir: dir,
      demoPatients: 6,
      clientDir: join(here, 'dist', 'client'),
      log: (l) => lines.push(l),
    });
    try {
      expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(running.seeded).toBeGreaterThan(0);
      expect(running.demo).toBe(true);
      const res = await fetch(`${running.url}/patients/anyone`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
      const html = await res.text();
      // Vite output only: every script is an external module, no inline script, style or handler.
      expect(html).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js"><\/script>/);
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
      // A Host name other than the ones it listens on is refused (DNS rebinding).
      const { port } = new URL(running.url);
      const rebound = await new Promise<number>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, path: '/api/meta', headers: { host: `attacker.example:${port}` } },
          (r) => {
            r.resume();
            resolve(r.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(rebound).toBe(421);
      expect(lines.every((l) => !l.includes('demo-pt'))).toBe(true);
    } finally {
      await running.close();
    }
    // Started again on the same folder: nothing seeded twice.
    const again = await startDashboard({
      port: 0,
      dataDir: dir,
      clientDir: join(here, 'dist', 'client'),
      log: () => {},
    });
    try {
      expect(again.seeded).toBe(0);
      expect(again.demo).toBe(true);
    } finally {
      await again.close();
    }
  });
});

const MAIN = join(here, 'dist', 'server', 'main.js');
/** What `npm start` runs after building (scripts/start.mjs at the repository root). */
const NPM_START = join(here, '..', '..', 'scripts', 'start.mjs');

/** Run `node <script>` (default dist/server/main.js) until `until` matches a stdout line; return the lines, then stop it. */
async function mainLines(env: Record<string, string>, until: RegExp, script = MAIN): Promise<string[]> {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', KAPKIT_PUBLIC_ORIGIN: '', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let err = '';
  child.stderr.on('data', (d) => {
    err += String(d);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      child.stdout.on('data', (d) => {
        buffer += String(d);
        const parts = buffer.split('\n');
        buffer = parts.pop() ?? '';
        for (const line of parts) {
          lines.push(line);
          if (until.test(line)) resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`main.js exited with ${code}: ${err}`)));
    });
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
  return lines;
}

describe('npm start (main.js)', () => {
  const dirs: string[] = [];
  const fresh = () => {
    const d = mkdtempSync(join(tmpdir(), 'kapkit-dashboard-main-'));
    cpSync(inject('pgliteTemplate'), d, { recursive: true });
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('prints, after the URL, a one-time sign-in link for a demo therapist, medical clinician and admin', async () => {
    const dir = fresh();
    const lines = await mainLines({ KAPKIT_DASHBOARD_DATA: dir }, /^sign in as admin: /);
    const at = lines.findIndex((l) => /^kapkit dashboard: http:\/\/127\.0\.0\.1:\d+ \(demo data\)$/.test(l));
    expect(at).toBeGreaterThanOrEqual(0);
    const links = lines.slice(at + 1);
    expect(links.map((l) => l.replace(/: .*$/, ''))).toEqual([
      'sign in as therapist',
      'sign in as medical',
      'sign in as admin',
    ]);
    for (const l of links)
      expect(l).toMatch(/^sign in as \w+: http:\/\/127\.0\.0\.1:\d+\/auth\/link\/[\w-]{40,}$/);
  }, 180_000);

  it('prints a one-time set-up link for the first admin on a new store without demo data', async () => {
    const dir = fresh();
    const lines = await mainLines(
      { KAPKIT_DASHBOARD_DATA: dir, KAPKIT_DEMO: '0' },
      /^set up the first admin: /,
    );
    expect(lines.at(-1)).toMatch(
      /^set up the first admin: http:\/\/127\.0\.0\.1:\d+\/auth\/set-up\/[\w-]{40,}$/,
    );
    expect(lines.some((l) => l.startsWith('sign in as'))).toBe(false);
  }, 180_000);

  it('prints the same links from scripts/start.mjs, the script npm start runs', async () => {
    const dir = fresh();
    const lines = await mainLines({ KAPKIT_DASHBOARD_DATA: dir }, /^sign in as admin: /, NPM_START);
    const at = lines.findIndex((l) => /^kapkit dashboard: http:\/\/127\.0\.0\.1:\d+ \(demo data\)$/.test(l));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(lines.slice(at + 1, at + 4).map((l) => l.replace(/: .*$/, ''))).toEqual([
      'sign in as therapist',
      'sign in as medical',
      'sign in as admin',
    ]);
  }, 180_000);

  it('refuses HOST=0.0.0.0 without KAPKIT_PUBLIC_ORIGIN, with a message', async () => {
    const dir = fresh();
    await expect(mainLines({ KAPKIT_DASHBOARD_DATA: dir, HOST: '0.0.0.0' }, /never/)).rejects.toThrow(
      /exited with 2: kapkit dashboard: not started\. HOST=0\.0\.0\.0 listens beyond this machine/,
    );
  }, 180_000);
});
