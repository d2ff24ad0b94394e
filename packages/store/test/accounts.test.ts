import { afterAll, describe, expect, it } from 'vitest';
import { type AccountStore, openAccounts } from '../src/accounts.js';
import { InvalidArgumentError } from '../src/errors.js';
import { hashPassword, verifyPassword } from '../src/passwords.js';
import { closeSharedPglite, describeEngine, ENGINES, storePerTest } from './helpers.js';

/*
 * Accounts, care teams, sessions, one-time links and the audit trail, on both engines. Every time is the
 * caller's (`atMs`): idle and absolute session limits are checked without waiting.
 */

afterAll(closeSharedPglite);

const T0 = Date.parse('2026-03-02T09:00:00Z');
const MIN = 60_000;
const POLICY = { idleMs: 15 * MIN, absoluteMs: 12 * 60 * MIN };
const LOCKOUT = { maxFailures: 3, lockMs: 15 * MIN };
const PASSWORD = 'a long enough passphrase';

describe('password hashing (scrypt)', () => {
  it('verifies the right password only, with a fresh salt each time', async () => {
    const a = await hashPassword(PASSWORD);
    const b = await hashPassword(PASSWORD);
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword(PASSWORD, a)).toBe(true);
    expect(await verifyPassword(`${PASSWORD}!`, a)).toBe(false);
    expect(await verifyPassword(PASSWORD, 'scrypt$1$1')).toBe(false);
  });
});

for (const engine of ENGINES) {
  describeEngine(engine, () => {
    let accounts: AccountStore;
    const each = storePerTest(engine.kind, (opened) => {
      accounts = openAccounts(opened.store);
    });

    it('creates accounts with unique e-mails and never returns the password hash', async () => {
      const u = await accounts.createUser(
        { email: 'Ada@Clinic.example', role: 'therapist', password: PASSWORD },
        T0,
      );
      expect(u).toMatchObject({ email: 'ada@clinic.example', role: 'therapist', hasPassword: true });
      expect(JSON.stringify(u)).not.toMatch(/scrypt/);
      await expect(accounts.createUser({ email: 'ada@clinic.example', role: 'medical' }, T0)).rejects.toThrow(
        InvalidArgumentError,
      );
      await expect(
        accounts.createUser({ email: 'x@y.z', role: 'therapist', password: 'short' }, T0),
      ).rejects.toThrow(/at least 12/);
      await expect(accounts.createUser({ email: 'x@y.z', role: 'root' as never }, T0)).rejects.toThrow(
        /role/,
      );
      expect(await accounts.countUsers()).toBe(1);
    });

    it('locks an account after repeated wrong passwords, refuses even the right one until the lock ends', async () => {
      await accounts.createUser({ email: 'ada@clinic.example', role: 'therapist', password: PASSWORD }, T0);
      expect((await accounts.verifySignIn('nobody@clinic.example', PASSWORD, T0, LOCKOUT)).ok).toBe(false);
      for (let i = 0; i < 2; i++) {
        expect(
          await accounts.verifySignIn('ada@clinic.example', 'wrong password!', T0, LOCKOUT),
        ).toMatchObject({
          ok: false,
          reason: 'unknown-or-wrong',
        });
      }
      expect(await accounts.verifySignIn('ada@clinic.example', 'wrong password!', T0, LOCKOUT)).toMatchObject(
        {
          ok: false,
          reason: 'locked',
        },
      );
      expect(
        await accounts.verifySignIn('ada@clinic.example', PASSWORD, T0 + 14 * MIN, LOCKOUT),
      ).toMatchObject({
        ok: false,
        reason: 'locked',
      });
      expect((await accounts.verifySignIn('ada@clinic.example', PASSWORD, T0 + 16 * MIN, LOCKOUT)).ok).toBe(
        true,
      );
    });

    it('ends a session after the idle limit and after the absolute lifetime, and on sign-out', async () => {
      const u = await accounts.createUser({ email: 'ada@clinic.example', role: 'therapist' }, T0);
      const s = await accounts.createSession(u.id, T0, POLICY);
      expect((await accounts.session(s.token, T0 + 10 * MIN, POLICY)).status).toBe('active');
      // Seen at +10 min: still active at +24 min, idle at +26 min.
      expect((await accounts.session(s.token, T0 + 24 * MIN, POLICY)).status).toBe('active');
      expect(await accounts.session(s.token, T0 + 40 * MIN, POLICY)).toEqual({
        status: 'expired',
        reason: 'idle',
      });
      expect((await accounts.session(s.token, T0 + 41 * MIN, POLICY)).status).toBe('unknown');

      const long = await accounts.createSession(u.id, T0, POLICY);
      for (let m = 10; m < 12 * 60; m += 10) {
        expect((await accounts.session(long.token, T0 + m * MIN, POLICY)).status).toBe('active');
      }
      expect(await accounts.session(long.token, T0 + 12 * 60 * MIN, POLICY)).toEqual({
        status: 'expired',
        reason: 'absolute',
      });

      const out = await accounts.createSession(u.id, T0, POLICY);
      await accounts.endSession(out.token);
      expect((await accounts.session(out.token, T0, POLICY)).status).toBe('unknown');
      // Only a hash of the token is stored.
      const rows = await each.fx.sql<{ token_hash: string }>(
        `SELECT token_hash FROM "${each.fx.schema}".kapkit_sessions`,
      );
      expect(rows.some((r) => r.token_hash === out.token || r.token_hash === long.token)).toBe(false);
    });

    it('gives a clinician the patients of their care teams only', async () => {
      const ada = await accounts.createUser({ email: 'ada@clinic.example', role: 'therapist' }, T0);
      const bo = await accounts.createUser({ email: 'bo@clinic.example', role: 'medical' }, T0);
      const north = await accounts.createTeam('North', T0);
      const south = await accounts.createTeam('South', T0);
      await accounts.setTeamMember(north.id, ada.id, true);
      await accounts.setTeamMember(south.id, bo.id, true);
      await accounts.setTeamPatients(north.id, ['pt-1', 'pt-2'], true);
      await accounts.setTeamPatients(south.id, ['pt-3'], true);
      expect([...(await accounts.patientsOf(ada.id))].sort()).toEqual(['pt-1', 'pt-2']);
      expect(await accounts.inCareOf(ada.id, 'pt-3')).toBe(false);
      expect(await accounts.inCareOf(bo.id, 'pt-3')).toBe(true);
      await accounts.setTeamPatients(north.id, ['pt-2'], false);
      expect([...(await accounts.patientsOf(ada.id))]).toEqual(['pt-1']);
      expect((await accounts.listTeams()).map((t) => t.name)).toEqual(['North', 'South']);
    });

    it('uses a one-time link once, and not after it expires', async () => {
      const u = await accounts.createUser({ email: 'ada@clinic.example', role: 'therapist' }, T0);
      const token = await accounts.createOneTimeToken('sign-in', u.id, T0, 60 * MIN);
      expect(await accounts.oneTimeToken(token, T0, false)).toEqual({ kind: 'sign-in', userId: u.id });
      expect(await accounts.oneTimeToken(token, T0, true)).toEqual({ kind: 'sign-in', userId: u.id });
      expect(await accounts.oneTimeToken(token, T0, true)).toBeNull();
      const late = await accounts.createOneTimeToken('set-up', null, T0, 60 * MIN);
      expect(await accounts.oneTimeToken(late, T0 + 61 * MIN, true)).toBeNull();
    });

    it('keeps an append-only audit trail: UPDATE, DELETE and TRUNCATE fail', async () => {
      for (let i = 0; i < 3; i++) {
        await accounts.audit({
          atMs: T0 + i * MIN,
          actorId: 'usr-1',
          role: 'therapist',
          action: 'read',
          method: 'GET',
          route: '/api/patients/:patientId',
          patientId: `pt-${i}`,
          outcome: i === 2 ? 'denied' : 'allowed',
          reason: i === 2 ? 'not-in-care-team' : null,
        });
      }
      expect((await accounts.searchAudit({ outcome: 'denied' })).map((e) => e.patientId)).toEqual(['pt-2']);
      expect((await accounts.searchAudit({ from: T0 + MIN })).map((e) => e.patientId)).toEqual([
        'pt-2',
        'pt-1',
      ]);
      const streamed = [];
      for await (const e of accounts.streamAudit({ from: T0, to: T0 + 2 * MIN })) streamed.push(e.patientId);
      expect(streamed).toEqual(['pt-0', 'pt-1']);
      const audit = `"${each.fx.schema}".kapkit_audit`;
      await expect(each.fx.sql(`UPDATE ${audit} SET outcome = 'allowed'`)).rejects.toThrow(/append-only/);
      await expect(each.fx.sql(`DELETE FROM ${audit}`)).rejects.toThrow(/append-only/);
      await expect(each.fx.sql(`TRUNCATE ${audit}`)).rejects.toThrow(/append-only/);
      expect(await accounts.searchAudit()).toHaveLength(3);
    });
  });
}
