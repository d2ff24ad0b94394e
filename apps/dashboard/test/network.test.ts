import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDashboardApp } from '../src/server/app.js';
import { acceptedNames, isLoopback, NetworkConfigError, planNetwork } from '../src/server/auth/network.js';
import { startDashboard } from '../src/server/start.js';
import { openTempStore } from './support/store.js';

describe('where the dashboard may listen', () => {
  it('binds 127.0.0.1 when HOST is not set', () => {
    expect(planNetwork({ env: {} })).toEqual({ host: '127.0.0.1', loopback: true, publicOrigin: null });
  });

  it('refuses an empty HOST with a message instead of listening on every interface', () => {
    expect(() => planNetwork({ env: { HOST: '' } })).toThrow(/HOST is set but empty/);
    expect(() => planNetwork({ env: { HOST: '  ' } })).toThrow(NetworkConfigError);
  });

  it('refuses a HOST that is neither an address nor a host name', () => {
    expect(() => planNetwork({ env: { HOST: 'http://0.0.0.0' } })).toThrow(/IP address or a host name/);
    expect(() => planNetwork({ env: { HOST: 'a b' } })).toThrow(/IP address or a host name/);
  });

  it('refuses to listen beyond loopback without an https KAPKIT_PUBLIC_ORIGIN', () => {
    for (const HOST of ['0.0.0.0', '::', '192.168.1.20', 'kap.clinic.example']) {
      expect(() => planNetwork({ env: { HOST } })).toThrow(/KAPKIT_PUBLIC_ORIGIN/);
    }
    expect(() =>
      planNetwork({ env: { HOST: '0.0.0.0', KAPKIT_PUBLIC_ORIGIN: 'http://kap.clinic.example' } }),
    ).toThrow(/https:\/\//);
    expect(() =>
      planNetwork({ env: { HOST: '0.0.0.0', KAPKIT_PUBLIC_ORIGIN: 'https://kap.clinic.example/app' } }),
    ).toThrow(/origin only/);
    expect(
      planNetwork({ env: { HOST: '0.0.0.0', KAPKIT_PUBLIC_ORIGIN: 'https://kap.clinic.example/' } }),
    ).toEqual({
      host: '0.0.0.0',
      loopback: false,
      publicOrigin: 'https://kap.clinic.example',
    });
  });

  it('knows the loopback names', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost', 'LOCALHOST'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1', 'example.org'].some(isLoopback)).toBe(false);
  });

  it('accepts only the public origin behind a proxy, else the loopback names on the port', () => {
    const pub = acceptedNames(
      { host: '0.0.0.0', loopback: false, publicOrigin: 'https://kap.clinic.example' },
      8787,
    );
    expect(pub).toEqual({ hosts: ['kap.clinic.example'], origins: ['https://kap.clinic.example'] });
    const local = acceptedNames({ host: '127.0.0.1', loopback: true, publicOrigin: null }, 8787);
    expect(local.hosts).toContain('127.0.0.1:8787');
    expect(local.origins).toContain('http://localhost:8787');
    expect(local.hosts.some((h) => h.includes('evil'))).toBe(false);
  });
});

describe('startDashboard on a network', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kapkit-dashboard-network-'));
  cpSync(inject('pgliteTemplate'), dir, { recursive: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('does not start on 0.0.0.0 without KAPKIT_PUBLIC_ORIGIN, and opens nothing', async () => {
    await expect(startDashboard({ host: '0.0.0.0', port: 0, dataDir: dir, log: () => {} })).rejects.toThrow(
      /KAPKIT_PUBLIC_ORIGIN/,
    );
    await expect(startDashboard({ host: '', port: 0, dataDir: dir, log: () => {} })).rejects.toThrow(
      /HOST is set but empty/,
    );
  });

  it('on 0.0.0.0 behind https answers only its public Host and Origin, never the Host the client sends', async () => {
    const running = await startDashboard({
      host: '0.0.0.0',
      publicOrigin: 'https://kap.clinic.example',
      port: 0,
      dataDir: dir,
      demo: false,
      log: () => {},
    });
    try {
      expect(running.url).toBe('https://kap.clinic.example');
      const port = running.port;
      const evil = await fetch(`http://127.0.0.1:${port}/api/meta`, { headers: { host: 'evil.example' } });
      expect(evil.status).toBe(421);
    } finally {
      await running.close();
    }
  });
});

describe('the Origin check of writes', () => {
  it('compares the Origin with the configured origins, not with the Host the request names', async () => {
    const { store, dispose } = await openTempStore();
    try {
      const { app } = createDashboardApp({
        store,
        log: () => {},
        allowedOrigins: ['https://kap.clinic.example'],
      });
      const res = await app.request('https://evil.example/api/episodes/x/events', {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://evil.example', host: 'evil.example' },
        body: '{}',
      });
      expect(res.status).toBe(403);
    } finally {
      await dispose();
    }
  });
});
