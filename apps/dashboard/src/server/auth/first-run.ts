/**
 * The first start: on demo data, demo accounts (a therapist, a medical clinician and an administrator) in a
 * demo care team that looks after every synthetic patient, each with a one-time sign-in link printed after
 * the URL; on a new store without accounts, a one-time link to create the first administrator (as Grafana and
 * Jupyter print theirs). Links are printed to the console of the machine the server runs on, nowhere else.
 */
import type { AccountStore, StaffRole } from '@kapkit/store';

/** How long the printed links stay valid: 24 hours (kapkit default). Each works once. */
const FIRST_RUN_LINK_TTL_MS = 24 * 60 * 60_000;

/** Demo accounts: addresses under `.invalid` (RFC 2606), which can never receive mail. */
const DEMO_ACCOUNTS: readonly { role: StaffRole; email: string; displayName: string }[] = [
  { role: 'therapist', email: 'therapist@demo.kapkit.invalid', displayName: 'Demo therapist' },
  { role: 'medical', email: 'medical@demo.kapkit.invalid', displayName: 'Demo medical clinician' },
  { role: 'admin', email: 'admin@demo.kapkit.invalid', displayName: 'Demo administrator' },
];
const DEMO_TEAM = 'Demo care team';

export interface FirstRunLink {
  readonly role: StaffRole | 'first-admin';
  /** Path and query only; the caller puts the server's origin in front. */
  readonly path: string;
}

/**
 * Make sure the demo accounts and the demo team exist, put every synthetic patient in the team's care, and
 * return a fresh one-time sign-in link for each demo account.
 */
export async function demoSignInLinks(
  accounts: AccountStore,
  syntheticPatients: readonly string[],
  nowMs: number,
): Promise<FirstRunLink[]> {
  let team = (await accounts.listTeams()).find((t) => t.name === DEMO_TEAM);
  team ??= await accounts.createTeam(DEMO_TEAM, nowMs);
  const links: FirstRunLink[] = [];
  for (const d of DEMO_ACCOUNTS) {
    const user =
      (await accounts.userByEmail(d.email)) ??
      (await accounts.createUser(
        { email: d.email, role: d.role, displayName: d.displayName, demo: true },
        nowMs,
      ));
    if (!user.demo) continue; // a real account took the address: never hand out a link to it
    if (d.role !== 'admin') await accounts.setTeamMember(team.id, user.id, true);
    const token = await accounts.createOneTimeToken('sign-in', user.id, nowMs, FIRST_RUN_LINK_TTL_MS);
    links.push({ role: d.role, path: `/auth/link/${token}` });
  }
  if (syntheticPatients.length > 0) await accounts.setTeamPatients(team.id, syntheticPatients, true);
  return links;
}

/** On a store without any account: a one-time link that creates the first administrator. */
export async function setUpLink(accounts: AccountStore, nowMs: number): Promise<FirstRunLink | null> {
  if ((await accounts.countUsers()) > 0) return null;
  const token = await accounts.createOneTimeToken('set-up', null, nowMs, FIRST_RUN_LINK_TTL_MS);
  return { role: 'first-admin', path: `/auth/set-up/${token}` };
}
