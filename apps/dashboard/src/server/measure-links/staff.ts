/**
 * The care team's side of measure requests: send measures (`POST /api/patients/:patientId/measure-requests`
 * → `{ url, expiresAt }`), list a patient's requests, revoke one, make a new link for an open one, set the
 * patient's e-mail for reminders, and the caseload's counts. Care-team scoped and audited like every patient
 * route. Also the scheduler pass that makes automatic requests from each episode's monitoring plan.
 */
import { statusAt } from '@kapkit/core';
import type { MeasureRequest } from '@kapkit/store';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type {
  MeasureLinkResponse,
  MeasureRequestSummaryResponse,
  PatientMeasureRequestsResponse,
} from '../../shared/measure-requests.js';
import { type GuardedContext, guardedRoutes } from '../auth/guarded.js';
import { type AuthEnv, auditor } from '../auth/session.js';
import { type BodyIssue, checkedJson, invalidInput } from '../json-body.js';
import {
  linkBase,
  type MeasureLinksContext,
  requestView,
  sendableDefinition,
  sendableInstruments,
} from './context.js';

export const measureRequestBody = z
  .object({
    instruments: z.array(z.string().min(1).max(40)).min(1).max(10).meta({
      description: 'Instrument ids (`phq9`, `gad7`); only instruments whose licence ships the item text.',
    }),
    episodeId: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .meta({ description: 'Default: the patient’s latest episode.' }),
    email: z.boolean().optional().meta({
      description: 'E-mail the link to the patient’s address (default true when SMTP is configured).',
    }),
  })
  .strict()
  .meta({ description: 'Ask the patient to complete instruments through a link.' });

export const contactBody = z
  .object({
    email: z
      .string()
      .max(254)
      .nullable()
      .meta({ description: 'The address reminders go to; null removes it.' }),
  })
  .strict();

/** What the clinician routes share: the caller, the care-team check and the answers refusing a request. */
interface StaffKit {
  readonly ctx: MeasureLinksContext;
  readonly audit: ReturnType<typeof auditor>;
  readonly userOf: (c: Context<AuthEnv>) => NonNullable<AuthEnv['Variables']['session']>['user'];
  /** Null when the caller's care teams look after the patient, else the audited 403. */
  readonly careRefusal: (
    c: Context<AuthEnv>,
    action: 'read' | 'write',
    patientId: string,
  ) => Promise<Response | null>;
  /** The care check, then the 404 of a patient without an episode; null when both pass. */
  readonly patientRefusal: (
    c: Context<AuthEnv>,
    action: 'read' | 'write',
    patientId: string,
  ) => Promise<Response | null>;
  /** A request of a patient in the caller's care, or the answer refusing it. */
  readonly ownRequest: (
    c: Context<AuthEnv>,
    requestId: string,
  ) => Promise<
    { readonly request: MeasureRequest } | { readonly request?: undefined; readonly response: Response }
  >;
  /** The audit entry of an allowed write on a request. */
  readonly wrote: (c: Context<AuthEnv>, r: MeasureRequest, reason: string) => Promise<void>;
}

function staffKit(ctx: MeasureLinksContext): StaffKit {
  const { settings, requests } = ctx;
  const audit = auditor(settings);
  const userOf = (c: Context<AuthEnv>) => c.get('session')!.user;
  const careRefusal = async (c: Context<AuthEnv>, action: 'read' | 'write', patientId: string) => {
    if (await settings.accounts.inCareOf(userOf(c).id, patientId)) return null;
    await audit(c, { action, outcome: 'denied', reason: 'not-in-care-team', patientId });
    return c.json(
      {
        error: 'forbidden',
        message:
          'This patient is not in the care of your care teams. An administrator assigns patients to teams.',
      },
      403,
    );
  };
  return {
    ctx,
    audit,
    userOf,
    careRefusal,
    async patientRefusal(c, action, patientId) {
      const refused = await careRefusal(c, action, patientId);
      if (refused) return refused;
      if ((await ctx.episodesOf(patientId)).length === 0) {
        return c.json({ error: 'not-found', message: 'No such patient.' }, 404);
      }
      return null;
    },
    async ownRequest(c, requestId) {
      const r = await requests.get(requestId, ctx.now());
      if (!r) return { response: c.json({ error: 'not-found', message: 'No such measure request.' }, 404) };
      const refused = await careRefusal(c, 'write', r.patientId);
      return refused ? { response: refused } : { request: r };
    },
    wrote: (c, r, reason) =>
      audit(c, {
        action: 'write',
        outcome: 'allowed',
        patientId: r.patientId,
        episodeId: r.episodeId,
        reason,
      }),
  };
}

/** The clinician routes, to mount on the dashboard app. */
export function staffRoutes(ctx: MeasureLinksContext): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const route = guardedRoutes(app, ctx.settings);
  const kit = staffKit(ctx);
  const { requests, registry } = ctx;
  const { audit, userOf, patientRefusal, ownRequest, wrote } = kit;

  route('GET /api/measure-requests', async (c) => {
    const mine = await ctx.settings.accounts.patientsOf(userOf(c).id);
    await audit(c, { action: 'read', outcome: 'allowed', reason: 'measure-requests' });
    const nowMs = ctx.now();
    const counts = await requests.summaries([...mine], nowMs);
    const body: MeasureRequestSummaryResponse = {
      asOf: ctx.isoAt(nowMs),
      patients: Object.fromEntries(counts),
    };
    return c.json(body);
  });

  route('GET /api/patients/:patientId/measure-requests', async (c) => {
    const patientId = c.req.param('patientId');
    const refused = await patientRefusal(c, 'read', patientId);
    if (refused) return refused;
    await audit(c, { action: 'read', outcome: 'allowed', patientId, reason: 'measure-requests' });
    const nowMs = ctx.now();
    const body: PatientMeasureRequestsResponse = {
      asOf: ctx.isoAt(nowMs),
      patientId,
      contact: await requests.contact(patientId),
      reminders: ctx.mailer ? 'email' : 'off',
      linkDays: ctx.linkTtlMs / 86_400_000,
      sendable: sendableInstruments(registry).map((d) => ({ id: d.id, name: d.name })),
      requests: (await requests.list({ patientId }, nowMs)).map((r) => requestView(r, registry)),
    };
    return c.json(body);
  });

  route('POST /api/patients/:patientId/measure-requests', (c) => sendMeasures(kit, c));

  route('POST /api/measure-requests/:requestId/revoke', async (c) => {
    const own = await ownRequest(c, c.req.param('requestId'));
    if (!own.request) return own.response;
    const r = own.request;
    if (r.status !== 'sent' && r.status !== 'opened') {
      return c.json({ error: 'invalid-input', message: `This request is already ${r.status}.` }, 409);
    }
    await wrote(c, r, 'measure-request-revoked');
    const revoked = await requests.revoke(r.id, ctx.now(), userOf(c).id);
    return c.json(requestView(revoked, registry));
  });

  route('POST /api/measure-requests/:requestId/link', async (c) => {
    const own = await ownRequest(c, c.req.param('requestId'));
    if (!own.request) return own.response;
    const r = own.request;
    const token = await requests.issueLink(r.id, ctx.now(), 'link');
    if (token === null) {
      return c.json(
        { error: 'invalid-input', message: `This request is ${r.status}: send a new one instead.` },
        409,
      );
    }
    await wrote(c, r, 'measure-link');
    const body: MeasureLinkResponse = {
      url: `${linkBase(ctx, c)}/m/${token}`,
      expiresAt: r.expiresAt,
      request: requestView(r, registry),
    };
    return c.json(body, 201);
  });

  route('POST /api/patients/:patientId/contact', async (c) => {
    const patientId = c.req.param('patientId');
    const parsed = await checkedJson(c, contactBody, 'sent');
    if (!parsed.ok) return parsed.res;
    const refused = await patientRefusal(c, 'write', patientId);
    if (refused) return refused;
    await audit(c, { action: 'write', outcome: 'allowed', patientId, reason: 'patient-contact' });
    await requests.setContact(patientId, parsed.data.email === '' ? null : parsed.data.email, ctx.now());
    return c.json({ patientId, contact: await requests.contact(patientId) });
  });

  return app;
}

/** `POST /api/patients/:patientId/measure-requests`: a request for the named instruments and its link. */
async function sendMeasures(
  kit: StaffKit,
  c: GuardedContext<'POST /api/patients/:patientId/measure-requests'>,
): Promise<Response> {
  const { ctx, audit } = kit;
  const { requests, registry } = ctx;
  const patientId = c.req.param('patientId');
  const parsed = await checkedJson(c, measureRequestBody, 'sent');
  if (!parsed.ok) return parsed.res;
  const user = kit.userOf(c);
  const refused = await kit.careRefusal(c, 'write', patientId);
  if (refused) return refused;
  const episodes = await ctx.episodesOf(patientId);
  const episodeId = parsed.data.episodeId ?? episodes[episodes.length - 1];
  if (!episodeId || !episodes.includes(episodeId)) {
    return c.json({ error: 'not-found', message: 'No such patient or episode.' }, 404);
  }
  const issues: BodyIssue[] = [];
  const instruments: string[] = [];
  parsed.data.instruments.forEach((name, i) => {
    const found = sendableDefinition(registry, name);
    if (!found.ok) issues.push({ path: `instruments[${i}]`, message: found.message });
    else if (instruments.includes(found.definition.id)) {
      issues.push({ path: `instruments[${i}]`, message: `${found.definition.name} is named twice` });
    } else instruments.push(found.definition.id);
  });
  const { state } = await ctx.store.loadEpisode(episodeId);
  const phase = statusAt(state, ctx.isoAt(ctx.now())).phase;
  if (phase === 'completed' || phase === 'discontinued') {
    issues.push({
      path: 'episodeId',
      message: `the course is ${phase}: its answers could not be recorded (only adverse events, reviews and corrections can)`,
    });
  }
  if (issues.length > 0) return c.json(invalidInput('sent', issues), 400);
  await audit(c, { action: 'write', outcome: 'allowed', patientId, episodeId, reason: 'measure-request' });
  const nowMs = ctx.now();
  const made = await requests.create({
    episodeId,
    patientId,
    instruments,
    origin: 'clinician',
    createdBy: user.id,
    atMs: nowMs,
    ttlMs: ctx.linkTtlMs,
    issueLink: true,
    email: ctx.mailer !== null && parsed.data.email !== false,
  });
  const body: MeasureLinkResponse = {
    url: `${linkBase(ctx, c)}/m/${made!.token}`,
    expiresAt: made!.request.expiresAt,
    request: requestView(made!.request, registry),
  };
  return c.json(body, 201);
}

/**
 * One scheduler pass at `asOfMs`: mark expired requests, then, for every episode, ask for the measures its
 * monitoring plan has due or overdue (`statusAt`) that the patient can be sent, in one automatic request per
 * episode. At most one open request per measure per episode (the store's `kapkit_measure_open`), so a pass
 * run again (a restart, another process) creates nothing new.
 */
export async function scheduleMeasureRequests(
  ctx: MeasureLinksContext,
  asOfMs: number,
): Promise<{ expired: number; created: number }> {
  const expired = await ctx.requests.expireDue(asOfMs);
  const asOf = ctx.isoAt(asOfMs);
  let created = 0;
  for (const [episodeId, { patientId }] of await ctx.episodes()) {
    const { state } = await ctx.store.loadEpisode(episodeId);
    const due = new Set<string>();
    for (const m of statusAt(state, asOf).measures) {
      if (
        (m.status === 'due' || m.status === 'overdue') &&
        sendableDefinition(ctx.registry, m.instrument).ok
      ) {
        due.add(m.instrument);
      }
    }
    if (due.size === 0) continue;
    const made = await ctx.requests.create({
      episodeId,
      patientId,
      instruments: [...due],
      origin: 'automatic',
      atMs: asOfMs,
      ttlMs: ctx.linkTtlMs,
      issueLink: false,
      email: ctx.mailer !== null,
    });
    if (made) created++;
  }
  return { expired, created };
}
