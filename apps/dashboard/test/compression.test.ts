import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import type { EventStore } from '@kapkit/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardApp } from '../src/server/app.js';
import { chooseEncoding } from '../src/server/compression.js';
import { buildLongEpisode, seedDemoCaseload } from '../src/server/demo.js';
import { loadStaticFiles } from '../src/server/static.js';
import { signedIn, type TestSession } from './support/auth.js';
import { openTempStore } from './support/store.js';

const DAY_MS = 86_400_000;
const NOW = Date.now();
const LONG = { patientId: 'test-pt-3y', episodeId: 'test-ep-3y' };
const script = `${'console.log("kapkit");\n'.repeat(200)}`;

let store: EventStore;
let dispose: () => Promise<void>;
let dir: string;
let app: ReturnType<typeof createDashboardApp>['app'];
/** A signed-in therapist whose care team looks after the long episode's patient. */
let therapist: TestSession;

beforeAll(async () => {
  ({ store, dispose } = await openTempStore());
  await seedDemoCaseload(store, { nowMs: NOW, patients: 4 });
  await store.append(
    LONG.episodeId,
    buildLongEpisode({ ...LONG, startMs: NOW - (3 * 365 + 14) * DAY_MS, weeks: 156, doses: 41 }),
    { expectedVersion: 0 },
  );
  // A built front end as the build leaves it: files with their .br and .gz copies (index.html too small for any).
  dir = mkdtempSync(join(tmpdir(), 'kapkit-dashboard-static-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>kapkit</title>');
  writeFileSync(join(dir, 'assets', 'app.js'), script);
  writeFileSync(join(dir, 'assets', 'app.js.br'), brotliCompressSync(script));
  writeFileSync(join(dir, 'assets', 'app.js.gz'), gzipSync(script));
  // A fixed clock: two requests give the same answer, so the compressed one can be compared byte for byte.
  let accounts: ReturnType<typeof createDashboardApp>['accounts'];
  ({ app, accounts } = createDashboardApp({
    store,
    log: () => {},
    staticFiles: loadStaticFiles(dir),
    now: () => NOW,
  }));
  therapist = await signedIn(accounts, 'therapist', { patients: [LONG.patientId], nowMs: NOW });
});

afterAll(async () => {
  await dispose?.();
  rmSync(dir, { recursive: true, force: true });
});

describe('chooseEncoding', () => {
  it('picks the best encoding the client accepts, brotli first on a tie', () => {
    expect(chooseEncoding(undefined, ['br', 'gzip'])).toBeNull();
    expect(chooseEncoding('', ['br', 'gzip'])).toBeNull();
    expect(chooseEncoding('gzip, deflate, br', ['br', 'gzip'])).toBe('br');
    expect(chooseEncoding('gzip', ['br', 'gzip'])).toBe('gzip');
    expect(chooseEncoding('br;q=0, gzip', ['br', 'gzip'])).toBe('gzip');
    expect(chooseEncoding('br;q=0.5, gzip;q=0.8', ['br', 'gzip'])).toBe('gzip');
    expect(chooseEncoding('BR', ['br', 'gzip'])).toBe('br');
    expect(chooseEncoding('*', ['br', 'gzip'])).toBe('br');
    expect(chooseEncoding('*;q=0', ['br', 'gzip'])).toBeNull();
    expect(chooseEncoding('identity', ['br', 'gzip'])).toBeNull();
    expect(chooseEncoding('br', ['gzip'])).toBeNull();
    expect(chooseEncoding('x-gzip', ['gzip'])).toBe('gzip');
  });
});

describe('static files', () => {
  it('are sent pre-compressed by Accept-Encoding, with Vary, and as they are otherwise', async () => {
    const br = await app.request('/assets/app.js', { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(br.status).toBe(200);
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(br.headers.get('vary')).toMatch(/Accept-Encoding/i);
    expect(br.headers.get('content-type')).toMatch(/javascript/);
    expect(brotliDecompressSync(Buffer.from(await br.arrayBuffer())).toString()).toBe(script);

    const gz = await app.request('/assets/app.js', { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await gz.arrayBuffer())).toString()).toBe(script);

    const plain = await app.request('/assets/app.js');
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await plain.text()).toBe(script);
  });

  it('does not serve the compressed copies under their own names', async () => {
    expect((await app.request('/assets/app.js.br')).status).toBe(404);
  });

  it('sends a file without copies as it is', async () => {
    const html = await app.request('/', { headers: { 'accept-encoding': 'br, gzip' } });
    expect(html.headers.get('content-encoding')).toBeNull();
    expect(await html.text()).toContain('kapkit');
  });
});

describe('API answers', () => {
  it('are gzip-compressed when accepted: the 3-year patient in at most 100 kB on the wire', async () => {
    const path = `/api/patients/${LONG.patientId}`;
    const plain = await app.request(path, { headers: therapist.headers });
    expect(plain.status).toBe(200);
    const json = await plain.text();
    const gz = await app.request(path, {
      headers: { ...therapist.headers, 'accept-encoding': 'gzip, deflate, br' },
    });
    expect(gz.status).toBe(200);
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(gz.headers.get('vary')).toMatch(/Accept-Encoding/i);
    expect(gz.headers.get('cache-control')).toBe('no-store');
    const wire = Buffer.from(await gz.arrayBuffer());
    expect(wire.length).toBeLessThanOrEqual(100_000);
    expect(gunzipSync(wire).toString() === json).toBe(true);
    expect(json.length).toBeGreaterThan(100_000);
  });
});
