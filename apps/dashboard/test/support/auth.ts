import type { AccountStore, StaffRole } from '@kapkit/store';

/** A signed-in account for in-process tests: its id and the headers a browser would send with each request. */
export interface TestSession {
  readonly userId: string;
  readonly role: StaffRole;
  /** Cookie, CSRF token and Origin (a write also needs `content-type`). */
  readonly headers: Record<string, string>;
}

let counter = 0;

/**
 * Create an account of `role` (in a team that looks after `patients`, for clinicians) and a session for it,
 * straight in the store: the sign-in form itself is tested in auth tests.
 */
export async function signedIn(
  accounts: AccountStore,
  role: StaffRole,
  options: { patients?: readonly string[]; nowMs?: number; idleMs?: number; team?: string } = {},
): Promise<TestSession> {
  const nowMs = options.nowMs ?? Date.now();
  const n = ++counter;
  const user = await accounts.createUser({ email: `${role}-${n}-${nowMs}@test.kapkit.invalid`, role }, nowMs);
  if (options.patients && options.patients.length > 0) {
    const name = options.team ?? `team-${n}-${nowMs}`;
    const team =
      (await accounts.listTeams()).find((t) => t.name === name) ?? (await accounts.createTeam(name, nowMs));
    await accounts.setTeamMember(team.id, user.id, true);
    await accounts.setTeamPatients(team.id, options.patients, true);
  }
  const s = await accounts.createSession(user.id, nowMs, {
    idleMs: options.idleMs ?? 15 * 60_000,
    absoluteMs: 12 * 3_600_000,
  });
  return {
    userId: user.id,
    role,
    headers: { cookie: `kapkit_session=${s.token}`, 'x-csrf-token': s.csrfToken, origin: 'http://localhost' },
  };
}

/**
 * A clinician who signs in with a password (for the browser tests' sign-in form), in the team `team` (created
 * when missing) that looks after `patients`.
 */
export async function passwordAccount(
  accounts: AccountStore,
  o: {
    email: string;
    role: StaffRole;
    password: string;
    team: string;
    patients?: readonly string[];
  },
): Promise<void> {
  const nowMs = Date.now();
  const user = await accounts.createUser({ email: o.email, role: o.role, password: o.password }, nowMs);
  const team =
    (await accounts.listTeams()).find((t) => t.name === o.team) ?? (await accounts.createTeam(o.team, nowMs));
  await accounts.setTeamMember(team.id, user.id, true);
  if (o.patients) await accounts.setTeamPatients(team.id, o.patients, true);
}
