import { KapkitError, type Refusal } from '@kapkit/core';
import {
  ConcurrencyError,
  DiskFullError,
  EventIdConflictError,
  EventRefusedError,
  InvalidArgumentError,
  PayloadTooLargeError,
  StoreClosedError,
  StoreDamagedError,
  StoreDatabaseError,
  StoreTimeoutError,
} from '@kapkit/store';
import type { Context, ErrorHandler } from 'hono';
import { routePath } from 'hono/route';
import type { ApiError, FieldIssue } from '../shared/api.js';

/* The API's answers for errors, shared by every route module. */

export function apiError(
  c: Context,
  status: 400 | 403 | 404 | 409 | 413 | 415 | 422 | 500 | 503,
  body: ApiError,
) {
  return c.json(body, status);
}

export /** A refusal as the API returns it: code, plain message, field issues, safety signals, the event it names. */
function refusalBody(r: Refusal): NonNullable<ApiError['refusal']> {
  return {
    code: r.code,
    message: r.message,
    ...(r.issues ? { issues: r.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) } : {}),
    ...(r.safetyFlags
      ? {
          safetyFlags: r.safetyFlags.map((f) => ({
            rule: f.rule,
            kind: f.kind,
            value: f.value,
            message: f.message,
            ...(f.item !== undefined ? { item: f.item } : {}),
          })),
        }
      : {}),
    ...(r.invalidates ? { invalidates: { ...r.invalidates } } : {}),
  };
}

export /** `recordedBy` or `actorId` in a request body that differ from the signed-in account (they are the server's). */
function authorshipIssues(
  events: readonly Record<string, unknown>[],
  user: { readonly id: string; readonly role: string },
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  events.forEach((e, i) => {
    if (e.recordedBy !== undefined && e.recordedBy !== user.role) {
      issues.push({
        path: `events[${i}].recordedBy`,
        message: `set by the server from your sign-in (you are signed in as ${user.role}); leave it out`,
      });
    }
    if (e.actorId !== undefined && e.actorId !== user.id) {
      issues.push({
        path: `events[${i}].actorId`,
        message: 'set by the server from your sign-in; leave it out',
      });
    }
  });
  return issues;
}

/** The route template that answered (`/api/patients/:patientId`), never the actual path. */
export function safeRoute(c: Context): string {
  try {
    return routePath(c) || '(unmatched)';
  } catch {
    return '(unmatched)';
  }
}

/** 400 with the field issues. */
export function invalid(c: Context, issues: readonly FieldIssue[]) {
  return apiError(c, 400, {
    error: 'invalid-input',
    message: `Not recorded: ${issues.length} field(s) need attention. ${issues
      .slice(0, 3)
      .map((i) => `${i.path}: ${i.message}`)
      .join('; ')}${issues.length > 3 ? '; …' : ''}`,
    issues,
  });
}

/**
 * The answer to an error a route threw: store errors as the API documents them (409, 422, 413, 503), anything
 * else 500 without details. Logs the kind of error only (a message may quote data).
 */
export function errorHandler(log: (line: string) => void): ErrorHandler {
  return (error, c) => {
    if (error instanceof ConcurrencyError) {
      return apiError(c, 409, {
        error: 'concurrency-conflict',
        message:
          'This episode changed since the page was loaded (someone recorded something). Reload, check, and submit again. Nothing was written.',
        expectedVersion: error.expectedVersion,
        actualVersion: error.actualVersion,
      });
    }
    if (error instanceof EventRefusedError) {
      const r = error.refusal;
      return apiError(c, 422, {
        error: 'event-refused',
        message: `Refused (${r.code}): ${r.message} Nothing was written.`,
        index: error.index,
        refusal: refusalBody(r),
      });
    }
    if (error instanceof EventIdConflictError) {
      return apiError(c, 409, {
        error: 'event-id-conflict',
        message: 'An event with this id is already stored with other content. Nothing was written.',
      });
    }
    if (error instanceof PayloadTooLargeError) {
      return apiError(c, 413, { error: 'payload-too-large', message: error.message });
    }
    if (error instanceof InvalidArgumentError) {
      return invalid(c, [{ path: error.argument, message: error.message }]);
    }
    if (error instanceof StoreClosedError) {
      return apiError(c, 503, { error: 'unavailable', message: 'The store is closed.' });
    }
    // The database failed: say what the caller can rely on, never a stack or a query.
    if (error instanceof StoreDatabaseError) {
      log(`error ${c.req.method} ${safeRoute(c)}: ${error.code}`);
      return apiError(c, 503, {
        error: 'unavailable',
        message:
          error.outcome === 'unknown'
            ? 'The database connection was lost while saving: the record may or may not be stored. Submit the same form again: it will not be recorded twice.'
            : 'The database is unavailable; nothing was written. Try again in a moment.',
      });
    }
    const unavailable = unavailableMessage(error);
    if (unavailable !== null) {
      log(`error ${c.req.method} ${safeRoute(c)}: ${(error as KapkitError).code}`);
      return apiError(c, 503, { error: 'unavailable', message: unavailable });
    }
    // Unexpected: log the kind of error only (its message may quote data), answer without details.
    const code = error instanceof KapkitError ? error.code : error.name;
    log(`error ${c.req.method} ${safeRoute(c)}: ${code}`);
    return apiError(c, 500, { error: 'internal-error', message: 'Internal error; see the server log.' });
  };
}

/** What a 503 says when the store timed out, is short of disk space or is damaged; null for other errors. */
function unavailableMessage(error: unknown): string | null {
  if (error instanceof StoreTimeoutError)
    return 'The database did not answer in time; nothing was confirmed. Submit the same form again: it will not be recorded twice.';
  if (error instanceof DiskFullError)
    return 'The server is short of disk space, so nothing is written until space is freed. Nothing was written.';
  if (error instanceof StoreDamagedError)
    return 'The store is damaged and must be restored from a backup (kapkit store check). Nothing was written.';
  return null;
}
