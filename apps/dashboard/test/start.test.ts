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
