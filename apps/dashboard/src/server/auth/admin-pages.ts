/**
 * The administrator's page of accounts and care teams (`/admin/users`): server-rendered HTML forms that work
 * without script. Every form post carries the session's CSRF token and must come from the dashboard's origin.
 * Adding an account, or asking for a new link, shows a one-time sign-in link to hand to the person.
 */
import type { Account, AccountStore, CareTeam } from '@kapkit/store';
import { InvalidArgumentError, staffRoles } from '@kapkit/store';
import { type Context, Hono } from 'hono';
import { INVITATION_TTL_MS } from './admin.js';
import { acceptedOrigin } from './network.js';
import { html, page, type Raw } from './pages.js';
import { type AuthEnv, type AuthSettings, auditor, sameSecret } from './session.js';

export interface AdminPageOptions {
  readonly allowedOrigins: () => readonly string[] | undefined;
  /** Every patient id in the store (identifiers only). */
  readonly patientIds: () => Promise<string[]>;
}

function roleSelect(name: string, id: string) {
  return html`<select id="${id}" name="${name}">${staffRoles.map((r) => html`<option value="${r}">${r}</option>`)}</select>`;
}

function usersPage(o: {
  me: Account;
  csrf: string;
  users: readonly Account[];
  teams: readonly CareTeam[];
  patients: readonly string[];
  notice?: Raw | null;
  error?: string | null;
}): string {
  const emailOf = new Map(o.users.map((u) => [u.id, u.email]));
  const csrf = html`<input type="hidden" name="csrf" value="${o.csrf}">`;
  const unassigned = o.patients.filter((p) => !o.teams.some((t) => t.patients.includes(p)));
  return page(
    'Accounts and care teams',
    html`<h1>Accounts and care teams</h1>
<p class="muted">Signed in as ${o.me.email} (admin). <a href="/admin/audit">Audit trail</a></p>
${o.notice ? html`<p class="notice" role="status" id="notice">${o.notice}</p>` : ''}
${o.error ? html`<p class="error" role="alert" id="error">${o.error}</p>` : ''}
<h2>Accounts</h2>
<table id="users"><thead><tr><th>e-mail</th><th>name</th><th>role</th><th>status</th><th></th></tr></thead><tbody>
${o.users.map(
  (u) => html`<tr data-email="${u.email}"><td>${u.email}</td><td>${u.displayName}</td><td>${u.role}</td>
<td>${[u.disabled ? 'disabled' : 'active', u.demo ? 'demo' : '', u.oidc ? 'single sign-on' : '', u.lockedUntil ? `locked until ${u.lockedUntil.slice(0, 16)}` : ''].filter(Boolean).join(', ')}</td>
<td><form method="post" action="/admin/users/${u.id}/link">${csrf}<button type="submit">New sign-in link</button></form>
<form method="post" action="/admin/users/${u.id}/disabled">${csrf}<input type="hidden" name="disabled" value="${u.disabled ? 'false' : 'true'}"><button type="submit">${u.disabled ? 'Enable' : 'Disable'}</button></form></td></tr>`,
)}
</tbody></table>
<h3>Add an account</h3>
<form method="post" action="/admin/users" class="filters">${csrf}
<div><label for="new-email">E-mail</label><input id="new-email" name="email" type="email" required></div>
<div><label for="new-name">Name</label><input id="new-name" name="name"></div>
<div><label for="new-role">Role</label>${roleSelect('role', 'new-role')}</div>
<div><button type="submit" id="add-user">Add and make a sign-in link</button></div>
</form>
<h2>Care teams</h2>
${o.teams.map(
  (t) => html`<section data-team="${t.name}"><h3>${t.name}</h3>
<p>Members: ${t.members.map((m) => emailOf.get(m) ?? m).join(', ') || 'none'}</p>
<p>Patients: ${t.patients.join(', ') || 'none'}</p>
<form method="post" action="/admin/teams/${t.id}/members" class="filters">${csrf}
<div><label for="m-${t.id}">Account</label><select id="m-${t.id}" name="userId">${o.users
    .filter((u) => u.role === 'therapist' || u.role === 'medical')
    .map((u) => html`<option value="${u.id}">${u.email}</option>`)}</select></div>
<div><label for="mm-${t.id}">Change</label><select id="mm-${t.id}" name="member"><option value="true">add to the team</option><option value="false">remove from the team</option></select></div>
<div><button type="submit">Save members</button></div></form>
<form method="post" action="/admin/teams/${t.id}/patients" class="filters">${csrf}
<div><label for="p-${t.id}">Patient ids (comma or space separated)</label><input id="p-${t.id}" name="patientIds"></div>
<div><label for="pp-${t.id}">Change</label><select id="pp-${t.id}" name="inCare"><option value="true">put in the team's care</option><option value="false">take out of the team's care</option></select></div>
<div><button type="submit">Save patients</button></div></form></section>`,
)}
<h3>New care team</h3>
<form method="post" action="/admin/teams" class="filters">${csrf}
<div><label for="team-name">Name</label><input id="team-name" name="name" required></div>
<div><button type="submit" id="add-team">Create</button></div></form>
<h2>Patients in no team's care</h2>
<p id="unassigned">${unassigned.join(', ') || 'none'}</p>
<form method="post" action="/auth/sign-out">${csrf}<button type="submit" id="sign-out">Sign out</button></form>`,
    { wide: true },
  );
}

export function adminPages(settings: AuthSettings, options: AdminPageOptions): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const accounts: AccountStore = settings.accounts;
  const audit = auditor(settings);

  const render = async (
    c: Context<AuthEnv>,
    extra: { notice?: Raw | null; error?: string | null },
    status: 200 | 400 = 200,
  ) => {
    const s = c.get('session')!;
    return c.html(
      usersPage({
        me: s.user,
        csrf: s.csrfToken,
        users: await accounts.listUsers(),
        teams: await accounts.listTeams(),
        patients: await options.patientIds(),
        ...extra,
      }),
      status,
    );
  };

  // Admin only; a form post also needs the CSRF token and the dashboard's origin.
  app.use('/admin/users', guard);
  app.use('/admin/users/*', guard);
  app.use('/admin/teams', guard);
  app.use('/admin/teams/*', guard);
  async function guard(c: Context<AuthEnv>, next: () => Promise<void>) {
    const s = c.get('session');
    if (!s) return c.redirect('/auth/sign-in', 303);
    if (s.user.role !== 'admin') {
      await audit(c, { action: 'access', outcome: 'denied', reason: 'role' });
      return c.html(
        page('Refused', html`<h1>Refused</h1><p>Accounts and care teams are for administrators.</p>`),
        403,
      );
    }
    if (c.req.method === 'POST') {
      const origin = c.req.header('origin');
      const fromHere =
        origin !== undefined && origin !== 'null'
          ? acceptedOrigin(origin, options.allowedOrigins())
          : c.req.header('sec-fetch-site') === 'same-origin';
      const form = await c.req.parseBody();
      if (!fromHere || typeof form.csrf !== 'string' || !sameSecret(form.csrf, s.csrfToken)) {
        await audit(c, { action: 'admin', outcome: 'denied', reason: 'csrf' });
        return c.html(
          page('Refused', html`<h1>Refused</h1><p>This form is out of date. Reload the page.</p>`),
          403,
        );
      }
    }
    return next();
  }

  const attempt = async (c: Context<AuthEnv>, fn: () => Promise<Raw>) => {
    try {
      return await render(c, { notice: await fn() });
    } catch (error) {
      if (error instanceof InvalidArgumentError) return render(c, { error: error.message }, 400);
      throw error;
    }
  };
  const field = async (c: Context<AuthEnv>, name: string) => {
    const v = (await c.req.parseBody())[name];
    return typeof v === 'string' ? v.trim() : '';
  };
  // The configured origin (the request's Host already matched the allow-list when one is configured).
  const linkOf = (c: Context<AuthEnv>, token: string) =>
    `${options.allowedOrigins()?.[0] ?? new URL(c.req.url).origin}/auth/link/${token}`;

  app.get('/admin/users', (c) => render(c, {}));

  app.post('/admin/users', (c) =>
    attempt(c, async () => {
      const role = await field(c, 'role');
      const name = await field(c, 'name');
      const user = await accounts.createUser(
        { email: await field(c, 'email'), role: role as never, ...(name ? { displayName: name } : {}) },
        settings.now(),
      );
      const token = await accounts.createOneTimeToken('sign-in', user.id, settings.now(), INVITATION_TTL_MS);
      await audit(c, { action: 'admin', outcome: 'allowed', reason: 'user-created' });
      return html`Added ${user.email} (${user.role}). Give them this one-time sign-in link (valid 7 days): <code id="link">${linkOf(c, token)}</code>`;
    }),
  );

  app.post('/admin/users/:userId/link', (c) =>
    attempt(c, async () => {
      const user = await accounts.userById(c.req.param('userId'));
      if (!user) throw new InvalidArgumentError('userId', 'No such account.');
      const token = await accounts.createOneTimeToken('sign-in', user.id, settings.now(), INVITATION_TTL_MS);
      await audit(c, { action: 'admin', outcome: 'allowed', reason: 'sign-in-link' });
      return html`A one-time sign-in link for ${user.email} (valid 7 days): <code id="link">${linkOf(c, token)}</code>`;
    }),
  );

  app.post('/admin/users/:userId/disabled', (c) =>
    attempt(c, async () => {
      const disabled = (await field(c, 'disabled')) === 'true';
      const user = await accounts.updateUser(c.req.param('userId'), { disabled });
      await audit(c, {
        action: 'admin',
        outcome: 'allowed',
        reason: disabled ? 'user-disabled' : 'user-enabled',
      });
      return html`${user.email} is ${disabled ? 'disabled (signed out everywhere)' : 'enabled'}.`;
    }),
  );

  app.post('/admin/teams', (c) =>
    attempt(c, async () => {
      const team = await accounts.createTeam(await field(c, 'name'), settings.now());
      await audit(c, { action: 'admin', outcome: 'allowed', reason: 'team-created' });
      return html`Created the care team ${team.name}.`;
    }),
  );

  app.post('/admin/teams/:teamId/members', (c) =>
    attempt(c, async () => {
      const member = (await field(c, 'member')) !== 'false';
      await accounts.setTeamMember(c.req.param('teamId'), await field(c, 'userId'), member);
      await audit(c, { action: 'admin', outcome: 'allowed', reason: 'team-members' });
      return html`Team members saved.`;
    }),
  );

  app.post('/admin/teams/:teamId/patients', (c) =>
    attempt(c, async () => {
      const ids = (await field(c, 'patientIds')).split(/[\s,]+/).filter(Boolean);
      if (ids.length === 0) throw new InvalidArgumentError('patientIds', 'Name at least one patient id.');
      const inCare = (await field(c, 'inCare')) !== 'false';
      await accounts.setTeamPatients(c.req.param('teamId'), ids, inCare);
      for (const patientId of ids)
        await audit(c, { action: 'admin', outcome: 'allowed', reason: 'care-team', patientId });
      return html`${ids.length} patient(s) ${inCare ? 'put in' : 'taken out of'} the team's care.`;
    }),
  );

  return app;
}
