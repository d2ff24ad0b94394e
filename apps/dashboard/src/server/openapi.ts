/**
 * The dashboard's HTTP API as an OpenAPI 3.1 document (`GET /api/openapi.json`), generated from the zod
 * schemas the routes validate with (zod 4's `z.toJSONSchema`, draft 2020-12, which OpenAPI 3.1 uses) and from
 * the access table (which roles may call each route). A test checks that every API route of the app is here.
 */
import { eventSchemas, eventTypes } from '@kapkit/core';
import { z } from 'zod';
import {
  auditQuery,
  newTeamBody,
  newUserBody,
  teamMemberBody,
  teamPatientsBody,
  updateUserBody,
} from './auth/admin.js';
import { type RouteKey, routeAccess } from './auth/policy.js';
import { MAX_EVENTS_PER_REQUEST } from './intake.js';
import { openBody, submitBody } from './measure-links/patient.js';
import { contactBody, measureRequestBody } from './measure-links/staff.js';

/** Fields of an event the server sets (episode, patient, schema version, demo flag, author). */
const SERVER_FIELDS = ['episodeId', 'patientId', 'v', 'synthetic', 'recordedBy', 'actorId'] as const;

/** `POST /api/safety-signals/:signalId/review`. */
export const safetyReviewBody = z
  .object({
    outcome: z.enum(['no-current-risk', 'safety-plan', 'escalated']),
    recordedBy: z
      .enum(['therapist', 'medical'])
      .optional()
      .meta({ description: 'Set by the server from the session; if sent, it must be the signed-in role.' }),
  })
  .meta({ description: 'A clinician’s review of a stored safety signal.' });

const errorBody = z
  .object({
    error: z.enum([
      'invalid-input',
      'invalid-json',
      'not-found',
      'concurrency-conflict',
      'event-id-conflict',
      'event-refused',
      'payload-too-large',
      'unavailable',
      'unauthenticated',
      'forbidden',
      'internal-error',
    ]),
    message: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ description: 'Every error: a code, a sentence for people, and field issues where they apply.' });

const patientLinkError = z
  .object({
    error: z.enum([
      'expired',
      'used',
      'revoked',
      'not-found',
      'rate-limited',
      'invalid-input',
      'not-saved',
      'unavailable',
    ]),
    message: z.string().meta({ description: 'A sentence for the patient.' }),
  })
  .meta({ description: 'Every error of the patient’s routes.' });

const exportQuery = z.object({ format: z.enum(['csv', 'ndjson', 'parquet', 'fhir']).optional() });
const patientQuery = z.object({
  episode: z.string().optional().meta({ description: 'An episode of the patient.' }),
});
const touchQuery = z.object({
  touch: z.enum(['0']).optional().meta({ description: '`0`: this check does not count as activity.' }),
});

/** The append body: the event schemas of @kapkit/core without the fields the server sets. */
function appendBody() {
  const events = eventTypes.map((type) => {
    const schema = eventSchemas[type] as unknown as z.ZodObject;
    const omit = Object.fromEntries(SERVER_FIELDS.filter((f) => f in schema.shape).map((f) => [f, true]));
    return schema.omit(omit as never).partial({ id: true, at: true, recordedAt: true } as never);
  });
  return z.object({
    expectedVersion: z.int().min(0).meta({ description: 'The episode version the form was filled against.' }),
    events: z
      .array(z.union(events as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]]))
      .min(1)
      .max(MAX_EVENTS_PER_REQUEST),
  });
}

interface RouteDoc {
  readonly summary: string;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  readonly produces?: string;
}

const docs: Record<RouteKey, RouteDoc> = {
  'GET /api/session': {
    summary: 'The signed-in account, its role, and the CSRF token writes must send.',
    query: touchQuery,
  },
  'GET /api/meta': { summary: 'Demo flag, engine, "now", counts and export formats.' },
  'GET /api/instruments': {
    summary: 'The registered instrument definitions (forms are generated from them).',
  },
  'GET /api/caseload': {
    summary: 'One row per patient of the caller’s care teams: phase, latest scores, alerts.',
  },
  'GET /api/patients/:patientId': {
    summary: 'A patient’s episode: status, alerts, outcome chart data, timeline (care team only).',
    query: patientQuery,
  },
  'POST /api/episodes/:episodeId/events': {
    summary: 'Record events through the episode machine; author and role come from the session.',
    body: appendBody(),
  },
  'POST /api/safety-signals/:signalId/review': {
    summary: 'Review a stored safety signal.',
    body: safetyReviewBody,
  },
  'GET /api/measure-requests': {
    summary:
      'Counts of measure requests by status (sent, opened, completed, expired, revoked) per patient of the caller’s care teams.',
  },
  'GET /api/patients/:patientId/measure-requests': {
    summary: 'A patient’s measure requests, the e-mail for reminders, and the instruments that can be sent.',
  },
  'POST /api/patients/:patientId/measure-requests': {
    summary:
      'Send measures: answers `{ url, expiresAt }`, the link /m/<token> (shown once; only its hash is stored). Instruments without shipped item text are refused.',
    body: measureRequestBody,
  },
  'POST /api/patients/:patientId/contact': {
    summary: 'Set or remove the e-mail address measure reminders go to.',
    body: contactBody,
  },
  'POST /api/measure-requests/:requestId/revoke': {
    summary: 'Withdraw an open measure request: its links stop working.',
  },
  'POST /api/measure-requests/:requestId/link': {
    summary: 'A new link for an open measure request (to copy, or show as a QR code).',
  },
  'GET /api/cohort': { summary: 'Outcome analysis over every episode (aggregates only).' },
  'GET /api/export': {
    summary: 'The de-identified research bundle (.tar.gz).',
    query: exportQuery,
    produces: 'application/gzip',
  },
  'GET /api/admin/users': { summary: 'Every account (no password hashes).' },
  'POST /api/admin/users': { summary: 'Add an account; answers a one-time sign-in link.', body: newUserBody },
  'POST /api/admin/users/:userId': {
    summary: 'Change an account’s role or disable it.',
    body: updateUserBody,
  },
  'POST /api/admin/users/:userId/sign-in-link': { summary: 'A new one-time sign-in link for an account.' },
  'GET /api/admin/teams': { summary: 'Care teams with their members and patients.' },
  'POST /api/admin/teams': { summary: 'Create a care team.', body: newTeamBody },
  'POST /api/admin/teams/:teamId/members': { summary: 'Add or remove a team member.', body: teamMemberBody },
  'POST /api/admin/teams/:teamId/patients': {
    summary: 'Put patients in or out of a team’s care.',
    body: teamPatientsBody,
  },
  'GET /api/admin/patients': { summary: 'Every patient id with the teams that look after them (ids only).' },
  'GET /api/audit': { summary: 'Search the audit trail, newest first.', query: auditQuery },
};

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output' = 'input') =>
  z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<string, unknown>;

/** The OpenAPI 3.1 document of every API route. */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const entries = Object.entries(docs) as [RouteKey, RouteDoc][];
  for (const [key, doc] of entries) {
    const [method, template] = key.split(' ') as [string, string];
    const path = template.replace(/:(\w+)/g, '{$1}');
    const pathParams = [...template.matchAll(/:(\w+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const queryParams = doc.query
      ? Object.entries(doc.query.shape).map(([name, s]) => ({
          name,
          in: 'query',
          required: !(s as z.ZodType).safeParse(undefined).success,
          schema: jsonSchema(s as z.ZodType),
        }))
      : [];
    const roles = routeAccess[key] as readonly string[];
    paths[path] ??= {};
    paths[path]![method.toLowerCase()] = {
      summary: doc.summary,
      description: `Roles: ${roles.join(', ')}.${method === 'POST' ? ' Needs the session’s `X-CSRF-Token` and an Origin of the dashboard.' : ''}`,
      'x-kapkit-roles': roles,
      security: [{ session: [] }],
      parameters: [...pathParams, ...queryParams],
      ...(doc.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(doc.body) } },
            },
          }
        : {}),
      responses: {
        '200': {
          description: 'Success',
          content: { [doc.produces ?? 'application/json']: {} },
        },
        ...(method === 'POST' ? { '201': { description: 'Created or recorded' } } : {}),
        '400': {
          description: 'Invalid input',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        '401': {
          description: 'Not signed in, or signed out (idle, lifetime)',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        '403': {
          description: 'Role, care team or CSRF refused (audited)',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    };
  }
  // The patient's routes: no session (the link's token, sent in the body, is the credential).
  const patientError = {
    description: 'Expired, used, withdrawn, unknown link, too many attempts, or invalid answers',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/PatientLinkError' } } },
  };
  paths['/m/{token}'] = {
    get: {
      summary: 'The patient page of a measure link (HTML; the same for every token, never cached).',
      security: [],
      parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '200': { description: 'The page', content: { 'text/html': {} } } },
    },
  };
  // A POST of the patient page: no session (the link's token is in the JSON body); its answers, then its errors.
  const patientPost = (
    summary: string,
    body: z.ZodType,
    answers: Record<string, { description: string }>,
    errorStatuses: readonly string[],
  ) => ({
    post: {
      summary,
      security: [],
      requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(body) } } },
      responses: { ...answers, ...Object.fromEntries(errorStatuses.map((status) => [status, patientError])) },
    },
  });
  paths['/m/api/open'] = patientPost(
    'The questionnaire of an open link: item text and options, the crisis screen. Marks it opened.',
    openBody,
    { '200': { description: 'The form' } },
    ['404', '410', '429'],
  );
  paths['/m/api/submit'] = patientPost(
    'The patient’s answers: one AssessmentRecorded per instrument (recordedBy: patient) through the episode machine; a retry is the same event (`duplicate`).',
    submitBody,
    { '200': { description: 'Already recorded (a retry)' }, '201': { description: 'Recorded' } },
    ['400', '404', '410', '422', '429'],
  );
  paths['/api/openapi.json'] = {
    get: { summary: 'This document.', security: [], responses: { '200': { description: 'OpenAPI 3.1' } } },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'kapkit dashboard API',
      version,
      description:
        'The JSON API of the kapkit dashboard. Every route but this document needs a session (sign in at /auth/sign-in); writes need the session’s CSRF token in X-CSRF-Token.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      securitySchemes: {
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'kapkit_session',
          description: '`__Host-kapkit_session` over HTTPS.',
        },
      },
      schemas: {
        Error: jsonSchema(errorBody, 'output'),
        PatientLinkError: jsonSchema(patientLinkError, 'output'),
      },
    },
    paths,
  };
}
