import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAccounts, openStore } from '@kapkit/store';
import { afterAll, describe, expect, it } from 'vitest';
import { ndjson, run } from './helpers.js';

/** kapkit users add | list and kapkit audit export, on one PGlite directory (one initdb for the suite). */

const dir = mkdtempSync(join(tmpdir(), 'kapkit-cli-accounts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run a command of the CLI on this suite's store (`--store` the directory). */
const inStore = (...argv: string[]) => run([...argv, '--store', dir]);

describe('kapkit users and kapkit audit', () => {
  it('adds an account and prints a one-time sign-in link for it', async () => {
    const r = await inStore('users', 'add', '--role', 'therapist', '--email', 'Ada@Clinic.example');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^added ada@clinic\.example \(therapist, usr-/);
    expect(r.stdout).toMatch(/^sign in as therapist: http:\/\/127\.0\.0\.1:\d+\/auth\/link\/[\w-]{40,}$/m);
    const list = await inStore('users', 'list');
    expect(list.stdout).toBe('ada@clinic.example\ttherapist\n');
  }, 120_000);

  it('refuses an unknown role and a taken e-mail, with exit code 2', async () => {
    const bad = await inStore('users', 'add', '--role', 'root', '--email', 'x@clinic.example');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--role must be one of admin, therapist, medical, researcher/);
    const taken = await inStore('users', 'add', '--role', 'medical', '--email', 'ada@clinic.example');
    expect(taken.code).toBe(2);
    expect(taken.stderr).toMatch(/already exists/);
  });

  it('exports the audit entries of a time range as NDJSON, identifiers and codes only', async () => {
    const store = await openStore({ dataDir: dir });
    try {
      const accounts = openAccounts(store);
      for (const [day, patientId] of [
        [1, 'pt-a'],
        [2, 'pt-b'],
        [3, 'pt-c'],
      ] as const) {
        await accounts.audit({
          atMs: Date.parse(`2026-03-0${day}T10:00:00Z`),
          actorId: 'usr-1',
          role: 'therapist',
          action: 'read',
          method: 'GET',
          route: '/api/patients/:patientId',
          patientId,
          outcome: 'allowed',
        });
      }
    } finally {
      await store.close();
    }
    const r = await inStore('audit', 'export', '--from', '2026-03-02', '--to', '2026-03-03');
    expect(r.code).toBe(0);
    const lines = ndjson(r.stdout);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      at: '2026-03-02T10:00:00.000Z',
      actorId: 'usr-1',
      role: 'therapist',
      action: 'read',
      route: '/api/patients/:patientId',
      patientId: 'pt-b',
      outcome: 'allowed',
    });
    expect(r.stderr).toMatch(/audit export: 1 entries/);
    const out = join(dir, '..', `audit-${process.pid}.ndjson`);
    const all = await inStore('audit', 'export', '--out', out);
    expect(all.code).toBe(0);
    // The three reads and the account added by the first test.
    expect(ndjson(readFileSync(out, 'utf8')).map((e) => e.action)).toEqual(['admin', 'read', 'read', 'read']);
    rmSync(out, { force: true });
    expect((await inStore('audit', 'export', '--from', 'yesterday')).code).toBe(2);
  });
});
