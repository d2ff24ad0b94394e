import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { openAccounts } from '../src/accounts.js';
import { BACKUP_FORMAT_VERSION, backupStore, inspectBackup, restoreStore } from '../src/backup.js';
import { CLINIC_TABLES } from '../src/backup-tables.js';
import { InvalidBackupError, StoreConfigError } from '../src/errors.js';
import { openMeasureRequests } from '../src/measure-requests.js';
import { tablesIn } from '../src/schema.js';
import type { EventStore } from '../src/store-types.js';
import { batchOf10, opened } from './fixtures/log.mjs';
import {
  allEvents,
  createFixture,
  describeEngines,
  ENGINES,
  type Fixture,
  requireEngine,
  storePerTest,
} from './helpers.js';

/**
 * Backups of the clinic tables (format version 2): accounts, care teams, audit trail, patient contacts,
 * measure requests and links, outbox. Restored row for row on both engines and across them; the restored
 * store signs in, opens links and continues the audit trail; sessions and one-time links are left out.
 */

const T0 = Date.parse('2026-03-02T09:00:00Z');
const MIN = 60_000;
const DAY = 86_400_000;
const PASSWORD = 'a long enough passphrase';
const LOCKOUT = { maxFailures: 3, lockMs: 15 * MIN };
const POLICY = { idleMs: 15 * MIN, absoluteMs: 12 * 60 * MIN };
const V1_FIXTURE = new URL('./fixtures/backup-v1.ndjson', import.meta.url);

/** A backup of `store` as text. */
async function backupText(store: EventStore, batchSize = 2): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await backupStore(store, out, { batchSize });
  out.end();
  return Buffer.concat(chunks).toString('utf8');
}

const linesOf = (text: string) => text.split('\n').filter((l) => l !== '');

/**
 * Every row of a table as JSON text, sorted: timestamps to the microsecond in UTC and bigints as text, so
 * that rows compare equal across engines and drivers.
 */
async function rowsOf(fx: Fixture, table: string): Promise<string[]> {
  const columns = await fx.sql<{ column_name: string; data_type: string }>(
    `SELECT column_name, data_type FROM information_schema.columns
     WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
    [fx.schema, table],
  );
  expect(columns.length).toBeGreaterThan(0);
  const exprs = columns.map(({ column_name: c, data_type: type }) =>
    type === 'timestamp with time zone'
      ? `to_char("${c}" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS "${c}"`
      : type === 'bigint'
        ? `"${c}"::text AS "${c}"`
        : `"${c}"`,
  );
  const rows = await fx.sql<{ j: string }>(
    `SELECT to_jsonb(x)::text AS j FROM (SELECT ${exprs.join(', ')} FROM "${fx.schema}".${table}) x ORDER BY j`,
  );
  return rows.map((r) => r.j);
}

/** The name of each clinic table (`kapkit_users`…), from the qualified name of its spec. */
function clinicTableNames(fx: Fixture): string[] {
  return CLINIC_TABLES.map((spec) => spec.table(tablesIn(fx.schema)).split('.')[1]!);
}

/** Every clinic table's rows (and the sessions and one-time tokens, which a backup leaves out). */
async function clinicRows(fx: Fixture): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const name of clinicTableNames(fx)) out[name] = await rowsOf(fx, name);
  return out;
}

/** Events of two episodes, and a clinic around them: accounts, a team, the audit trail, measure requests. */
async function populate(store: EventStore): Promise<{ token: string; requestId: string }> {
  await store.append('ep-c', [opened('ep-c', 'pt-synthetic-c')], { expectedVersion: 0 });
  await store.append('ep-c', batchOf10('ep-c', 'pt-synthetic-c', 'b-c1', 1), { expectedVersion: 1 });
  const accounts = openAccounts(store);
  const ada = await accounts.createUser(
    { email: 'ada@clinic.example', displayName: 'Ada', role: 'therapist', password: PASSWORD },
    T0,
  );
  const bo = await accounts.createUser({ email: 'bo@clinic.example', role: 'medical' }, T0 + MIN);
  await accounts.linkOidc(bo.id, 'https://id.example', 'sub-bo', 'medical');
  // A wrong password: the failure count is part of the row.
  await accounts.verifySignIn('bo@clinic.example', 'wrong password!', T0, LOCKOUT);
  const team = await accounts.createTeam('North', T0);
  await accounts.setTeamMember(team.id, ada.id, true);
  await accounts.setTeamMember(team.id, bo.id, true);
  await accounts.setTeamPatients(team.id, ['pt-synthetic-c', 'pt-synthetic-d'], true);
  for (let i = 0; i < 5; i++) {
    await accounts.audit({
      atMs: T0 + i * MIN,
      actorId: ada.id,
      role: 'therapist',
      action: i % 2 ? 'write' : 'read',
      method: 'GET',
      route: '/api/patients/:patientId',
      patientId: 'pt-synthetic-c',
      episodeId: i === 3 ? 'ep-c' : null,
      outcome: i === 4 ? 'denied' : 'allowed',
      reason: i === 4 ? 'role' : null,
    });
  }
  // Ephemeral secrets, not backed up.
  await accounts.createSession(ada.id, T0, POLICY);
  await accounts.createOneTimeToken('sign-in', bo.id, T0, DAY);

  const requests = openMeasureRequests(store);
  await requests.setContact('pt-synthetic-c', 'patient-c@example.org', T0);
  const made = await requests.create({
    episodeId: 'ep-c',
    patientId: 'pt-synthetic-c',
    instruments: ['phq9', 'gad7'],
    origin: 'clinician',
    createdBy: ada.id,
    atMs: T0,
    ttlMs: 7 * DAY,
    issueLink: true,
    email: true,
  });
  await requests.markOpened(made!.request.id, T0 + MIN);
  await requests.create({
    episodeId: 'ep-c',
    patientId: 'pt-synthetic-c',
    instruments: ['who5'],
    origin: 'automatic',
    atMs: T0 + DAY,
    ttlMs: 7 * DAY,
    issueLink: false,
    email: true,
  });
  const [due] = await requests.claimDue(T0 + DAY, 1);
  await requests.markFailed(due!.id, 'ECONNREFUSED', T0 + DAY + MIN);
  return { token: made!.token!, requestId: made!.request.id };
}

const everyTable = (n: number) => Object.fromEntries(CLINIC_TABLES.map((c) => [c.name, n]));

/** The restored store works: sign-in with the restored password, the link opens, the audit trail goes on. */
async function expectUsable(fx: Fixture, store: EventStore, made: { token: string; requestId: string }) {
  const accounts = openAccounts(store);
  expect(await accounts.verifySignIn('ada@clinic.example', PASSWORD, T0 + DAY, LOCKOUT)).toMatchObject({
    ok: true,
    user: { email: 'ada@clinic.example', role: 'therapist' },
  });
  expect(await accounts.userByOidc('https://id.example', 'sub-bo')).toMatchObject({
    email: 'bo@clinic.example',
  });
  const requests = openMeasureRequests(store);
  expect(await requests.byToken(made.token, T0 + 2 * MIN)).toMatchObject({
    id: made.requestId,
    status: 'opened',
    instruments: ['phq9', 'gad7'],
  });
  expect(await requests.contact('pt-synthetic-c')).toBe('patient-c@example.org');
  const before = await fx.sql<{ p: string }>(
    `SELECT max(position)::text AS p FROM "${fx.schema}".kapkit_audit`,
  );
  await accounts.audit({
    atMs: T0 + DAY,
    actorId: null,
    role: null,
    action: 'sign-in',
    method: 'POST',
    route: '/api/session',
    outcome: 'allowed',
  });
  const after = await fx.sql<{ p: string }>(
    `SELECT max(position)::text AS p FROM "${fx.schema}".kapkit_audit`,
  );
  expect(BigInt(after[0]!.p)).toBeGreaterThan(BigInt(before[0]!.p));
  expect(await accounts.searchAudit({})).toHaveLength(6);
}

describeEngines('backups of the clinic tables on $name', (engine) => {
  // A source and a target store per test, each closed and its schema dropped after it.
  const src = storePerTest(engine.kind);
  const dst = storePerTest(engine.kind);

  it('restores every clinic table row for row, leaves out sessions and one-time links, and works afterwards', async () => {
    const made = await populate(src.store);
    const text = await backupText(src.store);
    const lines = linesOf(text);
    expect(JSON.parse(lines[0]!)).toMatchObject({ formatVersion: BACKUP_FORMAT_VERSION });
    expect(BACKUP_FORMAT_VERSION).toBe(2);
    const counts = {
      users: 2,
      careTeams: 1,
      careTeamMembers: 2,
      careTeamPatients: 2,
      audit: 5,
      patientContacts: 1,
      measureRequests: 2,
      measureLinks: 1,
      measureOpen: 3,
      outbox: 2,
    };
    const trailer = JSON.parse(lines.at(-1)!);
    expect(trailer).toMatchObject({ end: true, events: 11 });
    for (const [name, rows] of Object.entries(counts)) expect(trailer.clinic[name].rows).toBe(rows);
    // Typed values: ISO 8601 UTC timestamps with microseconds, bigints as strings, jsonb as JSON.
    const audit = JSON.parse(lines.find((l) => l.startsWith('{"table":"audit"'))!);
    expect(audit.row).toMatchObject({ position: '1', at: '2026-03-02T09:00:00.000000Z', outcome: 'allowed' });
    expect(audit.row.recorded_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const request = JSON.parse(lines.find((l) => l.startsWith('{"table":"measureRequests"'))!);
    expect(Array.isArray(request.row.instruments)).toBe(true);
    expect(text).not.toContain(made.token);
    expect(text).toMatch(/"password_hash":"scrypt\$/);

    const summary = await restoreStore(dst.store, PassThrough.from([text]), { batchSize: 2 });
    expect(summary.clinic).toEqual(counts);
    expect(await inspectBackup([text])).toMatchObject({ ...summary, header: { formatVersion: 2 } });
    expect(await clinicRows(dst.fx)).toEqual(await clinicRows(src.fx));
    expect(await allEvents(dst.store)).toEqual(await allEvents(src.store));
    for (const ephemeral of ['kapkit_sessions', 'kapkit_one_time_tokens']) {
      expect(await rowsOf(src.fx, ephemeral)).toHaveLength(1);
      expect(await rowsOf(dst.fx, ephemeral)).toEqual([]);
    }
    // The same backup again from the restored store: same lines between header and end line.
    expect(linesOf(await backupText(dst.store, 3)).slice(1)).toEqual(lines.slice(1));
    await expectUsable(dst.fx, dst.store, made);
  });

  it('refuses an altered clinic line (naming its table and lines) and a truncated backup; nothing restored', async () => {
    await populate(src.store);
    const lines = linesOf(await backupText(src.store));
    const k = lines.findIndex((l) => l.includes('"email":"ada@clinic.example"'));
    expect(lines[k]).toMatch(/^\{"table":"users"/);
    const first = lines.findIndex((l) => l.startsWith('{"table":"users"'));
    const altered = lines.map((l, i) => (i === k ? l.replace('"role":"therapist"', '"role":"admin"') : l));
    expect(altered[k]).not.toBe(lines[k]);
    for (const run of [
      () => inspectBackup([altered.join('\n')]),
      () => restoreStore(dst.store, [altered.join('\n')]),
    ]) {
      const error = await run().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidBackupError);
      expect((error as Error).message).toMatch(
        new RegExp(`users rows .*lines ${first + 1}–${first + 2} .*altered`),
      );
    }
    // A line of one table among another's, a column missing, a value of the wrong type.
    const moved = [...lines.slice(0, k), lines.at(-2)!, ...lines.slice(k, -2), lines.at(-1)!];
    await expect(inspectBackup([moved.join('\n')])).rejects.toThrow(/users line after the lines of a later/);
    const noColumn = lines.map((l, i) => (i === k ? l.replace('"role":"therapist",', '') : l));
    await expect(inspectBackup([noColumn.join('\n')])).rejects.toThrow(/without column "role"/);
    const badType = lines.map((l, i) =>
      i === k ? l.replace('"failed_sign_ins":0', '"failed_sign_ins":"0"') : l,
    );
    await expect(inspectBackup([badType.join('\n')])).rejects.toThrow(/"failed_sign_ins" is not of type int/);
    // Cut inside the clinic lines.
    const cut = lines.slice(0, k + 1).join('\n');
    await expect(inspectBackup([cut])).rejects.toThrow(/truncated/);
    const error = await restoreStore(dst.store, [cut]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidBackupError);
    expect(await allEvents(dst.store)).toEqual([]);
    for (const rows of Object.values(await clinicRows(dst.fx))) expect(rows).toEqual([]);
  });

  it('names every column of every clinic table, so a column added by a migration cannot be left out', async () => {
    for (const spec of CLINIC_TABLES) {
      const table = spec.table(tablesIn(src.fx.schema)).split('.')[1]!;
      const columns = await src.fx.sql<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = $2 ORDER BY column_name`,
        [src.fx.schema, table],
      );
      expect(Object.keys(spec.columns).sort(), spec.name).toEqual(columns.map((c) => c.column_name).sort());
    }
  });

  it('restores clinic tables only where the target has none of their rows', async () => {
    await populate(src.store);
    const text = await backupText(src.store);
    await openAccounts(dst.store).createUser({ email: 'other@clinic.example', role: 'admin' }, T0);
    const error = await restoreStore(dst.store, [text]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreConfigError);
    expect((error as Error).message).toMatch(/already holds users rows/);
    expect(await allEvents(dst.store)).toEqual([]);
  });

  it('still restores a version-1 backup (events only, no clinic tables)', async () => {
    const v1 = readFileSync(V1_FIXTURE, 'utf8');
    expect(JSON.parse(linesOf(v1)[0]!)).toMatchObject({ formatVersion: 1 });
    const summary = await restoreStore(dst.store, [v1]);
    expect(summary).toMatchObject({ events: 27, episodes: 2, lastPosition: 27, safetySignals: 0 });
    expect(summary.clinic).toEqual(everyTable(0));
    expect(await inspectBackup([v1])).toMatchObject({ events: 27, clinic: everyTable(0) });
    expect((await allEvents(dst.store)).map((e) => e.position)).toEqual(
      Array.from({ length: 27 }, (_, i) => i + 1),
    );
    // A table line has no place in a version-1 backup.
    const lines = linesOf(v1);
    const withTable = [...lines.slice(0, -1), '{"table":"users","row":{}}', lines.at(-1)!];
    await expect(inspectBackup([withTable.join('\n')])).rejects.toThrow(/version-1 backup/);
  });
});

it('restores the clinic tables from PGlite into PostgreSQL and back, row for row', async (context) => {
  requireEngine(ENGINES.find((e) => e.kind === 'postgres')!, context);
  const lite = await createFixture('pglite');
  const server = await createFixture('postgres');
  const back = await createFixture('pglite');
  const stores = [await lite.open(), await server.open(), await back.open()] as const;
  try {
    const made = await populate(stores[0]);
    const text = await backupText(stores[0]);
    const intoServer = await restoreStore(stores[1], [text]);
    const fromServer = await backupText(stores[1]);
    // The same lines whichever engine wrote them (only the header says which).
    expect(linesOf(fromServer).slice(1)).toEqual(linesOf(text).slice(1));
    expect(await restoreStore(stores[2], [fromServer])).toEqual(intoServer);
    const original = await clinicRows(lite);
    expect(await clinicRows(server)).toEqual(original);
    expect(await clinicRows(back)).toEqual(original);
    await expectUsable(server, stores[1], made);
    await expectUsable(back, stores[2], made);
  } finally {
    for (const s of stores) await s.close();
    for (const fx of [lite, server, back]) await fx.cleanup();
  }
});
