/**
 * The administrator's routes: accounts, care teams, the patients each team looks after, and the audit trail
 * (JSON under `/api/admin/*` and `/api/audit`, and the server-rendered search page `/admin/audit`). An
 * administrator manages who sees what; they do not read clinical records (no caseload, no patient page).
 */
import { type AccountStore, type AuditEntry, type AuditFilter, staffRoles } from '@kapkit/store';
import { type Context, type Handler, Hono } from 'hono';
import { z } from 'zod';
import { checkedJson, zodIssues } from '../json-body.js';
import { type GuardedContext, guardedRoutes } from './guarded.js';
import { html, page, Raw } from './pages.js';
import type { RouteKey } from './policy.js';
import { type AuthEnv, type AuthSettings, auditor } from './session.js';

/** How long an invitation link made by an administrator stays valid: 7 days (kapkit default). */
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60_000;

export const newUserBody = z
  .object({
    email: z.string().trim().min(3).max(254).meta({ description: 'E-mail address; the sign-in name.' }),
    role: z.enum(staffRoles),
    displayName: z.string().trim().min(1).max(120).optional(),
  })
  .strict();

export const updateUserBody = z
  .object({ role: z.enum(staffRoles).optional(), disabled: z.boolean().optional() })
  .strict();

export const newTeamBody = z.object({ name: z.string().trim().min(1).max(120) }).strict();

export const teamMemberBody = z.object({ userId: z.string().min(1).max(200), member: z.boolean() }).strict();

export const teamPatientsBody = z
  .object({ patientIds: z.array(z.string().min(1).max(200)).min(1).max(1000), inCare: z.boolean() })
  .strict();

export const auditQuery = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    actorId: z.string().max(200).optional(),
    patientId: z.string().max(200).optional(),
    outcome: z.enum(['allowed', 'denied']).optional(),
    before: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
  })
  .strict();

function auditFilter(q: z.infer<typeof auditQuery>): AuditFilter {
  return {
    ...(q.from ? { from: q.from } : {}),
    ...(q.to ? { to: q.to } : {}),
    ...(q.actorId ? { actorId: q.actorId } : {}),
    ...(q.patientId ? { patientId: q.patientId } : {}),
    ...(q.outcome ? { outcome: q.outcome } : {}),
    ...(q.before ? { beforePosition: q.before } : {}),
    ...(q.limit ? { limit: q.limit } : {}),
  };
}

export interface AdminRouteOptions {
  /** Every patient id in the store (identifiers only). */
  readonly patientIds: () => Promise<string[]>;
}

export function adminRoutes(settings: AuthSettings, options: AdminRouteOptions): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const route = guardedRoutes(app, settings);
  const accounts: AccountStore = settings.accounts;
  const audit = auditor(settings);
  const now = settings.now;
  const link = (token: string) => `/auth/link/${token}`;
  /** A route whose JSON body `schema` checks (the 400 naming the fields otherwise). */
  const withBody =
    <K extends RouteKey, T>(
      schema: z.ZodType<T>,
      handle: (c: GuardedContext<K>, data: T) => Promise<Response>,
    ) =>
    async (c: GuardedContext<K>) => {
      const body = await checkedJson(c, schema, 'saved');
      return body.ok ? handle(c, body.data) : body.res;
    };
  /** The audit entry of an administrator's change, then the answer. */
  const changed = async (c: Context<AuthEnv>, reason: string, body: object, status: 200 | 201 = 200) => {
    await audit(c, { action: 'admin', outcome: 'allowed', reason });
    return c.json(body, status);
  };

  route('GET /api/admin/users', async (c) => c.json({ users: await accounts.listUsers() }));

  route(
    'POST /api/admin/users',
    withBody(newUserBody, async (c, data) => {
      const user = await accounts.createUser(data, now());
      const token = await accounts.createOneTimeToken('sign-in', user.id, now(), INVITATION_TTL_MS);
      return changed(c, 'user-created', { user, signInLink: link(token) }, 201);
    }),
  );

  route(
    'POST /api/admin/users/:userId',
    withBody(updateUserBody, async (c, data) => {
      const user = await accounts.updateUser(c.req.param('userId'), data);
      return changed(c, 'user-updated', { user });
    }),
  );

  route('POST /api/admin/users/:userId/sign-in-link', async (c) => {
    const user = await accounts.userById(c.req.param('userId'));
    if (!user) return c.json({ error: 'not-found', message: 'No such account.' }, 404);
    const token = await accounts.createOneTimeToken('sign-in', user.id, now(), INVITATION_TTL_MS);
    return changed(c, 'sign-in-link', { signInLink: link(token) }, 201);
  });

  route('GET /api/admin/teams', async (c) => c.json({ teams: await accounts.listTeams() }));

  route(
    'POST /api/admin/teams',
    withBody(newTeamBody, async (c, data) => {
      const team = await accounts.createTeam(data.name, now());
      return changed(c, 'team-created', { team }, 201);
    }),
  );

  route(
    'POST /api/admin/teams/:teamId/members',
    withBody(teamMemberBody, async (c, data) => {
      await accounts.setTeamMember(c.req.param('teamId'), data.userId, data.member);
      return changed(c, 'team-members', { ok: true });
    }),
  );

  route(
    'POST /api/admin/teams/:teamId/patients',
    withBody(teamPatientsBody, async (c, data) => {
      await accounts.setTeamPatients(c.req.param('teamId'), data.patientIds, data.inCare);
      for (const patientId of data.patientIds) {
        await audit(c, { action: 'admin', outcome: 'allowed', reason: 'care-team', patientId });
      }
      return c.json({ ok: true });
    }),
  );

  route('GET /api/admin/patients', async (c) => {
    const teams = await accounts.listTeams();
    const patients = (await options.patientIds()).map((patientId) => ({
      patientId,
      teams: teams.filter((t) => t.patients.includes(patientId)).map((t) => t.id),
    }));
    await audit(c, { action: 'read', outcome: 'allowed', reason: 'patient-ids' });
    return c.json({ patients });
  });

  route('GET /api/audit', async (c) => {
    const q = auditQuery.safeParse(c.req.query());
    if (!q.success) {
      const issues = zodIssues(q.error);
      return c.json({ error: 'invalid-input', message: 'Check the audit filters.', issues }, 400);
    }
    const entries = await accounts.searchAudit(auditFilter(q.data));
    await audit(c, { action: 'read', outcome: 'allowed', reason: 'audit-search' });
    return c.json({ entries });
  });

  app.get('/admin/audit', auditPage(settings));
  return app;
}

/** The audit trail's search page, `/admin/audit` (server-rendered, for administrators). */
function auditPage(settings: AuthSettings): Handler<AuthEnv> {
  const accounts = settings.accounts;
  const audit = auditor(settings);
  return async (c) => {
    const s = c.get('session');
    if (!s)
      return c.redirect(`/auth/sign-in${c.get('signedOut') ? `?reason=${c.get('signedOut')}` : ''}`, 303);
    if (s.user.role !== 'admin') {
      await audit(c, { action: 'access', outcome: 'denied', reason: 'role' });
      return c.html(
        page('Refused', html`<h1>Refused</h1><p>The audit trail is for administrators.</p>`),
        403,
      );
    }
    const raw = c.req.query();
    const form = {
      from: raw.from ?? '',
      to: raw.to ?? '',
      actor: raw.actor ?? '',
      patientId: raw.patientId ?? '',
      outcome: raw.outcome ?? '',
    };
    const users = await accounts.listUsers();
    const actor = form.actor
      ? users.find((u) => u.email === form.actor.toLowerCase() || u.id === form.actor)
      : null;
    let error: string | null = null;
    let entries: AuditEntry[] = [];
    const parsed = auditQuery.safeParse({
      ...(form.from ? { from: dateParam(form.from) } : {}),
      ...(form.to ? { to: dateParam(form.to) } : {}),
      ...(form.patientId ? { patientId: form.patientId } : {}),
      ...(form.outcome === 'allowed' || form.outcome === 'denied' ? { outcome: form.outcome } : {}),
      ...(actor ? { actorId: actor.id } : {}),
      limit: 200,
    });
    if (form.actor && !actor) error = `No account ${form.actor}.`;
    else if (!parsed.success) error = 'Dates are written as 2026-03-02 or 2026-03-02T09:00:00Z.';
    else entries = await accounts.searchAudit(auditFilter(parsed.data));
    await audit(c, { action: 'read', outcome: 'allowed', reason: 'audit-search' });
    const emailOf = new Map(users.map((u) => [u.id, u.email]));
    return c.html(
      page(
        'Audit trail',
        html`<h1>Audit trail</h1>
<p class="muted">Signed in as ${s.user.email} (admin). <a href="/admin/users">Accounts and care teams</a>. Every read and write of patient data, every sign-in and every refusal. Newest first, at most 200.</p>
<form method="get" action="/admin/audit" class="filters">
<div><label for="from">From</label><input id="from" name="from" value="${form.from}" placeholder="2026-03-02"></div>
<div><label for="to">Before</label><input id="to" name="to" value="${form.to}" placeholder="2026-03-03"></div>
<div><label for="actor">Who (e-mail)</label><input id="actor" name="actor" value="${form.actor}"></div>
<div><label for="patientId">Patient id</label><input id="patientId" name="patientId" value="${form.patientId}"></div>
<div><label for="outcome">Outcome</label><select id="outcome" name="outcome">
${['', 'allowed', 'denied'].map((o) => html`<option value="${o}"${o === form.outcome ? new Raw(' selected') : ''}>${o || 'any'}</option>`)}
</select></div>
<div><button type="submit" id="search">Search</button></div>
</form>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<table id="audit"><thead><tr><th>when (UTC)</th><th>who</th><th>role</th><th>action</th><th>route</th><th>patient</th><th>episode</th><th>outcome</th><th>reason</th></tr></thead>
<tbody>${entries.map(
          (e) =>
            html`<tr data-outcome="${e.outcome}"><td>${e.at.slice(0, 19).replace('T', ' ')}</td><td>${e.actorId ? (emailOf.get(e.actorId) ?? e.actorId) : '—'}</td><td>${e.role ?? '—'}</td><td>${e.action}</td><td>${e.method} ${e.route}</td><td>${e.patientId ?? ''}</td><td>${e.episodeId ?? ''}</td><td>${e.outcome}</td><td>${e.reason ?? ''}</td></tr>`,
        )}</tbody></table>
<form method="post" action="/auth/sign-out"><input type="hidden" name="csrf" value="${s.csrfToken}"><button type="submit" id="sign-out">Sign out</button></form>`,
        { wide: true },
      ),
    );
  };
}

/** `2026-03-02` → the start of that day, UTC; an ISO time as it is. */
function dateParam(value: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
}
