/**
 * The patient's side: `/m/<token>` (the patient page, no sign-in) and its two JSON routes, `POST /m/api/open`
 * (the form of an open request) and `POST /m/api/submit` (the answers). The token travels in the page's path
 * and in the JSON bodies, never in an API path or a query; it is compared by its SHA-256 hash. Attempts are
 * limited per client address and per link.
 *
 * A submission becomes one `AssessmentRecorded` per instrument with `recordedBy: 'patient'`, built by the same
 * intake as the clinicians' forms and appended through the episode machine. Its event ids derive from the
 * request and its time is the request's first submission time, so a retry is the same event (`duplicate`).
 */
import { createHash } from 'node:crypto';
import type { InstrumentDefinition } from '@kapkit/core/instruments';
import {
  EventIdConflictError,
  EventRefusedError,
  hashMeasureToken,
  type MeasureRequest,
} from '@kapkit/store';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { routePath } from 'hono/route';
import { z } from 'zod';
import type {
  PatientFormResponse,
  PatientInstrument,
  PatientLinkError,
  PatientSubmitResponse,
} from '../../shared/measure-requests.js';
import { tripsSafetyRule } from '../../shared/safety-rules.js';
import { acceptedOrigin, peerAddress } from '../auth/network.js';
import { AddressThrottle } from '../auth/session.js';
import { staticAnswer, withPrecompressed } from '../compression.js';
import { completeEvents } from '../intake.js';
import { expiresText, type MeasureLinksContext } from './context.js';
import { DEFAULT_CRISIS_SCREEN, DEFAULT_LINK_RATE_LIMITS } from './settings.js';

export const openBody = z
  .object({ token: z.string().min(20).max(200).meta({ description: 'The token of the link /m/<token>.' }) })
  .strict();

export const submitBody = z
  .object({
    token: z.string().min(20).max(200),
    answers: z
      .record(z.string(), z.array(z.int().min(0).max(100)).min(1).max(200))
      .meta({ description: 'For each instrument of the request, every item’s answer value, in item order.' }),
  })
  .strict();

function patientInstrument(d: InstrumentDefinition): PatientInstrument {
  return {
    id: d.id,
    name: d.name,
    stem: d.stem ?? null,
    items: d.items.map((item, i) => {
      const scale = item.scale ?? d.scale;
      const options =
        scale.options?.map((o) => ({ value: o.value, label: o.label })) ??
        Array.from({ length: scale.max - scale.min + 1 }, (_, k) => {
          const value = scale.min + k;
          const anchor =
            value === scale.min ? scale.anchors?.min : value === scale.max ? scale.anchors?.max : undefined;
          return { value, label: anchor ? `${value} (${anchor})` : String(value) };
        });
      return { number: i + 1, text: item.text ?? `Item ${i + 1}`, options };
    }),
    safety: (d.safety ?? []).map((r) => ({ item: r.item, op: r.op, value: r.value })),
  };
}

type LinkFailure = 400 | 404 | 409 | 410 | 415 | 422 | 429;

const fail = (c: Context, status: LinkFailure, body: PatientLinkError) => c.json(body, status);

/** What the patient routes share: the audit trail, the rate-limited attempt and the answer to a closed link. */
interface PatientKit {
  readonly ctx: MeasureLinksContext;
  readonly audit: (
    c: Context,
    outcome: 'allowed' | 'denied',
    action: 'read' | 'write',
    reason: string,
    r?: MeasureRequest | null,
  ) => Promise<void>;
  /**
   * Read the body, count the attempt against the client address and the link, and find the request. Returns
   * the parsed body and the request, or the answer to send.
   */
  readonly attempt: <T extends { token: string }>(
    c: Context,
    schema: z.ZodType<T>,
  ) => Promise<{ body: T; request: MeasureRequest } | { response: Response }>;
  /** The plain answer for a request that is not open. */
  readonly notOpen: (c: Context, r: MeasureRequest, action: 'read' | 'write') => Promise<Response>;
}

function patientKit(ctx: MeasureLinksContext): PatientKit {
  const limits = { ...DEFAULT_LINK_RATE_LIMITS, ...ctx.options.rateLimits };
  const perAddress = new AddressThrottle(limits.perAddress.maxAttempts, limits.perAddress.windowMs);
  const unknownPerAddress = new AddressThrottle(
    limits.unknownPerAddress.maxAttempts,
    limits.unknownPerAddress.windowMs,
  );
  const perToken = new AddressThrottle(limits.perToken.maxAttempts, limits.perToken.windowMs);
  const addressOf = ctx.options.addressOf ?? peerAddress;

  const audit: PatientKit['audit'] = (c, outcome, action, reason, r) =>
    ctx.settings.accounts.audit({
      atMs: ctx.now(),
      actorId: null,
      role: 'patient',
      action,
      method: c.req.method,
      route: routePath(c) || '(unmatched)',
      patientId: r?.patientId ?? null,
      episodeId: r?.episodeId ?? null,
      outcome,
      reason,
    });

  const tooMany = (c: Context) => {
    c.header('Retry-After', '600');
    return fail(c, 429, {
      error: 'rate-limited',
      message: 'Too many attempts. Please wait ten minutes and try again, or contact your care team.',
    });
  };

  async function attempt<T extends { token: string }>(
    c: Context,
    schema: z.ZodType<T>,
  ): Promise<{ body: T; request: MeasureRequest } | { response: Response }> {
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      return {
        response: fail(c, 400, { error: 'invalid-input', message: 'The request body is not valid JSON.' }),
      };
    }
    const nowMs = ctx.now();
    const address = addressOf(c);
    if (
      address !== null &&
      (perAddress.blocked(address, nowMs) || unknownPerAddress.blocked(address, nowMs))
    ) {
      return { response: tooMany(c) };
    }
    if (address !== null) perAddress.fail(address, nowMs);
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      return {
        response: fail(c, 400, {
          error: 'invalid-input',
          message: `${i.path.join('.') || 'body'}: ${i.message}`,
        }),
      };
    }
    const tokenKey = hashMeasureToken(parsed.data.token);
    if (perToken.blocked(tokenKey, nowMs)) return { response: tooMany(c) };
    perToken.fail(tokenKey, nowMs);
    const request = await ctx.requests.byToken(parsed.data.token, nowMs);
    if (!request) {
      if (address !== null) unknownPerAddress.fail(address, nowMs);
      await audit(c, 'denied', 'read', 'unknown-link');
      return {
        response: fail(c, 404, {
          error: 'not-found',
          message:
            'This link is not valid. Check that you opened the whole link from your message, or ask your care team for a new one.',
        }),
      };
    }
    return { body: parsed.data, request };
  }

  const notOpen = async (c: Context, r: MeasureRequest, action: 'read' | 'write') => {
    await audit(c, 'denied', action, `link-${r.status}`, r);
    if (r.status === 'completed') {
      return fail(c, 410, {
        error: 'used',
        message:
          'This link has already been used: your answers were sent to your care team. Thank you. If you want to change an answer, contact your care team.',
      });
    }
    if (r.status === 'revoked') {
      return fail(c, 410, {
        error: 'revoked',
        message: 'Your care team has withdrawn this questionnaire. If you were expecting it, contact them.',
      });
    }
    return fail(c, 410, {
      error: 'expired',
      message: `This link has expired (it worked until ${expiresText(r.expiresAt)}). Ask your care team for a new one.`,
    });
  };

  return { ctx, audit, attempt, notOpen };
}

/** The patient page's routes, to mount on the dashboard app. */
export function patientRoutes(ctx: MeasureLinksContext): Hono {
  const app = new Hono();
  const kit = patientKit(ctx);
  const files = ctx.staticFiles ? withPrecompressed(ctx.staticFiles) : null;

  // The page itself: the same for every token (the script asks for the form), never cached or indexed.
  app.get('/m/:token', (c) => {
    const f = files?.get('/m/index.html');
    if (!f) return c.text('The patient page is not built.', 404);
    const res = staticAnswer(c, f, 'no-store');
    res.headers.set('X-Robots-Tag', 'noindex, nofollow');
    return res;
  });

  app.use('/m/api/*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });
  app.use(
    '/m/api/*',
    bodyLimit({
      maxSize: 16 * 1024,
      onError: (c) => c.json({ error: 'invalid-input', message: 'The answers are too large to send.' }, 413),
    }),
  );
  app.use('/m/api/*', async (c, next) => {
    if (!/^application\/json\b/i.test(c.req.header('content-type') ?? '')) {
      return fail(c, 415, { error: 'invalid-input', message: 'Send the request body as application/json.' });
    }
    const origin = c.req.header('origin');
    if (origin !== undefined && !acceptedOrigin(origin, ctx.allowedOrigins())) {
      return fail(c, 400, { error: 'invalid-input', message: 'Cross-origin requests are not accepted.' });
    }
    return next();
  });

  app.post('/m/api/open', (c) => openForm(kit, c));
  app.post('/m/api/submit', (c) => submitAnswers(kit, c));
  return app;
}

/** `POST /m/api/open`: the form of an open request. */
async function openForm(kit: PatientKit, c: Context): Promise<Response> {
  const { ctx } = kit;
  const got = await kit.attempt(c, openBody);
  if ('response' in got) return got.response;
  const r = got.request;
  if (r.status !== 'sent' && r.status !== 'opened') return kit.notOpen(c, r, 'read');
  const instruments: PatientInstrument[] = [];
  for (const id of r.instruments) {
    const d = ctx.registry.find(id);
    if (!d?.licence.itemTextIncluded) {
      return fail(c, 422, {
        error: 'not-saved',
        message: 'This questionnaire cannot be shown. Please contact your care team.',
      });
    }
    instruments.push(patientInstrument(d));
  }
  await ctx.requests.markOpened(r.id, ctx.now());
  await kit.audit(c, 'allowed', 'read', 'link-opened', r);
  const body: PatientFormResponse = {
    status: 'open',
    expiresAt: r.expiresAt,
    instruments,
    crisis: ctx.options.crisis ?? DEFAULT_CRISIS_SCREEN,
    clinicPhone: ctx.options.clinicPhone ?? null,
  };
  return c.json(body);
}

/**
 * The answers checked against the request: exactly its instruments, every item answered with one of its
 * options. Returns the problems and the definitions found.
 */
function answerProblems(
  r: MeasureRequest,
  answers: Readonly<Record<string, readonly number[]>>,
  registry: MeasureLinksContext['registry'],
): { problems: string[]; definitions: Map<string, InstrumentDefinition> } {
  const problems: string[] = [];
  const definitions = new Map<string, InstrumentDefinition>();
  for (const key of Object.keys(answers)) {
    if (!r.instruments.includes(key)) problems.push(`answers.${key}: not part of this questionnaire`);
  }
  for (const id of r.instruments) {
    const d = registry.find(id);
    const given = answers[id];
    if (!d) {
      problems.push(`answers.${id}: this questionnaire is no longer available`);
      continue;
    }
    definitions.set(id, d);
    if (!given) {
      problems.push(`answers.${id}: missing (${d.name})`);
      continue;
    }
    if (given.length !== d.items.length) {
      problems.push(`answers.${id}: expected ${d.items.length} answers, got ${given.length}`);
      continue;
    }
    given.forEach((v, i) => {
      const scale = d.items[i]!.scale ?? d.scale;
      if (v < scale.min || v > scale.max) {
        problems.push(
          `answers.${id}[${i}] (question ${i + 1}): expected ${scale.min} to ${scale.max}, got ${v}`,
        );
      }
    });
  }
  return { problems, definitions };
}

/** `POST /m/api/submit`: the answers, recorded as one `AssessmentRecorded` per instrument. */
async function submitAnswers(kit: PatientKit, c: Context): Promise<Response> {
  const { ctx, audit, notOpen } = kit;
  const { requests, registry } = ctx;
  const got = await kit.attempt(c, submitBody);
  if ('response' in got) return got.response;
  const r = got.request;
  const { answers } = got.body;
  if (r.status === 'revoked' || (r.status === 'expired' && r.submittedAt === null))
    return notOpen(c, r, 'write');
  const { problems, definitions } = answerProblems(r, answers, registry);
  if (problems.length > 0) {
    return fail(c, 400, {
      error: 'invalid-input',
      message: `Not sent: ${problems.slice(0, 3).join('; ')}`,
    });
  }
  const crisisShown = r.instruments.some((id) =>
    tripsSafetyRule(definitions.get(id)!.safety ?? [], answers[id]!),
  );
  const begun = await requests.beginSubmission(r.id, ctx.now());
  if (!begun) return notOpen(c, (await requests.get(r.id, ctx.now())) ?? r, 'write');
  const at = ctx.isoAt(Date.parse(begun.submittedAt));
  const { state } = await ctx.store.loadEpisode(r.episodeId);
  const completed = completeEvents(
    r.instruments.map((id) => ({
      type: 'AssessmentRecorded',
      id: `pr-${createHash('sha256').update(`${r.id}:${id}`).digest('hex').slice(0, 32)}`,
      at,
      recordedAt: at,
      recordedBy: 'patient',
      instrument: id,
      responses: answers[id]!,
    })),
    { episodeId: r.episodeId, patientId: r.patientId, synthetic: state.context.synthetic, at },
    registry,
  );
  if (!completed.ok) {
    return fail(c, 400, {
      error: 'invalid-input',
      message: `Not sent: ${completed.issues
        .slice(0, 3)
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ')}`,
    });
  }
  let status: PatientSubmitResponse['status'];
  try {
    const result = await ctx.store.append(r.episodeId, completed.events, { expectedVersion: 'any' });
    status = result.status === 'appended' ? 'recorded' : 'duplicate';
  } catch (error) {
    if (error instanceof EventIdConflictError) return notOpen(c, { ...r, status: 'completed' }, 'write');
    if (error instanceof EventRefusedError) {
      // The episode machine refused (a closed course, say). A positive safety answer is kept by the store as
      // a safety signal of the patient, so the care team still gets the urgent alert.
      ctx.log(`patient submission refused: ${error.refusal.code}`);
      await audit(c, 'denied', 'write', `refused-${error.refusal.code}`, r);
      return fail(c, 422, {
        error: 'not-saved',
        message: 'Your answers could not be recorded. Please contact your care team.',
      });
    }
    throw error;
  }
  await requests.complete(
    r.id,
    ctx.now(),
    completed.events.map((e) => e.id),
  );
  await audit(c, 'allowed', 'write', 'patient-reported', r);
  const body: PatientSubmitResponse = { status, crisis: crisisShown };
  return c.json(body, status === 'recorded' ? 201 : 200);
}
