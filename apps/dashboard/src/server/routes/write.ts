import { statusAt } from '@kapkit/core';
import { ConcurrencyError, EventRefusedError, type EventStore } from '@kapkit/store';
import { Hono } from 'hono';
import type { AppendResponse, FieldIssue } from '../../shared/api.js';
import { guardedRoutes } from '../auth/guarded.js';
import type { AuthEnv } from '../auth/session.js';
import { apiError, authorshipIssues, invalid, refusalBody } from '../http.js';
import { completeEvents, parseAppendBody } from '../intake.js';
import { safetyReviewBody } from '../openapi.js';
import type { RouteDeps } from './deps.js';

/** Recording: events appended to an episode (through the episode machine), reviews of refused safety signals. */
export function writeRoutes(deps: RouteDeps): Hono<AuthEnv> {
  const { store, registry, read, settings, audit, asOf } = deps;
  const { sessionOf, inCare, notInCare } = deps;
  const routes = new Hono<AuthEnv>();
  const route = guardedRoutes(routes, settings);

  /** What was recorded in an episode after `version`: type, time and role of each event (no content). */
  const changesSince = async (episodeId: string, version: number) =>
    (await store.readEpisode(episodeId, { fromVersion: version + 1 })).map((s) => ({
      type: s.event.type,
      at: s.event.at,
      recordedBy: s.event.recordedBy,
    }));

  route('POST /api/episodes/:episodeId/events', async (c) => {
    const episodeId = c.req.param('episodeId');
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return apiError(c, 400, { error: 'invalid-json', message: 'The request body is not valid JSON.' });
    }
    const parsed = parseAppendBody(body);
    if (!parsed.ok) return invalid(c, parsed.issues);
    const loaded = await store.loadEpisode(episodeId);
    if (loaded.version === 0 || loaded.state.context.patientId === null) {
      return apiError(c, 404, { error: 'not-found', message: 'No such episode.' });
    }
    const patientOfEpisode = loaded.state.context.patientId;
    if (!(await inCare(c, patientOfEpisode))) return notInCare(c, 'write', patientOfEpisode, episodeId);
    // Who recorded it is the signed-in account: its role and id, never the request body's.
    const signedIn = sessionOf(c).user;
    const authorIssues = authorshipIssues(parsed.events, signedIn);
    if (authorIssues.length > 0) return invalid(c, authorIssues);
    await audit(c, { action: 'write', outcome: 'allowed', patientId: patientOfEpisode, episodeId });
    const completed = completeEvents(
      parsed.events.map((e) => ({ ...e, recordedBy: signedIn.role, actorId: signedIn.id })),
      {
        episodeId,
        patientId: loaded.state.context.patientId,
        synthetic: loaded.state.context.synthetic,
        at: asOf(),
      },
      registry,
    );
    if (!completed.ok) return invalid(c, completed.issues);
    let result: Awaited<ReturnType<EventStore['append']>>;
    let rebased: AppendResponse['rebased'] = null;
    try {
      result = await store.append(episodeId, completed.events, {
        expectedVersion: parsed.expectedVersion,
      });
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || typeof error.actualVersion !== 'number') throw error;
      // The form was filled against an older version (another tab or colleague recorded meanwhile). Decide its
      // events again against the latest state: appended when they are still allowed, else a real conflict that
      // says what changed (the form keeps its answers).
      const changes = await changesSince(episodeId, parsed.expectedVersion);
      try {
        result = await store.append(episodeId, completed.events, { expectedVersion: error.actualVersion });
        rebased = { fromVersion: parsed.expectedVersion, changes };
      } catch (again) {
        if (again instanceof EventRefusedError) {
          const r = again.refusal;
          return apiError(c, 409, {
            error: 'concurrency-conflict',
            message: `This episode changed since the form was loaded (${changes.length} new record(s)), and the form is no longer allowed: ${r.message} Nothing was written; your answers are kept.`,
            expectedVersion: parsed.expectedVersion,
            actualVersion: error.actualVersion,
            changes,
            refusal: refusalBody(r),
          });
        }
        throw again;
      }
    }
    const after = await store.loadEpisode(episodeId);
    const body2: AppendResponse = {
      status: result.status,
      version: result.version,
      events:
        result.status === 'appended'
          ? result.events.map((s) => ({ id: s.event.id, type: s.event.type, at: s.event.at }))
          : [],
      rebased,
      alerts: statusAt(after.state, asOf()).alerts.map((a) => ({
        code: a.code,
        severity: a.severity,
        message: a.message,
      })),
    };
    return c.json(body2, result.status === 'appended' ? 201 : 200);
  });

  route('POST /api/safety-signals/:signalId/review', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return apiError(c, 400, { error: 'invalid-json', message: 'The request body is not valid JSON.' });
    }
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const issues: FieldIssue[] = [];
    const checked = safetyReviewBody.safeParse({ outcome: b.outcome });
    if (!checked.success) {
      for (const i of checked.error.issues) issues.push({ path: i.path.join('.'), message: i.message });
    }
    // The reviewer is the signed-in clinician; a `recordedBy` in the body must name their own role.
    const reviewer = sessionOf(c).user;
    if (b.recordedBy !== undefined && b.recordedBy !== reviewer.role) {
      issues.push({
        path: 'recordedBy',
        message: `set by the server from your sign-in (${reviewer.role})`,
      });
    }
    if (issues.length > 0) return invalid(c, issues);
    const signalId = c.req.param('signalId');
    const signal = (await store.safetySignals()).find((s) => s.id === signalId);
    const signalPatient = signal ? read.patientOfSignal(signal) : null;
    if (signal && (signalPatient === null || !(await inCare(c, signalPatient)))) {
      return notInCare(c, 'write', signalPatient, signal.episodeId);
    }
    await audit(c, {
      action: 'write',
      outcome: 'allowed',
      patientId: signalPatient,
      episodeId: signal?.episodeId ?? null,
      reason: 'safety-review',
    });
    const reviewed = await store.reviewSafetySignal(signalId, {
      outcome: b.outcome as 'no-current-risk' | 'safety-plan' | 'escalated',
      reviewedBy: reviewer.role as 'therapist' | 'medical',
      actorId: reviewer.id,
      at: asOf(),
    });
    return c.json({ id: reviewed.id, review: reviewed.review }, 201);
  });

  return routes;
}
